package broker_test

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// TestIDTokenContents checks every claim the token endpoint puts into an
// ID token, and its header, against the values they must have (OIDC Core
// §2, §3.1.3.6, §5.5).
func TestIDTokenContents(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	f, p := r.authorize(oauth2.SetAuthURLParam("claims", `{"id_token":{"given_name":null,"acr":null}}`))
	done := r.consent(r.demoLogin(p, "erika", "high"))
	code := r.callbackParams(done, f).Get("code")
	if code == "" {
		t.Fatal("no code")
	}
	before := time.Now().Unix()
	tk, err := r.exchange(f, code)
	if err != nil {
		t.Fatal(err)
	}
	raw := tk.tok.Extra("id_token").(string)
	if err := tk.idToken.VerifyAccessToken(tk.tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := tok.Headers[0]
	if h.ExtraHeaders["typ"] != "JWT" || h.KeyID == "" {
		t.Errorf("header: typ %v, kid %q", h.ExtraHeaders["typ"], h.KeyID)
	}
	sum := sha256.Sum256([]byte(code))
	c := tk.claims
	num := func(k string) int64 { f, _ := c[k].(float64); return int64(f) }
	checks := []struct {
		name      string
		got, want any
	}{
		{"iss", c["iss"], e.srv.URL},
		{"aud", c["aud"], []any{"portal"}},
		{"azp", c["azp"], "portal"},
		{"client_id", c["client_id"], "portal"},
		{"nonce", c["nonce"], f.nonce},
		{"acr", c["acr"], assurance.URIHigh},
		{"c_hash", c["c_hash"], base64.RawURLEncoding.EncodeToString(sum[:16])},
		{"given_name (asked for in the ID token)", c["given_name"], "Erika"},
		{"family_name (not asked for)", c["family_name"], nil},
		{"lifetime", num("exp") - num("iat"), int64(300)},
	}
	for _, ch := range checks {
		if !equalJSON(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if iat := num("iat"); iat < before-1 || iat > time.Now().Unix()+1 {
		t.Errorf("iat %d is not now", iat)
	}
	if at := num("auth_time"); at == 0 || at > num("iat") {
		t.Errorf("auth_time %d", at)
	}
	if amr, _ := c["amr"].([]any); len(amr) == 0 {
		t.Errorf("amr missing: %v", c["amr"])
	}
	if tk.tok.Expiry.IsZero() {
		t.Error("token response without expires_in")
	}
}

func equalJSON(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok || bok {
		if !aok || !bok || len(as) != len(bs) {
			return false
		}
		for i := range as {
			if as[i] != bs[i] {
				return false
			}
		}
		return true
	}
	return a == b
}
