package redisstore_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/ozg-broker/eidas-broker/broker/store"
	redisstore "github.com/ozg-broker/eidas-broker/broker/store/redis"
	"github.com/ozg-broker/eidas-broker/broker/store/storetest"
)

// TestConformanceMiniredis runs the suite with a controllable clock: miniredis
// expires keys only when told to, so TTL cases run without waiting.
func TestConformanceMiniredis(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, func(time.Duration)) {
		m := miniredis.RunT(t)
		s := redisstore.New(redis.NewClient(&redis.Options{Addr: m.Addr()}), "broker")
		t.Cleanup(func() { _ = s.Close() })
		return s, m.FastForward
	})
}

// TestConformanceRedisServer runs the suite against a real redis-server, the
// production backend; TTL cases wait out short real TTLs.
func TestConformanceRedisServer(t *testing.T) {
	addr := storetest.StartRedis(t)
	storetest.Run(t, func(t *testing.T) (store.Store, func(time.Duration)) {
		return newStore(t, &redis.UniversalOptions{Addrs: []string{addr}}), nil
	})
}

// TestConformanceCluster runs the suite through a ClusterClient against a
// one-node Redis Cluster holding every slot: routing, script loading per node
// and single-key operations work in cluster mode.
func TestConformanceCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out real TTLs")
	}
	srv := storetest.StartRedisServer(t, "--cluster-enabled", "yes")
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	if err := admin.Do(t.Context(), "CLUSTER", "ADDSLOTSRANGE", "0", "16383").Err(); err != nil {
		t.Fatalf("assign slots: %v", err)
	}
	waitFor(t, "cluster state ok", func() bool {
		info, err := admin.ClusterInfo(t.Context()).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	})
	storetest.Run(t, func(t *testing.T) (store.Store, func(time.Duration)) {
		return newStore(t, &redis.UniversalOptions{Addrs: []string{srv.Addr()}, IsClusterMode: true}), nil
	})
}

// TestConformanceSentinel runs the suite through a Sentinel-discovered
// master, the high-availability setup.
func TestConformanceSentinel(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out real TTLs")
	}
	master := storetest.StartRedisServer(t)
	sentinel := storetest.StartRedisServer(t, "--sentinel")
	host, port, err := net.SplitHostPort(master.Addr())
	if err != nil {
		t.Fatal(err)
	}
	admin := redis.NewClient(&redis.Options{Addr: sentinel.Addr()})
	defer admin.Close()
	if err := admin.Do(t.Context(), "SENTINEL", "MONITOR", "broker", host, port, "1").Err(); err != nil {
		t.Fatalf("sentinel monitor: %v", err)
	}
	storetest.Run(t, func(t *testing.T) (store.Store, func(time.Duration)) {
		s := newStore(t, &redis.UniversalOptions{MasterName: "broker", Addrs: []string{sentinel.Addr()}})
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping via sentinel: %v", err)
		}
		return s, nil
	})
}

// newStore opens a Store on a fresh prefix, so subtests sharing one server
// never see each other's keys.
func newStore(t *testing.T, opts *redis.UniversalOptions) *redisstore.Store {
	t.Helper()
	prefix := "t" + strconv.FormatInt(time.Now().UnixNano(), 36) + strings.ReplaceAll(t.Name(), "/", ".")
	s, err := redisstore.NewFromOptions(opts, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// failFast makes an unreachable server show quickly and without retries.
func failFast(addr string) *redis.Options {
	return &redis.Options{
		Addr:          addr,
		DialTimeout:   200 * time.Millisecond,
		ReadTimeout:   200 * time.Millisecond,
		WriteTimeout:  200 * time.Millisecond,
		MaxRetries:    -1,
		DialerRetries: 1,
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// silentServer accepts connections and never answers: the client times out.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = l.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// TestUnavailable: every way the backend can fail to answer ends in
// ErrUnavailable on every method, never a panic and never a wrong answer.
func TestUnavailable(t *testing.T) {
	tests := []struct {
		name  string
		store func(t *testing.T) store.Store
	}{
		{"connection_refused", func(t *testing.T) store.Store {
			return redisstore.New(redis.NewClient(failFast(closedPort(t))), "broker")
		}},
		{"timeout", func(t *testing.T) store.Store {
			return redisstore.New(redis.NewClient(failFast(silentServer(t))), "broker")
		}},
		{"client_closed_by_owner", func(t *testing.T) store.Store {
			m := miniredis.RunT(t)
			c := redis.NewClient(&redis.Options{Addr: m.Addr()})
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			return redisstore.New(c, "broker")
		}},
		{"server_stopped", func(t *testing.T) store.Store {
			srv := storetest.StartRedisServer(t)
			s := redisstore.New(redis.NewClient(failFast(srv.Addr())), "broker")
			// Working first, so the client holds pooled connections that the
			// stop turns stale.
			if err := s.Create(t.Context(), store.KindCode, "k", []byte("v"), time.Minute); err != nil {
				t.Fatalf("Create before stop: %v", err)
			}
			if _, err := s.Get(t.Context(), store.KindCode, "k"); err != nil {
				t.Fatalf("Get before stop: %v", err)
			}
			srv.Stop()
			return s
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.store(t)
			storetest.WantUnavailable(t, s)
			if err := s.Close(); err != nil && !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}

// TestUnavailableCause: the cause stays reachable behind ErrUnavailable.
func TestUnavailableCause(t *testing.T) {
	t.Run("closed_client", func(t *testing.T) {
		m := miniredis.RunT(t)
		c := redis.NewClient(&redis.Options{Addr: m.Addr()})
		_ = c.Close()
		_, err := redisstore.New(c, "broker").Get(t.Context(), store.KindCode, "k")
		if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, redis.ErrClosed) {
			t.Fatalf("err = %v, want ErrUnavailable and redis.ErrClosed", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		opts := failFast(silentServer(t))
		opts.ReadTimeout = 10 * time.Second
		opts.ContextTimeoutEnabled = true
		s := redisstore.New(redis.NewClient(opts), "broker")
		defer s.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		err := s.Create(ctx, store.KindReplay, "id", []byte("v"), time.Minute)
		if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrUnavailable and context.DeadlineExceeded", err)
		}
	})
}

// TestForeignEntries: keys under the prefix that this package did not write
// (too short for a revision, or not a string) fail closed.
func TestForeignEntries(t *testing.T) {
	m := miniredis.RunT(t)
	s := redisstore.New(redis.NewClient(&redis.Options{Addr: m.Addr()}), "p")
	defer s.Close()
	if err := m.Set("p:session:short", "abc"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Lpush("p:session:list", "x"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"short", "list"} {
		t.Run(key, func(t *testing.T) {
			ctx := t.Context()
			_, errGet := s.Get(ctx, store.KindSession, key)
			errSwap := s.Swap(ctx, store.KindSession, key, 1, []byte("v"), time.Minute)
			_, errTake := s.Take(ctx, store.KindSession, key)
			for name, err := range map[string]error{"Get": errGet, "Swap": errSwap, "Take": errTake} {
				if !errors.Is(err, store.ErrUnavailable) {
					t.Errorf("%s: err = %v, want ErrUnavailable", name, err)
				}
			}
		})
	}
}

// TestKeyLayout pins the documented storage format: one string under
// "<prefix>:<kind>:<key>" holding the big-endian revision and the value, with
// the TTL rounded up to milliseconds.
func TestKeyLayout(t *testing.T) {
	tests := []struct {
		prefix, key, redisKey string
	}{
		{"broker", "abc", "broker:code:abc"},
		{"env:prod", "a:b", "env:prod:code:a:b"},
		{"", "abc", "code:abc"},
	}
	for _, tc := range tests {
		t.Run(tc.redisKey, func(t *testing.T) {
			m := miniredis.RunT(t)
			s := redisstore.New(redis.NewClient(&redis.Options{Addr: m.Addr()}), tc.prefix)
			defer s.Close()
			ctx := t.Context()
			if err := s.Create(ctx, store.KindCode, tc.key, []byte("value"), 1500*time.Microsecond); err != nil {
				t.Fatal(err)
			}
			e, err := s.Get(ctx, store.KindCode, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := m.Get(tc.redisKey)
			if err != nil {
				t.Fatalf("raw key %q: %v (keys: %v)", tc.redisKey, err, m.Keys())
			}
			if len(raw) != 8+len("value") || raw[8:] != "value" {
				t.Fatalf("raw value %q, want 8-byte revision + value", raw)
			}
			if rev := binary.BigEndian.Uint64([]byte(raw[:8])); rev != e.Revision {
				t.Fatalf("stored revision %d, Get returned %d", rev, e.Revision)
			}
			if ttl := m.TTL(tc.redisKey); ttl != 2*time.Millisecond {
				t.Fatalf("TTL %s, want 2ms (rounded up)", ttl)
			}
		})
	}
}

func TestNewFromOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts *redis.UniversalOptions
	}{
		{"nil", nil},
		{"no_address", &redis.UniversalOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := redisstore.NewFromOptions(tc.opts, "p"); err == nil {
				_ = s.Close()
				t.Fatal("NewFromOptions accepted invalid options")
			}
		})
	}
	t.Run("single_node", func(t *testing.T) {
		m := miniredis.RunT(t)
		s, err := redisstore.NewFromOptions(&redis.UniversalOptions{Addrs: []string{m.Addr()}}, "p")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Create(t.Context(), store.KindJTI, "j", []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if !m.Exists("p:jti:j") {
			t.Fatalf("key not written where expected; keys: %v", m.Keys())
		}
	})
}

func BenchmarkCreateTakeRedisServer(b *testing.B) {
	s := redisstore.New(redis.NewClient(&redis.Options{Addr: storetest.StartRedis(b)}), "bench")
	defer s.Close()
	storetest.BenchCreateTake(b, s)
}

func BenchmarkCreateTakeRedisServerParallel(b *testing.B) {
	s := redisstore.New(redis.NewClient(&redis.Options{Addr: storetest.StartRedis(b)}), "bench")
	defer s.Close()
	storetest.BenchCreateTakeParallel(b, s)
}
