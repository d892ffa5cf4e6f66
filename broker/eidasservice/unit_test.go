package eidasservice

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

func TestEIDASDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1964-08-12", "1964-08-12"},
		{"1957-03", "1957-03-00"},
		{"1957", "1957-00-00"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := eidasDate(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("eidasDate(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{"19570", "57-03-01", "1957/03/01", "abcd", "1957-3-1"} {
		if _, err := eidasDate(bad); !errors.Is(err, ErrAuthentication) {
			t.Errorf("eidasDate(%q) accepted", bad)
		}
	}
}

func TestAddressXML(t *testing.T) {
	dec := func(s string) string {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	got := dec(addressXML(&adapters.Address{StreetAddress: "HEIDESTRASSE 17", Locality: "KÖLN", PostalCode: "51147", Country: "DE", Region: "NRW"}))
	want := "<eidas-natural:Thoroughfare>HEIDESTRASSE 17</eidas-natural:Thoroughfare>\n" +
		"<eidas-natural:PostName>KÖLN</eidas-natural:PostName>\n" +
		"<eidas-natural:AdminunitFirstline>DE</eidas-natural:AdminunitFirstline>\n" +
		"<eidas-natural:AdminunitSecondline>NRW</eidas-natural:AdminunitSecondline>\n" +
		"<eidas-natural:PostCode>51147</eidas-natural:PostCode>"
	if got != want {
		t.Errorf("structured address:\n%s\nwant\n%s", got, want)
	}
	if got := dec(addressXML(&adapters.Address{Formatted: "A & B <c>"})); got != "<eidas-natural:FullCvaddress>A &amp; B &lt;c&gt;</eidas-natural:FullCvaddress>" {
		t.Errorf("free-text address: %s", got)
	}
	if addressXML(&adapters.Address{}) != "" || addressXML(nil) != "" {
		t.Error("empty address produced a value")
	}
}

func TestPseudonym(t *testing.T) {
	a := pseudonym([]byte("secret-1"), "https://c1/metadata", "0a0b")
	if len(a) != 64 || strings.ToLower(a) != a {
		t.Errorf("pseudonym %q is not 64 lower-case hex", a)
	}
	if a != pseudonym([]byte("secret-1"), "https://c1/metadata", "0a0b") {
		t.Error("not deterministic")
	}
	for _, other := range []string{
		pseudonym([]byte("secret-2"), "https://c1/metadata", "0a0b"),
		pseudonym([]byte("secret-1"), "https://c2/metadata", "0a0b"),
		pseudonym([]byte("secret-1"), "https://c1/metadata", "0a0c"),
		// The separator keeps (entity, id) pairs from colliding.
		pseudonym([]byte("secret-1"), "https://c1/metadata0", "a0b"),
	} {
		if other == a {
			t.Error("pseudonym does not depend on every input")
		}
	}
	if got := personIdentifier("DE", "AT", a); got != "DE/AT/"+a {
		t.Errorf("PersonIdentifier %q", got)
	}
}

func TestMapAttribute(t *testing.T) {
	id := adapters.Identity{Claims: adapters.Claims{
		GivenName: "ERIKA", FamilyName: "MUSTERMANN", Gender: "female",
		PlaceOfBirth: &adapters.PlaceOfBirth{Country: "TR", Region: "IZMIR"},
	}}
	tests := []struct {
		name string
		want string
	}{
		{AttrBirthName, "ERIKA MUSTERMANN"}, // no birth name on the chip: family name
		{AttrGender, "Female"},
		{AttrPlaceOfBirth, "IZMIR, TR"},
		{AttrPersonIdentifier, "DE/AT/x"},
		{AttrDateOfBirth, ""},
		{AttrCurrentAddress, ""},
		{AttrNationality, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := lookupAttr(tt.name)
			v, err := mapAttribute(d, id, "DE/AT/x")
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(v.Values, ",")
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	// Nationalities are ISO codes in the claims; eIDAS writes Greece "EL".
	d, _ := lookupAttr(AttrNationality)
	if v, err := mapAttribute(d, adapters.Identity{Claims: adapters.Claims{Nationalities: []string{"GR", "DE"}}}, "DE/AT/x"); err != nil || strings.Join(v.Values, ",") != "EL,DE" {
		t.Errorf("Nationality %q, %v; want EL,DE", v.Values, err)
	}
	if eidasGender("diverse") != "Unspecified" || eidasGender("M") != "Male" || eidasGender("") != "" {
		t.Error("gender mapping")
	}
}

func TestLevelRequirement(t *testing.T) {
	s := &Service{cfg: settings{Config: Config{Adapter: highAdapter{}}}}
	tests := []struct {
		name       string
		comparison string
		refs       []string
		wantErr    bool
		floor      assurance.Level
		meets      []assurance.Level
		fails      []assurance.Level
	}{
		{name: "minimum low", comparison: "minimum", refs: []string{assurance.URILow}, floor: assurance.Low,
			meets: []assurance.Level{assurance.Low, assurance.High}, fails: []assurance.Level{assurance.NotNotifiedHigh, assurance.Unspecified}},
		{name: "minimum high", comparison: "minimum", refs: []string{assurance.URIHigh}, floor: assurance.High,
			meets: []assurance.Level{assurance.High}, fails: []assurance.Level{assurance.Substantial}},
		{name: "exact default", refs: []string{assurance.URIHigh, assurance.URINotNotifiedHigh}, floor: assurance.High,
			meets: []assurance.Level{assurance.High}, fails: []assurance.Level{assurance.Substantial}},
		{name: "exact with unknown URIs ignored", comparison: "exact", refs: []string{"urn:x", assurance.URIHigh}, floor: assurance.High,
			meets: []assurance.Level{assurance.High}},
		{name: "exact substantial", comparison: "exact", refs: []string{assurance.URISubstantial}, wantErr: true},
		{name: "not notified only", comparison: "exact", refs: []string{assurance.URINotNotifiedHigh}, wantErr: true},
		{name: "minimum two levels", comparison: "minimum", refs: []string{assurance.URILow, assurance.URIHigh}, wantErr: true},
		{name: "maximum", comparison: "maximum", refs: []string{assurance.URIHigh}, wantErr: true},
		{name: "none", comparison: "minimum", wantErr: true},
		{name: "only unknown", comparison: "exact", refs: []string{"urn:x"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr, err := s.levelRequirement(&authnRequest{HasAuthnCtx: true, Comparison: tt.comparison, AuthnContexts: tt.refs})
			if tt.wantErr {
				if se, ok := asSAMLError(err); !ok || se.Sub != samlxml.StatusNoAuthnContext {
					t.Fatalf("err = %v, want a NoAuthnContext refusal", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if lr.floor() != tt.floor {
				t.Errorf("floor %s, want %s", lr.floor(), tt.floor)
			}
			for _, l := range tt.meets {
				if !lr.satisfiedBy(l) {
					t.Errorf("%s does not meet %+v", l, lr)
				}
			}
			for _, l := range tt.fails {
				if lr.satisfiedBy(l) {
					t.Errorf("%s meets %+v", l, lr)
				}
			}
		})
	}
}

// TestRedirectSignedOctets: the signature covers the query exactly as
// sent (SAML bindings §3.4.4.1), including the sender's own percent
// encoding, and nothing else.
func TestRedirectSignedOctets(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(q string) string {
		d := sha256.Sum256([]byte(q))
		der, err := key.Sign(rand.Reader, d[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(der) // DER form, as some senders do
	}
	msg := deflateForTest(t, []byte(`<x/>`))
	// Lower-case escapes, as some senders produce them.
	lower := strings.NewReplacer("%2F", "%2f", "%2B", "%2b", "%3D", "%3d", "%3A", "%3a", "%23", "%23")
	q := "SAMLRequest=" + lower.Replace(url.QueryEscape(msg)) + "&RelayState=a%2fb&SigAlg=" + lower.Replace(url.QueryEscape(xmlsec.SigECDSASHA256))
	full := "Foo=bar&" + q + "&Signature=" + url.QueryEscape(sign(q))
	in, err := decodeRedirect(full, DefaultMaxMessageBytes)
	if err != nil {
		t.Fatal(err)
	}
	if string(in.SignedQS) != q || in.RelayState != "a/b" || string(in.XML) != "<x/>" {
		t.Fatalf("decoded %q / %q / %q", in.SignedQS, in.RelayState, in.XML)
	}
	if err := verifyRaw(&key.PublicKey, in.SigAlg, in.SignedQS, in.Signature); err != nil {
		t.Errorf("DER ECDSA over the raw query: %v", err)
	}
	if err := verifyRaw(&key.PublicKey, in.SigAlg, []byte(q+"x"), in.Signature); !errors.Is(err, xmlsec.ErrSignatureInvalid) {
		t.Errorf("changed octets: %v", err)
	}
	for _, dup := range []string{full + "&SAMLRequest=x", full + "&SigAlg=x"} {
		if _, err := decodeRedirect(dup, DefaultMaxMessageBytes); !errors.Is(err, ErrBinding) {
			t.Errorf("duplicate parameter accepted: %v", err)
		}
	}
}

func TestVerifyRawPolicy(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name string
		pub  crypto.PublicKey
		alg  string
		want error
	}{
		{"rsa-sha256", &weak.PublicKey, xmlsec.SigRSASHA256, xmlsec.ErrAlgorithmNotAllowed},
		{"rsa-sha1", &weak.PublicKey, "http://www.w3.org/2000/09/xmldsig#rsa-sha1", xmlsec.ErrAlgorithmNotAllowed},
		{"unknown", &weak.PublicKey, "urn:x", xmlsec.ErrUnsupportedAlgorithm},
		{"RSA-2048 with PSS", &weak.PublicKey, xmlsec.SigRSAPSSSHA256, xmlsec.ErrWeakKey},
		{"EC key with a PSS URI", &ec.PublicKey, xmlsec.SigRSAPSSSHA256, xmlsec.ErrKeyType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := verifyRaw(tt.pub, tt.alg, []byte("x"), []byte("y")); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSealedTransactions(t *testing.T) {
	s := &Service{cfg: settings{Config: Config{DataKey: make([]byte, 32)}}}
	ref := randomToken()
	rec := &txRecord{V: txVersion, Stage: stageAuth, Country: "AT"}
	b, err := s.seal(ref, rec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "AT") && strings.Contains(string(b), "auth") {
		t.Error("record stored in clear")
	}
	if got, err := s.open(ref, b); err != nil || got.Country != "AT" {
		t.Fatalf("open: %+v %v", got, err)
	}
	if _, err := s.open(randomToken(), b); !errors.Is(err, ErrTransaction) {
		t.Errorf("opened with another reference: %v", err)
	}
	b[len(b)-1] ^= 1
	if _, err := s.open(ref, b); !errors.Is(err, ErrTransaction) {
		t.Errorf("opened a tampered record: %v", err)
	}
	other := &Service{cfg: settings{Config: Config{DataKey: []byte(strings.Repeat("x", 32))}}}
	b, _ = s.seal(ref, rec)
	if _, err := other.open(ref, b); !errors.Is(err, ErrTransaction) {
		t.Errorf("opened with another data key: %v", err)
	}
}

func TestValidID(t *testing.T) {
	for _, ok := range []string{"_a", "_99ddcb6d-9ce9-43e3", "a.b", "x1"} {
		if !validID(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"", "1abc", "-a", "a b", "a<b", strings.Repeat("a", 257)} {
		if validID(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
