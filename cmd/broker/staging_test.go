package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/broker/logtest"
	"github.com/ozg-broker/eidas-broker/broker/store/storetest"
	"github.com/ozg-broker/eidas-broker/config"
)

// TestServeStaging: environment staging makes serve offer the simulators
// and the demo identities beside the configured adapters, on a real Redis,
// with TEST on every page; a whole login through the demo portal works.
// The same file without staging offers none of it.
func TestServeStaging(t *testing.T) {
	addr := storetest.StartRedis(t)
	repo, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	body := func(env string) string {
		return fmt.Sprintf(`issuer: %s
secure_cookies: false
%s
store:
  type: redis
  redis: {addrs: [%q], key_prefix: "staging-test-%s"}
keys:
  signing: [{id: k1, file: %s/config/keys/signing-es256.pem}]
  subject_secret: {file: %s/config/secrets/subject_secret}
  data_key: {file: %s/config/secrets/data_key}
clients:
  - id: portal
    redirect_uris: [https://portal.example.de/cb]
    secret: "a-long-enough-client-secret"
adapters:
  - id: elster
    type: elster
    max_level: substantial
    config: {trust_anchors: [%s/elster/root.pem]}
`, issuer, env, addr, strings.TrimPrefix(env, "environment: "), repo, repo, repo, repo)
	}
	var logs []*logtest.Buffer
	build := func(env string) http.Handler {
		t.Helper()
		cfg, err := config.Load(writeConfig(t, body(env)), serveRegistry())
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		buf := &logtest.Buffer{}
		logs = append(logs, buf)
		b := startBroker(t, cfg, newLogger(io.MultiWriter(os.Stderr, buf), "warn"), nil)
		return b.Handler()
	}

	staging := build("environment: staging")
	// A second replica of the same staging setup: the demo portal's
	// client secret is the same on both (a token request may reach either),
	// and it is in the start-up warning.
	replica := httptestHandler(t, build("environment: staging"))
	secretRe := regexp.MustCompile(`demo_client_secret=([A-Za-z0-9_-]{32})`)
	first, second := secretRe.FindStringSubmatch(logs[0].String()), secretRe.FindStringSubmatch(logs[1].String())
	if first == nil || second == nil || first[1] != second[1] {
		t.Fatalf("staging replicas' demo client secrets: %v, %v", first, second)
	}
	req, _ := http.NewRequest(http.MethodPost, replica+"/token", strings.NewReader(url.Values{
		"grant_type": {"authorization_code"}, "code": {"unknown"}, "redirect_uri": {issuer + "/demo/callback"},
		"code_verifier": {strings.Repeat("v", 43)},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(demoClientID, first[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(answer), "invalid_grant") {
		t.Fatalf("the printed secret at another replica: %d %s, want invalid_grant (client authenticated)", resp.StatusCode, answer)
	}
	srv := &http.Server{Handler: staging}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	b := newHTTPBrowser(t)
	methods := b.get(issuer + "/demo/login?service=certificate")
	if !strings.Contains(methods.body, `id="test-banner"`) || !strings.Contains(methods.body, `id="start-demo"`) || !strings.Contains(methods.body, `id="start-eid"`) {
		t.Fatalf("staging method page: %d %.600s", methods.status, methods.body)
	}
	tx := regexp.MustCompile(`/login/([A-Za-z0-9_-]+)/start`).FindStringSubmatch(methods.body)[1]
	demo := b.post(issuer+"/login/"+tx+"/start", url.Values{"method": {"demo"}})
	action, form := demo.form(t, "/login/cb/")
	form.Set("person", "erika")
	form.Set("level", "high")
	form.Set("action", "login")
	consent := b.post(absolute(issuer, action), form)
	done := b.post(issuer+"/consent/"+tx, url.Values{"action": {"allow"}})
	if done.url.Path != "/demo/callback" || !strings.Contains(done.body, "LoA/high") {
		t.Fatalf("staging login did not reach the portal: consent %d, end %d at %s: %.400s", consent.status, done.status, done.url, done.body)
	}

	production := httptestHandler(t, build(""))
	for _, p := range []string{"/demo/", "/sim/wallet/"} {
		resp, err := http.Get(production + p)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("production %s: status %d, want 404", p, resp.StatusCode)
		}
	}
}

func httptestHandler(t *testing.T, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestStagingNeedsTestHost: staging is refused for a public issuer unless
// its host is marked as a test host; check-config warns loudly.
func TestStagingNeedsTestHost(t *testing.T) {
	base := `issuer: %s
%s
clients:
  - {id: portal, redirect_uris: [https://portal.example.de/cb], secret: "a-long-enough-client-secret"}
adapters:
  - {id: elster, type: elster, max_level: substantial, config: {trust_anchors: [%s]}}
`
	anchor, err := filepath.Abs("../../testdata/elster/root.pem")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ issuer, extra, want string }{
		{"http://127.0.0.1:8080", "environment: staging", ""},
		{"https://login.example.de", "environment: staging", "environment: staging (simulators and demo identities) needs a loopback issuer"},
		{"https://login-test.example.de", "environment: staging\ntest_host: login-test.example.de", ""},
		{"https://login.example.de", "environment: staging\ntest_host: login-test.example.de", `test_host: "login-test.example.de" is not the issuer's host`},
		{"https://login.example.de", "test_host: login.example.de", "test_host: only with environment: staging"},
		{"https://login.example.de", "environment: testing", "environment: want production or staging"},
	}
	for _, tt := range tests {
		p := writeConfig(t, fmt.Sprintf(base, tt.issuer, tt.extra, anchor))
		var out bytes.Buffer
		code := checkConfig(p, &out)
		switch {
		case tt.want == "" && (code != 0 || !strings.Contains(out.String(), "WARNING") || !strings.Contains(out.String(), "SIMULATORS")):
			t.Errorf("%s / %s: code %d, want ok with a loud warning: %s", tt.issuer, tt.extra, code, out.String())
		case tt.want != "" && (code == 0 || !strings.Contains(out.String(), tt.want)):
			t.Errorf("%s / %s: code %d, want %q: %s", tt.issuer, tt.extra, code, tt.want, out.String())
		}
	}
}
