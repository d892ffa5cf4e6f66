package broker_test

import (
	"net/http"
	"net/url"
	"testing"
)

// The token endpoint answers a code grant itself unless the request comes
// from a browser (Origin), which the OIDC library's endpoint answers with
// its CORS policy. Both paths must give every request the same answer.
func TestCodeGrantSameAnswerOnBothPaths(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	cases := []struct {
		name   string
		form   func(code, verifier string) url.Values
		auth   func(*http.Request)
		status int
		err    string
	}{
		{"secret in Basic and body", func(c, v string) url.Values {
			return url.Values{"code": {c}, "redirect_uri": {rpRedirect}, "code_verifier": {v}, "client_id": {"portal"}, "client_secret": {"portal-secret"}}
		}, basic("portal", "portal-secret"), http.StatusBadRequest, "invalid_request"},
		{"secret and assertion", func(c, v string) url.Values {
			return url.Values{"code": {c}, "redirect_uri": {rpRedirect}, "code_verifier": {v}, "client_id": {"portal"}, "client_secret": {"portal-secret"},
				"client_assertion": {"x.y.z"}, "client_assertion_type": {assertionType}}
		}, nil, http.StatusBadRequest, "invalid_request"},
		{"no client", func(c, v string) url.Values {
			return url.Values{"code": {c}, "redirect_uri": {rpRedirect}, "code_verifier": {v}}
		}, nil, http.StatusBadRequest, "invalid_request"},
		{"wrong assertion type", func(c, v string) url.Values {
			return url.Values{"code": {c}, "redirect_uri": {rpRedirect}, "code_verifier": {v}, "client_assertion": {"x.y.z"}, "client_assertion_type": {"urn:other"}}
		}, nil, http.StatusBadRequest, "invalid_request"},
		{"wrong secret", func(c, v string) url.Values {
			return url.Values{"code": {c}, "redirect_uri": {rpRedirect}, "code_verifier": {v}}
		}, basic("portal", "wrong"), http.StatusUnauthorized, "invalid_client"},
		{"secret in the body (registered for Basic)", func(c, v string) url.Values {
			return url.Values{"code": {c}, "redirect_uri": {rpRedirect}, "code_verifier": {v}, "client_id": {"portal"}, "client_secret": {"portal-secret"}}
		}, nil, http.StatusBadRequest, "invalid_client"},
		{"body client_id names another client", func(c, v string) url.Values {
			return url.Values{"code": {c}, "redirect_uri": {rpRedirect}, "code_verifier": {v}, "client_id": {"other"}}
		}, basic("portal", "portal-secret"), http.StatusBadRequest, "invalid_request"},
		{"code missing", func(c, v string) url.Values {
			return url.Values{"redirect_uri": {rpRedirect}, "code_verifier": {v}}
		}, basic("portal", "portal-secret"), http.StatusBadRequest, "invalid_request"},
		{"redirect_uri missing", func(c, v string) url.Values {
			return url.Values{"code": {c}, "code_verifier": {v}}
		}, basic("portal", "portal-secret"), http.StatusBadRequest, "invalid_request"},
		{"verifier missing", func(c, v string) url.Values {
			return url.Values{"code": {c}, "redirect_uri": {rpRedirect}}
		}, basic("portal", "portal-secret"), http.StatusBadRequest, "invalid_request"},
		{"wrong verifier", func(c, v string) url.Values {
			return url.Values{"code": {c}, "redirect_uri": {rpRedirect}, "code_verifier": {v[:len(v)-1] + "x"}}
		}, basic("portal", "portal-secret"), http.StatusBadRequest, "invalid_grant"},
		{"unknown code", func(c, v string) url.Values {
			return url.Values{"code": {"unknown"}, "redirect_uri": {rpRedirect}, "code_verifier": {v}}
		}, basic("portal", "portal-secret"), http.StatusBadRequest, "invalid_grant"},
		{"redeemed", func(c, v string) url.Values {
			return url.Values{"code": {c}, "redirect_uri": {rpRedirect}, "code_verifier": {v}}
		}, basic("portal", "portal-secret"), http.StatusOK, ""},
	}
	for _, origin := range []string{"", "https://portal.example"} {
		for _, tc := range cases {
			t.Run(tc.name+"/origin="+origin, func(t *testing.T) {
				f, code := r.codeFor("erika", "high")
				form := tc.form(code, f.verifier)
				form.Set("grant_type", "authorization_code")
				a := e.call(http.MethodPost, "/token", form, func(req *http.Request) {
					if tc.auth != nil {
						tc.auth(req)
					}
					if origin != "" {
						req.Header.Set("Origin", origin)
					}
				})
				if a.status != tc.status || a.err != tc.err {
					t.Fatalf("%d %q, want %d %q: %s", a.status, a.err, tc.status, tc.err, a.body)
				}
				if ct := a.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				if a.header.Get("Cache-Control") != "no-store" {
					t.Error("token response may be cached")
				}
				if tc.status == http.StatusUnauthorized && a.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without a challenge")
				}
				if origin != "" && a.header.Get("Access-Control-Allow-Origin") != origin {
					t.Errorf("browser request without CORS answer: %v", a.header)
				}
			})
		}
	}
}
