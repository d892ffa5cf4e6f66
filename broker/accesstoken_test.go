package broker_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

func bearerAuth(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

// Access tokens carry their grant, so the store no longer ends them: the
// token's own expiry does, checked on the broker's clock.
func TestAccessTokenExpires(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, tk := r.login("erika", "high")
	if a := e.call(http.MethodGet, "/userinfo", nil, bearerAuth(tk.tok.AccessToken)); a.status != http.StatusOK {
		t.Fatalf("userinfo: %d %s", a.status, a.body)
	}
	e.advance(5*time.Minute + time.Second)
	a := e.call(http.MethodGet, "/userinfo", nil, bearerAuth(tk.tok.AccessToken))
	if a.status != http.StatusUnauthorized || a.err != "invalid_token" || !strings.Contains(a.body, "expired") {
		t.Fatalf("expired access token: %d %s", a.status, a.body)
	}
}

// RFC 7009 §2.1: a client cannot revoke another client's access token, and
// the owner's revocation ends it at once.
func TestAccessTokenRevocationIsTheOwners(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, tk := r.login("erika", "high")
	form := url.Values{"token": {tk.tok.AccessToken}, "token_type_hint": {"access_token"}}
	if a := e.call(http.MethodPost, "/revoke", form, basic("other", "other-secret")); a.status != http.StatusBadRequest || a.err != "invalid_request" {
		t.Fatalf("revocation by another client: %d %s", a.status, a.body)
	}
	if a := e.call(http.MethodGet, "/userinfo", nil, bearerAuth(tk.tok.AccessToken)); a.status != http.StatusOK {
		t.Fatalf("userinfo after the refused revocation: %d %s", a.status, a.body)
	}
	if a := e.call(http.MethodPost, "/revoke", form, basic("portal", "portal-secret")); a.status != http.StatusOK {
		t.Fatalf("revocation by the owner: %d %s", a.status, a.body)
	}
	if a := e.call(http.MethodGet, "/userinfo", nil, bearerAuth(tk.tok.AccessToken)); a.status != http.StatusUnauthorized || !strings.Contains(a.body, "revoked") {
		t.Fatalf("userinfo after revocation: %d %s", a.status, a.body)
	}
}

// A code naming another login's family, with a tag the broker did not
// make, revokes nothing: only genuine codes name their family.
func TestForgedCodeRevokesNothing(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	f, methods := r.authorize()
	q := r.callbackParams(r.consent(r.demoLogin(methods, "erika", "high")), f)
	code := q.Get("code")
	tk, err := r.exchange(f, code)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(code, ".")
	if len(parts) != 3 {
		t.Fatalf("code %q is not random.family.tag", code)
	}
	for _, forged := range []string{
		"AAAA." + parts[1] + "." + parts[2],                   // another random part, same tag
		parts[0] + "." + parts[1] + ".AAAAAAAAAAAAAAAAAAAAAA", // another tag
		parts[1],
	} {
		if _, err := r.exchange(f, forged); err == nil {
			t.Fatalf("forged code %q accepted", forged)
		}
	}
	if a := e.call(http.MethodGet, "/userinfo", nil, bearerAuth(tk.tok.AccessToken)); a.status != http.StatusOK {
		t.Fatalf("a forged code revoked the family: %d %s", a.status, a.body)
	}
	// The genuine code again does.
	if _, err := r.exchange(f, code); err == nil {
		t.Fatal("code reuse accepted")
	}
	if a := e.call(http.MethodGet, "/userinfo", nil, bearerAuth(tk.tok.AccessToken)); a.status != http.StatusUnauthorized {
		t.Fatalf("genuine reuse did not revoke: %d %s", a.status, a.body)
	}
}

// A finished login leaves its SSO session behind and nothing else: no
// transaction, code, reuse marker or access token record. That is what a
// bounded memory store can then keep flat (the sessions make room).
func TestFinishedLoginLeavesOnlyItsSession(t *testing.T) {
	m := memory.New()
	t.Cleanup(func() { _ = m.Close() })
	e := newEnvWithStore(t, m, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	const logins = 5
	for range logins {
		r.browser = e.newBrowser()
		_, tk := r.login("erika", "high")
		if a := e.call(http.MethodGet, "/userinfo", nil, bearerAuth(tk.tok.AccessToken)); a.status != http.StatusOK {
			t.Fatalf("userinfo: %d %s", a.status, a.body)
		}
	}
	if n := m.Len(); n != logins {
		t.Fatalf("%d store entries after %d finished logins, want one session each", n, logins)
	}
}
