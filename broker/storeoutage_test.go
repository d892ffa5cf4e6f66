package broker_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/broker/store"
	redisstore "github.com/ozg-broker/eidas-broker/broker/store/redis"
	"github.com/ozg-broker/eidas-broker/broker/store/storetest"
)

// Item 11: with the store down, every endpoint that needs it answers 503,
// none 500 (and none a 4xx that a portal would read as a refusal).
func TestNoEndpointAnswers500WhenStoreDown(t *testing.T) {
	fs := &flakyStore{Store: memStore(t)}
	e := newEnvWithStore(t, fs, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	r.cfg.Scopes = append(r.cfg.Scopes, "offline_access")
	_, tk := r.login("erika", "high")
	f, code := r.codeFor("erika", "high")
	sessionBrowser := r.browser
	r.browser = e.newBrowser()
	_, methods := r.authorize()
	loginURL := methods.url.String()
	m := txPath.FindStringSubmatch(methods.body)
	demoPage := r.post("/login/"+m[1]+"/start", url.Values{"method": {"demo"}})
	_, jwtCode := func() (*flow, string) {
		j := e.rp("jwtclient", "", "https://jwt.example/cb")
		return j.codeFor("erika", "high")
	}()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: clientJWK(), KeyID: "c1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertion, _ := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "jwtclient", Subject: "jwtclient", Audience: jwt.Audience{e.srv.URL},
		ID: rand16(), IssuedAt: jwt.NewNumericDate(time.Now()), Expiry: jwt.NewNumericDate(time.Now().Add(time.Minute))}).Serialize()
	hint := tk.tok.Extra("id_token").(string)
	auth := basic("portal", "portal-secret")
	withCookies := func(b *http.Client) func(*http.Request) {
		return func(req *http.Request) {
			for _, c := range b.Jar.Cookies(req.URL) {
				req.AddCookie(c)
			}
		}
	}
	authorizeURL := r.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	cases := []struct {
		name   string
		method string
		path   string
		form   url.Values
		mod    func(*http.Request)
	}{
		{"authorize", http.MethodGet, strings.TrimPrefix(authorizeURL, e.srv.URL), nil, nil},
		{"login page", http.MethodGet, strings.TrimPrefix(loginURL, e.srv.URL), nil, withCookies(r.browser)},
		{"upstream callback", http.MethodPost, strings.TrimPrefix(demoPage.formAction(), e.srv.URL), url.Values{"nonce": {demoPage.field("nonce")}, "person": {"erika"}, "level": {"high"}, "action": {"login"}}, withCookies(r.browser)},
		{"token: code", http.MethodPost, "/token", codeForm(f, code), auth},
		{"token: refresh", http.MethodPost, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.tok.RefreshToken}}, auth},
		{"token: private_key_jwt", http.MethodPost, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {jwtCode},
			"redirect_uri": {"https://jwt.example/cb"}, "code_verifier": {strings.Repeat("a", 43)},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}, nil},
		{"userinfo", http.MethodGet, "/userinfo", nil, func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+tk.tok.AccessToken) }},
		{"revoke: refresh token", http.MethodPost, "/revoke", url.Values{"token": {tk.tok.RefreshToken}}, auth},
		{"revoke: access token", http.MethodPost, "/revoke", url.Values{"token": {tk.tok.AccessToken}, "token_type_hint": {"access_token"}}, auth},
		{"end_session with a hint", http.MethodGet, "/end_session?" + url.Values{"id_token_hint": {hint}}.Encode(), nil, withCookies(sessionBrowser)},
		{"logout confirmation", http.MethodPost, "/logout/confirm", url.Values{}, withCookies(sessionBrowser)},
		{"readiness", http.MethodGet, "/readyz", nil, nil},
	}
	fs.down.Store(true)
	defer fs.down.Store(false)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.call(c.method, c.path, c.form, c.mod)
			if a.status != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503: %.300s", a.status, a.body)
			}
			if a.err != "" && a.err != "temporarily_unavailable" {
				t.Fatalf("error %q, want temporarily_unavailable", a.err)
			}
		})
	}
}

// stepStore fails exactly one store call, counted from the last reset:
// either before it reaches the store, or after it ran (the answer lost,
// as when Redis executes a command whose reply times out).
type stepStore struct {
	store.Store
	mu       sync.Mutex
	n        int
	failAt   int // -1: never
	executed bool
	calls    []string // "take tx", "create code", ... since the last reset
}

func (s *stepStore) reset(failAt int, executed bool) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	calls := s.calls
	s.n, s.failAt, s.executed, s.calls = 0, failAt, executed, nil
	return calls
}

// step records the call and reports whether it fails and whether it runs
// first.
func (s *stepStore) step(op string, k store.Kind) (fail, run bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, op+" "+string(k))
	i := s.n
	s.n++
	if i != s.failAt {
		return false, true
	}
	return true, s.executed
}

var errLost = fmt.Errorf("test: reply lost: %w", store.ErrUnavailable)

func (s *stepStore) Create(ctx context.Context, k store.Kind, key string, v []byte, ttl time.Duration) error {
	fail, run := s.step("create", k)
	var err error
	if run {
		err = s.Store.Create(ctx, k, key, v, ttl)
	}
	if fail {
		return errLost
	}
	return err
}

func (s *stepStore) Get(ctx context.Context, k store.Kind, key string) (store.Entry, error) {
	fail, run := s.step("get", k)
	var e store.Entry
	var err error
	if run {
		e, err = s.Store.Get(ctx, k, key)
	}
	if fail {
		return store.Entry{}, errLost
	}
	return e, err
}

func (s *stepStore) Swap(ctx context.Context, k store.Kind, key string, rev uint64, v []byte, ttl time.Duration) error {
	fail, run := s.step("swap", k)
	var err error
	if run {
		err = s.Store.Swap(ctx, k, key, rev, v, ttl)
	}
	if fail {
		return errLost
	}
	return err
}

func (s *stepStore) Take(ctx context.Context, k store.Kind, key string) ([]byte, error) {
	fail, run := s.step("take", k)
	var v []byte
	var err error
	if run {
		v, err = s.Store.Take(ctx, k, key)
	}
	if fail {
		return nil, errLost
	}
	return v, err
}

func (s *stepStore) Delete(ctx context.Context, k store.Kind, key string) error {
	fail, run := s.step("delete", k)
	var err error
	if run {
		err = s.Store.Delete(ctx, k, key)
	}
	if fail {
		return errLost
	}
	return err
}

// Item 12: a code exchange that fails on any store call answers 503 and
// leaves the code redeemable, so the client's retry gets the tokens. The
// one exception is the final take itself when it ran but its answer was
// lost: the code is then gone, and the retry must not yield tokens while
// the tokens of the unanswered attempt are revoked.
func TestCodeExchangeSurvivesStoreFailureAtEveryStep(t *testing.T) {
	ss := &stepStore{Store: memStore(t), failAt: -1}
	e := newEnvWithStore(t, ss, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	r.cfg.Scopes = append(r.cfg.Scopes, "offline_access")
	// Count the store calls of one exchange.
	f, code := r.codeFor("erika", "high")
	ss.reset(-1, false)
	if _, err := r.exchange(f, code); err != nil {
		t.Fatal(err)
	}
	calls := len(ss.reset(-1, false))
	if calls < 3 {
		t.Fatalf("an exchange made only %d store calls", calls)
	}
	for step := range calls {
		for _, executed := range []bool{false, true} {
			t.Run(fmt.Sprintf("call %d of %d, executed %v", step+1, calls, executed), func(t *testing.T) {
				f, code := r.codeFor("erika", "high")
				ss.reset(step, executed)
				_, err := r.exchange(f, code)
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.Response.StatusCode != http.StatusServiceUnavailable {
					t.Fatalf("want 503, got %v", err)
				}
				ss.reset(-1, false)
				tk, err := r.exchange(f, code)
				if step == calls-1 && executed {
					if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
						t.Fatalf("retry after a lost final take: want invalid_grant, got %v", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("retry after the store failure: %v", err)
				}
				if _, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tk.tok)); err != nil {
					t.Fatalf("tokens of the retry: %v", err)
				}
			})
		}
	}
}

// Item 12 for the step that issues the code: a store failure on any call
// of the consent POST answers 503 and the person's retry completes the
// login. The exception is the final take of the transaction when it ran
// but its answer was lost: the login is then over, and no code was issued.
func TestConsentSurvivesStoreFailureAtEveryStep(t *testing.T) {
	ss := &stepStore{Store: memStore(t), failAt: -1}
	e := newEnvWithStore(t, ss, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	consentPage := func() (*flow, string) {
		r.browser = e.newBrowser()
		f, methods := r.authorize()
		p := r.demoLogin(methods, "erika", "high")
		m := regexp.MustCompile(`action="(/consent/[^"]+)"`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("no consent page: %d", p.status)
		}
		return f, m[1]
	}
	f, action := consentPage()
	ss.reset(-1, false)
	done := r.post(action, url.Values{"action": {"allow"}})
	calls := ss.reset(-1, false)
	if _, err := r.exchange(f, r.callbackParams(done, f).Get("code")); err != nil {
		t.Fatal(err)
	}
	for step, call := range calls {
		if strings.HasPrefix(call, "delete") {
			continue // clean-up after the code was issued; its failure is ignored
		}
		for _, executed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d %s, executed %v", step+1, call, executed), func(t *testing.T) {
				f, action := consentPage()
				ss.reset(step, executed)
				if p := r.post(action, url.Values{"action": {"allow"}}); p.status != http.StatusServiceUnavailable {
					t.Fatalf("consent with a failing store: %d %v", p.status, p.loc)
				}
				ss.reset(-1, false)
				p := r.post(action, url.Values{"action": {"allow"}})
				if call == "take tx" && executed {
					if p.loc != nil {
						t.Fatalf("a login whose transaction was consumed continued: %v", p.loc)
					}
					return
				}
				code := r.callbackParams(p, f).Get("code")
				if _, err := r.exchange(f, code); err != nil {
					t.Fatalf("retry: %v", err)
				}
			})
		}
	}
}

// gateStore holds every Take of a refresh token until n Gets of refresh
// tokens have happened (or a second passed): n requests that all read the
// token before any takes it, a race between replicas made reproducible.
type gateStore struct {
	store.Store
	n     int
	mu    sync.Mutex
	gets  int
	ready chan struct{}
}

func (g *gateStore) Get(ctx context.Context, k store.Kind, key string) (store.Entry, error) {
	e, err := g.Store.Get(ctx, k, key)
	if k == store.KindRefresh && !strings.HasPrefix(key, "used:") {
		g.mu.Lock()
		if g.gets++; g.gets == g.n {
			close(g.ready)
		}
		g.mu.Unlock()
	}
	return e, err
}

func (g *gateStore) Take(ctx context.Context, k store.Kind, key string) ([]byte, error) {
	if k == store.KindRefresh {
		select {
		case <-g.ready:
		case <-time.After(time.Second):
		}
	}
	return g.Store.Take(ctx, k, key)
}

// Item 9: of concurrent refreshes with one token exactly one succeeds, and
// its successor stays valid (the race is not mistaken for token theft).
func TestRefreshRaceLeavesOneSuccessor(t *testing.T) {
	const racers = 4
	gs := &gateStore{Store: memStore(t), n: racers, ready: make(chan struct{})}
	e := newEnvWithStore(t, gs, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	r.cfg.Scopes = append(r.cfg.Scopes, "offline_access")
	_, tk := r.login("erika", "high")
	gs.mu.Lock()
	gs.gets = 0
	gs.mu.Unlock()
	var wg sync.WaitGroup
	results := make([]*oauth2.Token, racers)
	errs := make([]error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = r.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tk.tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
		}()
	}
	wg.Wait()
	var winner *oauth2.Token
	for i, err := range errs {
		switch {
		case err == nil && winner != nil:
			t.Fatal("two requests rotated the same refresh token")
		case err == nil:
			winner = results[i]
		case !strings.Contains(err.Error(), "invalid_grant"):
			t.Fatalf("loser: want invalid_grant, got %v", err)
		}
	}
	if winner == nil {
		t.Fatal("no request rotated the token")
	}
	if _, err := r.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: winner.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err != nil {
		t.Fatalf("the one successor does not work: %v", err)
	}
}

// hungRedis is a broker on a real redis-server that the test can pause.
func hungRedis(t *testing.T) (*env, *storetest.RedisServer) {
	srv := storetest.StartRedisServer(t)
	rs, err := redisstore.NewFromOptions(&redis.UniversalOptions{Addrs: []string{srv.Addr()}}, "hang-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	return newEnvWithStore(t, rs, nil), srv
}

// Items 12 and 13 on a real Redis that hangs: the token endpoint and the
// logout answer 503 within about a second (the store's default timeouts),
// and when Redis comes back, with everything sent meanwhile executed, the
// retries succeed: the code was not burned, the logout completes.
func TestRedisHangCodeAndLogout(t *testing.T) {
	e, srv := hungRedis(t)
	r := e.rp("portal", "portal-secret", rpRedirect)
	f, code := r.codeFor("erika", "high")
	logoutBrowser := e.rp("portal", "portal-secret", rpRedirect)
	_, tk := logoutBrowser.login("max", "high")
	hint := tk.tok.Extra("id_token").(string)

	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = srv.Resume()
		}
	}()
	start := time.Now()
	_, err := r.exchange(f, code)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("exchange during the hang: want 503, got %v", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Fatalf("503 took %v, want about a second at most", d)
	}
	p := logoutBrowser.get(e.srv.URL + "/end_session?" + url.Values{"id_token_hint": {hint}}.Encode())
	if p.status != http.StatusServiceUnavailable {
		t.Fatalf("logout during the hang: %d", p.status)
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	if _, err := r.exchange(f, code); err != nil {
		t.Fatalf("retry after the hang: %v", err)
	}
	p = logoutBrowser.get(e.srv.URL + "/end_session?" + url.Values{"id_token_hint": {hint}}.Encode())
	if !strings.Contains(p.body, `id="logged-out"`) {
		t.Fatalf("logout retry: %d %.300s", p.status, p.body)
	}
	f2, pp := logoutBrowser.authorize(oauth2.SetAuthURLParam("prompt", "none"))
	if q := logoutBrowser.callbackParams(pp, f2); q.Get("error") != "login_required" {
		t.Fatalf("session alive after the logout retry: %v", q)
	}
}
