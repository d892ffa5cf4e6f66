package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozg-broker/eidas-broker/broker/logtest"
	"github.com/ozg-broker/eidas-broker/broker/store/storetest"
	"github.com/ozg-broker/eidas-broker/config"
)

// redisConfig writes a production-shaped file for a Redis at addr with the
// given password line (may be empty).
func redisConfig(t *testing.T, addr, password string) string {
	t.Helper()
	repo, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	return writeConfig(t, fmt.Sprintf(`issuer: https://login.example.de
listen: 127.0.0.1:0
store:
  type: redis
  redis:
    addrs: [%q]
    key_prefix: "start-test"
    read_timeout: 300ms
%s
keys:
  signing:
    - id: k1
      file: %[3]s/config/keys/signing-es256.pem
  subject_secret: {file: %[3]s/config/secrets/subject_secret}
  data_key: {file: %[3]s/config/secrets/data_key}
clients:
  - id: portal
    redirect_uris: [https://portal.example.de/cb]
    secret: "a-long-enough-client-secret"
adapters:
  - id: elster
    type: elster
    max_level: substantial
    config:
      trust_anchors: [%[3]s/elster/root.pem]
`, addr, password, repo))
}

// Item 14: a Redis that refuses the configured credentials stops serve at
// start with the server's own reason, like any other config error.
func TestServeExitsOnRedisRefusal(t *testing.T) {
	srv := storetest.StartRedisServer(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	if err := admin.Do(t.Context(), "CONFIG", "SET", "requirepass", "the-right-password").Err(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, password, want string
	}{
		{"wrong password", "    password: wrong-password", "serve: store.redis: WRONGPASS"},
		{"no password", "", "serve: store.redis: NOAUTH"},
		{"unknown ACL user", "    username: nobody\n    password: x", "serve: store.redis: WRONGPASS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stderr logtest.Buffer
			done := make(chan int, 1)
			go func() { done <- cmdServe([]string{"-config", redisConfig(t, srv.Addr(), c.password)}, &stderr) }()
			select {
			case code := <-done:
				if code != 1 {
					t.Fatalf("exit code %d, want 1; output: %s", code, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("serve did not stop at start; output: %s", stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) || strings.Contains(stderr.String(), "the-right-password") {
				t.Fatalf("output %q lacks %q", stderr.String(), c.want)
			}
		})
	}
}

// Item 14: an unreachable Redis at start is logged once, clearly, and does
// not stop serve; a reachable one with the right password logs nothing.
func TestStoreCheckAtStart(t *testing.T) {
	srv := storetest.StartRedisServer(t)
	cases := []struct {
		name  string
		addr  string
		lines int
	}{
		{"reachable", srv.Addr(), 0},
		{"unreachable", "127.0.0.1:1", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Load(redisConfig(t, c.addr, ""), serveRegistry())
			if err != nil {
				t.Fatal(err)
			}
			st, err := openStore(cfg.Store)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var logs bytes.Buffer
			if err := checkStoreAtStart(st, cfg.Store, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
				t.Fatalf("check: %v", err)
			}
			got := strings.Count(logs.String(), "\n")
			if got != c.lines || c.lines > 0 && !strings.Contains(logs.String(), "unreachable at start") {
				t.Fatalf("log lines: %q", logs.String())
			}
		})
	}
}
