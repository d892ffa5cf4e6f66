package sdjwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// RFC 9901 §4.2.1 and §4.2.3: the object-property disclosure for
// family_name "Möbius" and its SHA-256 digest; §4.2.2: an array-element
// disclosure for "FR".
const (
	rfcFamilyName       = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
	rfcFamilyNameDigest = "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"
	rfcArrayFR          = "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0"
)

func TestRFCDisclosureVectors(t *testing.T) {
	d, err := DecodeDisclosure(rfcFamilyName)
	if err != nil {
		t.Fatal(err)
	}
	if d.Salt != "_26bc4LT-ac6q2KI6cBW5es" || d.Name != "family_name" || d.Value != "Möbius" || d.ArrayElement {
		t.Fatalf("decoded %+v", d)
	}
	if got, _ := Digest("sha-256", rfcFamilyName); got != rfcFamilyNameDigest {
		t.Fatalf("digest %s, want %s (the encoded disclosure is hashed, not its JSON)", got, rfcFamilyNameDigest)
	}
	a, err := DecodeDisclosure(rfcArrayFR)
	if err != nil {
		t.Fatal(err)
	}
	if !a.ArrayElement || a.Salt != "lklxF5jMYlGTPUovMNIvCA" || a.Value != "FR" {
		t.Fatalf("decoded %+v", a)
	}
	// The RFC's payload references the digest: reconstructing with the
	// disclosure yields the claim, without it the claim is absent.
	payload := map[string]any{"_sd": []any{rfcFamilyNameDigest, "decoy-digest"}, "_sd_alg": "sha-256", "iss": "https://issuer.example"}
	got, err := Reconstruct(payload, []string{rfcFamilyName})
	if err != nil {
		t.Fatal(err)
	}
	if got["family_name"] != "Möbius" || got["iss"] != "https://issuer.example" || got["_sd"] != nil || got["_sd_alg"] != nil {
		t.Fatalf("reconstructed %v", got)
	}
	got, err = Reconstruct(payload, nil)
	if err != nil || got["family_name"] != nil {
		t.Fatalf("without the disclosure: %v %v", got, err)
	}
}

func digestOf(t *testing.T, enc string) string {
	d, err := Digest("sha-256", enc)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func encode(t *testing.T, v []any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestReconstructRules(t *testing.T) {
	name := encode(t, []any{"salt1", "given_name", "Erika"})
	dupName := encode(t, []any{"salt2", "iss", "https://evil.example"})
	elem := encode(t, []any{"salt3", "DE"})
	reserved := encode(t, []any{"salt4", "_sd", []any{}})
	ellipsis := encode(t, []any{"salt5", "...", "x"})
	nested := encode(t, []any{"salt6", "address", map[string]any{"_sd": []any{digestOf(t, name)}}})
	cases := []struct {
		name        string
		payload     map[string]any
		disclosures []string
		wantErr     string
	}{
		{"disclosure not referenced", map[string]any{"_sd": []any{}}, []string{name}, "not referenced"},
		{"digest twice", map[string]any{"_sd": []any{digestOf(t, name), digestOf(t, name)}}, []string{name}, "more than once"},
		{"same disclosure twice", map[string]any{"_sd": []any{digestOf(t, name)}}, []string{name, name}, "twice"},
		{"name clash", map[string]any{"iss": "https://issuer.example", "_sd": []any{digestOf(t, dupName)}}, []string{dupName}, "already exists"},
		{"array element in _sd", map[string]any{"_sd": []any{digestOf(t, elem)}}, []string{elem}, "array-element"},
		{"object disclosure in array", map[string]any{"n": []any{map[string]any{"...": digestOf(t, name)}}}, []string{name}, "object disclosure"},
		{"reserved name _sd", map[string]any{"_sd": []any{digestOf(t, reserved)}}, []string{reserved}, "reserved"},
		{"reserved name ...", map[string]any{"_sd": []any{digestOf(t, ellipsis)}}, []string{ellipsis}, "reserved"},
		{"_sd not an array", map[string]any{"_sd": "x"}, nil, "not an array"},
		{"unknown hash", map[string]any{"_sd_alg": "md5"}, []string{name}, "unsupported"},
		{"digest object with more keys", map[string]any{"n": []any{map[string]any{"...": digestOf(t, elem), "x": 1}}}, []string{elem}, "other keys"},
		{"nested disclosure used twice", map[string]any{"_sd": []any{digestOf(t, nested)}, "other": map[string]any{"_sd": []any{digestOf(t, name)}}}, []string{nested, name}, "more than once"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Reconstruct(c.payload, c.disclosures)
			if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("want %q, got %v", c.wantErr, err)
			}
		})
	}
	t.Run("nested and array elements", func(t *testing.T) {
		p := map[string]any{"_sd": []any{digestOf(t, nested)}, "nationalities": []any{map[string]any{"...": digestOf(t, elem)}, "FR"}}
		got, err := Reconstruct(p, []string{nested, name, elem})
		if err != nil {
			t.Fatal(err)
		}
		addr, _ := got["address"].(map[string]any)
		nats, _ := got["nationalities"].([]any)
		if addr["given_name"] != "Erika" || len(nats) != 2 || nats[0] != "DE" || nats[1] != "FR" {
			t.Fatalf("%v", got)
		}
	})
}

func TestParse(t *testing.T) {
	for _, bad := range []string{"", "a.b.c", "a.b~", "a.b.c~d!~", "a.b.c~~", "a.b.c~d~x.y"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	s, err := Parse("a.b.c~d1~d2~")
	if err != nil || len(s.Disclosures) != 2 || s.KBJWT != "" || s.Presented() != "a.b.c~d1~d2~" {
		t.Fatalf("%+v %v", s, err)
	}
	s, err = Parse("a.b.c~k.b.j")
	if err != nil || len(s.Disclosures) != 0 || s.KBJWT != "k.b.j" || s.Presented() != "a.b.c~" {
		t.Fatalf("%+v %v", s, err)
	}
}

func TestKeyBinding(t *testing.T) {
	holder, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	s := &SDJWT{IssuerJWT: "aGVhZGVy.cGF5bG9hZA.c2ln", Disclosures: []string{rfcFamilyName}}
	sign := func(key *ecdsa.PrivateKey, aud, nonce string, iat time.Time) *SDJWT {
		kb, err := SignKB(key, jose.ES256, s.Presented(), aud, nonce, iat)
		if err != nil {
			t.Fatal(err)
		}
		c := *s
		c.KBJWT = kb
		return &c
	}
	check := KBCheck{HolderKey: &holder.PublicKey, Audience: "x509_hash:abc", Nonce: "n-1", Now: now, MaxAge: 5 * time.Minute, Skew: time.Minute}
	if err := sign(holder, "x509_hash:abc", "n-1", now).VerifyKB(check); err != nil {
		t.Fatal(err)
	}
	tampered := sign(holder, "x509_hash:abc", "n-1", now)
	tampered.Disclosures = nil // sd_hash no longer matches
	cases := map[string]*SDJWT{
		"wrong key":      sign(other, "x509_hash:abc", "n-1", now),
		"wrong aud":      sign(holder, "x509_hash:other", "n-1", now),
		"wrong nonce":    sign(holder, "x509_hash:abc", "n-2", now),
		"too old":        sign(holder, "x509_hash:abc", "n-1", now.Add(-10*time.Minute)),
		"future":         sign(holder, "x509_hash:abc", "n-1", now.Add(10*time.Minute)),
		"sd_hash":        tampered,
		"no key binding": s,
	}
	for name, c := range cases {
		if err := c.VerifyKB(check); !errors.Is(err, ErrKeyBinding) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestConcealRoundTrip(t *testing.T) {
	obj := map[string]any{"given_name": "Erika", "family_name": "Mustermann", "iss": "x"}
	ds, err := Conceal(obj, "given_name", "family_name")
	if err != nil || len(ds) != 2 || obj["given_name"] != nil {
		t.Fatalf("%v %v", obj, err)
	}
	got, err := Reconstruct(obj, ds[:1])
	if err != nil || got["given_name"] != "Erika" || got["family_name"] != nil {
		t.Fatalf("%v %v", got, err)
	}
}

func TestDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", 40) + strings.Repeat("]", 40)
	if _, err := DecodePayload([]byte(`{"a":` + deep + `}`)); err == nil {
		t.Fatal("deeply nested payload accepted")
	}
}
