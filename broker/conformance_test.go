package broker_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
)

// oauthAnswer is a raw HTTP answer of an OP endpoint.
type oauthAnswer struct {
	status int
	header http.Header
	body   string
	err    string // the "error" member of a JSON body
}

func (e *env) call(method, path string, form url.Values, mod func(*http.Request)) oauthAnswer {
	e.t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if mod != nil {
		mod(req)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := oauthAnswer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	var j struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &j) == nil {
		a.err = j.Error
	}
	return a
}

func basic(id, secret string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
}

// codeFor runs a login up to the code and returns it with its flow.
func (r *rp) codeFor(person, level string) (*flow, string) {
	r.e.t.Helper()
	r.browser = r.e.newBrowser()
	f, methods := r.authorize()
	q := r.callbackParams(r.consent(r.demoLogin(methods, person, level)), f)
	return f, q.Get("code")
}

func codeForm(f *flow, code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpRedirect}, "code_verifier": {f.verifier}}
}

// Items 1, 2, 3 and 10 (repeated parameters) of the token endpoint's HTTP
// rules, RFC 6749 §3.2, §5.1, §5.2 and §3.1.
func TestTokenEndpointHTTPRules(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	f, code := r.codeFor("erika", "high")
	form := codeForm(f, code)
	cases := []struct {
		name      string
		method    string
		path      string
		form      url.Values
		auth      func(*http.Request)
		status    int
		err       string
		challenge string // WWW-Authenticate prefix; "" means none
	}{
		{"GET issues nothing", http.MethodGet, "/token?" + form.Encode(), nil, basic("portal", "portal-secret"), http.StatusMethodNotAllowed, "invalid_request", ""},
		{"parameters in the URL", http.MethodPost, "/token?code=" + url.QueryEscape(code), url.Values{"grant_type": {"authorization_code"}}, basic("portal", "portal-secret"), http.StatusBadRequest, "invalid_request", ""},
		{"wrong secret with Basic", http.MethodPost, "/token", form, basic("portal", "wrong"), http.StatusUnauthorized, "invalid_client", "Basic "},
		{"unknown client with Basic", http.MethodPost, "/token", form, basic("nobody", "x"), http.StatusUnauthorized, "invalid_client", "Basic "},
		{"malformed Basic header", http.MethodPost, "/token", form, func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!") }, http.StatusUnauthorized, "invalid_client", "Basic "},
		{"repeated parameter", http.MethodPost, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {code, code}, "redirect_uri": {rpRedirect}, "code_verifier": {f.verifier}}, basic("portal", "portal-secret"), http.StatusBadRequest, "invalid_request", ""},
		{"malformed code_verifier", http.MethodPost, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpRedirect}, "code_verifier": {"short"}}, basic("portal", "portal-secret"), http.StatusBadRequest, "invalid_request", ""},
		{"oversized body", http.MethodPost, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {strings.Repeat("a", 100<<10)}}, basic("portal", "portal-secret"), http.StatusBadRequest, "invalid_request", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.call(c.method, c.path, c.form, c.auth)
			if a.status != c.status || a.err != c.err {
				t.Fatalf("got %d %q, want %d %q: %s", a.status, a.err, c.status, c.err, a.body)
			}
			if got := a.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, c.challenge) || (c.challenge == "") != (got == "") {
				t.Errorf("WWW-Authenticate = %q, want prefix %q", got, c.challenge)
			}
			if a.header.Get("Cache-Control") != "no-store" || a.header.Get("Pragma") != "no-cache" {
				t.Errorf("error response cacheable: %v", a.header)
			}
			if c.method == http.MethodGet && a.header.Get("Allow") != http.MethodPost {
				t.Errorf("Allow = %q", a.header.Get("Allow"))
			}
		})
	}
	// None of the refused requests used up the code; the real one gets
	// tokens that are not cached either.
	a := e.call(http.MethodPost, "/token", form, basic("portal", "portal-secret"))
	if a.status != http.StatusOK || !strings.Contains(a.body, "id_token") {
		t.Fatalf("exchange after the refusals: %d %s", a.status, a.body)
	}
	if a.header.Get("Cache-Control") != "no-store" || a.header.Get("Pragma") != "no-cache" {
		t.Fatalf("token response cacheable: %v", a.header)
	}
}

// Item 4: the registered authentication method is the only one accepted,
// and a client_id in the body must name the authenticated client.
func TestClientAuthMethodEnforced(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	f, code := r.codeFor("erika", "high")
	post := codeForm(f, code)
	post.Set("client_id", "portal")
	post.Set("client_secret", "portal-secret")
	if a := e.call(http.MethodPost, "/token", post, nil); a.status != http.StatusBadRequest || a.err != "invalid_client" {
		t.Fatalf("client_secret_post for a client_secret_basic client: %d %s", a.status, a.body)
	}
	other := codeForm(f, code)
	other.Set("client_id", "other")
	if a := e.call(http.MethodPost, "/token", other, basic("portal", "portal-secret")); a.status != http.StatusBadRequest || a.err != "invalid_request" {
		t.Fatalf("client_id of another client in the body: %d %s", a.status, a.body)
	}
	same := codeForm(f, code)
	same.Set("client_id", "portal")
	if a := e.call(http.MethodPost, "/token", same, basic("portal", "portal-secret")); a.status != http.StatusOK {
		t.Fatalf("matching client_id in the body: %d %s", a.status, a.body)
	}
	// Discovery lists only what clients may use, for both endpoints.
	a := e.call(http.MethodGet, "/.well-known/openid-configuration", nil, nil)
	var d map[string]any
	if err := json.Unmarshal([]byte(a.body), &d); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"token_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported"} {
		if got, _ := json.Marshal(d[k]); string(got) != `["client_secret_basic","private_key_jwt"]` {
			t.Errorf("%s = %s", k, got)
		}
	}
	// Item 10: the revocation endpoint takes the same assertion algorithms.
	tokAlgs, _ := json.Marshal(d["token_endpoint_auth_signing_alg_values_supported"])
	revAlgs, _ := json.Marshal(d["revocation_endpoint_auth_signing_alg_values_supported"])
	if string(tokAlgs) != string(revAlgs) || len(tokAlgs) < 10 {
		t.Errorf("revocation algs %s, token algs %s", revAlgs, tokAlgs)
	}
}

// Item 5: an unknown client or an unregistered redirect_uri gets a 400 page
// in German or English, never a redirect, never a 500 or JSON.
func TestAuthorizeUnknownClientPage(t *testing.T) {
	e := newEnv(t, nil)
	base := url.Values{"response_type": {"code"}, "scope": {"openid"}, "state": {"s"},
		"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
	with := func(kv ...string) string {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			q.Add(kv[i], kv[i+1])
		}
		return "/authorize?" + q.Encode()
	}
	cases := []struct {
		name, path, lang, want string
	}{
		{"unknown client", with("client_id", "nobody", "redirect_uri", rpRedirect), "de", "nicht registriert"},
		{"unknown client, English", with("client_id", "nobody", "redirect_uri", rpRedirect), "en", "not registered"},
		{"no client_id", with("redirect_uri", rpRedirect), "de", "nicht registriert"},
		{"unregistered redirect_uri", with("client_id", "portal", "redirect_uri", "https://evil.example/cb"), "en", "return address"},
		{"no redirect_uri", with("client_id", "portal"), "de", "Rücksprungadresse"},
		{"client_id twice", with("client_id", "portal", "client_id", "other", "redirect_uri", rpRedirect), "en", "malformed"},
		{"redirect_uri twice", with("client_id", "portal", "redirect_uri", rpRedirect, "redirect_uri", "https://evil.example/cb"), "en", "malformed"},
		{"100 KB scope", with("client_id", "portal", "redirect_uri", rpRedirect, "nonce", strings.Repeat("x", 100<<10)), "en", "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.call(http.MethodGet, c.path, nil, func(r *http.Request) { r.Header.Set("Accept-Language", c.lang) })
			if a.status != http.StatusBadRequest || a.header.Get("Location") != "" {
				t.Fatalf("status %d, Location %q", a.status, a.header.Get("Location"))
			}
			if !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.Contains(a.body, c.want) {
				t.Fatalf("want an HTML page saying %q: %s %.300s", c.want, a.header.Get("Content-Type"), a.body)
			}
		})
	}
}

// Items 8 and 10: the code_challenge syntax (RFC 7636 §4.2) and a repeated
// parameter (RFC 6749 §3.1) are errors returned to the portal.
func TestAuthorizeRequestSyntax(t *testing.T) {
	e := newEnv(t, nil)
	ok := strings.Repeat("A", 43)
	cases := []struct {
		name  string
		extra url.Values
		err   string
	}{
		{"challenge of 43 characters", url.Values{"code_challenge": {ok}}, ""},
		{"challenge too short", url.Values{"code_challenge": {ok[:42]}}, "invalid_request"},
		{"challenge too long", url.Values{"code_challenge": {strings.Repeat("A", 129)}}, "invalid_request"},
		{"challenge with padding", url.Values{"code_challenge": {ok[:42] + "="}}, "invalid_request"},
		{"challenge with a plus", url.Values{"code_challenge": {ok[:42] + "+"}}, "invalid_request"},
		{"state twice", url.Values{"code_challenge": {ok}, "state": {"s1", "s2"}}, "invalid_request"},
		{"scope twice", url.Values{"code_challenge": {ok}, "scope": {"openid", "openid profile"}}, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := url.Values{"client_id": {"portal"}, "redirect_uri": {rpRedirect}, "response_type": {"code"},
				"scope": {"openid"}, "state": {"s1"}, "code_challenge_method": {"S256"}}
			for k, v := range c.extra {
				q[k] = v
			}
			a := e.call(http.MethodGet, "/authorize?"+q.Encode(), nil, nil)
			if c.err == "" {
				// Accepted: the answer is the login page itself.
				if a.status != http.StatusOK || !txPath.MatchString(a.body) {
					t.Fatalf("status %d: %.300s", a.status, a.body)
				}
				return
			}
			loc, _ := url.Parse(a.header.Get("Location"))
			if a.status != http.StatusFound || loc == nil {
				t.Fatalf("status %d: %.300s", a.status, a.body)
			}
			if got := loc.Query().Get("error"); got != c.err {
				t.Fatalf("redirect to %s, want error %q", loc, c.err)
			}
		})
	}
}

// Item 6 and item 10 (access tokens end with the SSO session): userinfo
// errors are RFC 6750 §3.1 answers.
func TestUserinfoErrors(t *testing.T) {
	fs := &flakyStore{Store: memStore(t)}
	e := newEnvWithStore(t, fs, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, tk := r.login("erika", "high")
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	if a := e.call(http.MethodGet, "/userinfo", nil, bearer(tk.tok.AccessToken)); a.status != http.StatusOK || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("userinfo: %d %v", a.status, a.header)
	}
	first := r.browser
	r.browser = e.newBrowser()
	_, revoked := r.login("erika", "high")
	r.browser = first
	if a := e.call(http.MethodPost, "/revoke", url.Values{"token": {revoked.tok.AccessToken}}, basic("portal", "portal-secret")); a.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", a.status, a.body)
	}
	cases := []struct {
		name      string
		auth      func(*http.Request)
		down      bool
		status    int
		err       string
		challenge string
	}{
		{"no token", nil, false, http.StatusUnauthorized, "", "Bearer"},
		{"an ID token", bearer(tk.tok.Extra("id_token").(string)), false, http.StatusUnauthorized, "invalid_token", `Bearer error="invalid_token"`},
		{"garbage", bearer("not-a-token"), false, http.StatusUnauthorized, "invalid_token", `Bearer error="invalid_token"`},
		{"revoked", bearer(revoked.tok.AccessToken), false, http.StatusUnauthorized, "invalid_token", `Bearer error="invalid_token"`},
		{"store down", bearer(tk.tok.AccessToken), true, http.StatusServiceUnavailable, "temporarily_unavailable", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs.down.Store(c.down)
			defer fs.down.Store(false)
			a := e.call(http.MethodGet, "/userinfo", nil, c.auth)
			if a.status != c.status || c.err != "" && a.err != c.err {
				t.Fatalf("got %d %q, want %d %q: %s", a.status, a.err, c.status, c.err, a.body)
			}
			if got := a.header.Get("WWW-Authenticate"); got != c.challenge {
				t.Fatalf("WWW-Authenticate = %q, want %q", got, c.challenge)
			}
			if a.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("Cache-Control = %q", a.header.Get("Cache-Control"))
			}
		})
	}
	// Logout ends the access tokens of the session.
	hint := tk.tok.Extra("id_token").(string)
	if p := r.get(e.srv.URL + "/end_session?" + url.Values{"id_token_hint": {hint}}.Encode()); !strings.Contains(p.body, `id="logged-out"`) {
		t.Fatalf("logout: %d", p.status)
	}
	if a := e.call(http.MethodGet, "/userinfo", nil, bearer(tk.tok.AccessToken)); a.status != http.StatusUnauthorized || a.err != "invalid_token" {
		t.Fatalf("access token after logout: %d %s", a.status, a.body)
	}
}

// Item 7: private_key_jwt assertions may name the token endpoint as their
// audience (OIDC Core §9) as well as the issuer (RFC 7523 §3).
func TestPrivateKeyJWTAudience(t *testing.T) {
	e := newEnv(t, nil)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: clientJWK(), KeyID: "c1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		aud  []string
		ok   bool
	}{
		{"issuer", []string{e.srv.URL}, true},
		{"token endpoint", []string{e.srv.URL + "/token"}, true},
		{"both", []string{e.srv.URL + "/token", e.srv.URL}, true},
		{"userinfo endpoint", []string{e.srv.URL + "/userinfo"}, false},
		{"another server's token endpoint", []string{"https://elsewhere.example/token"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.rp("jwtclient", "", "https://jwt.example/cb")
			f, methods := r.authorize()
			q := r.callbackParams(r.consent(r.demoLogin(methods, "erika", "high")), f)
			assertion, _ := jwt.Signed(signer).Claims(jwt.Claims{
				Issuer: "jwtclient", Subject: "jwtclient", Audience: c.aud, ID: rand16(),
				IssuedAt: jwt.NewNumericDate(time.Now()), Expiry: jwt.NewNumericDate(time.Now().Add(time.Minute)),
			}).Serialize()
			form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {"https://jwt.example/cb"},
				"code_verifier": {f.verifier}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion": {assertion}}
			a := e.call(http.MethodPost, "/token", form, nil)
			if c.ok && a.status != http.StatusOK || !c.ok && a.err != "invalid_client" {
				t.Fatalf("aud %v: %d %s", c.aud, a.status, a.body)
			}
		})
	}
}

// Item 9: a refused refresh request leaves the honest client's refresh
// token working (RFC 6749 §6).
func TestRefusedRefreshKeepsToken(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	r.cfg.Scopes = append(r.cfg.Scopes, "offline_access")
	_, tk := r.login("erika", "high")
	rt := tk.tok.RefreshToken
	cases := []struct {
		name   string
		form   url.Values
		auth   func(*http.Request)
		status int
		err    string
	}{
		{"another client", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic("other", "other-secret"), http.StatusBadRequest, "invalid_grant"},
		{"scope beyond the grant", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {"openid address"}}, basic("portal", "portal-secret"), http.StatusBadRequest, "invalid_scope"},
		{"wrong secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic("portal", "nope"), http.StatusUnauthorized, "invalid_client"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if a := e.call(http.MethodPost, "/token", c.form, c.auth); a.status != c.status || a.err != c.err {
				t.Fatalf("got %d %s", a.status, a.body)
			}
		})
	}
	a := e.call(http.MethodPost, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic("portal", "portal-secret"))
	if a.status != http.StatusOK || !strings.Contains(a.body, "refresh_token") {
		t.Fatalf("honest refresh after the refusals: %d %s", a.status, a.body)
	}
}

// Issue 9: an id_token_hint ends only the session it was issued from;
// anyone else's hint gets the confirmation page.
func TestEndSessionHintMustMatchSession(t *testing.T) {
	e := newEnv(t, nil)
	erika := e.rp("portal", "portal-secret", rpRedirect)
	_, erikaOld := erika.login("erika", "high")
	e.advance(2 * time.Second) // auth_time has a resolution of seconds
	erika.browser = e.newBrowser()
	var current *tokens // the newest ID token of erika's current session
	_, current = erika.login("erika", "high")
	erikaOther := e.rp("other", "other-secret", rp2Redirect)
	erikaOther.browser = erika.browser
	f, p := erikaOther.authorize()
	otherTk, err := erikaOther.exchange(f, erikaOther.callbackParams(p, f).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	maxRP := e.rp("portal", "portal-secret", rpRedirect)
	_, maxTk := maxRP.login("max", "high")

	hint := func(tk *tokens) string { return tk.tok.Extra("id_token").(string) }
	cases := []struct {
		name    string
		hint    func() string
		endsNow bool
	}{
		{"another person's hint", func() string { return hint(maxTk) }, false},
		{"the same person's hint from an earlier session", func() string { return hint(erikaOld) }, false},
		{"this session's hint for another client", func() string { return hint(otherTk) }, true},
		{"this session's hint", func() string { return hint(current) }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := erika.get(e.srv.URL + "/end_session?" + url.Values{"id_token_hint": {c.hint()}}.Encode())
			if c.endsNow != strings.Contains(p.body, `id="logged-out"`) || !c.endsNow && !strings.Contains(p.body, `id="confirm-logout"`) {
				t.Fatalf("status %d: %.300s", p.status, p.body)
			}
			f, pp := erika.authorize(oauth2.SetAuthURLParam("prompt", "none"))
			q := erika.callbackParams(pp, f)
			if alive := q.Get("code") != ""; alive == c.endsNow {
				t.Fatalf("session alive = %v after the logout request", alive)
			}
			if c.endsNow { // a new session for the next case
				e.advance(2 * time.Second)
				_, current = erika.login("erika", "high")
			}
		})
	}
	// Max's own session was never touched.
	f, pp := maxRP.authorize(oauth2.SetAuthURLParam("prompt", "none"))
	if q := maxRP.callbackParams(pp, f); q.Get("code") == "" {
		t.Fatalf("the other person's session ended: %v", q)
	}
}
