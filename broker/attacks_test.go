package broker_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/broker"
)

// O4: a code used twice revokes what the first use issued.
func TestCodeReuseRevokesIssuedTokens(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	f, methods := r.authorize()
	q := r.callbackParams(r.consent(r.demoLogin(methods, "erika", "high")), f)
	tk, err := r.exchange(f, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tk.tok)); err != nil {
		t.Fatalf("userinfo before reuse: %v", err)
	}
	if _, err := r.exchange(f, q.Get("code")); err == nil {
		t.Fatal("code reuse accepted")
	}
	if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tk.tok)); err == nil {
		t.Fatal("access token from the first use still works after the code was reused")
	}
}

// O25: a rotated refresh token presented again revokes the whole family.
func TestRefreshReuseRevokesFamily(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	r.cfg.Scopes = append(r.cfg.Scopes, "offline_access")
	_, tk := r.login("erika", "high")
	refresh := func(rt string) (*oauth2.Token, error) {
		return r.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
	}
	next, err := refresh(tk.tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refresh(tk.tok.RefreshToken); err == nil {
		t.Fatal("rotated refresh token accepted")
	}
	if _, err := refresh(next.RefreshToken); err == nil {
		t.Fatal("the family's newest refresh token still works after a reuse")
	}
}

// O11: the authorization response names the issuer (RFC 9207).
func TestAuthorizationResponseCarriesIss(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	f, methods := r.authorize()
	q := r.callbackParams(r.consent(r.demoLogin(methods, "erika", "high")), f)
	if q.Get("iss") != e.srv.URL {
		t.Fatalf("iss = %q", q.Get("iss"))
	}
	r.browser = e.newBrowser()
	f, p := r.authorize(oauth2.SetAuthURLParam("prompt", "none"))
	if q := r.callbackParams(p, f); q.Get("iss") != e.srv.URL || q.Get("error") != "login_required" {
		t.Fatalf("error response: %v", q)
	}
}

// O1/O3: only byte-identical registered redirect URIs; never redirect otherwise.
func TestRedirectURIExactMatch(t *testing.T) {
	e := newEnv(t, nil)
	for _, uri := range []string{
		"https://portal.example/cb/", "https://portal.example/CB", "https://PORTAL.example/cb",
		"https://portal.example/cb?x=1", "https://portal.example:444/cb", "http://portal.example/cb",
		"https://user@portal.example/cb", "https://portal.example/cb/../cb", "",
	} {
		t.Run(uri, func(t *testing.T) {
			r := e.rp("portal", "portal-secret", uri)
			_, p := r.authorize()
			if p.loc != nil {
				t.Fatalf("redirected to %v", p.loc)
			}
		})
	}
	r := e.rp("nobody", "x", rpRedirect)
	if _, p := r.authorize(); p.loc != nil {
		t.Fatalf("unknown client redirected to %v", p.loc)
	}
}

// O27: no bearer tokens in the URL query.
func TestUserinfoRefusesTokenInQuery(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, tk := r.login("erika", "high")
	resp, err := http.Get(e.srv.URL + "/userinfo?access_token=" + url.QueryEscape(tk.tok.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatal("access token in the query accepted")
	}
}

// O26: an unregistered post_logout_redirect_uri is never followed.
func TestLogoutRefusesUnregisteredRedirect(t *testing.T) {
	e := newEnv(t, func(c *broker.Config) {
		c.Clients[0].PostLogoutRedirectURIs = []string{"https://portal.example/bye"}
	})
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, tk := r.login("erika", "high")
	hint := tk.tok.Extra("id_token").(string)
	p := r.get(e.srv.URL + "/end_session?" + url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/"}}.Encode())
	if p.loc != nil {
		t.Fatalf("logout redirected to %v", p.loc)
	}
	p = r.get(e.srv.URL + "/end_session?" + url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://portal.example/bye"}, "state": {"st"}}.Encode())
	if p.loc == nil || !strings.HasPrefix(p.loc.String(), "https://portal.example/bye") || p.loc.Query().Get("state") != "st" {
		t.Fatalf("registered logout redirect: %d %v", p.status, p.loc)
	}
}

// O13: with Secure cookies (production) the names carry __Host-.
func TestSecureCookiesUseHostPrefix(t *testing.T) {
	e := newEnv(t, func(c *broker.Config) { c.InsecureCookies = false })
	r := e.rp("portal", "portal-secret", rpRedirect)
	// The authorization response shows the login page and binds it.
	resp, err := http.Get(r.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := resp.Header.Get("Set-Cookie")
	if !strings.HasPrefix(c, "__Host-broker_tx_") || !strings.Contains(c, "Secure") || !strings.Contains(c, "HttpOnly") ||
		!strings.Contains(c, "SameSite=Lax") || !strings.Contains(c, "Path=/") {
		t.Fatalf("transaction cookie: %q", c)
	}
}

// O14/O15: pages cannot be framed, leak no referrer and are not cached.
func TestPagesSecurityHeaders(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, methods := r.authorize()
	resp, err := r.browser.Get(methods.url.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" ||
		h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" ||
		strings.Contains(h.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Fatalf("headers: %v", h)
	}
}

// Logout without an id_token_hint asks the person first (a cross-site GET
// must not end the session) and never follows a redirect.
func TestLogoutWithoutHintNeedsConfirmation(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	r.login("erika", "high")
	p := r.get(e.srv.URL + "/end_session?" + url.Values{"post_logout_redirect_uri": {"https://portal.example/bye"}}.Encode())
	if p.loc != nil || !strings.Contains(p.body, `id="confirm-logout"`) {
		t.Fatalf("want the confirmation page, got %d %v", p.status, p.loc)
	}
	// The session is still there.
	f, pp := r.authorize(oauth2.SetAuthURLParam("prompt", "none"))
	if q := r.callbackParams(pp, f); q.Get("code") == "" {
		t.Fatalf("session ended without confirmation: %v", q)
	}
	if p := r.post("/logout/confirm", url.Values{}); !strings.Contains(p.body, `id="logged-out"`) {
		t.Fatalf("confirm: %d", p.status)
	}
	f, pp = r.authorize(oauth2.SetAuthURLParam("prompt", "none"))
	if q := r.callbackParams(pp, f); q.Get("error") != "login_required" {
		t.Fatalf("after confirmed logout: %v", q)
	}
}

// O28: only the portals' origins may call the OP endpoints from a
// browser, and never with credentials.
func TestCORSOnlyForPortalOrigins(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		origin string
		allow  bool
	}{{"https://portal.example", true}, {"https://evil.example", false}} {
		req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/token", nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if (got == tc.origin) != tc.allow || resp.Header.Get("Access-Control-Allow-Credentials") == "true" {
			t.Fatalf("origin %s: allow-origin %q, credentials %q", tc.origin, got, resp.Header.Get("Access-Control-Allow-Credentials"))
		}
	}
}
