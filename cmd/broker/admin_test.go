package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/config"
)

// TestServeAdminListener runs serve's listeners for real: metrics and
// profiling answer on admin_listen and not on the public listener; without
// admin_listen there is no admin listener at all.
func TestServeAdminListener(t *testing.T) {
	td, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	file := func(admin string) string {
		return fmt.Sprintf(`issuer: https://login.example.de
listen: 127.0.0.1:0
%s
clients:
  - id: portal
    redirect_uris: [https://portal.example.de/cb]
    secret: "a-long-enough-client-secret"
adapters:
  - id: elster
    type: elster
    max_level: substantial
    config:
      trust_anchors: [%s/elster/root.pem]
`, admin, td)
	}
	for _, tc := range []struct {
		name, admin string
		listeners   int
	}{
		{"admin listener off by default", "", 1},
		{"admin listener on loopback", "admin_listen: 127.0.0.1:0", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load(writeConfig(t, file(tc.admin)), serveRegistry())
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			b := startBroker(t, cfg, newLogger(io.Discard, "error"), broker.NewMetrics())
			var current atomic.Pointer[broker.Server]
			current.Store(b)
			ls := listeners(cfg, &current)
			if len(ls) != tc.listeners {
				t.Fatalf("%d listeners, want %d", len(ls), tc.listeners)
			}
			ctx, cancel := context.WithCancel(context.Background())
			bound := make(chan []string, 1)
			done := make(chan error, 1)
			go func() { done <- serve(ctx, newLogger(io.Discard, "error"), func(a []string) { bound <- a }, ls...) }()
			var addrs []string
			select {
			case addrs = <-bound:
			case err := <-done:
				t.Fatalf("serve: %v", err)
			}
			status := func(addr, path string) int {
				t.Helper()
				resp, err := http.Get("http://" + addr + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			for _, p := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/heap"} {
				if s := status(addrs[0], p); s != http.StatusNotFound {
					t.Errorf("public %s: %d, want 404", p, s)
				}
				if len(addrs) > 1 {
					if s := status(addrs[1], p); s != http.StatusOK {
						t.Errorf("admin %s: %d, want 200", p, s)
					}
				}
			}
			if s := status(addrs[0], "/healthz"); s != http.StatusOK {
				t.Errorf("public /healthz: %d", s)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve after shutdown: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("serve did not shut down")
			}
		})
	}
}

// TestServeRefusesTakenAdminPort: a bind failure of the admin listener
// stops the start before the public listener serves anything.
func TestServeRefusesTakenAdminPort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan []string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, newLogger(io.Discard, "error"), func(a []string) { first <- a },
			listener{name: "public", addr: "127.0.0.1:0", h: http.NotFoundHandler()})
	}()
	taken := (<-first)[0]
	err := serve(context.Background(), newLogger(io.Discard, "error"), func([]string) { t.Error("bound called") },
		listener{name: "public", addr: "127.0.0.1:0", h: http.NotFoundHandler()},
		listener{name: "admin", addr: taken, h: http.NotFoundHandler()})
	if err == nil || !strings.Contains(err.Error(), "admin listener") {
		t.Fatalf("err = %v, want an admin listener bind error", err)
	}
	cancel()
	<-done
}

func TestDemoAdminAddrMustBeLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:9090", ":9090", "10.1.2.3:9090", "9090"} {
		var out, errOut bytes.Buffer
		if code := run([]string{"demo", "--admin-addr", addr}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "loopback") {
			t.Errorf("--admin-addr %s: exit %d, %q", addr, code, errOut.String())
		}
	}
}

// TestDataKeysFromConfig: keys.data_keys reaches the broker with its IDs,
// and keys.data_key keeps the ID the broker gives a single key, so a later
// move to a list can name it.
func TestDataKeysFromConfig(t *testing.T) {
	if config.DefaultDataKeyID != broker.DefaultDataKeyID {
		t.Fatalf("config and broker disagree on the single data key's ID: %q, %q", config.DefaultDataKeyID, broker.DefaultDataKeyID)
	}
	td, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	p := writeConfig(t, fmt.Sprintf(`issuer: https://login.example.de
keys:
  subject_secret: {file: %[1]s/config/secrets/subject_secret}
  data_keys:
    - {id: 2026-b, key: QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=, active: true}
    - {id: default, key: {file: %[1]s/config/secrets/data_key}}
clients:
  - id: portal
    redirect_uris: [https://portal.example.de/cb]
    secret: "a-long-enough-client-secret"
adapters:
  - id: elster
    type: elster
    max_level: substantial
    config:
      trust_anchors: [%[1]s/elster/root.pem]
`, td))
	cfg, err := config.Load(p, serveRegistry())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	out, err := runtimeConfig(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.DataKey) != 0 || len(out.DataKeys) != 2 || out.DataKeys[0].ID != "2026-b" || !out.DataKeys[0].Active ||
		out.DataKeys[1].ID != "default" || out.DataKeys[1].Active {
		t.Fatalf("data keys %+v", out.DataKeys)
	}
	if got := activeDataKey(out); string(got) != strings.Repeat("B", 32) {
		t.Fatalf("active key %q", got)
	}
	// The broker builds with them (startBroker fails the test if not).
	startBroker(t, cfg, newLogger(io.Discard, "error"), nil)
}
