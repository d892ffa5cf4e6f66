package broker_test

import (
	"context"
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

	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

func TestHappyPathWithGoOIDC(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, tk := r.login("erika", "substantial")
	if got := tk.claims["acr"]; got != assurance.URISubstantial {
		t.Fatalf("acr = %v, want substantial", got)
	}
	if sub, _ := tk.claims["sub"].(string); tk.claims["auth_time"] == nil || len(sub) < 40 {
		t.Fatalf("auth_time/sub missing: %v", tk.claims)
	}
	if amr, _ := tk.claims["amr"].([]any); len(amr) != 1 || amr[0] != "demo" {
		t.Fatalf("amr = %v", tk.claims["amr"])
	}
	if _, ok := tk.claims["given_name"]; ok {
		t.Fatalf("claims must not be in the ID token unless asked there: %v", tk.claims)
	}
	ui, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tk.tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var claims map[string]any
	_ = ui.Claims(&claims)
	if claims["given_name"] != "Erika" || claims["family_name"] != "Mustermann" || claims["birthdate"] != "1964-08-12" {
		t.Fatalf("userinfo claims: %v", claims)
	}
	// Data minimisation: title and nationalities were asked (profile) but
	// the client is not allowed them.
	for _, c := range []string{"title", "nationalities", "birth_family_name"} {
		if _, ok := claims[c]; ok {
			t.Fatalf("claim %s released although not allowed", c)
		}
	}
	if ui.Subject != tk.idToken.Subject {
		t.Fatalf("userinfo sub %q != id token sub %q", ui.Subject, tk.idToken.Subject)
	}
}

func TestDiscoveryAdvertisesBrokerRules(t *testing.T) {
	e := newEnv(t, nil)
	resp, err := http.Get(e.srv.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"acr_values_supported":             `["http://eidas.europa.eu/LoA/low","http://eidas.europa.eu/LoA/substantial","http://eidas.europa.eu/LoA/high"]`,
		"subject_types_supported":          `["pairwise"]`,
		"code_challenge_methods_supported": `["S256"]`,
		"claims_parameter_supported":       `true`,
		"issuer":                           `"` + e.srv.URL + `"`,
	}
	for k, v := range want {
		got, _ := json.Marshal(d[k])
		if string(got) != v {
			t.Errorf("%s = %s, want %s", k, got, v)
		}
	}
	if _, ok := d["introspection_endpoint"]; ok {
		t.Errorf("introspection is not offered but advertised")
	}
	// JWKS: several keys, distinct kids.
	jr, err := http.Get(e.srv.URL + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer jr.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(jr.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) < 3 {
		t.Fatalf("jwks has %d keys", len(set.Keys))
	}
	seen := map[string]bool{}
	for _, k := range set.Keys {
		if seen[k.KeyID] || !k.IsPublic() {
			t.Fatalf("bad jwks key %q", k.KeyID)
		}
		seen[k.KeyID] = true
	}
}

func TestIDTokenAlgorithmPerClient(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, tk := r.login("erika", "high")
	raw := tk.tok.Extra("id_token").(string)
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.PS256})
	if err != nil {
		t.Fatal(err)
	}
	if alg := tok.Headers[0].Algorithm; alg != "ES256" {
		t.Fatalf("default alg = %s, want ES256", alg)
	}
}

func TestRedirectURIMismatchDoesNotRedirect(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", "https://evil.example/cb")
	_, p := r.authorize()
	if p.loc != nil {
		t.Fatalf("redirected to %v on an unregistered redirect_uri", p.loc)
	}
	if p.status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", p.status)
	}
}

func TestCodeReplayFails(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	f, methods := r.authorize()
	q := r.callbackParams(r.consent(r.demoLogin(methods, "erika", "high")), f)
	if _, err := r.exchange(f, q.Get("code")); err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	_, err := r.exchange(f, q.Get("code"))
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("second exchange: want invalid_grant, got %v", err)
	}
}

func TestPKCERules(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	cases := []struct {
		name   string
		params url.Values
	}{
		{"plain refused", url.Values{"code_challenge": {"abcdefghijabcdefghijabcdefghijabcdefghij123"}, "code_challenge_method": {"plain"}}},
		{"missing refused", url.Values{}},
		{"method missing (defaults to plain)", url.Values{"code_challenge": {"abcdefghijabcdefghijabcdefghijabcdefghij123"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := url.Values{"client_id": {"portal"}, "redirect_uri": {rpRedirect}, "response_type": {"code"},
				"scope": {"openid"}, "state": {"s1"}}
			for k, v := range c.params {
				q[k] = v
			}
			p := r.get(e.srv.URL + "/authorize?" + q.Encode())
			if p.loc == nil || p.loc.Query().Get("error") != "invalid_request" || p.loc.Query().Get("state") != "s1" {
				t.Fatalf("want invalid_request redirect, got %d %v", p.status, p.loc)
			}
		})
	}
	t.Run("wrong verifier", func(t *testing.T) {
		r.browser = e.newBrowser()
		f, methods := r.authorize()
		q := r.callbackParams(r.consent(r.demoLogin(methods, "erika", "high")), f)
		f.verifier = oauth2.GenerateVerifier()
		if _, err := r.exchange(f, q.Get("code")); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Fatalf("want invalid_grant, got %v", err)
		}
	})
	t.Run("verifier omitted", func(t *testing.T) {
		r.browser = e.newBrowser()
		f, methods := r.authorize()
		q := r.callbackParams(r.consent(r.demoLogin(methods, "erika", "high")), f)
		_, err := r.cfg.Exchange(context.Background(), q.Get("code"))
		if err == nil || !strings.Contains(err.Error(), "invalid_request") {
			t.Fatalf("want invalid_request, got %v", err)
		}
	})
}

func TestFloorNotMet(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	f, methods := r.authorize(oauth2.SetAuthURLParam("acr_values", assurance.URIHigh))
	p := r.demoLogin(methods, "erika", "substantial")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, `id="unmet-message"`) {
		t.Fatalf("want unmet page, got %d %.300s", p.status, p.body)
	}
	// The person goes back to the portal: standard error code.
	m := txPath.FindStringSubmatch(methods.body)
	back := r.post("/login/"+m[1]+"/cancel", url.Values{"reason": {"unmet"}})
	q := r.callbackParams(back, f)
	if q.Get("error") != "unmet_authentication_requirements" {
		t.Fatalf("error = %q", q.Get("error"))
	}
}

func TestStepUpAfterUnmetWithStrongerLogin(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	f, methods := r.authorize(oauth2.SetAuthURLParam("acr_values", assurance.URIHigh))
	if p := r.demoLogin(methods, "erika", "low"); p.status != http.StatusForbidden {
		t.Fatalf("want unmet, got %d", p.status)
	}
	m := txPath.FindStringSubmatch(methods.body)
	again := r.get(e.srv.URL + "/login/" + m[1])
	q := r.callbackParams(r.consent(r.demoLogin(again, "erika", "high")), f)
	tk, err := r.exchange(f, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if tk.claims["acr"] != assurance.URIHigh {
		t.Fatalf("acr = %v", tk.claims["acr"])
	}
}

func TestServiceScopeRaisesFloor(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	r.cfg.Scopes = append(r.cfg.Scopes, "service:passport")
	_, methods := r.authorize()
	if !strings.Contains(methods.body, "<strong>hoch</strong>") {
		t.Fatalf("method page does not show the high floor: %.500s", methods.body)
	}
	if p := r.demoLogin(methods, "erika", "substantial"); p.status != http.StatusForbidden {
		t.Fatalf("substantial login for a high service: want refusal, got %d", p.status)
	}
	r.cfg.Scopes = []string{"openid", "service:tax"}
	_, tk := r.login("erika", "substantial")
	if tk.claims["acr"] != assurance.URISubstantial {
		t.Fatalf("acr = %v", tk.claims["acr"])
	}
}

func TestUnknownServiceIsInvalidScope(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	r.cfg.Scopes = []string{"openid", "service:nope"}
	f, p := r.authorize()
	q := r.callbackParams(p, f)
	if q.Get("error") != "invalid_scope" {
		t.Fatalf("error = %q", q.Get("error"))
	}
}

func TestPromptNoneWithoutSession(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	f, p := r.authorize(oauth2.SetAuthURLParam("prompt", "none"))
	q := r.callbackParams(p, f)
	if q.Get("error") != "login_required" {
		t.Fatalf("error = %q", q.Get("error"))
	}
}

func TestSSOAcrossClientsWithPairwiseSub(t *testing.T) {
	e := newEnv(t, nil)
	r1 := e.rp("portal", "portal-secret", rpRedirect)
	_, tk1 := r1.login("erika", "high")

	r2 := e.rp("other", "other-secret", rp2Redirect)
	r2.browser = r1.browser // same browser, so the SSO cookie is there
	f, p := r2.authorize(oauth2.SetAuthURLParam("prompt", "none"))
	q := r2.callbackParams(p, f)
	if q.Get("error") != "" {
		t.Fatalf("SSO login failed: %s", q.Get("error"))
	}
	tk2, err := r2.exchange(f, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if tk1.idToken.Subject == tk2.idToken.Subject {
		t.Fatal("pairwise sub: two sectors got the same sub")
	}
	if tk1.claims["auth_time"] != tk2.claims["auth_time"] {
		t.Fatalf("SSO reuse should keep auth_time: %v vs %v", tk1.claims["auth_time"], tk2.claims["auth_time"])
	}
	// The same client again gets the same sub (silently: SSO and consent
	// are both remembered in this session).
	f3, p3 := r1.authorize()
	tk3, err := r1.exchange(f3, r1.callbackParams(p3, f3).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if tk3.idToken.Subject != tk1.idToken.Subject {
		t.Fatal("pairwise sub is not stable for one client")
	}
}

func TestSessionBelowFloorTriggersStepUp(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	r.login("erika", "substantial")
	_, p := r.authorize(oauth2.SetAuthURLParam("acr_values", assurance.URIHigh))
	if p.loc != nil || !strings.Contains(p.body, "/start") {
		t.Fatalf("a substantial session must not satisfy a high request: %d %v", p.status, p.loc)
	}
}

func TestMaxAgeForcesNewLogin(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	r.login("erika", "high")
	// Within max_age: silent reuse.
	f, p := r.authorize(oauth2.SetAuthURLParam("max_age", "600"))
	if q := r.callbackParams(p, f); q.Get("code") == "" {
		t.Fatalf("reuse within max_age failed: %v", q)
	}
	e.advance(2 * time.Minute)
	_, p = r.authorize(oauth2.SetAuthURLParam("max_age", "60"))
	if p.loc != nil || !strings.Contains(p.body, "/start") {
		t.Fatalf("max_age exceeded must show the login again, got %d %v", p.status, p.loc)
	}
	// prompt=login likewise.
	_, p = r.authorize(oauth2.SetAuthURLParam("prompt", "login"))
	if p.loc != nil || !strings.Contains(p.body, "/start") {
		t.Fatalf("prompt=login must show the login again, got %d %v", p.status, p.loc)
	}
}

func TestEssentialACRClaim(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	claims := `{"id_token":{"acr":{"essential":true,"values":["` + assurance.URISubstantial + `"]},"given_name":null}}`
	_, tk := r.login("erika", "high", oauth2.SetAuthURLParam("claims", claims))
	// high satisfies substantial; the token carries a value from the set.
	if tk.claims["acr"] != assurance.URISubstantial {
		t.Fatalf("acr = %v, want the essential value", tk.claims["acr"])
	}
	if tk.claims["given_name"] != "Erika" {
		t.Fatalf("given_name asked for the ID token: %v", tk.claims)
	}
	f, p := r.authorize(oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["urn:unknown"]}}}`))
	if q := r.callbackParams(p, f); q.Get("error") != "unmet_authentication_requirements" {
		t.Fatalf("unsupported essential acr: error = %q", q.Get("error"))
	}
	f, p = r.authorize(oauth2.SetAuthURLParam("claims", `{not json`))
	if q := r.callbackParams(p, f); q.Get("error") != "invalid_request" {
		t.Fatalf("bad claims JSON: error = %q", q.Get("error"))
	}
}

func TestConsentDeclined(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	f, methods := r.authorize()
	p := r.demoLogin(methods, "erika", "high")
	if !strings.Contains(p.body, "Erika") || !strings.Contains(p.body, "Test Portal") {
		t.Fatalf("consent page should show the data and the portal: %.400s", p.body)
	}
	m := txPath.FindStringSubmatch(methods.body)
	q := r.callbackParams(r.post("/consent/"+m[1], url.Values{"action": {"deny"}}), f)
	if q.Get("error") != "access_denied" {
		t.Fatalf("error = %q", q.Get("error"))
	}
}

// TestUpstreamCancelReturnsToMethods: a cancel at the upstream brings the
// person back to the method page with a note (another method can be
// picked); cancelling there answers the portal with access_denied.
func TestUpstreamCancelReturnsToMethods(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	f, methods := r.authorize()
	m := txPath.FindStringSubmatch(methods.body)
	dp := r.post("/login/"+m[1]+"/start", url.Values{"method": {"demo"}})
	p := r.post(dp.formAction(), url.Values{"nonce": {dp.field("nonce")}, "action": {"cancel"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="note"`) || !txPath.MatchString(p.body) {
		t.Fatalf("want the method page with a note, got %d: %.300s", p.status, p.body)
	}
	// Another method is still possible …
	if again := r.post("/login/"+m[1]+"/start", url.Values{"method": {"demo"}}); again.status != http.StatusOK || again.field("nonce") == "" {
		t.Fatalf("restart after cancel: %d", again.status)
	}
	// … and "cancel" on the method page is the person's access_denied.
	if q := r.callbackParams(r.post("/login/"+m[1]+"/cancel", nil), f); q.Get("error") != "access_denied" {
		t.Fatalf("error = %q", q.Get("error"))
	}
}

func TestLoginURLFromAnotherBrowserRefused(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, methods := r.authorize()
	attacker := e.newBrowser()
	resp, err := attacker.Get(e.srv.URL + "/login/" + txPath.FindStringSubmatch(methods.body)[1])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", resp.StatusCode)
	}
}

func TestReplayedUpstreamAnswerRefused(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, methods := r.authorize()
	m := txPath.FindStringSubmatch(methods.body)
	dp := r.post("/login/"+m[1]+"/start", url.Values{"method": {"demo"}})
	form := url.Values{"nonce": {dp.field("nonce")}, "person": {"erika"}, "level": {"high"}, "action": {"login"}}
	if p := r.post(dp.formAction(), form); p.status != 200 {
		t.Fatalf("first answer: %d", p.status)
	}
	if p := r.post(dp.formAction(), form); p.status != http.StatusBadRequest {
		t.Fatalf("replayed answer: status %d, want 400", p.status)
	}
}

func TestForgedMethodChoiceRefused(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, methods := r.authorize()
	m := txPath.FindStringSubmatch(methods.body)
	if p := r.post("/login/"+m[1]+"/start", url.Values{"method": {"nope"}}); p.status != http.StatusBadRequest {
		t.Fatalf("unknown method: %d", p.status)
	}
}

func TestRefreshRotationAndLogout(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	r.cfg.Scopes = append(r.cfg.Scopes, "offline_access")
	_, tk := r.login("erika", "high")
	if tk.tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	old := tk.tok.RefreshToken
	refresh := func(rt string) (*oauth2.Token, error) {
		return r.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
	}
	nt, err := refresh(old)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if nt.RefreshToken == "" || nt.RefreshToken == old {
		t.Fatal("refresh token not rotated")
	}
	idt, err := r.verifier.Verify(context.Background(), nt.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = idt.Claims(&c)
	if c["acr"] != assurance.URIHigh {
		t.Fatalf("refreshed ID token acr = %v", c["acr"])
	}
	if _, err := refresh(old); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("old refresh token reused: %v", err)
	}
	// RP-initiated logout ends the session and with it the refresh tokens.
	q := url.Values{"id_token_hint": {tk.tok.Extra("id_token").(string)}}
	p := r.get(e.srv.URL + "/end_session?" + q.Encode())
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="logged-out"`) {
		t.Fatalf("logout: %d %.300s", p.status, p.body)
	}
	if _, err := refresh(nt.RefreshToken); err == nil {
		t.Fatal("refresh token still works after logout")
	}
	f, pp := r.authorize(oauth2.SetAuthURLParam("prompt", "none"))
	if q := r.callbackParams(pp, f); q.Get("error") != "login_required" {
		t.Fatalf("after logout prompt=none: %q", q.Get("error"))
	}
}

func TestRefreshNeverOutlivesSession(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	r.cfg.Scopes = append(r.cfg.Scopes, "offline_access")
	_, tk := r.login("erika", "high")
	e.advance(31 * time.Minute) // high sessions live 30 minutes
	_, err := r.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tk.tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err == nil {
		t.Fatal("refresh beyond the high-level session lifetime")
	}
}

func TestPrivateKeyJWTReplayRefused(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("jwtclient", "", "https://jwt.example/cb")
	f, methods := r.authorize()
	q := r.callbackParams(r.consent(r.demoLogin(methods, "erika", "high")), f)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: clientJWK(), KeyID: "c1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertion, _ := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: "jwtclient", Subject: "jwtclient", Audience: jwt.Audience{e.srv.URL}, ID: "jti-1",
		IssuedAt: jwt.NewNumericDate(time.Now()), Expiry: jwt.NewNumericDate(time.Now().Add(time.Minute)),
	}).Serialize()
	post := func(code string) (int, string) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://jwt.example/cb"},
			"code_verifier": {f.verifier}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion": {assertion}}
		resp, err := http.PostForm(e.srv.URL+"/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := post(q.Get("code"))
	if status != 200 || !strings.Contains(body, "id_token") {
		t.Fatalf("first use: %d %s", status, body)
	}
	idt := struct {
		IDToken string `json:"id_token"`
	}{}
	_ = json.Unmarshal([]byte(body), &idt)
	if tok, _ := jwt.ParseSigned(idt.IDToken, []jose.SignatureAlgorithm{jose.PS256}); tok == nil {
		t.Fatal("this client is configured for PS256 ID tokens")
	}
	// A second login, same assertion: the jti was used.
	r.browser = e.newBrowser()
	f2, methods2 := r.authorize()
	q2 := r.callbackParams(r.consent(r.demoLogin(methods2, "erika", "high")), f2)
	f.verifier = f2.verifier
	status, body = post(q2.Get("code"))
	if status != http.StatusBadRequest && status != http.StatusUnauthorized || !strings.Contains(body, "invalid_client") {
		t.Fatalf("replayed jti: %d %s", status, body)
	}
	// An unsigned assertion is refused outright.
	none := "eyJhbGciOiJub25lIn0." + strings.TrimRight(jwtPart(`{"iss":"jwtclient","sub":"jwtclient","aud":"`+e.srv.URL+`","jti":"x","exp":9999999999}`), "=") + "."
	assertion = none
	status, body = post("whatever")
	if !strings.Contains(body, "invalid_client") {
		t.Fatalf("alg none: %d %s", status, body)
	}
}

func TestMetricsCountOutcomes(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	r.login("erika", "high")
	resp, err := http.Get(e.adminURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`broker_upstream_total{adapter="demo",result="verified"} 1`,
		`broker_logins_total{acr="http://eidas.europa.eu/LoA/high",client="portal",result="completed"} 1`,
		`broker_sso_sessions_created_total 1`,
		`broker_upstream_call_seconds_count{adapter="demo",outcome="ok",step="finish"} 1`,
		`broker_http_request_seconds_bucket{code="2xx",route="/authorize",le=`,
		`broker_store_operation_seconds_count{op="create",result="ok"}`,
		`go_goroutines `,
		`process_cpu_seconds_total`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "Erika") || strings.Contains(string(b), "Mustermann") {
		t.Fatal("metrics carry personal data")
	}
}
