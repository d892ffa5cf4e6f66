package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "broker.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The demo-identities adapter (and every simulator) exists only in `broker
// demo`: a production config naming it is refused before anything starts.
func TestServeRefusesDemoAdapter(t *testing.T) {
	p := writeConfig(t, `issuer: https://login.example.de
clients:
  - id: portal
    redirect_uris: [https://portal.example.de/cb]
    secret: "a-long-enough-client-secret"
adapters:
  - id: demo
    type: demo
    max_level: high
`)
	var out bytes.Buffer
	if code := run([]string{"check-config", p}, &out, &out); code != 1 {
		t.Fatalf("check-config exit %d, want 1: %s", code, out.String())
	}
	if !strings.Contains(out.String(), `broker.yaml:8: adapters[0].type: unknown adapter type "demo"`) {
		t.Fatalf("unexpected output: %s", out.String())
	}
	out.Reset()
	if code := run([]string{"serve", "--config", p}, &out, &out); code != 1 {
		t.Fatalf("serve exit %d, want 1", code)
	}
	if !strings.Contains(out.String(), `unknown adapter type "demo"`) {
		t.Fatalf("serve output: %s", out.String())
	}
}

func TestCheckConfigReportsEveryProblemWithLine(t *testing.T) {
	p := writeConfig(t, `issuer: ftp://x
listen: 127.0.0.1:8080
clientz: []
clients:
  - id: portal
    redirect_uris: [relative/cb]
    min_level: medium
    secret: "a-long-enough-client-secret"
`)
	var out bytes.Buffer
	if code := run([]string{"check-config", p}, &out, &out); code != 1 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	for _, want := range []string{"broker.yaml:1: issuer", "broker.yaml:3: clientz", "broker.yaml:6: clients[0].redirect_uris[0]", "broker.yaml:7: clients[0].min_level"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
}

func TestUsageAndKeygen(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage") {
		t.Fatalf("no args: %d %s", code, errb.String())
	}
	out.Reset()
	if code := run([]string{"keygen"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "BEGIN PRIVATE KEY") {
		t.Fatalf("keygen: %d %s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"keygen", "--data-key"}, &out, &errb); code != 0 || len(strings.TrimSpace(out.String())) != 44 {
		t.Fatalf("keygen --data-key: %q", out.String())
	}
	if code := run([]string{"nope"}, &out, &errb); code != 2 {
		t.Fatalf("unknown command: %d", code)
	}
}

func TestLoadToolRunsWholeLogins(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"load", "--logins", "20", "--concurrency", "2"}, &out, &errb); code != 0 {
		t.Fatalf("load exit %d: %s %s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "logins: 20 ok, 0 failed") {
		t.Fatalf("output: %s", out.String())
	}
}
