package samlxml

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

// root parses s and returns its root element.
func root(t *testing.T, s string) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(s); err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return doc.Root()
}

func TestIs(t *testing.T) {
	tests := []struct {
		name      string
		xml       string // empty: nil element
		ns, local string
		want      bool
	}{
		{"match", `<p:Response xmlns:p="` + NSProtocol + `"/>`, NSProtocol, "Response", true},
		{"default namespace", `<Response xmlns="` + NSProtocol + `"/>`, NSProtocol, "Response", true},
		{"prefix is not the namespace", `<saml2p:Response xmlns:saml2p="` + NSAssertion + `"/>`, NSProtocol, "Response", false},
		{"no namespace", `<Response/>`, NSProtocol, "Response", false},
		{"other local name", `<p:Request xmlns:p="` + NSProtocol + `"/>`, NSProtocol, "Response", false},
		{"local name is case-sensitive", `<p:response xmlns:p="` + NSProtocol + `"/>`, NSProtocol, "Response", false},
		{"nil element", "", NSProtocol, "Response", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e *etree.Element
			if tc.xml != "" {
				e = root(t, tc.xml)
			}
			if got := Is(e, tc.ns, tc.local); got != tc.want {
				t.Errorf("Is = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestChildrenFirstDescendants(t *testing.T) {
	doc := `<r xmlns:a="` + NSAssertion + `" xmlns:x="urn:other">` +
		`<a:Assertion ID="1"><a:Assertion ID="nested"/></a:Assertion>` +
		`<x:Assertion ID="foreign"/>` +
		`<Extensions><a:Assertion ID="hidden"/></Extensions>` +
		`<a:Assertion ID="2"/>` +
		`</r>`
	e := root(t, doc)
	ids := func(es []*etree.Element) []string {
		var out []string
		for _, e := range es {
			out = append(out, AttrValue(e, "ID"))
		}
		return out
	}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"Children: direct children in the namespace, in order", ids(Children(e, NSAssertion, "Assertion")), []string{"1", "2"}},
		{"Children: other namespace", ids(Children(e, "urn:other", "Assertion")), []string{"foreign"}},
		{"Children: none", ids(Children(e, NSProtocol, "Assertion")), nil},
		{"Children: nil element", ids(Children(nil, NSAssertion, "Assertion")), nil},
		{"Descendants: any depth, document order", ids(Descendants(e, NSAssertion, "Assertion")), []string{"1", "nested", "hidden", "2"}},
		{"Descendants: nil element", ids(Descendants(nil, NSAssertion, "Assertion")), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !slices.Equal(tc.got, tc.want) {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}

	if f := First(e, NSAssertion, "Assertion"); AttrValue(f, "ID") != "1" {
		t.Errorf("First = %v, want the assertion with ID 1", f)
	}
	if f := First(e, NSProtocol, "Assertion"); f != nil {
		t.Errorf("First without a match = %v, want nil", f)
	}
	if f := First(nil, NSAssertion, "Assertion"); f != nil {
		t.Errorf("First(nil) = %v, want nil", f)
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name string
		xml  string // empty: nil element
		want string
	}{
		{"plain", `<v>AT/DE/alice</v>`, "AT/DE/alice"},
		{"comment inside does not cut the value", `<v>a<!---->b</v>`, "ab"},
		{"comment-injection shape", `<v>AT/DE/alice-0001<!-- x -->.evil</v>`, "AT/DE/alice-0001.evil"},
		{"CDATA is character data", `<v><![CDATA[a<b>]]></v>`, "a<b>"},
		{"CDATA and text concatenate", `<v>x<![CDATA[y]]>z</v>`, "xyz"},
		{"XML white space trimmed", "<v> \t\r\n value \n</v>", "value"},
		{"inner white space kept", `<v>a  b</v>`, "a  b"},
		{"no-break space is not XML white space", "<v>\u00a0value\u00a0</v>", "\u00a0value\u00a0"},
		{"child element text is not included", `<v>a<c>hidden</c>b</v>`, "ab"},
		{"character references decoded", `<v>a&amp;b&#x41;</v>`, "a&bA"},
		{"empty", `<v/>`, ""},
		{"nil element", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e *etree.Element
			if tc.xml != "" {
				e = root(t, tc.xml)
			}
			if got := Text(e); got != tc.want {
				t.Errorf("Text = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAttr(t *testing.T) {
	const doc = `<e xmlns="urn:default" xmlns:n="` + NSNatural + `" xmlns:o="urn:other" ` +
		`Name="plain" n:Name="natural" o:Only="other" n:LatinScript="false" Empty=""/>`
	e := root(t, doc)
	tests := []struct {
		name    string
		el      *etree.Element
		ns, key string // ns empty: Attr, else NSAttr
		want    string
		wantOK  bool
	}{
		{"unqualified", e, "", "Name", "plain", true},
		{"present but empty", e, "", "Empty", "", true},
		{"missing", e, "", "Missing", "", false},
		{"qualified attribute is not the unqualified one", e, "", "Only", "", false},
		{"unqualified key with a prefix is not found", e, "", "n:Name", "", false},
		{"nil element", nil, "", "Name", "", false},
		{"NSAttr: qualified in the namespace", e, NSNatural, "Name", "natural", true},
		{"NSAttr: LatinScript", e, NSNatural, "LatinScript", "false", true},
		{"NSAttr: wrong namespace", e, NSLegal, "LatinScript", "", false},
		{"NSAttr: unqualified attribute does not count", e, "urn:default", "Name", "", false},
		{"NSAttr: namespace declaration does not count", e, "http://www.w3.org/2000/xmlns/", "n", "", false},
		{"NSAttr: nil element", nil, NSNatural, "Name", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			var ok bool
			if tc.ns == "" {
				got, ok = Attr(tc.el, tc.key)
				if v := AttrValue(tc.el, tc.key); v != got {
					t.Errorf("AttrValue = %q, Attr = %q", v, got)
				}
			} else {
				got, ok = NSAttr(tc.el, tc.ns, tc.key)
			}
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("got (%q, %v), want (%q, %v)", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestNewID(t *testing.T) {
	// An NCName that cannot start with a digit, 160 bits as 40 hex digits.
	format := regexp.MustCompile(`^_[0-9a-f]{40}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !format.MatchString(id) {
			t.Fatalf("NewID = %q, want _ and 40 hex digits", id)
		}
		if seen[id] {
			t.Fatalf("NewID repeated %q", id)
		}
		seen[id] = true
	}
}

func testCert(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "samlxml test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestBuildersParseBack writes metadata parts with the builders,
// serialises, parses the text again and reads it back with the readers.
func TestBuildersParseBack(t *testing.T) {
	cert := testCert(t)
	const enc1, enc2 = "http://www.w3.org/2009/xmlenc11#aes256-gcm", "http://www.w3.org/2009/xmlenc11#rsa-oaep"
	tests := []struct {
		name    string
		use     string
		methods []string
	}{
		{"signing, no methods", "signing", nil},
		{"encryption with methods", "encryption", []string{enc1, enc2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ed := etree.NewElement("md:EntityDescriptor")
			ed.CreateAttr("xmlns:md", NSMetadata)
			ed.CreateAttr("xmlns:ds", NSDSig)
			ed.CreateAttr("xmlns:saml2", NSAssertion)
			ea := ed.CreateElement("md:Extensions").CreateElement("mdattr:EntityAttributes")
			ea.CreateAttr("xmlns:mdattr", NSMDAttr)
			AddEntityAttribute(ea, EntityAttrProtocolVersion, "1.4", "1.3")
			role := ed.CreateElement("md:IDPSSODescriptor")
			AddKeyDescriptor(role, tc.use, cert, tc.methods...)

			doc := etree.NewDocument()
			doc.SetRoot(ed)
			s, err := doc.WriteToString()
			if err != nil {
				t.Fatal(err)
			}
			back := root(t, s)

			eas := First(First(back, NSMetadata, "Extensions"), NSMDAttr, "EntityAttributes")
			at := Children(eas, NSAssertion, "Attribute")
			if len(at) != 1 || AttrValue(at[0], "Name") != EntityAttrProtocolVersion || AttrValue(at[0], "NameFormat") != AttrNameFormatURI {
				t.Fatalf("entity attribute not read back: %s", s)
			}
			var vals []string
			for _, v := range Children(at[0], NSAssertion, "AttributeValue") {
				vals = append(vals, Text(v))
			}
			if !slices.Equal(vals, []string{"1.4", "1.3"}) {
				t.Errorf("entity attribute values %q", vals)
			}

			kds := Children(First(back, NSMetadata, "IDPSSODescriptor"), NSMetadata, "KeyDescriptor")
			if len(kds) != 1 {
				t.Fatalf("%d KeyDescriptors in %s", len(kds), s)
			}
			if use, ok := Attr(kds[0], "use"); !ok || use != tc.use {
				t.Errorf("use = %q, %v", use, ok)
			}
			xc := First(First(First(kds[0], NSDSig, "KeyInfo"), NSDSig, "X509Data"), NSDSig, "X509Certificate")
			der, err := base64.StdEncoding.DecodeString(Text(xc))
			if err != nil {
				t.Fatalf("certificate text: %v", err)
			}
			got, err := x509.ParseCertificate(der)
			if err != nil || !got.Equal(cert) {
				t.Errorf("certificate not read back (err %v)", err)
			}
			var methods []string
			for _, m := range Children(kds[0], NSMetadata, "EncryptionMethod") {
				methods = append(methods, AttrValue(m, "Algorithm"))
			}
			if !slices.Equal(methods, tc.methods) {
				t.Errorf("EncryptionMethods %q, want %q", methods, tc.methods)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-11-28T17:00:00Z", time.Date(2026, 11, 28, 17, 0, 0, 0, time.UTC), true},
		{" 2026-11-28T17:00:00.123Z\n", time.Date(2026, 11, 28, 17, 0, 0, 123e6, time.UTC), true},
		{"2026-11-28T18:00:00+01:00", time.Date(2026, 11, 28, 17, 0, 0, 0, time.UTC), true},
		{"2026-11-28T17:00:00", time.Time{}, false}, // no zone: instant unknown
		{"2026-11-28", time.Time{}, false},
		{"", time.Time{}, false},
	} {
		got, err := ParseTime(tc.in)
		if tc.ok != (err == nil) || (tc.ok && !got.Equal(tc.want)) {
			t.Errorf("ParseTime(%q) = %v, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrTime) {
			t.Errorf("ParseTime(%q): error %v does not wrap ErrTime", tc.in, err)
		}
	}
	if s := FormatTime(time.Date(2026, 11, 28, 18, 0, 0, 5e8, time.FixedZone("CET", 3600))); s != "2026-11-28T17:00:00.500Z" {
		t.Errorf("FormatTime = %q", s)
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"longer text", 6, "longer…"},
		{"a\nforged=line\r", 40, "a forged=line "},
		{"Ωνάσης", 3, "Ωνά…"}, // cut on runes, never inside one
		{"x", -1, "…"},
	} {
		if got := Truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestDecodeBase64(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"aGVsbG8=", "hello", false},
		{"aGVs\r\n  bG8=\n", "hello", false}, // wrapped and indented, CR from "&#13;"
		{"\taGVsbG8=", "hello", false},
		{"", "", false},
		{"aGVsbG8", "", true},          // padding required
		{"aGVs\u00a0bG8=", "", true},   // non-XML space
		{"aGVsbG8=\u2003", "", true},   // em space
		{"aGVs-G8=", "", true},         // URL alphabet
		{"aGVsbG8=aGVsbG8=", "", true}, // data after padding
	} {
		got, err := DecodeBase64(tc.in)
		if tc.wantErr {
			if !errors.Is(err, ErrBase64) {
				t.Errorf("DecodeBase64(%q) = %q, %v; want ErrBase64", tc.in, got, err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("DecodeBase64(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCountryCodes(t *testing.T) {
	tests := []struct {
		in, eidas, iso string
	}{
		{"GR", "EL", "GR"},
		{"EL", "EL", "GR"},
		{"DE", "DE", "DE"},
		{"AT", "AT", "AT"},
		{"EU", "EU", "EU"},
		{"gr", "gr", "gr"}, // not normalised: validation refuses lower case
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := CountryCode(tt.in); got != tt.eidas {
			t.Errorf("CountryCode(%q) = %q, want %q", tt.in, got, tt.eidas)
		}
		if got := ISOCountryCode(tt.in); got != tt.iso {
			t.Errorf("ISOCountryCode(%q) = %q, want %q", tt.in, got, tt.iso)
		}
	}
	same := []struct {
		a, b string
		want bool
	}{
		{"EL", "GR", true}, {"GR", "EL", true}, {"EL", "EL", true}, {"GR", "GR", true},
		{"DE", "DE", true}, {"DE", "AT", false}, {"EL", "CY", false}, {"", "", false}, {"gr", "EL", false},
	}
	for _, tt := range same {
		if got := SameCountry(tt.a, tt.b); got != tt.want {
			t.Errorf("SameCountry(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// FuzzDecodeBase64: DecodeBase64 (the decoder first, white space
// stripped only on a refusal) gives what stripping the four XML white
// space characters first and decoding gives, value and refusal alike.
func FuzzDecodeBase64(f *testing.F) {
	for _, s := range []string{"aGVsbG8=", "aGVs\r\n  bG8=\n", "\taGVsbG8=", "", "aGVsbG8", "aGVs\u00a0bG8=", "aGVs-G8=", " = ", "aGVsbG8=\r\n\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		stripped := strings.Map(func(r rune) rune {
			switch r {
			case ' ', '\t', '\r', '\n':
				return -1
			}
			return r
		}, s)
		want, wantErr := base64.StdEncoding.DecodeString(stripped)
		got, err := DecodeBase64(s)
		if (err != nil) != (wantErr != nil) || err == nil && !bytes.Equal(got, want) {
			t.Fatalf("DecodeBase64(%q) = %q, %v; stripped and decoded: %q, %v", s, got, err, want, wantErr)
		}
		if err != nil && !errors.Is(err, ErrBase64) {
			t.Fatalf("DecodeBase64(%q): %v, want ErrBase64", s, err)
		}
	})
}
