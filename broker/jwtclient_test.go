package broker_test

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// O19/O21: client assertions that must never authenticate a client.
func TestPrivateKeyJWTRefusals(t *testing.T) {
	e := newEnv(t, nil)
	ecSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: clientJWK(), KeyID: "c1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// HS256 keyed with the client's public key: the classic confusion attack.
	pubJSON, _ := json.Marshal(jose.JSONWebKey{Key: clientJWK().Public()})
	hsSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pubJSON}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	base := jwt.Claims{Issuer: "jwtclient", Subject: "jwtclient", Audience: jwt.Audience{e.srv.URL},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}
	mk := func(s jose.Signer, mod func(*jwt.Claims)) string {
		c := base
		c.ID = rand16()
		if mod != nil {
			mod(&c)
		}
		out, err := jwt.Signed(s).Claims(c).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cases := []struct{ name, assertion string }{
		{"HS256 with the public key", mk(hsSigner, nil)},
		{"wrong audience", mk(ecSigner, func(c *jwt.Claims) { c.Audience = jwt.Audience{"https://elsewhere.example"} })},
		{"expired", mk(ecSigner, func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(-10 * time.Minute)) })},
		{"no jti", mk(ecSigner, func(c *jwt.Claims) { c.ID = "" })},
		{"other client as issuer", mk(ecSigner, func(c *jwt.Claims) { c.Issuer, c.Subject = "portal", "portal" })},
		{"exp far in the future", mk(ecSigner, func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(24 * time.Hour)) })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {"https://jwt.example/cb"},
				"code_verifier": {strings.Repeat("a", 43)}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion": {c.assertion}}
			resp, err := http.PostForm(e.srv.URL+"/token", form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(b), "invalid_client") && !strings.Contains(string(b), "unauthorized_client") {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
		})
	}
}

func rand16() string { return rand.Text() }
