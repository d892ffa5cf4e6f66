package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozg-broker/eidas-broker/broker/store"
	redisstore "github.com/ozg-broker/eidas-broker/broker/store/redis"
	"github.com/ozg-broker/eidas-broker/broker/store/storetest"
)

// TestHungServerDefaults: with NewFromOptions's defaults, every call to a
// redis-server that stopped answering fails with ErrUnavailable within about
// half a second (go-redis's own defaults and retries took 5 to 10 s).
func TestHungServerDefaults(t *testing.T) {
	srv := storetest.StartRedisServer(t)
	s := newStore(t, &redis.UniversalOptions{Addrs: []string{srv.Addr()}})
	ctx := t.Context()
	if err := s.Create(ctx, store.KindCode, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Resume() }()
	calls := []struct {
		name string
		call func() error
	}{
		{"get", func() error { _, err := s.Get(ctx, store.KindCode, "k"); return err }},
		{"create", func() error { return s.Create(ctx, store.KindJTI, "j", []byte("v"), time.Minute) }},
		{"ping", func() error { return s.Ping(ctx) }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			err := c.call()
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if d := time.Since(start); d > redisstore.DefaultReadTimeout+redisstore.DefaultWriteTimeout+300*time.Millisecond {
				t.Fatalf("took %v", d)
			}
		})
	}
}

// TestRefusal tells a server that refuses the connection's settings (a
// config error: serve exits) from one that cannot be reached (serve starts,
// readiness answers 503).
func TestRefusal(t *testing.T) {
	srv := storetest.StartRedisServer(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	ctx := t.Context()
	for _, cmd := range [][]any{
		{"ACL", "SETUSER", "reader", "on", ">reader-secret", "~other:*", "+get"},
		{"CONFIG", "SET", "requirepass", "right-password"},
	} {
		if err := admin.Do(ctx, cmd...).Err(); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
	cases := []struct {
		name      string
		opts      redis.UniversalOptions
		op        func(store.Store) error
		wantReply string // "" means: not a refusal
	}{
		{"wrong password", redis.UniversalOptions{Addrs: []string{srv.Addr()}, Password: "wrong"}, ping, "WRONGPASS"},
		{"no password", redis.UniversalOptions{Addrs: []string{srv.Addr()}}, ping, "NOAUTH"},
		{"unknown ACL user", redis.UniversalOptions{Addrs: []string{srv.Addr()}, Username: "nobody", Password: "x"}, ping, "WRONGPASS"},
		{"ACL user without the commands", redis.UniversalOptions{Addrs: []string{srv.Addr()}, Username: "reader", Password: "reader-secret"},
			func(s store.Store) error { return s.Create(ctx, store.KindJTI, "j", []byte("v"), time.Minute) }, "NOPERM"},
		{"right password", redis.UniversalOptions{Addrs: []string{srv.Addr()}, Password: "right-password"}, ping, ""},
		{"nothing listening", redis.UniversalOptions{Addrs: []string{closedPort(t)}}, ping, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t, &c.opts)
			err := c.op(s)
			reply, ok := redisstore.Refusal(err)
			if ok != (c.wantReply != "") || !strings.HasPrefix(reply, c.wantReply) {
				t.Fatalf("Refusal(%v) = %q, %v; want %q", err, reply, ok, c.wantReply)
			}
			if c.wantReply == "" && c.name != "right password" && !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func ping(s store.Store) error { return s.Ping(context.Background()) }

// TestLoggerUsesSlog: go-redis's log lines arrive in the broker's logger as
// structured warnings.
func TestLoggerUsesSlog(t *testing.T) {
	var buf bytes.Buffer
	l := redisstore.NewLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	var _ interface {
		Printf(context.Context, string, ...any)
	} = l
	l.Printf(context.Background(), "redis: connection pool: %s", "too many connections")
	got := buf.String()
	for _, want := range []string{"level=WARN", "component=redis", `msg="connection pool: too many connections"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log line %q lacks %s", got, want)
		}
	}
}
