package xmlsec

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// selfSigned makes a throw-away certificate for key.
func selfSigned(t testing.TB, key crypto.Signer, cn string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newECKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func unsignedResponse(t testing.TB) *etree.Document {
	t.Helper()
	return parseFile(t, fixture(t, "attacks/unsigned.xml"))
}

func TestSignVerifyRoundTrip(t *testing.T) {
	fixtureRSA, _ := fixtureKey(t, "sign-rsa3072")
	freshRSA, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]crypto.Signer{
		"fixture RSA-3072": fixtureRSA,
		"fresh RSA-3072":   freshRSA,
		"P-256":            newECKey(t, elliptic.P256()),
		"P-384":            newECKey(t, elliptic.P384()),
		"P-521":            newECKey(t, elliptic.P521()),
	}
	type combo struct {
		alg   string
		keys  []string
		pkcs1 bool
	}
	rsaKeys := []string{"fixture RSA-3072", "fresh RSA-3072"}
	ecKeys := []string{"P-256", "P-384", "P-521"}
	combos := []combo{
		{SigRSAPSSSHA256, rsaKeys, false},
		{SigRSAPSSSHA384, rsaKeys, false},
		{SigRSAPSSSHA512, rsaKeys, false},
		{SigECDSASHA256, ecKeys, false},
		{SigECDSASHA384, ecKeys, false},
		{SigECDSASHA512, ecKeys, false},
		{SigRSASHA256, rsaKeys[:1], true},
		{SigRSASHA384, rsaKeys[:1], true},
		{SigRSASHA512, rsaKeys[:1], true},
	}
	for _, c := range combos {
		for _, kn := range c.keys {
			name := c.alg[strings.IndexByte(c.alg, '#')+1:] + "/" + kn
			t.Run(name, func(t *testing.T) {
				key := keys[kn]
				cert := selfSigned(t, key, kn)
				doc := unsignedResponse(t)
				if err := SignWithOptions(doc.Root(), key, []*x509.Certificate{cert}, SignOptions{Algorithm: c.alg, AllowRSAPKCS1v15: c.pkcs1}); err != nil {
					t.Fatal(err)
				}
				// The signature sits right after saml:Issuer.
				kids := doc.Root().ChildElements()
				if !samlxml.Is(kids[0], NamespaceSAML, "Issuer") || !samlxml.Is(kids[1], NamespaceDSig, "Signature") {
					t.Fatalf("signature not placed after Issuer: %s, %s", kids[0].Tag, kids[1].Tag)
				}
				if pub, ok := key.Public().(*ecdsa.PublicKey); ok {
					raw, _ := decodeBase64(find(t, kids[1], "./ds:SignatureValue").Text())
					if size := (pub.Curve.Params().BitSize + 7) / 8; len(raw) != 2*size {
						t.Fatalf("ECDSA value is %d bytes, want raw r‖s of %d", len(raw), 2*size)
					}
				}
				wire, err := Serialize(doc.Root())
				if err != nil {
					t.Fatal(err)
				}
				back, err := Parse(wire, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				opts := VerifyOptions{Trusted: []*x509.Certificate{selfSigned(t, newECKey(t, elliptic.P256()), "other"), cert}, AllowRSAPKCS1v15: c.pkcs1, Now: fixtureClock}
				signed, got, err := Verify(back.Root(), opts)
				if err != nil {
					t.Fatal(err)
				}
				if !got.Equal(cert) {
					t.Fatal("wrong certificate returned")
				}
				if n := find(t, signed, "./saml2:Assertion/saml2:Subject/saml2:NameID").Text(); n != "AT/DE/alice-0001" {
					t.Fatalf("NameID %q", n)
				}
				if signed.FindElement("./ds:Signature") != nil {
					t.Fatal("the returned element must not contain the signature")
				}
				if c.pkcs1 {
					opts.AllowRSAPKCS1v15 = false
					_, _, err := Verify(back.Root(), opts)
					wantErr(t, err, ErrAlgorithmNotAllowed)
				}
				// Any change to the signed content is detected.
				find(t, back.Root(), "./saml2:Assertion/saml2:AuthnStatement/saml2:AuthnContext/saml2:AuthnContextClassRef").SetText("http://eidas.europa.eu/LoA/high")
				_, _, err = Verify(back.Root(), opts)
				if !errIsAny(err, ErrDigestMismatch, ErrAlgorithmNotAllowed) {
					t.Fatalf("tampered: %v", err)
				}
			})
		}
	}
}

func TestSignedFixtures(t *testing.T) {
	cases := []struct {
		file, signer string
		pkcs1        bool
	}{
		{"response-pss-sha256.xml", "sign-rsa3072", false},
		{"response-pss-sha384.xml", "sign-rsa3072", false},
		{"response-pss-sha512.xml", "sign-rsa3072", false},
		{"response-pss-no-keyinfo.xml", "sign-rsa3072", false},
		{"response-ecdsa-sha256-p256.xml", "sign-p256", false},
		{"response-ecdsa-sha384-p384.xml", "sign-p384", false},
		{"response-ecdsa-sha512-p521.xml", "sign-p521", false},
		{"response-ecdsa-sha256-p521.xml", "sign-p521", false},
		{"response-rsa-sha256.xml", "sign-rsa3072", true},
		{"response-rsa-sha384.xml", "sign-rsa3072", true},
		{"response-rsa-sha512.xml", "sign-rsa3072", true},
		{"both-signed.xml", "sign-rsa3072", false},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			doc := parseFile(t, fixture(t, "signed/"+tc.file))
			opts := fixtureVerifyOptions(t)
			if tc.pkcs1 {
				_, _, err := Verify(doc.Root(), opts)
				wantErr(t, err, ErrAlgorithmNotAllowed)
				opts.AllowRSAPKCS1v15 = true
			}
			_, cert, err := Verify(doc.Root(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if !cert.Equal(fixtureCert(t, tc.signer)) {
				t.Fatalf("verified by %s", cert.Subject.CommonName)
			}
		})
	}
	// The assertion signature carries a PrefixList so that the prefix used
	// only in xsi:type values stays declared in the returned element.
	for _, file := range []string{"assertion-signed.xml", "both-signed.xml"} {
		t.Run(file+"/assertion", func(t *testing.T) {
			doc := parseFile(t, fixture(t, "signed/"+file))
			signed, cert, err := Verify(find(t, doc.Root(), "./saml2:Assertion"), fixtureVerifyOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			if !cert.Equal(fixtureCert(t, "sign-p256")) {
				t.Fatal("wrong certificate")
			}
			av := find(t, signed, ".//saml2:AttributeValue")
			typ := av.SelectAttrValue("xsi:type", "")
			prefix := typ[:strings.IndexByte(typ, ':')]
			if uri := scopeMust(t, av)[prefix]; uri != "http://eidas.europa.eu/attributes/naturalperson" {
				t.Fatalf("prefix %s of xsi:type resolves to %q in the signed copy", prefix, uri)
			}
		})
	}
}

func scopeMust(t *testing.T, e *etree.Element) nsScope {
	t.Helper()
	s, err := scopeAt(e)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignErrors(t *testing.T) {
	rsaKey, rsaCert := fixtureKey(t, "sign-rsa3072")
	p256, p256Cert := fixtureKey(t, "sign-p256")
	weakRSA, weakRSACert := fixtureKey(t, "weak-rsa2048")
	weakEC, weakECCert := fixtureKey(t, "weak-p224")
	cases := []struct {
		name   string
		signer crypto.Signer
		certs  []*x509.Certificate
		opts   SignOptions
		mutate func(*testing.T, *etree.Element)
		want   error
	}{
		{"RSA-2048 key", weakRSA, []*x509.Certificate{weakRSACert}, SignOptions{Algorithm: SigRSAPSSSHA256}, nil, ErrWeakKey},
		{"P-224 key", weakEC, []*x509.Certificate{weakECCert}, SignOptions{Algorithm: SigECDSASHA256}, nil, ErrWeakKey},
		{"PKCS#1 v1.5 not allowed", rsaKey, nil, SignOptions{Algorithm: SigRSASHA256}, nil, ErrAlgorithmNotAllowed},
		{"rsa-sha1", rsaKey, nil, SignOptions{Algorithm: sigRSASHA1, AllowRSAPKCS1v15: true}, nil, ErrAlgorithmNotAllowed},
		{"unknown algorithm", rsaKey, nil, SignOptions{Algorithm: "urn:nope"}, nil, ErrUnsupportedAlgorithm},
		{"SHA-1 digest", rsaKey, nil, SignOptions{Algorithm: SigRSAPSSSHA256, DigestAlgorithm: DigestSHA1}, nil, ErrAlgorithmNotAllowed},
		{"EC key with PSS", p256, nil, SignOptions{Algorithm: SigRSAPSSSHA256}, nil, ErrKeyType},
		{"RSA key with ECDSA", rsaKey, nil, SignOptions{Algorithm: SigECDSASHA256}, nil, ErrKeyType},
		{"certificate of another key", rsaKey, []*x509.Certificate{p256Cert}, SignOptions{Algorithm: SigRSAPSSSHA256}, nil, ErrKeyType},
		{"no ID", rsaKey, []*x509.Certificate{rsaCert}, SignOptions{Algorithm: SigRSAPSSSHA256}, func(_ *testing.T, e *etree.Element) { e.RemoveAttr("ID") }, ErrMissingID},
		{"other ID attribute", rsaKey, nil, SignOptions{Algorithm: SigRSAPSSSHA256, IDAttribute: "Id"}, nil, ErrMissingID},
		{"already signed", rsaKey, nil, SignOptions{Algorithm: SigRSAPSSSHA256}, func(t *testing.T, e *etree.Element) {
			if err := Sign(e, rsaKey, nil, SigRSAPSSSHA256); err != nil {
				t.Fatal(err)
			}
		}, ErrMultipleSignatures},
		{"After not a child", rsaKey, nil, SignOptions{Algorithm: SigRSAPSSSHA256, After: etree.NewElement("x")}, nil, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := unsignedResponse(t)
			if tc.mutate != nil {
				tc.mutate(t, doc.Root())
			}
			before, _ := Serialize(doc.Root())
			err := SignWithOptions(doc.Root(), tc.signer, tc.certs, tc.opts)
			wantErr(t, err, tc.want)
			after, _ := Serialize(doc.Root())
			if !bytes.Equal(before, after) {
				t.Fatal("a failed Sign changed the element")
			}
		})
	}
	if err := Sign(nil, rsaKey, nil, SigRSAPSSSHA256); !errIsAny(err, ErrMalformed) {
		t.Fatalf("nil element: %v", err)
	}
}

func TestSignOptions(t *testing.T) {
	key, cert := fixtureKey(t, "sign-p384")
	opts := VerifyOptions{Trusted: []*x509.Certificate{cert}, Now: fixtureClock}

	t.Run("After", func(t *testing.T) {
		doc := unsignedResponse(t)
		status := find(t, doc.Root(), "./saml2p:Status")
		if err := SignWithOptions(doc.Root(), key, nil, SignOptions{Algorithm: SigECDSASHA384, After: status}); err != nil {
			t.Fatal(err)
		}
		if next := status.NextSibling(); next == nil || !samlxml.Is(next, NamespaceDSig, "Signature") {
			t.Fatal("signature not after Status")
		}
		if _, _, err := Verify(doc.Root(), opts); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("first child without Issuer, custom ID attribute, explicit digest", func(t *testing.T) {
		doc, err := Parse([]byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" Id="_md1" entityID="https://x"><md:Extensions/></md:EntityDescriptor>`), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if err := SignWithOptions(doc.Root(), key, []*x509.Certificate{cert}, SignOptions{Algorithm: SigECDSASHA384, IDAttribute: "Id", DigestAlgorithm: DigestSHA512}); err != nil {
			t.Fatal(err)
		}
		if !samlxml.Is(doc.Root().ChildElements()[0], NamespaceDSig, "Signature") {
			t.Fatal("signature not first")
		}
		if _, _, err := Verify(doc.Root(), opts); !errIsAny(err, ErrMissingID) {
			t.Fatalf("default ID attribute: %v", err)
		}
		o := opts
		o.IDAttribute = "Id"
		if _, _, err := Verify(doc.Root(), o); err != nil {
			t.Fatal(err)
		}
	})
}

func TestVerifyOptions(t *testing.T) {
	doc := parseFile(t, fixture(t, "signed/response-pss-no-keyinfo.xml"))
	rsaCert := fixtureCert(t, "sign-rsa3072")
	p256Cert := fixtureCert(t, "sign-p256")
	attacker := fixtureCert(t, "attacker-rsa3072")
	cases := []struct {
		name string
		opts VerifyOptions
		want error
	}{
		{"no trusted certificates", VerifyOptions{Now: fixtureClock}, ErrNoTrustedCertificates},
		{"only unrelated keys", VerifyOptions{Trusted: []*x509.Certificate{attacker}, Now: fixtureClock}, ErrSignatureInvalid},
		{"only keys of another type", VerifyOptions{Trusted: []*x509.Certificate{p256Cert}, Now: fixtureClock}, ErrKeyType},
		{"rollover: the right key among several", VerifyOptions{Trusted: []*x509.Certificate{attacker, p256Cert, rsaCert}, Now: fixtureClock}, nil},
		{"certificate expired", VerifyOptions{Trusted: []*x509.Certificate{rsaCert}, Now: func() time.Time { return time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC) }}, ErrCertificateValidity},
		{"certificate not yet valid", VerifyOptions{Trusted: []*x509.Certificate{rsaCert}, Now: func() time.Time { return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) }}, ErrCertificateValidity},
		{"validity ignored", VerifyOptions{Trusted: []*x509.Certificate{rsaCert}, Now: func() time.Time { return time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC) }, IgnoreCertificateValidity: true}, nil},
		{"re-parse limit applies to the signed bytes", VerifyOptions{Trusted: []*x509.Certificate{rsaCert}, Now: fixtureClock, Limits: Limits{MaxDepth: 3}}, ErrTooDeep},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Verify(doc.Root(), tc.opts)
			wantErr(t, err, tc.want)
		})
	}
	if _, _, err := Verify(nil, VerifyOptions{}); !errIsAny(err, ErrNotSigned) {
		t.Fatalf("nil: %v", err)
	}
}

// TestVerifyStructure covers malformed signatures built from a valid one.
func TestVerifyStructure(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(t *testing.T, root *etree.Element)
		want   error
	}{
		{"missing SignedInfo", func(t *testing.T, r *etree.Element) {
			s := find(t, r, "./ds:Signature")
			s.RemoveChild(find(t, s, "./ds:SignedInfo"))
		}, ErrSignatureStructure},
		{"empty SignatureValue", func(t *testing.T, r *etree.Element) {
			find(t, r, "./ds:Signature/ds:SignatureValue").SetText("")
		}, ErrSignatureStructure},
		{"garbage SignatureValue", func(t *testing.T, r *etree.Element) {
			find(t, r, "./ds:Signature/ds:SignatureValue").SetText("!!!")
		}, ErrSignatureStructure},
		{"garbage KeyInfo certificate", func(t *testing.T, r *etree.Element) {
			find(t, r, ".//ds:X509Certificate").SetText("AAAA")
		}, ErrUntrustedCertificate},
		{"bad base64 KeyInfo certificate", func(t *testing.T, r *etree.Element) {
			find(t, r, ".//ds:X509Certificate").SetText("#")
		}, ErrSignatureStructure},
		{"ds:Object", func(t *testing.T, r *etree.Element) {
			find(t, r, "./ds:Signature").CreateElement("ds:Object")
		}, ErrSignatureStructure},
		{"short DigestValue", func(t *testing.T, r *etree.Element) {
			find(t, r, ".//ds:DigestValue").SetText("AAAA")
		}, ErrSignatureStructure},
		{"HMACOutputLength", func(t *testing.T, r *etree.Element) {
			find(t, r, ".//ds:SignatureMethod").CreateElement("ds:HMACOutputLength").SetText("8")
		}, ErrSignatureStructure},
		{"Reference without URI", func(t *testing.T, r *etree.Element) {
			find(t, r, ".//ds:Reference").RemoveAttr("URI")
		}, ErrReference},
		{"single transform", func(t *testing.T, r *etree.Element) {
			ts := find(t, r, ".//ds:Transforms")
			ts.RemoveChild(ts.ChildElements()[1])
		}, ErrTransform},
		{"transforms swapped", func(t *testing.T, r *etree.Element) {
			ts := find(t, r, ".//ds:Transforms")
			first := ts.ChildElements()[0]
			ts.RemoveChild(first)
			ts.AddChild(first)
		}, ErrTransform},
		{"unknown transform parameter", func(t *testing.T, r *etree.Element) {
			find(t, r, ".//ds:Transforms").ChildElements()[1].CreateElement("ds:XPath").SetText("1")
		}, ErrTransform},
		{"PrefixList too long", func(t *testing.T, r *etree.Element) {
			in := find(t, r, ".//ds:Transforms").ChildElements()[1].CreateElement("ec:InclusiveNamespaces")
			in.CreateAttr("xmlns:ec", NamespaceExcC14N)
			in.CreateAttr("PrefixList", strings.Repeat("p ", 100))
		}, ErrTransform},
		{"comment inside DigestValue is ignored (read from canonical SignedInfo)", func(t *testing.T, r *etree.Element) {
			find(t, r, ".//ds:DigestValue").CreateComment("x")
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := parseFile(t, fixture(t, "signed/response-pss-sha256.xml"))
			tc.mutate(t, doc.Root())
			_, _, err := Verify(doc.Root(), fixtureVerifyOptions(t))
			wantErr(t, err, tc.want)
		})
	}
}

// TestVerifyGoldenCanonicalForm: the bytes the signature covers are exactly
// what the returned element canonicalises to, and the input tree is left
// untouched.
func TestVerifyGoldenCanonicalForm(t *testing.T) {
	path := fixture(t, "signed/response-ecdsa-sha256-p256.xml")
	doc := parseFile(t, path)
	before, _ := Serialize(doc.Root())
	signed, _, err := Verify(doc.Root(), fixtureVerifyOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	after, _ := Serialize(doc.Root())
	if !bytes.Equal(before, after) {
		t.Fatal("Verify changed its input")
	}
	got, _ := Canonicalize(signed, nil)
	sig := find(t, doc.Root(), "./ds:Signature")
	want, err := canonicalize(doc.Root(), c14nOptions{exclude: sig})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("returned element is not the signed canonical form")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
