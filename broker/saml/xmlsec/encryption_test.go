package xmlsec

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"io"
	"testing"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// hsmDecrypter hides the concrete key type, as an HSM-backed key would.
type hsmDecrypter struct{ k *rsa.PrivateKey }

func (h hsmDecrypter) Public() crypto.PublicKey { return h.k.Public() }
func (h hsmDecrypter) Decrypt(r io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	return h.k.Decrypt(r, msg, opts)
}

// hsmECDH is an ECDHKey that is not an *ecdh.PrivateKey.
type hsmECDH struct{ k *ecdh.PrivateKey }

func (h hsmECDH) Curve() ecdh.Curve                           { return h.k.Curve() }
func (h hsmECDH) ECDH(remote *ecdh.PublicKey) ([]byte, error) { return h.k.ECDH(remote) }
func (h hsmECDH) Public() crypto.PublicKey                    { return h.k.Public() }

var (
	_ crypto.Decrypter = hsmDecrypter{}
	_ ECDHKey          = hsmECDH{}
)

func assertionAndCanonical(t *testing.T) (*etree.Document, *etree.Element, []byte) {
	t.Helper()
	doc := unsignedResponse(t)
	a := find(t, doc.Root(), "./saml2:Assertion")
	c, err := Canonicalize(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	return doc, a, c
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	rsaKey, rsaCert := fixtureKey(t, "enc-rsa3072")
	type recipient struct {
		name string
		cert *x509.Certificate
		keys map[string]crypto.PrivateKey // ways to present the private key
	}
	recipients := []recipient{{
		name: "RSA-3072", cert: rsaCert,
		keys: map[string]crypto.PrivateKey{"*rsa.PrivateKey": rsaKey, "crypto.Decrypter": hsmDecrypter{rsaKey.(*rsa.PrivateKey)}},
	}}
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k := newECKey(t, c)
		ek, err := k.ECDH()
		if err != nil {
			t.Fatal(err)
		}
		recipients = append(recipients, recipient{
			name: c.Params().Name, cert: selfSigned(t, k, c.Params().Name),
			keys: map[string]crypto.PrivateKey{"*ecdsa.PrivateKey": k, "*ecdh.PrivateKey": ek, "ECDHKey": hsmECDH{ek}},
		})
	}
	rsaOpts := []EncryptOptions{
		{}, {DataAlgorithm: EncAES128GCM},
		{OAEPDigest: DigestSHA384}, {OAEPDigest: DigestSHA512, DataAlgorithm: EncAES128GCM},
	}
	ecOpts := []EncryptOptions{
		{}, {DataAlgorithm: EncAES128GCM},
		{KeyWrapAlgorithm: KeyWrapAES128}, {KeyWrapAlgorithm: KeyWrapAES128, DataAlgorithm: EncAES128GCM},
	}
	for _, r := range recipients {
		opts := ecOpts
		if r.name == "RSA-3072" {
			opts = rsaOpts
		}
		for _, o := range opts {
			name := r.name + "/" + o.DataAlgorithm + o.KeyWrapAlgorithm + o.OAEPDigest
			t.Run(name, func(t *testing.T) {
				doc, a, want := assertionAndCanonical(t)
				ed, err := Encrypt(a, r.cert, o)
				if err != nil {
					t.Fatal(err)
				}
				checkEncryptedDataURIs(t, ed, r.cert, o)
				// Place it as eIDAS does and send it over the wire.
				ea := etree.NewElement("saml2:EncryptedAssertion")
				ea.AddChild(ed)
				doc.Root().InsertChildAt(a.Index(), ea)
				doc.Root().RemoveChild(a)
				wire, err := Serialize(doc.Root())
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(wire, []byte("alice")) {
					t.Fatal("plaintext visible in the encrypted document")
				}
				back, err := Parse(wire, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				for kn, key := range r.keys {
					got, err := Decrypt(find(t, back.Root(), "./saml2:EncryptedAssertion"), key, DecryptOptions{})
					if err != nil {
						t.Fatalf("%s: %v", kn, err)
					}
					c, err := Canonicalize(got, nil)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(c, want) {
						t.Fatalf("%s: decrypted assertion differs", kn)
					}
				}
			})
		}
	}
}

func checkEncryptedDataURIs(t *testing.T, ed *etree.Element, cert *x509.Certificate, o EncryptOptions) {
	t.Helper()
	data := o.DataAlgorithm
	if data == "" {
		data = EncAES256GCM
	}
	if got := samlxml.AttrValue(find(t, ed, "./xenc:EncryptionMethod"), "Algorithm"); got != data {
		t.Fatalf("data algorithm %s", got)
	}
	em := find(t, ed, "./ds:KeyInfo/xenc:EncryptedKey/xenc:EncryptionMethod")
	switch cert.PublicKey.(type) {
	case *rsa.PublicKey:
		digest := o.OAEPDigest
		if digest == "" {
			digest = DigestSHA256
		}
		h, _ := lookupDigest(digest, false)
		if samlxml.AttrValue(em, "Algorithm") != KeyTransportRSAOAEP || samlxml.AttrValue(find(t, em, "./ds:DigestMethod"), "Algorithm") != digest ||
			samlxml.AttrValue(find(t, em, "./xenc11:MGF"), "Algorithm") != mgfURI(h) {
			t.Fatal("RSA key transport parameters are not xmlenc11#rsa-oaep with matching digest and MGF")
		}
	case *ecdsa.PublicKey:
		wrap := o.KeyWrapAlgorithm
		if wrap == "" {
			wrap = KeyWrapAES256
		}
		am := find(t, ed, ".//xenc:AgreementMethod")
		if samlxml.AttrValue(em, "Algorithm") != wrap || samlxml.AttrValue(am, "Algorithm") != KeyAgreementECDHES ||
			samlxml.AttrValue(find(t, am, "./xenc11:KeyDerivationMethod"), "Algorithm") != KDFConcat ||
			samlxml.AttrValue(find(t, am, ".//ds:DigestMethod"), "Algorithm") != DigestSHA256 {
			t.Fatal("EC key agreement parameters are not ECDH-ES + ConcatKDF(SHA-256) + key wrap")
		}
		if find(t, am, "./xenc:RecipientKeyInfo//ds:X509Certificate") == nil {
			t.Fatal("recipient certificate missing")
		}
	}
}

func TestEncryptedFixtures(t *testing.T) {
	cases := []struct {
		file, key string
		legacy    bool // refused by default, opened with AllowLegacyKeyTransport
	}{
		{"rsa-oaep-aes128gcm.xml", "enc-rsa3072", false},
		{"rsa-oaep-aes256gcm.xml", "enc-rsa3072", false},
		{"rsa-oaep-sha512-aes256gcm.xml", "enc-rsa3072", false},
		{"manual-rsa-oaep-aes192gcm.xml", "enc-rsa3072", false},
		{"manual-rsa-oaep-label-sha384.xml", "enc-rsa3072", false},
		{"manual-rsa-oaep-sibling-key.xml", "enc-rsa3072", false},
		{"ecdh-p256-kw128-aes128gcm.xml", "enc-p256", false},
		{"ecdh-p256-kw256-aes256gcm.xml", "enc-p256", false},
		{"ecdh-p384-kw128-aes256gcm.xml", "enc-p384", false},
		{"ecdh-p384-kw256-aes256gcm.xml", "enc-p384", false},
		{"ecdh-p521-kw256-aes128gcm.xml", "enc-p521", false},
		{"ecdh-p521-kw256-aes256gcm.xml", "enc-p521", false},
		{"manual-ecdh-p384-params-der.xml", "enc-p384", false},
		{"legacy-mgf1p-sha1-aes256gcm.xml", "enc-rsa3072", true},
		{"legacy-mgf1p-sha256-mgf1sha1.xml", "enc-rsa3072", true},
		{"legacy-mgf1p-sha256-mgf1sha256.xml", "enc-rsa3072", true},
		{"legacy-oaep11-sha1.xml", "enc-rsa3072", true},
	}
	_, _, want := assertionAndCanonical(t)
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			doc := parseFile(t, fixture(t, "encrypted/"+tc.file))
			ea := find(t, doc.Root(), "./saml2:EncryptedAssertion")
			key, _ := fixtureKey(t, tc.key)
			got, err := Decrypt(ea, key, DecryptOptions{})
			if tc.legacy {
				wantErr(t, err, ErrAlgorithmNotAllowed)
				got, err = Decrypt(ea, key, DecryptOptions{AllowLegacyKeyTransport: true})
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := Canonicalize(got, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(c, want) {
				t.Fatalf("decrypted assertion differs:\n%s", c)
			}
		})
	}
}

// TestSignedEncryptedResponse is the connector's flow: verify the
// Response, then decrypt the assertion found in the *verified* copy.
func TestSignedEncryptedResponse(t *testing.T) {
	doc := parseFile(t, fixture(t, "encrypted/response-signed-encrypted.xml"))
	signed, _, err := Verify(doc.Root(), fixtureVerifyOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	eas := samlxml.Children(signed, NamespaceSAML, "EncryptedAssertion")
	if len(eas) != 1 {
		t.Fatalf("%d EncryptedAssertion elements", len(eas))
	}
	key, _ := fixtureKey(t, "enc-rsa3072")
	a, err := Decrypt(eas[0], key, DecryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := find(t, a, "./saml2:AuthnStatement/saml2:AuthnContext/saml2:AuthnContextClassRef").Text(); got != "http://eidas.europa.eu/LoA/substantial" {
		t.Fatalf("LoA %q", got)
	}
	if got := find(t, a, ".//saml2:Attribute[@FriendlyName='FamilyName']/saml2:AttributeValue").Text(); got != "Müller & Söhne <Test>" {
		t.Fatalf("FamilyName %q", got)
	}
}

func TestEncryptErrors(t *testing.T) {
	rsaCert := fixtureCert(t, "enc-rsa3072")
	cases := []struct {
		name string
		cert *x509.Certificate
		opts EncryptOptions
		want error
	}{
		{"RSA-2048 recipient", fixtureCert(t, "weak-rsa2048"), EncryptOptions{}, ErrWeakKey},
		{"P-224 recipient", fixtureCert(t, "weak-p224"), EncryptOptions{}, ErrWeakKey},
		{"aes192-gcm is decrypt-only", rsaCert, EncryptOptions{DataAlgorithm: EncAES192GCM}, ErrUnsupportedAlgorithm},
		{"CBC", rsaCert, EncryptOptions{DataAlgorithm: encAES256CBC}, ErrCBCRefused},
		{"unknown data algorithm", rsaCert, EncryptOptions{DataAlgorithm: "urn:x"}, ErrUnsupportedAlgorithm},
		{"mgf1p without legacy", rsaCert, EncryptOptions{KeyTransport: KeyTransportRSAOAEPMGF1P}, ErrAlgorithmNotAllowed},
		{"SHA-1 OAEP without legacy", rsaCert, EncryptOptions{OAEPDigest: DigestSHA1}, ErrAlgorithmNotAllowed},
		{"rsa-1_5", rsaCert, EncryptOptions{KeyTransport: keyTransportRSA1}, ErrUnsupportedAlgorithm},
		{"kw-aes192", fixtureCert(t, "enc-p256"), EncryptOptions{KeyWrapAlgorithm: "http://www.w3.org/2001/04/xmlenc#kw-aes192"}, ErrUnsupportedAlgorithm},
		{"nil recipient", nil, EncryptOptions{}, ErrEncryptionStructure},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, a, _ := assertionAndCanonical(t)
			_, err := Encrypt(a, tc.cert, tc.opts)
			wantErr(t, err, tc.want)
		})
	}
}

// manualEncryptedData seals plaintext for the fixture RSA key with
// xmlenc11#rsa-oaep (SHA-256) and AES-256-GCM, for decrypt-side tests that
// need content Encrypt cannot produce.
func manualEncryptedData(t *testing.T, plaintext []byte) *etree.Element {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	sealed, err := sealGCM(key, plaintext)
	if err != nil {
		t.Fatal(err)
	}
	pub := fixtureCert(t, "enc-rsa3072").PublicKey.(*rsa.PublicKey)
	wrapped, err := rsa.EncryptOAEPWithOptions(rand.Reader, pub, key, &rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	x := `<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc11="http://www.w3.org/2009/xmlenc11#">` +
		`<xenc:EncryptionMethod Algorithm="` + EncAES256GCM + `"/><ds:KeyInfo><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="` + KeyTransportRSAOAEP + `">` +
		`<ds:DigestMethod Algorithm="` + DigestSHA256 + `"/><xenc11:MGF Algorithm="` + MGF1SHA256 + `"/></xenc:EncryptionMethod>` +
		`<xenc:CipherData><xenc:CipherValue>` + base64.StdEncoding.EncodeToString(wrapped) + `</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>` +
		`<xenc:CipherData><xenc:CipherValue>` + base64.StdEncoding.EncodeToString(sealed) + `</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>`
	doc, err := Parse([]byte(`<saml2:EncryptedAssertion xmlns:saml2="`+NamespaceSAML+`" xmlns:extra="urn:extra">`+x+`</saml2:EncryptedAssertion>`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return doc.Root()
}

func TestDecryptErrors(t *testing.T) {
	rsaKey, _ := fixtureKey(t, "enc-rsa3072")
	p256, _ := fixtureKey(t, "enc-p256")
	p384, _ := fixtureKey(t, "enc-p384")
	ecdhDoc := func(t *testing.T) *etree.Element {
		return find(t, parseFile(t, fixture(t, "encrypted/ecdh-p256-kw256-aes256gcm.xml")).Root(), "./saml2:EncryptedAssertion")
	}
	rsaDoc := func(t *testing.T) *etree.Element {
		return find(t, parseFile(t, fixture(t, "encrypted/rsa-oaep-aes256gcm.xml")).Root(), "./saml2:EncryptedAssertion")
	}
	cases := []struct {
		name string
		enc  func(t *testing.T) *etree.Element
		key  crypto.PrivateKey
		opts DecryptOptions
		want error
	}{
		{"RSA key for ECDH-ES", ecdhDoc, rsaKey, DecryptOptions{}, ErrKeyType},
		{"EC key for RSA-OAEP", rsaDoc, p256, DecryptOptions{}, ErrKeyType},
		{"key on another curve", ecdhDoc, p384, DecryptOptions{}, ErrKeyType},
		{"unsupported key type", ecdhDoc, "not a key", DecryptOptions{}, ErrKeyType},
		{"two EncryptedData", func(t *testing.T) *etree.Element {
			ea := rsaDoc(t)
			ea.AddChild(find(t, ea, "./xenc:EncryptedData").Copy())
			return ea
		}, rsaKey, DecryptOptions{}, ErrEncryptionStructure},
		{"Type Content", func(t *testing.T) *etree.Element {
			ea := rsaDoc(t)
			find(t, ea, "./xenc:EncryptedData").CreateAttr("Type", typeContent)
			return ea
		}, rsaKey, DecryptOptions{}, ErrEncryptionStructure},
		{"no EncryptedKey", func(t *testing.T) *etree.Element {
			ea := rsaDoc(t)
			ed := find(t, ea, "./xenc:EncryptedData")
			ed.RemoveChild(find(t, ed, "./ds:KeyInfo"))
			return ea
		}, rsaKey, DecryptOptions{}, ErrEncryptionStructure},
		{"CipherReference", func(t *testing.T) *etree.Element {
			ea := rsaDoc(t)
			find(t, ea, "./xenc:EncryptedData/xenc:CipherData").CreateElement("xenc:CipherReference").CreateAttr("URI", "https://evil.example/")
			return ea
		}, rsaKey, DecryptOptions{}, ErrEncryptionStructure},
		{"tampered content", func(t *testing.T) *etree.Element {
			ea := rsaDoc(t)
			cv := find(t, ea, "./xenc:EncryptedData/xenc:CipherData/xenc:CipherValue")
			b, _ := decodeBase64(cv.Text())
			b[20] ^= 1
			cv.SetText(base64.StdEncoding.EncodeToString(b))
			return ea
		}, rsaKey, DecryptOptions{}, ErrDecryptionFailed},
		{"ciphertext shorter than IV and tag", func(t *testing.T) *etree.Element {
			ea := rsaDoc(t)
			find(t, ea, "./xenc:EncryptedData/xenc:CipherData/xenc:CipherValue").SetText("AAAA")
			return ea
		}, rsaKey, DecryptOptions{}, ErrDecryptionFailed},
		{"plaintext with a DOCTYPE", func(t *testing.T) *etree.Element {
			return manualEncryptedData(t, []byte(`<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`))
		}, rsaKey, DecryptOptions{}, ErrDoctype},
		{"plaintext over the limits", func(t *testing.T) *etree.Element {
			return manualEncryptedData(t, []byte(`<a><b><c><d/></c></b></a>`))
		}, rsaKey, DecryptOptions{Limits: Limits{MaxDepth: 3}}, ErrTooDeep},
		{"plaintext not XML", func(t *testing.T) *etree.Element {
			return manualEncryptedData(t, []byte("not xml"))
		}, rsaKey, DecryptOptions{}, ErrMalformed},
		{"nil", func(t *testing.T) *etree.Element { return nil }, rsaKey, DecryptOptions{}, ErrEncryptionStructure},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Decrypt(tc.enc(t), tc.key, tc.opts)
			wantErr(t, err, tc.want)
			if out != nil {
				t.Fatal("element returned with an error")
			}
		})
	}
}

// TestDecryptNamespaceContext: the plaintext may use prefixes declared
// around the EncryptedData; the returned root declares them itself.
func TestDecryptNamespaceContext(t *testing.T) {
	rsaKey, _ := fixtureKey(t, "enc-rsa3072")
	ea := manualEncryptedData(t, []byte(`<saml2:Assertion ID="_x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><saml2:AttributeValue xsi:type="extra:T">v</saml2:AttributeValue></saml2:Assertion>`))
	a, err := Decrypt(ea, rsaKey, DecryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Parent().Parent() != nil {
		t.Fatal("result is not a stand-alone document root")
	}
	if a.NamespaceURI() != NamespaceSAML || a.SelectAttrValue("xmlns:extra", "") != "urn:extra" {
		t.Fatalf("bindings in scope not declared on the result: %v", a.Attr)
	}
}
