package elster

import (
	"crypto/x509"
	"encoding/asn1"
	"strings"
	"testing"
	"time"
)

func TestChallengeRoundTrip(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c, err := newChallenge("https://broker.example", "tx-1", exp)
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	if strings.ContainsAny(s, "\r\n\t") {
		t.Fatalf("challenge %q has line breaks", s)
	}
	got, err := parseChallenge(s)
	if err != nil {
		t.Fatal(err)
	}
	if got != c {
		t.Fatalf("round trip %+v, want %+v", got, c)
	}
	if strings.Contains(s, "tx-1") {
		t.Fatal("challenge reveals the transaction id")
	}
	other, _ := newChallenge("https://broker.example", "tx-1", exp)
	if other.Nonce == c.Nonce {
		t.Fatal("two challenges share a nonce")
	}
	if _, err := newChallenge("https://broker.example", "", exp); err == nil {
		t.Fatal("challenge without transaction")
	}
}

func TestParseChallengeRejects(t *testing.T) {
	c, _ := newChallenge("https://broker.example", "tx", time.Unix(1900000000, 0))
	good := c.String()
	for _, tc := range []struct{ name, s string }{
		{"empty", ""},
		{"other prefix", strings.Replace(good, challengePrefix, "elster-login-v2", 1)},
		{"extra field", good + " x=1"},
		{"double space", strings.Replace(good, " tx=", "  tx=", 1)},
		{"reordered", strings.Replace(strings.Replace(good, "origin=", "tmp=", 1), "tx=", "origin=", 1)},
		{"short nonce", strings.Replace(good, "nonce="+c.Nonce, "nonce=AAAA", 1)},
		{"bad tx hash", strings.Replace(good, "tx="+c.TxHash, "tx=!!", 1)},
		{"expiry with sign", strings.Replace(good, " exp=", " exp=+", 1)},
		{"expiry leading zero", strings.Replace(good, " exp=", " exp=0", 1)},
		{"empty origin", strings.Replace(good, "origin=https://broker.example", "origin=", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseChallenge(tc.s); err == nil {
				t.Fatalf("accepted %q", tc.s)
			}
		})
	}
}

func FuzzParseChallenge(f *testing.F) {
	c, _ := newChallenge("https://broker.example", "tx", time.Unix(1900000000, 0))
	f.Add(c.String())
	f.Add("elster-login-v1 origin=a tx=b nonce=c exp=1")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseChallenge(s)
		if err != nil {
			return
		}
		// Whatever parses must print back to exactly the same bytes: the
		// signed text has one spelling.
		if got.String() != s {
			t.Fatalf("parse(%q) prints as %q", s, got.String())
		}
	})
}

func TestParseIDP(t *testing.T) {
	type idp struct {
		OnlyUser bool           `asn1:"optional,tag:1"`
		OnlyCA   bool           `asn1:"optional,tag:2"`
		Reasons  asn1.BitString `asn1:"optional,tag:3"`
		Indirect bool           `asn1:"optional,tag:4"`
	}
	user := &x509.Certificate{}
	ca := &x509.Certificate{BasicConstraintsValid: true, IsCA: true}
	for _, tc := range []struct {
		name         string
		v            idp
		forUser, fCA bool
	}{
		{"plain", idp{}, true, true},
		{"only user certs", idp{OnlyUser: true}, true, false},
		{"only ca certs", idp{OnlyCA: true}, false, true},
		{"partial by reason", idp{Reasons: asn1.BitString{Bytes: []byte{0x80}, BitLength: 1}}, false, false},
		{"indirect", idp{Indirect: true}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			der, err := asn1.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			usable, err := parseIDP(der)
			if err != nil {
				t.Fatal(err)
			}
			if usable(user) != tc.forUser || usable(ca) != tc.fCA {
				t.Fatalf("user %v ca %v, want %v %v", usable(user), usable(ca), tc.forUser, tc.fCA)
			}
		})
	}
	if _, err := parseIDP([]byte{0x30, 0x03, 0x01}); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestParseAttrName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"GN", "2.5.4.42", true},
		{"givenName", "2.5.4.42", true},
		{"organizationIdentifier", "2.5.4.97", true},
		{"2.5.4.5", "2.5.4.5", true},
		{"firstname", "", false},
		{"2.5.04", "", false},
		{"", "", false},
		{"1", "", false},
	} {
		oid, err := parseAttrName(tc.in)
		if (err == nil) != tc.ok || (tc.ok && oid.String() != tc.want) {
			t.Errorf("parseAttrName(%q) = %v, %v", tc.in, oid, err)
		}
	}
}

func TestSerializedOrigin(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://broker.example", "https://broker.example"},
		{"https://Broker.Example:443/login", "https://broker.example"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://localhost:80", "http://localhost"},
		{"https://broker.example:8443/x/y", "https://broker.example:8443"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://[::1]", "http://[::1]"},
	} {
		if got, err := serializedOrigin(tc.in); err != nil || got != tc.want {
			t.Errorf("serializedOrigin(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
