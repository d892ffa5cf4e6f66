package broker

import (
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// A released claim never replaces a registered one, whatever the claims
// parameter asked for, and the payload stays one valid JSON object.
func TestIDTokenPayloadKeepsRegisteredClaims(t *testing.T) {
	s := &Server{issuer: "https://broker.example", now: func() time.Time { return time.Unix(1_800_000_000, 0) }}
	asked := map[string]*claimRequest{"sub": nil, "acr": nil, "given_name": nil, "address": nil}
	g := &grant{
		ClientID: "portal", Subject: "pairwise-sub", ACR: "urn:acr", Nonce: "n",
		Claims:   requestedClaims{IDToken: asked},
		Released: map[string]any{"sub": "forged", "acr": "forged", "given_name": "Erika", "address": map[string]any{"locality": "Köln \"Mitte\""}, "family_name": "Not asked"},
	}
	for _, tc := range []struct {
		name         string
		access, code string
	}{{"code exchange", "at", "code"}, {"refresh", "at", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			var c map[string]any
			b := s.idTokenPayload(g, jose.ES256, tc.access, tc.code)
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatalf("payload is not JSON: %v\n%s", err, b)
			}
			if c["sub"] != "pairwise-sub" || c["acr"] != "urn:acr" {
				t.Errorf("registered claims replaced: sub %v, acr %v", c["sub"], c["acr"])
			}
			if c["given_name"] != "Erika" || c["address"] == nil || c["family_name"] != nil {
				t.Errorf("released claims: %v", c)
			}
			if _, ok := c["c_hash"]; ok != (tc.code != "") {
				t.Errorf("c_hash present %v with code %q", ok, tc.code)
			}
			if c["exp"].(float64)-c["iat"].(float64) != idTokenLifetime.Seconds() {
				t.Errorf("lifetime: %v", c)
			}
		})
	}
}

// Each algorithm's compact JWS verifies with an independent implementation
// (go-jose) under the published key, with kid and typ in its header.
func TestSignIDTokenVerifies(t *testing.T) {
	keys, err := GenerateSigningKeys()
	if err != nil {
		t.Fatal(err)
	}
	ks, err := newKeySet(keys)
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"iss":"https://broker.example","sub":"s"}`)
	for _, k := range keys {
		t.Run(string(k.Alg), func(t *testing.T) {
			raw, err := ks.signIDToken(k.Alg, payload)
			if err != nil {
				t.Fatal(err)
			}
			jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{k.Alg})
			if err != nil {
				t.Fatal(err)
			}
			got, err := jws.Verify(k.Signer.Public())
			if err != nil || string(got) != string(payload) {
				t.Fatalf("verify: %v (payload %q)", err, got)
			}
			h := jws.Signatures[0].Protected
			if h.KeyID != k.ID || h.ExtraHeaders["typ"] != "JWT" || h.Algorithm != string(k.Alg) {
				t.Errorf("header: %+v", h)
			}
		})
	}
	if _, err := ks.signIDToken("HS256", payload); err == nil {
		t.Error("signed with an algorithm that has no key")
	}
}

func TestRawECDSARejectsMalformed(t *testing.T) {
	for name, der := range map[string][]byte{
		"empty":          {},
		"not a sequence": {0x02, 0x01, 0x01},
		"trailing data":  {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00},
		"one integer":    {0x30, 0x03, 0x02, 0x01, 0x01},
		"negative":       {0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01},
		"too long":       append([]byte{0x30, 0x26, 0x02, 0x21, 0x01}, append(make([]byte, 32), 0x02, 0x01, 0x01)...),
	} {
		if _, err := rawECDSA(der, 32); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	out, err := rawECDSA([]byte{0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07}, 32)
	if err != nil || len(out) != 64 || out[31] != 5 || out[63] != 7 {
		t.Errorf("small integers: %x %v", out, err)
	}
}
