package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/adapters/demo"
	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/logtest"
	"github.com/ozg-broker/eidas-broker/broker/store/storetest"
	"github.com/ozg-broker/eidas-broker/config"
)

// requireHAProxyEnv turns a missing haproxy from a skip into a failure
// (`make test` sets it; .ci/install-deps installs haproxy).
const requireHAProxyEnv = "BROKER_REQUIRE_HAPROXY"

// TestReplicasBehindHAProxy is the high-availability end-to-end test: two
// broker replicas, each built from the same production config file through
// the code `serve` runs (config.Load, openStore, runtimeConfig, broker.New),
// behind a real HAProxy on loopback, with a Redis Sentinel setup (1 master,
// 1 replica, 3 sentinels) as the shared store. Browsers log in through
// HAProxy while one replica is killed and then the Redis master is killed.
// Every login must complete or end in a clean retryable answer (429, 502,
// 503, 504 or a refused connection, or a 4xx page after such an answer);
// no response may be a 500, no issued code may be lost (refused at its
// first redemption) or redeemed twice.
//
// The one test-only piece: the upstream. A production config cannot name
// the demo identities (TestServeRefusesDemoAdapter), and every real
// upstream needs an external service, so the test appends the demo adapter
// to the runtime config after runtimeConfig built it from the file, exactly
// where the file's adapters end up. Everything between the browser and the
// adapter contract (HAProxy, routing, the limits, sessions, the store, the
// OIDC endpoints) is the production path.
func TestReplicasBehindHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts HAProxy, five Redis processes and two replicas")
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Getenv(requireHAProxyEnv) == "1" {
			t.Fatalf("haproxy not installed and %s=1", requireHAProxyEnv)
		}
		t.Skip("haproxy not installed; `make test` installs it")
	}
	sentinels, master, replica := startSentinelSetup(t)
	lbPort := freeTCPPort(t)
	issuer := "http://127.0.0.1:" + strconv.Itoa(lbPort)
	td, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := writeConfig(t, fmt.Sprintf(`issuer: %s
store:
  type: redis
  redis:
    addrs: [%s]
    master_name: broker
    key_prefix: ha
keys:
  signing:
    - {id: k1, file: %s/config/keys/signing-es256.pem}
  subject_secret: {file: %s/config/secrets/subject_secret}
  data_key: {file: %s/config/secrets/data_key}
secure_cookies: false
limits:
  trusted_proxies: [127.0.0.1]
  # The limits stay on (they are part of the production path), sized for
  # this test's one portal: a few hundred logins per second with two token
  # requests each went past the default 6,000 token requests a minute.
  per_client: 100000
clients:
  - id: %s
    redirect_uris: [%s/demo/callback]
    secret: "ha-test-client-secret-0123456789"
    allowed_claims: [given_name, family_name]
adapters:
  - id: elster
    type: elster
    max_level: substantial
    config:
      trust_anchors: [%s/elster/root.pem]
log: warn
`, issuer, strings.Join(sentinels, ", "), td, td, td, demoClientID, issuer, td))

	var logs lockedLog
	// The OIDC library logs through the default logger, as under serve.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	replicas := []*haReplica{startHAReplica(t, cfgPath, &logs), startHAReplica(t, cfgPath, &logs)}
	startHAProxy(t, haproxy, lbPort, replicas)

	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	d, err := newHADriver(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		mu      sync.Mutex
		results []haResult
		seq     atomic.Int64
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() && ctx.Err() == nil {
				r := d.login(ctx, seq.Add(1))
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(4 * time.Second)
	replicaKilled := time.Now()
	replicas[0].kill()
	time.Sleep(4 * time.Second)
	masterKilled := time.Now()
	master.Kill()
	promoted := storetest.WaitPromoted(t, replica, masterKilled, 30*time.Second)
	time.Sleep(promoted + 5*time.Second)
	stop.Store(true)
	wg.Wait()

	var ok, retryable, pages int
	var last503 time.Time
	statuses := map[int]int{}
	// overlaps: the login was running when a replica or the master died
	// (until Sentinel's promotion plus the 2 s the store may lag).
	overlaps := func(r haResult) bool {
		return (!r.start.After(replicaKilled) && !r.end.Before(replicaKilled)) ||
			(!r.start.After(masterKilled.Add(promoted+2*time.Second)) && !r.end.Before(masterKilled))
	}
	for _, r := range results {
		for _, s := range r.statuses {
			statuses[s]++
		}
		switch {
		case r.bad != "":
			t.Errorf("login %d: %s", r.n, r.bad)
		case r.ok:
			ok++
		case r.errorPage != "" && !overlaps(r):
			t.Errorf("login %d, far from any kill: %s", r.n, r.errorPage)
		case r.errorPage != "":
			pages++
			if pages <= 3 {
				t.Logf("login %d ended cleanly during a kill: %.120s", r.n, r.errorPage)
			}
		default:
			retryable++
			if r.end.After(masterKilled) && r.end.After(last503) {
				last503 = r.end
			}
		}
	}
	window := time.Duration(0)
	if !last503.IsZero() {
		window = last503.Sub(masterKilled)
	}
	t.Logf("HA run: %d logins, %d completed, %d ended in a clean retryable error, %d on an error or method page while a kill "+
		"cut a request; replica killed at +%v, "+
		"Redis master killed at +%v and replica promoted by Sentinel after %v; last failed login %v after the master kill; "+
		"statuses seen: %v; ERROR log lines: %d", len(results), ok, retryable, pages,
		replicaKilled.Sub(d.start).Round(time.Millisecond), masterKilled.Sub(d.start).Round(time.Millisecond),
		promoted.Round(time.Millisecond), window.Round(time.Millisecond), statuses, logs.count("level=ERROR"))
	for _, l := range logs.lines("level=ERROR", 5) {
		t.Logf("replica log: %s", l)
	}
	// A login that failed on the store ends after the driver's retries
	// (0.3 s + 0.6 s of backoff); beyond that, the broker may fail for at
	// most Sentinel's promotion time plus 2 s.
	if limit := promoted + 2*time.Second + 900*time.Millisecond; window > limit {
		t.Errorf("logins failed until %v after the master kill, more than the promotion (%v) + 2 s + retry backoff", window, promoted)
	}
	if ok < len(results)/2 {
		t.Errorf("only %d of %d logins completed", ok, len(results))
	}
	// The survivors keep serving once Sentinel has promoted the replica.
	for i := range 5 {
		if r := d.login(context.Background(), -int64(i)); !r.ok {
			t.Errorf("login after the failover: %+v", r)
		}
	}
}

// startSentinelSetup starts a master, a replica of it and three sentinels
// watching it as "broker" (quorum 2, failover after 1 s of silence).
func startSentinelSetup(t *testing.T) (sentinels []string, master, replica *storetest.RedisServer) {
	t.Helper()
	master = storetest.StartRedisServer(t)
	host, port, _ := net.SplitHostPort(master.Addr())
	replica = storetest.StartRedisServer(t, "--replicaof", host, port)
	for range 3 {
		s := storetest.StartRedisServer(t, "--sentinel")
		c := redis.NewClient(&redis.Options{Addr: s.Addr()})
		for _, cmd := range [][]any{
			{"SENTINEL", "MONITOR", "broker", host, port, "2"},
			{"SENTINEL", "SET", "broker", "down-after-milliseconds", "1000"},
			{"SENTINEL", "SET", "broker", "failover-timeout", "5000"},
		} {
			if err := c.Do(t.Context(), cmd...).Err(); err != nil {
				t.Fatalf("%v: %v", cmd, err)
			}
		}
		_ = c.Close()
		sentinels = append(sentinels, s.Addr())
	}
	// Wait until the sentinels know each other and the replica is in sync,
	// or a kill would find nobody to agree on a failover.
	deadline := time.Now().Add(20 * time.Second)
	for {
		ready := strings.Contains(storetest.CLI(t, replica.Addr(), "info", "replication"), "master_link_status:up")
		for _, s := range sentinels {
			out := storetest.CLI(t, s, "sentinel", "master", "broker")
			f := strings.Fields(out)
			i := slices.Index(f, "num-other-sentinels")
			j := slices.Index(f, "num-slaves")
			if i < 0 || j < 0 || i+1 >= len(f) || j+1 >= len(f) || f[i+1] != "2" || f[j+1] != "1" {
				ready = false
			}
		}
		if ready {
			return sentinels, master, replica
		}
		if time.Now().After(deadline) {
			t.Fatal("sentinels did not discover each other and the replica within 20s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// haReplica is one broker replica: serve's wiring on its own port.
type haReplica struct {
	addr string
	srv  *http.Server
	b    *broker.Server
}

func startHAReplica(t *testing.T, cfgPath string, logs io.Writer) *haReplica {
	t.Helper()
	cfg, err := config.Load(cfgPath, serveRegistry())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	st, err := openStore(cfg.Store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	bcfg, err := runtimeConfig(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	bcfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The test-only upstream (see the test's comment).
	bcfg.Adapters = append(bcfg.Adapters, broker.AdapterEntry{ID: "demo", Adapter: demo.New(time.Now)})
	b, err := broker.New(bcfg)
	if err != nil {
		t.Fatalf("broker: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &haReplica{addr: ln.Addr().String(), b: b,
		srv: &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}}
	go func() { _ = r.srv.Serve(ln) }()
	t.Cleanup(r.kill)
	return r
}

// kill ends the replica as a crash would: the listener closes and every
// open connection is cut, requests in flight included.
func (r *haReplica) kill() { _ = r.srv.Close() }

func startHAProxy(t *testing.T, bin string, port int, replicas []*haReplica) {
	t.Helper()
	var servers strings.Builder
	for i, r := range replicas {
		fmt.Fprintf(&servers, "  server r%d %s check\n", i, r.addr)
	}
	cfg := fmt.Sprintf(`global
  maxconn 2000
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 2
  option redispatch
  option forwardfor
frontend broker
  bind 127.0.0.1:%d
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 300ms fall 2 rise 2
%s`, port, servers.String())
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v: %s", err, out)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			t.Fatalf("haproxy exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy not serving after 10s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// haDriver runs demo logins as a browser and a portal, recording every
// status and retrying what a browser or portal would retry.
type haDriver struct {
	base     string
	cfg      oauth2.Config
	verifier *oidc.IDTokenVerifier
	start    time.Time
}

type haResult struct {
	n        int64
	ok       bool
	bad      string // why the login broke a rule
	statuses []int
	// errorPage is set when a step answered a 4xx page instead of the
	// next form: the flow's single-use state was spent by a request the
	// killed replica or the HTTP client's own replay of an idempotent GET
	// had already sent. Clean only for logins that overlapped a kill.
	errorPage  string
	start, end time.Time
}

func newHADriver(ctx context.Context, base string) (*haDriver, error) {
	p, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, base), base)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	return &haDriver{base: base, start: time.Now(),
		cfg: oauth2.Config{ClientID: demoClientID, ClientSecret: "ha-test-client-secret-0123456789",
			RedirectURL: base + "/demo/callback", Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile"}},
		verifier: p.Verifier(&oidc.Config{ClientID: demoClientID}),
	}, nil
}

// retryable is an answer a browser or portal may retry: the limits, the
// load balancer without a healthy server, the store failing over.
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

var errRetryable = errors.New("retryable")

func (d *haDriver) login(ctx context.Context, n int64) (res haResult) {
	res.n, res.start = n, time.Now()
	defer func() { res.end = time.Now() }()
	jar, _ := cookiejar.New(nil)
	// Each login comes from its own address, as separate people do;
	// HAProxy appends the real peer and the broker trusts only that hop.
	addr := fmt.Sprintf("198.18.%d.%d", (n/250)%250, n%250+1)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.Path, "/demo/callback") {
			return http.ErrUseLastResponse
		}
		r.Header.Set("X-Forwarded-For", addr)
		return nil
	}}
	retried := false
	// fetch does one browser step, retrying a retryable answer twice.
	fetch := func(method, u string, form url.Values) (*http.Response, string, error) {
		for attempt := 0; ; attempt++ {
			var body io.Reader
			if form != nil {
				body = strings.NewReader(form.Encode())
			}
			req, _ := http.NewRequestWithContext(ctx, method, u, body)
			req.Header.Set("X-Forwarded-For", addr)
			if form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp, err := browser.Do(req)
			status := 0
			var b []byte
			if err == nil {
				b, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				status = resp.StatusCode
				res.statuses = append(res.statuses, status)
			}
			if status >= 500 && !retryable(status) {
				return resp, string(b), fmt.Errorf("%s %s: status %d", method, req.URL.Path, status)
			}
			if err == nil && !retryable(status) {
				return resp, string(b), nil
			}
			retried = true
			if attempt == 2 || ctx.Err() != nil {
				return resp, string(b), errRetryable
			}
			time.Sleep(time.Duration(300*(attempt+1)) * time.Millisecond)
		}
	}
	// step reports the end of a login on an error: retryable, or a rule
	// broken.
	step := func(err error) bool {
		if err == nil {
			return false
		}
		if !errors.Is(err, errRetryable) {
			res.bad = err.Error()
		}
		return true
	}
	find := func(re *regexp.Regexp, page string) (string, bool) {
		m := re.FindStringSubmatch(page)
		if m == nil {
			return "", false
		}
		return html.UnescapeString(m[1]), true
	}
	// missing: a page lacks its form. After a retried step that is a
	// clean end (the transaction was spent on the killed replica); without
	// one it is a broken rule.
	missing := func(what string, resp *http.Response, page string) {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		msg := fmt.Sprintf("no %s (status %d): %.200s", what, status, page)
		if (retried || status >= 400) && status < 500 && status != 0 {
			res.errorPage = msg
			return
		}
		if status == http.StatusOK && reStart.MatchString(page) {
			// A step sent again (by this driver after a 503, or by the HTTP
			// client itself, which replays an idempotent GET whose
			// connection died) found its login already past that step,
			// because the first attempt was written before the store failed
			// or the replica died: the broker offers the methods again and
			// the person starts over.
			res.errorPage = "back on the method page after a step was sent again"
			return
		}
		res.bad = msg
	}

	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	resp, page, err := fetch(http.MethodGet, d.cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), nil)
	if step(err) {
		return res
	}
	startURL, found := find(reStart, page)
	if !found {
		missing("method form", resp, page)
		return res
	}
	if resp, page, err = fetch(http.MethodPost, d.base+startURL, url.Values{"method": {"demo"}}); step(err) {
		return res
	}
	cb, found1 := find(reAction, page)
	nv, found2 := find(reNonce, page)
	if !found1 || !found2 {
		missing("demo form", resp, page)
		return res
	}
	if resp, page, err = fetch(http.MethodPost, cb, url.Values{"nonce": {nv}, "person": {"erika"}, "level": {"high"}, "action": {"login"}}); step(err) {
		return res
	}
	consent, found := find(reConsent, page)
	if !found {
		missing("consent form", resp, page)
		return res
	}
	if resp, page, err = fetch(http.MethodPost, d.base+consent, url.Values{"action": {"allow"}}); step(err) {
		return res
	}
	loc, _ := resp.Location()
	if loc == nil || loc.Query().Get("code") == "" {
		missing("code", resp, page)
		return res
	}
	if loc.Query().Get("state") != state {
		res.bad = "state not echoed"
		return res
	}
	code := loc.Query().Get("code")

	// The portal redeems the code, retrying a retryable answer.
	var tok *oauth2.Token
	exchangeRetried := false
	for attempt := 0; ; attempt++ {
		tok, err = d.cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		var re *oauth2.RetrieveError
		if err == nil {
			break
		}
		// A transport error (the replica died with the request) is as
		// retryable for the portal as a 503.
		transient := !errors.As(err, &re) || retryable(re.Response.StatusCode)
		if transient && attempt < 2 && ctx.Err() == nil {
			exchangeRetried = true
			time.Sleep(time.Duration(300*(attempt+1)) * time.Millisecond)
			continue
		}
		switch {
		case transient:
			return res // gave up on a retryable answer: clean
		case errors.As(err, &re) && re.ErrorCode == "invalid_grant" && exchangeRetried:
			// An earlier attempt may have reached the store before failing;
			// the single-use rule then refuses the retry. Clean for the
			// portal (it restarts the login), and never a double issue.
			return res
		case errors.As(err, &re) && re.ErrorCode == "invalid_grant":
			res.bad = "code lost: refused at its first redemption"
		default:
			res.bad = "code exchange: " + err.Error()
		}
		return res
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil || idt.Nonce != nonce {
		res.bad = fmt.Sprintf("id token: %v", err)
		return res
	}
	// A second redemption of the same code must fail.
	if _, err := d.cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
		res.bad = "code redeemed twice"
		return res
	}
	res.ok = true
	return res
}

// lockedLog collects the replicas' log lines.
type lockedLog struct{ logtest.Buffer }

func (l *lockedLog) count(s string) int { return strings.Count(l.String(), s) }

func (l *lockedLog) lines(s string, max int) []string {
	var out []string
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, s) && len(out) < max {
			out = append(out, line)
		}
	}
	return out
}
