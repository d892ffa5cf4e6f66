package broker_test

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	redisstore "github.com/ozg-broker/eidas-broker/broker/store/redis"
	"github.com/ozg-broker/eidas-broker/broker/store/storetest"
)

// maxRoundTripsPerStep is the budget of Redis round trips for one HTTP
// request of a login: each one waits for the network, so a step that
// needs more adds latency and Redis load to every login.
const maxRoundTripsPerStep = 3

// roundTrips is a go-redis hook that counts round trips to the server: a
// single command is one, a pipeline or transaction (MULTI/EXEC) is one
// however many commands it carries. It also keeps the command names, for
// the table the test prints.
type roundTrips struct {
	mu    sync.Mutex
	n     int
	calls []string
}

var _ redis.Hook = (*roundTrips)(nil)

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.record(cmdName(cmd))
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, 0, len(cmds))
		for _, c := range cmds {
			if n := cmdName(c); n != "MULTI" && n != "EXEC" {
				names = append(names, n)
			}
		}
		h.record("[" + strings.Join(names, " ") + "]")
		return next(ctx, cmds)
	}
}

func cmdName(c redis.Cmder) string { return strings.ToUpper(c.Name()) }

func (h *roundTrips) record(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	h.calls = append(h.calls, name)
}

// reset returns the round trips since the last reset and their commands.
func (h *roundTrips) reset() (int, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, calls := h.n, h.calls
	h.n, h.calls = 0, nil
	return n, calls
}

// TestLoginRedisRoundTrips runs whole demo logins on a real Redis and
// counts the store's round trips per HTTP request. Every step must stay
// within maxRoundTripsPerStep; the table it logs goes into the performance
// documentation.
func TestLoginRedisRoundTrips(t *testing.T) {
	srv := storetest.StartRedisServer(t)
	rs, err := redisstore.NewFromOptions(&redis.UniversalOptions{Addrs: []string{srv.Addr()}}, "rt-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	hook := &roundTrips{}
	rs.Client().AddHook(hook)
	e := newEnvWithStore(t, rs, nil)

	// The first login loads the store's scripts into Redis (a NOSCRIPT
	// answer, then EVAL: one extra round trip once per script and server);
	// the second shows the steady state, which is what the budget is for.
	_ = countedLogin(t, e, hook, false)
	for _, crossSite := range []bool{false, true} {
		steps := countedLogin(t, e, hook, crossSite)
		var b strings.Builder
		b.WriteString("\n| step | HTTP request | Redis round trips | commands |\n|---|---|---|---|\n")
		total := 0
		for _, s := range steps {
			total += s.trips
			b.WriteString("| " + s.name + " | " + s.request + " | " + strconv.Itoa(s.trips) + " | " + strings.Join(s.calls, ", ") + " |\n")
			if s.trips > maxRoundTripsPerStep {
				t.Errorf("%s: %d Redis round trips (%s), want at most %d", s.name, s.trips, strings.Join(s.calls, ", "), maxRoundTripsPerStep)
			}
		}
		b.WriteString("| **whole login** | " + strconv.Itoa(len(steps)) + " requests | " + strconv.Itoa(total) + " | |\n")
		t.Log(b.String())
	}
}

type step struct {
	name, request string
	trips         int
	calls         []string
}

// countedLogin runs one login request by request, with a browser that
// follows no redirect, so that each request's round trips are its own.
// crossSite delivers the upstream answer without the browser's cookies,
// as a foreign SAML node's POST arrives, which takes the way through /done.
func countedLogin(t *testing.T, e *env, hook *roundTrips, crossSite bool) []step {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r := e.rp("portal", "portal-secret", rpRedirect)
	var steps []step
	run := func(name, request string, req *http.Request, want int) *page {
		t.Helper()
		hook.reset()
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		body := string(raw)
		n, calls := hook.reset()
		if resp.StatusCode != want {
			t.Fatalf("%s: status %d, want %d: %.300s", name, resp.StatusCode, want, body)
		}
		steps = append(steps, step{name: name, request: request, trips: n, calls: calls})
		p := &page{status: resp.StatusCode, url: resp.Request.URL, body: body}
		if resp.StatusCode/100 == 3 {
			p.loc, _ = resp.Location()
		}
		return p
	}
	get := func(u string) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		return req
	}
	post := func(u string, form url.Values) *http.Request {
		if strings.HasPrefix(u, "/") {
			u = e.srv.URL + u
		}
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}

	f := &flow{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
	authURL := r.cfg.AuthCodeURL(f.state, oauth2.S256ChallengeOption(f.verifier), oauth2.SetAuthURLParam("nonce", f.nonce))
	// /authorize answers with the method page itself.
	p := run("authorize", "GET /authorize", get(authURL), http.StatusOK)
	m := txPath.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no method form: %.300s", p.body)
	}
	p = run("start", "POST /login/{tx}/start", post("/login/"+m[1]+"/start", url.Values{"method": {"demo"}}), http.StatusOK)
	cb := post(p.formAction(), url.Values{"nonce": {p.field("nonce")}, "person": {"erika"}, "level": {"high"}, "action": {"login"}})
	if crossSite {
		// A cross-site POST (a foreign SAML node) brings no cookie: the
		// answer waits under a one-time handle for /done.
		jar := browser.Jar
		browser.Jar = nil
		p = run("adapter callback (cross-site)", "POST /login/cb/{ref}", cb, http.StatusSeeOther)
		browser.Jar = jar
		p = run("done", "GET /login/{tx}/done", get(p.loc.String()), http.StatusOK)
	} else {
		p = run("adapter callback", "POST /login/cb/{ref}", cb, http.StatusOK)
	}
	cm := regexp.MustCompile(`action="(/consent/[^"]+)"`).FindStringSubmatch(p.body)
	if cm == nil {
		t.Fatalf("no consent page: %.300s", p.body)
	}
	p = run("consent", "POST /consent/{tx}", post(cm[1], url.Values{"action": {"allow"}}), http.StatusFound)
	q := r.callbackParams(p, f)
	code := q.Get("code")
	if code == "" {
		t.Fatalf("no code: %v", q)
	}

	tok := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpRedirect}, "code_verifier": {f.verifier}}
	treq := post(r.provider.Endpoint().TokenURL, tok)
	treq.SetBasicAuth("portal", "portal-secret")
	p = run("token", "POST /token", treq, http.StatusOK)
	access := regexp.MustCompile(`"access_token":"([^"]+)"`).FindStringSubmatch(p.body)
	if access == nil {
		t.Fatalf("no access token: %.300s", p.body)
	}
	ureq := get(r.provider.UserInfoEndpoint())
	ureq.Header.Set("Authorization", "Bearer "+access[1])
	p = run("userinfo", "GET /userinfo", ureq, http.StatusOK)
	if !strings.Contains(p.body, `"sub"`) {
		t.Fatalf("userinfo without sub: %.300s", p.body)
	}
	return steps
}
