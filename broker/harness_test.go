package broker_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/adapters/demo"
	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

const (
	rpRedirect  = "https://portal.example/cb"
	rp2Redirect = "https://other.example/cb"
)

// testKeys are generated once per test binary: RSA generation is slow and
// the keys carry no meaning between tests.
var testKeys = sync.OnceValue(func() []broker.SigningKey {
	keys, err := broker.GenerateSigningKeys()
	if err != nil {
		panic(err)
	}
	return keys
})

var clientJWK = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

type env struct {
	t      testing.TB
	offset atomic.Int64 // fake clock: nanoseconds added to the real time
	srv    *httptest.Server
	broker *broker.Server
	store  store.Store
	// serving is the broker behind srv; a test may swap in another one
	// on the same store and issuer (a restart with a new configuration).
	serving atomic.Pointer[broker.Server]
}

// newEnv starts a broker with the demo adapter, two portals (one of them
// with services) and a private_key_jwt client; mod may adjust the config.
func newEnv(t testing.TB, mod func(*broker.Config)) *env {
	t.Helper()
	mem := memory.New()
	t.Cleanup(func() { _ = mem.Close() })
	return newEnvWithStore(t, mem, mod)
}

func newEnvWithStore(t testing.TB, st store.Store, mod func(*broker.Config)) *env {
	t.Helper()
	e := &env{t: t, store: st}
	now := func() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.serving.Load().Handler().ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	secret := make([]byte, 32)
	dataKey := make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(dataKey)
	cfg := broker.Config{
		Issuer: e.srv.URL, Store: st, Keys: testKeys(), SubjectSecret: secret, DataKey: dataKey,
		InsecureCookies: true, Now: now,
		Clients: []broker.Client{
			{ID: "portal", Name: "Test Portal", RedirectURIs: []string{rpRedirect}, AuthMethod: "client_secret_basic",
				Secret: "portal-secret", MinLevel: assurance.Low,
				AllowedClaims: []string{"given_name", "family_name", "birthdate", "address"},
				Services: []broker.Service{
					{ID: "library", Name: "Library card", MinLevel: assurance.Low},
					{ID: "tax", Name: "Tax", MinLevel: assurance.Substantial},
					{ID: "passport", Name: "Passport", MinLevel: assurance.High},
				}},
			{ID: "other", Name: "Other Portal", RedirectURIs: []string{rp2Redirect}, AuthMethod: "client_secret_basic",
				Secret: "other-secret", AllowedClaims: []string{"given_name"}, ImplicitConsent: true},
			{ID: "jwtclient", Name: "JWT Portal", RedirectURIs: []string{"https://jwt.example/cb"}, AuthMethod: "private_key_jwt",
				Keys:       []jose.JSONWebKey{{Key: clientJWK().Public(), KeyID: "c1", Algorithm: "ES256", Use: "sig"}},
				IDTokenAlg: "PS256", ImplicitConsent: true},
		},
		Adapters: []broker.AdapterEntry{{ID: "demo", Adapter: demo.New(now)}},
	}
	if mod != nil {
		mod(&cfg)
	}
	b, err := broker.New(cfg)
	if err != nil {
		t.Fatalf("broker.New: %v", err)
	}
	e.broker = b
	e.serving.Store(b)
	return e
}

// rp is an independent relying party: coreos/go-oidc + x/oauth2.
type rp struct {
	e        *env
	cfg      oauth2.Config
	verifier *oidc.IDTokenVerifier
	provider *oidc.Provider
	browser  *http.Client
}

func (e *env) rp(clientID, secret, redirect string) *rp {
	e.t.Helper()
	ctx := oidc.InsecureIssuerURLContext(context.Background(), e.srv.URL)
	p, err := oidc.NewProvider(ctx, e.srv.URL)
	if err != nil {
		e.t.Fatalf("discovery: %v", err)
	}
	// The portal authenticates as discovery says (client_secret_basic):
	// x/oauth2's auto-detection would retry a failed request with the
	// secret in the body, which the broker refuses for a basic client,
	// and so turn a 503 into invalid_client.
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	return &rp{
		e: e, provider: p,
		cfg: oauth2.Config{ClientID: clientID, ClientSecret: secret, RedirectURL: redirect,
			Endpoint: ep, Scopes: []string{oidc.ScopeOpenID, "profile"}},
		verifier: p.Verifier(&oidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{"ES256", "RS256", "PS256"}}),
		browser:  e.newBrowser(),
	}
}

// newBrowser is a cookie-keeping client that stops at the portal's
// redirect URI (nothing listens there).
func (e *env) newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), e.srv.URL) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

type page struct {
	status int
	url    *url.URL
	body   string
	loc    *url.URL // set when the flow left the broker (redirect to the portal)
}

// fieldREs are the compiled patterns of page.field by field name: the
// benchmarks call it in every login, and compiling was a good part of
// their cost, none of it the broker's.
var fieldREs sync.Map // string → *regexp.Regexp

func fieldRE(name string) *regexp.Regexp {
	if re, ok := fieldREs.Load(name); ok {
		return re.(*regexp.Regexp)
	}
	re, _ := fieldREs.LoadOrStore(name, regexp.MustCompile(`name="`+regexp.QuoteMeta(name)+`" value="([^"]*)"`))
	return re.(*regexp.Regexp)
}

var (
	formActionRE    = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	consentActionRE = regexp.MustCompile(`action="(/consent/[^"]+)"`)
)

func (p *page) field(name string) string {
	m := fieldRE(name).FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func (p *page) formAction() string {
	m := formActionRE.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func (r *rp) do(req *http.Request) *page {
	r.e.t.Helper()
	resp, err := r.browser.Do(req)
	if err != nil {
		r.e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := &page{status: resp.StatusCode, url: resp.Request.URL, body: string(b)}
	if resp.StatusCode/100 == 3 {
		p.loc, _ = resp.Location()
	}
	return p
}

func (r *rp) get(u string) *page {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return r.do(req)
}

func (r *rp) post(u string, form url.Values) *page {
	if strings.HasPrefix(u, "/") {
		u = r.e.srv.URL + u
	}
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r.do(req)
}

// flow is one authorization attempt's secrets.
type flow struct {
	state, nonce, verifier string
}

func (r *rp) authorize(extra ...oauth2.AuthCodeOption) (*flow, *page) {
	f := &flow{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), oidc.Nonce(f.nonce)}, extra...)
	return f, r.get(r.cfg.AuthCodeURL(f.state, opts...))
}

var txPath = regexp.MustCompile(`/login/([A-Za-z0-9_-]+)/start`)

// txOf is the login's transaction ID, read from its method page.
func (r *rp) txOf(methods *page) string {
	r.e.t.Helper()
	m := txPath.FindStringSubmatch(methods.body)
	if m == nil {
		r.e.t.Fatalf("no method form on page (status %d): %s", methods.status, methods.body)
	}
	return m[1]
}

// demoLogin picks the demo adapter on the method page and logs in as
// person at level; it returns the page after the demo form was posted.
func (r *rp) demoLogin(methods *page, person, level string) *page {
	r.e.t.Helper()
	demoPage := r.post("/login/"+r.txOf(methods)+"/start", url.Values{"method": {"demo"}})
	if demoPage.status != 200 || demoPage.field("nonce") == "" {
		r.e.t.Fatalf("demo page: status %d: %s", demoPage.status, demoPage.body)
	}
	return r.post(demoPage.formAction(), url.Values{"nonce": {demoPage.field("nonce")},
		"person": {person}, "level": {level}, "action": {"login"}})
}

// consent accepts the consent page if it is shown.
func (r *rp) consent(p *page) *page {
	if p.loc != nil {
		return p
	}
	m := consentActionRE.FindStringSubmatch(p.body)
	if m == nil {
		r.e.t.Fatalf("expected consent page or redirect, got %d: %s", p.status, p.body)
	}
	return r.post(m[1], url.Values{"action": {"allow"}})
}

// callbackParams checks the redirect reached the portal and returns its query.
func (r *rp) callbackParams(p *page, f *flow) url.Values {
	r.e.t.Helper()
	if p.loc == nil || !strings.HasPrefix(p.loc.String(), r.cfg.RedirectURL) {
		r.e.t.Fatalf("expected redirect to %s, got status %d loc %v body %.400s", r.cfg.RedirectURL, p.status, p.loc, p.body)
	}
	q := p.loc.Query()
	if q.Get("state") != f.state {
		r.e.t.Fatalf("state not echoed: %q", q.Get("state"))
	}
	return q
}

type tokens struct {
	tok     *oauth2.Token
	idToken *oidc.IDToken
	claims  map[string]any
}

func (r *rp) exchange(f *flow, code string) (*tokens, error) {
	ctx := context.Background()
	tok, err := r.cfg.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		return nil, err
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return nil, errors.New("no id_token")
	}
	idt, err := r.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verify id token: %w", err)
	}
	if idt.Nonce != f.nonce {
		return nil, fmt.Errorf("nonce mismatch")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, err
	}
	return &tokens{tok: tok, idToken: idt, claims: claims}, nil
}

// login runs a whole login with the demo adapter and returns the tokens.
func (r *rp) login(person, level string, extra ...oauth2.AuthCodeOption) (*flow, *tokens) {
	r.e.t.Helper()
	f, methods := r.authorize(extra...)
	done := r.consent(r.demoLogin(methods, person, level))
	q := r.callbackParams(done, f)
	if q.Get("error") != "" {
		r.e.t.Fatalf("login failed: %s: %s", q.Get("error"), q.Get("error_description"))
	}
	tk, err := r.exchange(f, q.Get("code"))
	if err != nil {
		r.e.t.Fatalf("exchange: %v", err)
	}
	return f, tk
}

// advance moves the broker's clock forward (sessions, max_age).
func (e *env) advance(d time.Duration) { e.offset.Add(int64(d)) }

func jwtPart(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
