package broker_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/broker"
)

// TestDataKeyRotationKeepsPeopleLoggedIn runs whole logins across a data
// key rotation on one store and issuer: after the new key becomes active
// (the old one kept for opening) the SSO session, the access token and the
// refresh token of a login made before still work; once the old key is
// removed they read as expired: login_required, invalid_grant, 401, never
// a 500.
func TestDataKeyRotationKeepsPeopleLoggedIn(t *testing.T) {
	key := func() []byte { k := make([]byte, 32); _, _ = rand.Read(k); return k }
	a := broker.DataKey{ID: "2025-a", Key: key(), Active: true}
	b := broker.DataKey{ID: "2026-b", Key: key(), Active: true}
	retiredA := a
	retiredA.Active = false

	var cfg broker.Config
	e := newEnv(t, func(c *broker.Config) {
		c.DataKey, c.DataKeys = nil, []broker.DataKey{a}
		cfg = *c
	})
	restart := func(keys ...broker.DataKey) {
		t.Helper()
		c := cfg
		c.DataKeys = keys
		nb, err := broker.New(c)
		if err != nil {
			t.Fatal(err)
		}
		e.broker = nb
		e.serving.Store(nb)
	}
	type person struct {
		r  *rp
		tk *tokens
	}
	login := func() person {
		r := e.rp("portal", "portal-secret", rpRedirect)
		r.cfg.Scopes = append(r.cfg.Scopes, "offline_access")
		_, tk := r.login("erika", "high")
		if tk.tok.RefreshToken == "" {
			t.Fatal("no refresh token")
		}
		return person{r, tk}
	}
	sso := func(p person) string {
		f, pg := p.r.authorize(oauth2.SetAuthURLParam("prompt", "none"))
		return p.r.callbackParams(pg, f).Get("error")
	}
	userinfo := func(p person) int {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+p.tk.tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	refresh := func(p person) error {
		_, err := p.r.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: p.tk.tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
		return err
	}

	// Two people log in under key A; one is checked after the rotation, the
	// other after A is removed (refresh tokens are single use).
	kept, dropped := login(), login()

	restart(retiredA, b)
	if code := userinfo(kept); code != http.StatusOK {
		t.Fatalf("after rotation: userinfo %d, want 200", code)
	}
	if err := refresh(kept); err != nil {
		t.Fatalf("after rotation: refresh: %v", err)
	}
	if got := sso(kept); got != "" {
		t.Fatalf("after rotation: SSO: %q, want a code", got)
	}
	fresh := login() // sealed under B

	restart(b)
	if code := userinfo(dropped); code != http.StatusUnauthorized {
		t.Fatalf("old key removed: userinfo %d, want 401", code)
	}
	if err := refresh(dropped); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("old key removed: refresh: %v, want invalid_grant", err)
	}
	if got := sso(dropped); got != "login_required" {
		t.Fatalf("old key removed: SSO: %q, want login_required", got)
	}
	// What was sealed under B is untouched by A's removal.
	if code := userinfo(fresh); code != http.StatusOK {
		t.Fatalf("new key: userinfo %d", code)
	}
	if got := sso(fresh); got != "" {
		t.Fatalf("new key: SSO: %q", got)
	}
	// And the person whose session is gone can simply log in again.
	login()
}
