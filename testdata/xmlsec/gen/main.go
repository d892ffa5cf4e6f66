// Command gen regenerates the fixtures of package broker/saml/xmlsec:
// keys and self-signed certificates, signed and encrypted SAML samples for
// every supported algorithm, and attack samples (signature wrapping,
// comment injection, weak algorithms and keys, DTDs, CBC, ...).
//
// Run from the repository root:
//
//	go run ./testdata/xmlsec/gen            # keep existing keys
//	go run ./testdata/xmlsec/gen -newkeys   # also replace the keys
//
// Documents, identifiers and timestamps are fixed. Keys are kept between
// runs unless -newkeys is given (Go's key generation cannot be seeded).
// Signature values and GCM nonces are randomised by the algorithms, so
// signed and encrypted files change on every run; the tests only depend on
// their validity, never on their bytes.
//
// Good samples are produced with the package's own Sign and Encrypt. Samples
// the package refuses to produce (SHA-1, PKCS#1 v1.5 with weak keys, 2048-bit
// keys, CBC, RSA PKCS#1 v1.5 key transport, AES-192-GCM, legacy OAEP) and
// some alternative encodings are assembled here independently from the
// standard library, so the decrypter is also checked against a second
// implementation of the formats.
package main

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

func main() {
	out := flag.String("out", filepath.Join("testdata", "xmlsec"), "fixture directory")
	newKeys := flag.Bool("newkeys", false, "replace existing keys and certificates")
	flag.Parse()
	g := &gen{dir: *out, newKeys: *newKeys, keys: map[string]keyPair{}}
	if err := g.run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

type keyPair struct {
	key  crypto.Signer
	cert *x509.Certificate
}

type gen struct {
	dir     string
	newKeys bool
	keys    map[string]keyPair
}

// Fixed values shared by all documents (see README.md next to this folder).
const (
	respID     = "_resp-0001"
	assertID   = "_assert-0001"
	nameID     = "AT/DE/alice-0001"
	idpEntity  = "https://idp.test.example/metadata"
	acsURL     = "https://broker.test.example/saml/eidas/acs"
	spEntity   = "https://broker.test.example/saml/eidas/metadata"
	issueTime  = "2030-06-01T12:00:00.000Z"
	expireTime = "2030-06-01T12:05:00.000Z"
)

type keySpec struct {
	name string
	cn   string
	make func() (crypto.Signer, error)
	enc  bool
}

func rsaKey(bits int) func() (crypto.Signer, error) {
	return func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, bits) }
}

func ecKey(c elliptic.Curve) func() (crypto.Signer, error) {
	return func() (crypto.Signer, error) { return ecdsa.GenerateKey(c, rand.Reader) }
}

func (g *gen) run() error {
	specs := []keySpec{
		{"sign-rsa3072", "idp signing RSA-3072", rsaKey(3072), false},
		{"sign-p256", "idp signing P-256", ecKey(elliptic.P256()), false},
		{"sign-p384", "idp signing P-384", ecKey(elliptic.P384()), false},
		{"sign-p521", "idp signing P-521", ecKey(elliptic.P521()), false},
		{"enc-rsa3072", "broker encryption RSA-3072", rsaKey(3072), true},
		{"enc-p256", "broker encryption P-256", ecKey(elliptic.P256()), true},
		{"enc-p384", "broker encryption P-384", ecKey(elliptic.P384()), true},
		{"enc-p521", "broker encryption P-521", ecKey(elliptic.P521()), true},
		{"weak-rsa2048", "weak RSA-2048", rsaKey(2048), false},
		{"weak-p224", "weak P-224", ecKey(elliptic.P224()), false},
		{"attacker-rsa3072", "attacker RSA-3072", rsaKey(3072), true},
	}
	for _, s := range specs {
		kp, err := g.keyPair(s)
		if err != nil {
			return fmt.Errorf("key %s: %w", s.name, err)
		}
		g.keys[s.name] = kp
	}
	steps := []func() error{g.signed, g.encrypted, g.signatureAttacks, g.parserAttacks, g.encryptionAttacks}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------------------- keys

func (g *gen) keyPair(s keySpec) (keyPair, error) {
	keyPath := filepath.Join(g.dir, "keys", s.name+".key.pem")
	certPath := filepath.Join(g.dir, "keys", s.name+".cert.pem")
	if !g.newKeys {
		kb, kerr := os.ReadFile(keyPath)
		cb, cerr := os.ReadFile(certPath)
		if kerr == nil && cerr == nil {
			return parseKeyPair(kb, cb)
		}
	}
	key, err := s.make()
	if err != nil {
		return keyPair{}, err
	}
	serial := new(big.Int).SetBytes(sha256Sum([]byte(s.name))[:8])
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: s.cn, Organization: []string{"xmlsec test fixtures"}},
		NotBefore:             time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2035, 12, 31, 23, 59, 59, 0, time.UTC),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	if s.enc {
		if _, ok := key.(*rsa.PrivateKey); ok {
			tmpl.KeyUsage = x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment
		} else {
			tmpl.KeyUsage = x509.KeyUsageKeyAgreement
		}
	}
	if _, ok := key.(*rsa.PrivateKey); ok {
		tmpl.SignatureAlgorithm = x509.SHA256WithRSAPSS
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return keyPair{}, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return keyPair{}, err
	}
	kb := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
	cb := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := write(keyPath, kb); err != nil {
		return keyPair{}, err
	}
	if err := write(certPath, cb); err != nil {
		return keyPair{}, err
	}
	return parseKeyPair(kb, cb)
}

func parseKeyPair(kb, cb []byte) (keyPair, error) {
	kblk, _ := pem.Decode(kb)
	cblk, _ := pem.Decode(cb)
	if kblk == nil || cblk == nil {
		return keyPair{}, errors.New("bad PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(kblk.Bytes)
	if err != nil {
		return keyPair{}, err
	}
	c, err := x509.ParseCertificate(cblk.Bytes)
	if err != nil {
		return keyPair{}, err
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return keyPair{}, fmt.Errorf("%T is not a signer", k)
	}
	return keyPair{key: signer, cert: c}, nil
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// ---------------------------------------------------------------- documents

const assertionTemplate = `<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="%s" IssueInstant="` + issueTime + `" Version="2.0">
    <saml2:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">` + idpEntity + `</saml2:Issuer>
    <saml2:Subject>
      <saml2:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" NameQualifier="` + idpEntity + `">%s</saml2:NameID>
      <saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml2:SubjectConfirmationData InResponseTo="_req-0001" NotOnOrAfter="` + expireTime + `" Recipient="` + acsURL + `"/>
      </saml2:SubjectConfirmation>
    </saml2:Subject>
    <saml2:Conditions NotBefore="` + issueTime + `" NotOnOrAfter="` + expireTime + `">
      <saml2:AudienceRestriction>
        <saml2:Audience>` + spEntity + `</saml2:Audience>
      </saml2:AudienceRestriction>
    </saml2:Conditions>
    <saml2:AuthnStatement AuthnInstant="2030-06-01T11:59:30.000Z">
      <saml2:AuthnContext>
        <saml2:AuthnContextClassRef>http://eidas.europa.eu/LoA/substantial</saml2:AuthnContextClassRef>
      </saml2:AuthnContext>
    </saml2:AuthnStatement>
    <saml2:AttributeStatement xmlns:eidas-natural="http://eidas.europa.eu/attributes/naturalperson">
      <saml2:Attribute FriendlyName="PersonIdentifier" Name="http://eidas.europa.eu/attributes/naturalperson/PersonIdentifier" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">
        <saml2:AttributeValue xsi:type="eidas-natural:PersonIdentifierType">%s</saml2:AttributeValue>
      </saml2:Attribute>
      <saml2:Attribute FriendlyName="FamilyName" Name="http://eidas.europa.eu/attributes/naturalperson/CurrentFamilyName" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">
        <saml2:AttributeValue xsi:type="eidas-natural:CurrentFamilyNameType">Müller &amp; Söhne &lt;Test&gt;</saml2:AttributeValue>
      </saml2:Attribute>
      <saml2:Attribute FriendlyName="FirstName" Name="http://eidas.europa.eu/attributes/naturalperson/CurrentGivenName" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">
        <saml2:AttributeValue xsi:type="eidas-natural:CurrentGivenNameType">Anna Maria</saml2:AttributeValue>
      </saml2:Attribute>
      <saml2:Attribute FriendlyName="DateOfBirth" Name="http://eidas.europa.eu/attributes/naturalperson/DateOfBirth" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">
        <saml2:AttributeValue xsi:type="eidas-natural:DateOfBirthType">1985-03-21</saml2:AttributeValue>
      </saml2:Attribute>
    </saml2:AttributeStatement>
  </saml2:Assertion>`

const responseTemplate = `<saml2p:Response xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" Consent="urn:oasis:names:tc:SAML:2.0:consent:obtained" Destination="` + acsURL + `" ID="%s" InResponseTo="_req-0001" IssueInstant="` + issueTime + `" Version="2.0">
  <saml2:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">` + idpEntity + `</saml2:Issuer>
  <saml2p:Status>
    <saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>
  </saml2p:Status>
  %s
</saml2p:Response>`

// response returns a fresh Response document with one plaintext assertion.
func response(subject string) (*etree.Document, error) {
	a := fmt.Sprintf(assertionTemplate, assertID, subject, subject)
	return xmlsec.Parse([]byte(fmt.Sprintf(responseTemplate, respID, a)), xmlsec.Limits{})
}

func assertionOf(doc *etree.Document) *etree.Element {
	return doc.Root().SelectElement("saml2:Assertion")
}

func (g *gen) save(name string, doc *etree.Document) error {
	b, err := xmlsec.Serialize(doc.Root())
	if err != nil {
		return err
	}
	b = append([]byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"), b...)
	return write(filepath.Join(g.dir, name), append(b, '\n'))
}

func (g *gen) saveBytes(name string, b []byte) error {
	return write(filepath.Join(g.dir, name), b)
}

func write(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// ---------------------------------------------------------------- signed

func (g *gen) signed() error {
	algs := []struct {
		file, key, alg string
		pkcs1          bool
	}{
		{"signed/response-pss-sha256.xml", "sign-rsa3072", xmlsec.SigRSAPSSSHA256, false},
		{"signed/response-pss-sha384.xml", "sign-rsa3072", xmlsec.SigRSAPSSSHA384, false},
		{"signed/response-pss-sha512.xml", "sign-rsa3072", xmlsec.SigRSAPSSSHA512, false},
		{"signed/response-ecdsa-sha256-p256.xml", "sign-p256", xmlsec.SigECDSASHA256, false},
		{"signed/response-ecdsa-sha384-p384.xml", "sign-p384", xmlsec.SigECDSASHA384, false},
		{"signed/response-ecdsa-sha512-p521.xml", "sign-p521", xmlsec.SigECDSASHA512, false},
		{"signed/response-ecdsa-sha256-p521.xml", "sign-p521", xmlsec.SigECDSASHA256, false},
		{"signed/response-rsa-sha256.xml", "sign-rsa3072", xmlsec.SigRSASHA256, true},
		{"signed/response-rsa-sha384.xml", "sign-rsa3072", xmlsec.SigRSASHA384, true},
		{"signed/response-rsa-sha512.xml", "sign-rsa3072", xmlsec.SigRSASHA512, true},
	}
	for _, a := range algs {
		doc, err := response(nameID)
		if err != nil {
			return err
		}
		kp := g.keys[a.key]
		opts := xmlsec.SignOptions{Algorithm: a.alg, AllowRSAPKCS1v15: a.pkcs1}
		if err := xmlsec.SignWithOptions(doc.Root(), kp.key, []*x509.Certificate{kp.cert}, opts); err != nil {
			return fmt.Errorf("%s: %w", a.file, err)
		}
		if err := g.save(a.file, doc); err != nil {
			return err
		}
	}

	// Assertion signed (ECDSA, with an InclusiveNamespaces PrefixList so the
	// prefix used only inside xsi:type values survives canonicalisation),
	// Response unsigned: the base of the assertion-level wrapping attacks.
	doc, err := response(nameID)
	if err != nil {
		return err
	}
	if err := g.signAssertion(doc); err != nil {
		return err
	}
	if err := g.save("signed/assertion-signed.xml", doc); err != nil {
		return err
	}
	// Both signed.
	if err := g.signResponse(doc); err != nil {
		return err
	}
	if err := g.save("signed/both-signed.xml", doc); err != nil {
		return err
	}
	// Without KeyInfo: the verifier must try its trusted keys.
	if doc, err = response(nameID); err != nil {
		return err
	}
	if err := xmlsec.Sign(doc.Root(), g.keys["sign-rsa3072"].key, nil, xmlsec.SigRSAPSSSHA256); err != nil {
		return err
	}
	return g.save("signed/response-pss-no-keyinfo.xml", doc)
}

func (g *gen) signAssertion(doc *etree.Document) error {
	kp := g.keys["sign-p256"]
	return xmlsec.SignWithOptions(assertionOf(doc), kp.key, []*x509.Certificate{kp.cert}, xmlsec.SignOptions{
		Algorithm:         xmlsec.SigECDSASHA256,
		InclusivePrefixes: []string{"eidas-natural"},
	})
}

func (g *gen) signResponse(doc *etree.Document) error {
	kp := g.keys["sign-rsa3072"]
	return xmlsec.Sign(doc.Root(), kp.key, []*x509.Certificate{kp.cert}, xmlsec.SigRSAPSSSHA256)
}

// ---------------------------------------------------------------- encrypted

// encryptedResponse replaces the plaintext assertion of a fresh Response by
// saml2:EncryptedAssertion holding ed (and extra siblings, if any).
func encryptedResponse(build func(a *etree.Element) (*etree.Element, []*etree.Element, error)) (*etree.Document, error) {
	doc, err := response(nameID)
	if err != nil {
		return nil, err
	}
	a := assertionOf(doc)
	ed, extra, err := build(a)
	if err != nil {
		return nil, err
	}
	ea := etree.NewElement("saml2:EncryptedAssertion")
	ea.AddChild(ed)
	for _, e := range extra {
		ea.AddChild(e)
	}
	doc.Root().InsertChildAt(a.Index(), ea)
	doc.Root().RemoveChild(a)
	return doc, nil
}

func (g *gen) encrypted() error {
	type enc struct {
		file, key string
		opts      xmlsec.EncryptOptions
	}
	for _, e := range []enc{
		{"encrypted/rsa-oaep-aes128gcm.xml", "enc-rsa3072", xmlsec.EncryptOptions{DataAlgorithm: xmlsec.EncAES128GCM}},
		{"encrypted/rsa-oaep-aes256gcm.xml", "enc-rsa3072", xmlsec.EncryptOptions{}},
		{"encrypted/rsa-oaep-sha512-aes256gcm.xml", "enc-rsa3072", xmlsec.EncryptOptions{OAEPDigest: xmlsec.DigestSHA512}},
		{"encrypted/ecdh-p256-kw128-aes128gcm.xml", "enc-p256", xmlsec.EncryptOptions{DataAlgorithm: xmlsec.EncAES128GCM, KeyWrapAlgorithm: xmlsec.KeyWrapAES128}},
		{"encrypted/ecdh-p256-kw256-aes256gcm.xml", "enc-p256", xmlsec.EncryptOptions{}},
		{"encrypted/ecdh-p384-kw128-aes256gcm.xml", "enc-p384", xmlsec.EncryptOptions{KeyWrapAlgorithm: xmlsec.KeyWrapAES128}},
		{"encrypted/ecdh-p384-kw256-aes256gcm.xml", "enc-p384", xmlsec.EncryptOptions{}},
		{"encrypted/ecdh-p521-kw256-aes128gcm.xml", "enc-p521", xmlsec.EncryptOptions{DataAlgorithm: xmlsec.EncAES128GCM}},
		{"encrypted/ecdh-p521-kw256-aes256gcm.xml", "enc-p521", xmlsec.EncryptOptions{}},
		{"encrypted/legacy-mgf1p-sha1-aes256gcm.xml", "enc-rsa3072", xmlsec.EncryptOptions{KeyTransport: xmlsec.KeyTransportRSAOAEPMGF1P, OAEPDigest: xmlsec.DigestSHA1, AllowLegacyKeyTransport: true}},
	} {
		cert := g.keys[e.key].cert
		doc, err := encryptedResponse(func(a *etree.Element) (*etree.Element, []*etree.Element, error) {
			ed, err := xmlsec.Encrypt(a, cert, e.opts)
			return ed, nil, err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", e.file, err)
		}
		if err := g.save(e.file, doc); err != nil {
			return err
		}
	}

	// Independently assembled samples.
	rsaCert := g.keys["enc-rsa3072"].cert
	manual := []struct {
		file string
		m    manualEnc
	}{
		{"encrypted/manual-rsa-oaep-aes192gcm.xml", manualEnc{data: xmlsec.EncAES192GCM, transport: xmlsec.KeyTransportRSAOAEP, digest: crypto.SHA256, mgf: crypto.SHA256, recipient: rsaCert}},
		{"encrypted/manual-rsa-oaep-label-sha384.xml", manualEnc{data: xmlsec.EncAES256GCM, transport: xmlsec.KeyTransportRSAOAEP, digest: crypto.SHA384, mgf: crypto.SHA512, label: []byte("eidas"), recipient: rsaCert}},
		{"encrypted/manual-rsa-oaep-sibling-key.xml", manualEnc{data: xmlsec.EncAES256GCM, transport: xmlsec.KeyTransportRSAOAEP, digest: crypto.SHA256, mgf: crypto.SHA256, recipient: rsaCert, sibling: true}},
		{"encrypted/legacy-mgf1p-sha256-mgf1sha1.xml", manualEnc{data: xmlsec.EncAES256GCM, transport: xmlsec.KeyTransportRSAOAEPMGF1P, digest: crypto.SHA256, mgf: crypto.SHA1, recipient: rsaCert}},
		{"encrypted/legacy-mgf1p-sha256-mgf1sha256.xml", manualEnc{data: xmlsec.EncAES256GCM, transport: xmlsec.KeyTransportRSAOAEPMGF1P, digest: crypto.SHA256, mgf: crypto.SHA256, recipient: rsaCert}},
		{"encrypted/legacy-oaep11-sha1.xml", manualEnc{data: xmlsec.EncAES256GCM, transport: xmlsec.KeyTransportRSAOAEP, digest: crypto.SHA1, mgf: crypto.SHA1, recipient: rsaCert}},
		{"encrypted/manual-ecdh-p384-params-der.xml", manualEnc{data: xmlsec.EncAES256GCM, transport: xmlsec.KeyWrapAES128, kdfDigest: crypto.SHA384, recipient: g.keys["enc-p384"].cert,
			kdfParams: [3][]byte{[]byte(xmlsec.KeyWrapAES128), []byte("idp.test.example"), {}}, derOriginator: true}},
	}
	for _, m := range manual {
		doc, err := encryptedResponse(m.m.build)
		if err != nil {
			return fmt.Errorf("%s: %w", m.file, err)
		}
		if err := g.save(m.file, doc); err != nil {
			return err
		}
	}

	// The main happy path: a PSS-signed Response carrying an encrypted
	// assertion (eIDAS v1.4 defaults).
	doc, err := encryptedResponse(func(a *etree.Element) (*etree.Element, []*etree.Element, error) {
		ed, err := xmlsec.Encrypt(a, rsaCert, xmlsec.EncryptOptions{})
		return ed, nil, err
	})
	if err != nil {
		return err
	}
	if err := g.signResponse(doc); err != nil {
		return err
	}
	return g.save("encrypted/response-signed-encrypted.xml", doc)
}

// manualEnc describes an EncryptedData assembled without the package.
type manualEnc struct {
	data      string // content algorithm URI (GCM or CBC)
	transport string // key transport URI, or a key-wrap URI for ECDH-ES
	digest    crypto.Hash
	mgf       crypto.Hash
	label     []byte
	recipient *x509.Certificate
	sibling   bool // EncryptedKey beside EncryptedData, via RetrievalMethod
	// ECDH-ES
	kdfDigest     crypto.Hash
	kdfParams     [3][]byte // AlgorithmID, PartyUInfo, PartyVInfo (whole octets)
	derOriginator bool      // originator key as DEREncodedKeyValue only
	withAgreement bool      // add an AgreementMethod to an RSA EncryptedKey (invalid mix)
	truncateTag   int       // drop this many bytes from the end of the ciphertext
}

func hashURI(h crypto.Hash) string {
	switch h {
	case crypto.SHA1:
		return xmlsec.DigestSHA1
	case crypto.SHA256:
		return xmlsec.DigestSHA256
	case crypto.SHA384:
		return xmlsec.DigestSHA384
	case crypto.SHA512:
		return xmlsec.DigestSHA512
	}
	return ""
}

func mgfURI(h crypto.Hash) string {
	switch h {
	case crypto.SHA1:
		return xmlsec.MGF1SHA1
	case crypto.SHA256:
		return xmlsec.MGF1SHA256
	case crypto.SHA384:
		return xmlsec.MGF1SHA384
	case crypto.SHA512:
		return xmlsec.MGF1SHA512
	}
	return ""
}

func (m manualEnc) build(a *etree.Element) (*etree.Element, []*etree.Element, error) {
	plain, err := xmlsec.Canonicalize(a, nil)
	if err != nil {
		return nil, nil, err
	}
	keyLen := map[string]int{
		xmlsec.EncAES128GCM: 16, xmlsec.EncAES192GCM: 24, xmlsec.EncAES256GCM: 32,
		"http://www.w3.org/2001/04/xmlenc#aes128-cbc": 16, "http://www.w3.org/2001/04/xmlenc#aes256-cbc": 32,
	}[m.data]
	if keyLen == 0 {
		return nil, nil, fmt.Errorf("unknown data algorithm %s", m.data)
	}
	key := make([]byte, keyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, nil, err
	}
	var ct []byte
	if strings.HasSuffix(m.data, "-cbc") {
		ct, err = sealCBC(key, plain)
	} else {
		ct, err = sealGCM(key, plain)
	}
	if err != nil {
		return nil, nil, err
	}
	ct = ct[:len(ct)-m.truncateTag]

	ek := etree.NewElement("xenc:EncryptedKey")
	ek.CreateAttr("xmlns:xenc", xmlsec.NamespaceXMLEnc)
	ek.CreateAttr("xmlns:ds", xmlsec.NamespaceDSig)
	ek.CreateAttr("Id", "_ek-0001")
	em := ek.CreateElement("xenc:EncryptionMethod")
	em.CreateAttr("Algorithm", m.transport)
	var wrapped []byte
	switch m.transport {
	case xmlsec.KeyTransportRSAOAEP, xmlsec.KeyTransportRSAOAEPMGF1P:
		pub := m.recipient.PublicKey.(*rsa.PublicKey)
		wrapped, err = rsa.EncryptOAEPWithOptions(rand.Reader, pub, key, &rsa.OAEPOptions{Hash: m.digest, MGFHash: m.mgf, Label: m.label})
		if err != nil {
			return nil, nil, err
		}
		if m.label != nil {
			em.CreateElement("xenc:OAEPparams").SetText(base64.StdEncoding.EncodeToString(m.label))
		}
		em.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", hashURI(m.digest))
		if m.transport == xmlsec.KeyTransportRSAOAEP {
			mg := em.CreateElement("xenc11:MGF")
			mg.CreateAttr("xmlns:xenc11", xmlsec.NamespaceXMLEnc11)
			mg.CreateAttr("Algorithm", mgfURI(m.mgf))
		}
		ki := ek.CreateElement("ds:KeyInfo")
		if m.withAgreement {
			ki.CreateElement("xenc:AgreementMethod").CreateAttr("Algorithm", xmlsec.KeyAgreementECDHES)
		}
		ki.CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(m.recipient.Raw))
	case "http://www.w3.org/2001/04/xmlenc#rsa-1_5":
		wrapped, err = rsa.EncryptPKCS1v15(rand.Reader, m.recipient.PublicKey.(*rsa.PublicKey), key)
		if err != nil {
			return nil, nil, err
		}
	case xmlsec.KeyWrapAES128, xmlsec.KeyWrapAES256:
		remote, err := m.recipient.PublicKey.(*ecdsa.PublicKey).ECDH()
		if err != nil {
			return nil, nil, err
		}
		eph, err := remote.Curve().GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		z, err := eph.ECDH(remote)
		if err != nil {
			return nil, nil, err
		}
		var other []byte
		for _, p := range m.kdfParams {
			other = append(other, p...)
		}
		kekLen := 16
		if m.transport == xmlsec.KeyWrapAES256 {
			kekLen = 32
		}
		kek := kdf(m.kdfDigest, z, other, kekLen)
		if wrapped, err = keyWrap(kek, key); err != nil {
			return nil, nil, err
		}
		am := ek.CreateElement("ds:KeyInfo").CreateElement("xenc:AgreementMethod")
		am.CreateAttr("Algorithm", xmlsec.KeyAgreementECDHES)
		kdm := am.CreateElement("xenc11:KeyDerivationMethod")
		kdm.CreateAttr("xmlns:xenc11", xmlsec.NamespaceXMLEnc11)
		kdm.CreateAttr("Algorithm", xmlsec.KDFConcat)
		cp := kdm.CreateElement("xenc11:ConcatKDFParams")
		for i, name := range []string{"AlgorithmID", "PartyUInfo", "PartyVInfo"} {
			cp.CreateAttr(name, "00"+hex.EncodeToString(m.kdfParams[i]))
		}
		cp.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", hashURI(m.kdfDigest))
		oki := am.CreateElement("xenc:OriginatorKeyInfo")
		if !m.derOriginator {
			ecv := oki.CreateElement("ds:KeyValue").CreateElement("dsig11:ECKeyValue")
			ecv.CreateAttr("xmlns:dsig11", xmlsec.NamespaceDSig11)
			curve := map[string]string{"P-256": "urn:oid:1.2.840.10045.3.1.7", "P-384": "urn:oid:1.3.132.0.34", "P-521": "urn:oid:1.3.132.0.35"}
			ecv.CreateElement("dsig11:NamedCurve").CreateAttr("URI", curve[m.recipient.PublicKey.(*ecdsa.PublicKey).Curve.Params().Name])
			ecv.CreateElement("dsig11:PublicKey").SetText(base64.StdEncoding.EncodeToString(eph.PublicKey().Bytes()))
		} else {
			spki, err := x509.MarshalPKIXPublicKey(eph.PublicKey())
			if err != nil {
				return nil, nil, err
			}
			d := oki.CreateElement("dsig11:DEREncodedKeyValue")
			d.CreateAttr("xmlns:dsig11", xmlsec.NamespaceDSig11)
			d.SetText(wrap76(base64.StdEncoding.EncodeToString(spki)))
		}
		x := am.CreateElement("xenc:RecipientKeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate")
		x.SetText(base64.StdEncoding.EncodeToString(m.recipient.Raw))
	default:
		return nil, nil, fmt.Errorf("unknown transport %s", m.transport)
	}
	ek.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText(base64.StdEncoding.EncodeToString(wrapped))

	ed := etree.NewElement("xenc:EncryptedData")
	ed.CreateAttr("xmlns:xenc", xmlsec.NamespaceXMLEnc)
	ed.CreateAttr("xmlns:ds", xmlsec.NamespaceDSig)
	ed.CreateAttr("Type", xmlsec.TypeElement)
	ed.CreateElement("xenc:EncryptionMethod").CreateAttr("Algorithm", m.data)
	ki := ed.CreateElement("ds:KeyInfo")
	var extra []*etree.Element
	if m.sibling {
		rm := ki.CreateElement("ds:RetrievalMethod")
		rm.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#EncryptedKey")
		rm.CreateAttr("URI", "#_ek-0001")
		extra = append(extra, ek)
	} else {
		ki.AddChild(ek)
	}
	// Java producers wrap base64 at 76 characters with CR LF; so do we here.
	ed.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText(wrap76(base64.StdEncoding.EncodeToString(ct)))
	return ed, extra, nil
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76])
		b.WriteString("\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

func sealGCM(key, plain []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	iv := make([]byte, 12)
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	return gcm.Seal(iv, iv, plain, nil), nil
}

// sealCBC is XML Encryption 1.0 AES-CBC (IV prefix, ISO 10126-style
// padding); only used to build samples that must be refused.
func sealCBC(key, plain []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	pad := 16 - len(plain)%16
	padded := append(append([]byte{}, plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, 16+len(padded))
	if _, err := rand.Read(out[:16]); err != nil {
		return nil, err
	}
	cipher.NewCBCEncrypter(block, out[:16]).CryptBlocks(out[16:], padded)
	return out, nil
}

// kdf is the NIST SP 800-56A concatenation KDF.
func kdf(h crypto.Hash, z, other []byte, n int) []byte {
	var out []byte
	for i := uint32(1); len(out) < n; i++ {
		d := h.New()
		_ = binary.Write(d, binary.BigEndian, i)
		d.Write(z)
		d.Write(other)
		out = d.Sum(out)
	}
	return out[:n]
}

// keyWrap is RFC 3394 AES key wrap.
func keyWrap(kek, p []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	n := len(p) / 8
	a := []byte{0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6}
	r := append([]byte{}, p...)
	buf := make([]byte, 16)
	for j := 0; j < 6; j++ {
		for i := 0; i < n; i++ {
			copy(buf, a)
			copy(buf[8:], r[8*i:8*i+8])
			block.Encrypt(buf, buf)
			t := uint64(n*j + i + 1)
			binary.BigEndian.PutUint64(a, binary.BigEndian.Uint64(buf[:8])^t)
			copy(r[8*i:], buf[8:])
		}
	}
	return append(a, r...), nil
}

// ---------------------------------------------------------------- raw signing

// rawSig describes a signature assembled without the package's Sign, for
// the samples Sign refuses to make.
type rawSig struct {
	signer     crypto.Signer
	certs      []*x509.Certificate
	sigURI     string
	hash       crypto.Hash
	kind       string // "pss", "pkcs1", "ecdsa", "ecdsa-der"
	digestURI  string
	digestHash crypto.Hash
	refURI     string         // default "#" + ID
	emptyURI   bool           // URI=""
	refTarget  *etree.Element // default the signed element
	transforms []string       // default enveloped + exc-c14n
	c14nURI    string         // default exc-c14n
	twoRefs    bool
}

func rawSign(el *etree.Element, r rawSig) (*etree.Element, error) {
	if r.refURI == "" && !r.emptyURI {
		r.refURI = "#" + el.SelectAttrValue("ID", "")
	}
	if r.refTarget == nil {
		r.refTarget = el
	}
	if r.transforms == nil {
		r.transforms = []string{xmlsec.TransformEnveloped, xmlsec.C14NExclusive}
	}
	if r.c14nURI == "" {
		r.c14nURI = xmlsec.C14NExclusive
	}
	canon, err := xmlsec.Canonicalize(r.refTarget, nil)
	if err != nil {
		return nil, err
	}
	d := r.digestHash.New()
	d.Write(canon)

	sig := etree.NewElement("ds:Signature")
	sig.CreateAttr("xmlns:ds", xmlsec.NamespaceDSig)
	si := sig.CreateElement("ds:SignedInfo")
	si.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", r.c14nURI)
	si.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", r.sigURI)
	refs := 1
	if r.twoRefs {
		refs = 2
	}
	for range refs {
		ref := si.CreateElement("ds:Reference")
		ref.CreateAttr("URI", r.refURI)
		tr := ref.CreateElement("ds:Transforms")
		for _, t := range r.transforms {
			tr.CreateElement("ds:Transform").CreateAttr("Algorithm", t)
		}
		ref.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", r.digestURI)
		ref.CreateElement("ds:DigestValue").SetText(base64.StdEncoding.EncodeToString(d.Sum(nil)))
	}
	sv := sig.CreateElement("ds:SignatureValue")
	if len(r.certs) > 0 {
		xd := sig.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data")
		for _, c := range r.certs {
			xd.CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(c.Raw))
		}
	}
	idx := 0
	if iss := el.SelectElement("saml2:Issuer"); iss != nil {
		idx = iss.Index() + 1
	}
	el.InsertChildAt(idx, sig)

	siCanon, err := xmlsec.Canonicalize(si, nil)
	if err != nil {
		return nil, err
	}
	h := r.hash.New()
	h.Write(siCanon)
	hashed := h.Sum(nil)
	var value []byte
	switch r.kind {
	case "pss":
		value, err = r.signer.Sign(rand.Reader, hashed, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: r.hash})
	case "pkcs1":
		value, err = r.signer.Sign(rand.Reader, hashed, r.hash)
	case "ecdsa", "ecdsa-der":
		value, err = r.signer.Sign(rand.Reader, hashed, r.hash)
		if err == nil && r.kind == "ecdsa" {
			value, err = derToRaw(value, r.signer.Public().(*ecdsa.PublicKey))
		}
	default:
		err = fmt.Errorf("unknown kind %s", r.kind)
	}
	if err != nil {
		return nil, err
	}
	sv.SetText(base64.StdEncoding.EncodeToString(value))
	return sig, nil
}

func derToRaw(der []byte, pub *ecdsa.PublicKey) ([]byte, error) {
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		return nil, err
	}
	size := (pub.Curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}

// ---------------------------------------------------------------- attacks

func removeSignature(e *etree.Element) {
	for _, c := range e.ChildElements() {
		if c.Tag == "Signature" {
			e.RemoveChild(c)
		}
	}
}

func setNameID(a *etree.Element, v string) {
	a.FindElement("./saml2:Subject/saml2:NameID").SetText(v)
}

func loadFixture(g *gen, name string) (*etree.Document, error) {
	b, err := os.ReadFile(filepath.Join(g.dir, name))
	if err != nil {
		return nil, err
	}
	return xmlsec.Parse(b, xmlsec.Limits{})
}

func (g *gen) signatureAttacks() error {
	type attack struct {
		file  string
		base  string
		build func(doc *etree.Document) error
	}
	const evil = "AT/DE/mallory-6666"
	rsaKP, p256 := g.keys["sign-rsa3072"], g.keys["sign-p256"]
	attacks := []attack{
		// XSW1: a forged outer Response; the signed original moves into the
		// Signature.
		{"attacks/xsw1.xml", "signed/response-pss-sha256.xml", func(doc *etree.Document) error {
			root := doc.Root()
			clone := root.Copy()
			removeSignature(clone)
			root.SelectElement("Signature").AddChild(clone)
			root.CreateAttr("ID", "_evil")
			setNameID(root.SelectElement("Assertion"), evil)
			return nil
		}},
		// XSW2: as XSW1, the original as a sibling before the Signature.
		{"attacks/xsw2.xml", "signed/response-pss-sha256.xml", func(doc *etree.Document) error {
			root := doc.Root()
			clone := root.Copy()
			removeSignature(clone)
			root.InsertChildAt(root.SelectElement("Signature").Index(), clone)
			root.CreateAttr("ID", "_evil")
			setNameID(root.SelectElement("Assertion"), evil)
			return nil
		}},
		// XSW3: an evil unsigned assertion before the signed one.
		{"attacks/xsw3.xml", "signed/assertion-signed.xml", func(doc *etree.Document) error {
			a := doc.Root().SelectElement("Assertion")
			ev := a.Copy()
			removeSignature(ev)
			ev.CreateAttr("ID", "_evil")
			setNameID(ev, evil)
			doc.Root().InsertChildAt(a.Index(), ev)
			return nil
		}},
		// XSW4: the signed assertion nested inside an evil one.
		{"attacks/xsw4.xml", "signed/assertion-signed.xml", func(doc *etree.Document) error {
			a := doc.Root().SelectElement("Assertion")
			ev := a.Copy()
			removeSignature(ev)
			ev.CreateAttr("ID", "_evil")
			setNameID(ev, evil)
			doc.Root().InsertChildAt(a.Index(), ev)
			doc.Root().RemoveChild(a)
			ev.AddChild(a)
			return nil
		}},
		// XSW5: the signed assertion altered (new ID, evil subject, keeps its
		// Signature); an unaltered unsigned copy carries the original ID.
		{"attacks/xsw5.xml", "signed/assertion-signed.xml", func(doc *etree.Document) error {
			a := doc.Root().SelectElement("Assertion")
			orig := a.Copy()
			removeSignature(orig)
			a.CreateAttr("ID", "_evil")
			setNameID(a, evil)
			doc.Root().AddChild(orig)
			return nil
		}},
		// XSW6: as XSW5, the unaltered copy inside the Signature.
		{"attacks/xsw6.xml", "signed/assertion-signed.xml", func(doc *etree.Document) error {
			a := doc.Root().SelectElement("Assertion")
			orig := a.Copy()
			removeSignature(orig)
			a.CreateAttr("ID", "_evil")
			setNameID(a, evil)
			a.SelectElement("Signature").AddChild(orig)
			return nil
		}},
		// XSW7: an evil assertion inside samlp:Extensions of a signed Response.
		{"attacks/xsw7.xml", "signed/both-signed.xml", func(doc *etree.Document) error {
			a := doc.Root().SelectElement("Assertion")
			ev := a.Copy()
			removeSignature(ev)
			ev.CreateAttr("ID", "_evil")
			setNameID(ev, evil)
			ext := etree.NewElement("saml2p:Extensions")
			ext.AddChild(ev)
			doc.Root().InsertChildAt(a.Index(), ext)
			return nil
		}},
		// XSW8: the unaltered original in ds:Object; the outer assertion
		// altered but keeping ID and Signature.
		{"attacks/xsw8.xml", "signed/assertion-signed.xml", func(doc *etree.Document) error {
			a := doc.Root().SelectElement("Assertion")
			orig := a.Copy()
			removeSignature(orig)
			obj := a.SelectElement("Signature").CreateElement("ds:Object")
			obj.AddChild(orig)
			setNameID(a, evil)
			return nil
		}},
		// Duplicate ID outside the signed assertion (which stays intact).
		{"attacks/duplicate-id.xml", "signed/assertion-signed.xml", func(doc *etree.Document) error {
			a := doc.Root().SelectElement("Assertion")
			ev := a.Copy()
			removeSignature(ev)
			setNameID(ev, evil)
			ext := etree.NewElement("saml2p:Extensions")
			ext.AddChild(ev)
			doc.Root().InsertChildAt(a.Index(), ext)
			return nil
		}},
		// The Response's signature references (and digests) the assertion.
		{"attacks/reference-other-id.xml", "", func(doc *etree.Document) error {
			_, err := rawSign(doc.Root(), rawSig{signer: rsaKP.key, certs: []*x509.Certificate{rsaKP.cert}, sigURI: xmlsec.SigRSAPSSSHA256, hash: crypto.SHA256, kind: "pss",
				digestURI: xmlsec.DigestSHA256, digestHash: crypto.SHA256, refURI: "#" + assertID, refTarget: doc.Root().SelectElement("Assertion")})
			return err
		}},
		// A valid signature moved out of the signed element's child list.
		{"attacks/signature-not-child.xml", "signed/response-pss-sha256.xml", func(doc *etree.Document) error {
			sig := doc.Root().SelectElement("Signature")
			doc.Root().RemoveChild(sig)
			doc.Root().SelectElement("Status").AddChild(sig)
			return nil
		}},
		// A second Signature repeating the genuine value, with an assertion in
		// ds:Object.
		{"attacks/two-signatures.xml", "signed/response-pss-sha256.xml", func(doc *etree.Document) error {
			sig := doc.Root().SelectElement("Signature").Copy()
			obj := sig.CreateElement("ds:Object")
			ev := doc.Root().SelectElement("Assertion").Copy()
			setNameID(ev, evil)
			obj.AddChild(ev)
			doc.Root().AddChild(sig)
			return nil
		}},
		// Comment injection: the signed subject is "AT/DE/alice-0001.evil";
		// a comment after "AT/DE/alice-0001" fools readers of the first text
		// node. Exclusive c14n drops comments, so the signature stays valid.
		{"attacks/comment-injection.xml", "", func(doc *etree.Document) error {
			setNameID(doc.Root().SelectElement("Assertion"), nameID+".evil")
			if err := xmlsec.Sign(doc.Root(), rsaKP.key, []*x509.Certificate{rsaKP.cert}, xmlsec.SigRSAPSSSHA256); err != nil {
				return err
			}
			n := doc.Root().FindElement("./saml2:Assertion/saml2:Subject/saml2:NameID")
			n.SetText(nameID)
			n.CreateComment("")
			n.CreateText(".evil")
			return nil
		}},
		{"attacks/unsigned.xml", "", func(doc *etree.Document) error { return nil }},
		// Canonicalisation amplification: a long namespace URI declared
		// once on the root and used by thousands of tiny elements injected
		// into a genuinely signed Response. Exclusive c14n repeats the
		// declaration on each element (about 10 MB from 40 kB).
		{"attacks/c14n-amplification.xml", "signed/response-pss-sha256.xml", func(doc *etree.Document) error {
			doc.Root().CreateAttr("xmlns:amp", "urn:amp:"+strings.Repeat("a", 2000))
			st := doc.Root().SelectElement("Status")
			for range 5000 {
				st.CreateElement("amp:x")
			}
			return nil
		}},
		{"attacks/sha1-digest.xml", "", func(doc *etree.Document) error {
			_, err := rawSign(doc.Root(), rawSig{signer: rsaKP.key, certs: []*x509.Certificate{rsaKP.cert}, sigURI: xmlsec.SigRSAPSSSHA256, hash: crypto.SHA256, kind: "pss",
				digestURI: xmlsec.DigestSHA1, digestHash: crypto.SHA1})
			return err
		}},
		{"attacks/rsa-sha1.xml", "", func(doc *etree.Document) error {
			_, err := rawSign(doc.Root(), rawSig{signer: rsaKP.key, certs: []*x509.Certificate{rsaKP.cert}, sigURI: "http://www.w3.org/2000/09/xmldsig#rsa-sha1", hash: crypto.SHA1, kind: "pkcs1",
				digestURI: xmlsec.DigestSHA256, digestHash: crypto.SHA256})
			return err
		}},
		{"attacks/ecdsa-sha1.xml", "", func(doc *etree.Document) error {
			_, err := rawSign(doc.Root(), rawSig{signer: p256.key, certs: []*x509.Certificate{p256.cert}, sigURI: "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1", hash: crypto.SHA1, kind: "ecdsa",
				digestURI: xmlsec.DigestSHA256, digestHash: crypto.SHA256})
			return err
		}},
		{"attacks/rsa2048-pss.xml", "", func(doc *etree.Document) error {
			kp := g.keys["weak-rsa2048"]
			_, err := rawSign(doc.Root(), rawSig{signer: kp.key, certs: []*x509.Certificate{kp.cert}, sigURI: xmlsec.SigRSAPSSSHA256, hash: crypto.SHA256, kind: "pss",
				digestURI: xmlsec.DigestSHA256, digestHash: crypto.SHA256})
			return err
		}},
		{"attacks/p224-ecdsa.xml", "", func(doc *etree.Document) error {
			kp := g.keys["weak-p224"]
			_, err := rawSign(doc.Root(), rawSig{signer: kp.key, certs: []*x509.Certificate{kp.cert}, sigURI: xmlsec.SigECDSASHA256, hash: crypto.SHA256, kind: "ecdsa",
				digestURI: xmlsec.DigestSHA256, digestHash: crypto.SHA256})
			return err
		}},
		{"attacks/ecdsa-der-value.xml", "", func(doc *etree.Document) error {
			_, err := rawSign(doc.Root(), rawSig{signer: p256.key, certs: []*x509.Certificate{p256.cert}, sigURI: xmlsec.SigECDSASHA256, hash: crypto.SHA256, kind: "ecdsa-der",
				digestURI: xmlsec.DigestSHA256, digestHash: crypto.SHA256})
			return err
		}},
		{"attacks/untrusted-keyinfo.xml", "", func(doc *etree.Document) error {
			kp := g.keys["attacker-rsa3072"]
			setNameID(doc.Root().SelectElement("Assertion"), evil)
			return xmlsec.Sign(doc.Root(), kp.key, []*x509.Certificate{kp.cert}, xmlsec.SigRSAPSSSHA256)
		}},
		{"attacks/attacker-no-keyinfo.xml", "", func(doc *etree.Document) error {
			setNameID(doc.Root().SelectElement("Assertion"), evil)
			return xmlsec.Sign(doc.Root(), g.keys["attacker-rsa3072"].key, nil, xmlsec.SigRSAPSSSHA256)
		}},
		{"attacks/tampered-digest.xml", "signed/response-pss-sha256.xml", func(doc *etree.Document) error {
			dv := doc.Root().FindElement("./ds:Signature/ds:SignedInfo/ds:Reference/ds:DigestValue")
			dv.SetText(flipBase64(dv.Text()))
			return nil
		}},
		{"attacks/tampered-signature-value.xml", "signed/response-ecdsa-sha256-p256.xml", func(doc *etree.Document) error {
			sv := doc.Root().FindElement("./ds:Signature/ds:SignatureValue")
			sv.SetText(flipBase64(sv.Text()))
			return nil
		}},
		{"attacks/tampered-content.xml", "signed/response-pss-sha256.xml", func(doc *etree.Document) error {
			setNameID(doc.Root().SelectElement("Assertion"), evil)
			return nil
		}},
		{"attacks/xslt-transform.xml", "", func(doc *etree.Document) error {
			_, err := rawSign(doc.Root(), rawSig{signer: rsaKP.key, certs: []*x509.Certificate{rsaKP.cert}, sigURI: xmlsec.SigRSAPSSSHA256, hash: crypto.SHA256, kind: "pss",
				digestURI: xmlsec.DigestSHA256, digestHash: crypto.SHA256,
				transforms: []string{xmlsec.TransformEnveloped, "http://www.w3.org/TR/1999/REC-xslt-19991116"}})
			return err
		}},
		{"attacks/with-comments-transform.xml", "", func(doc *etree.Document) error {
			_, err := rawSign(doc.Root(), rawSig{signer: rsaKP.key, certs: []*x509.Certificate{rsaKP.cert}, sigURI: xmlsec.SigRSAPSSSHA256, hash: crypto.SHA256, kind: "pss",
				digestURI: xmlsec.DigestSHA256, digestHash: crypto.SHA256,
				transforms: []string{xmlsec.TransformEnveloped, "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"}})
			return err
		}},
		{"attacks/inclusive-c14n.xml", "", func(doc *etree.Document) error {
			_, err := rawSign(doc.Root(), rawSig{signer: rsaKP.key, certs: []*x509.Certificate{rsaKP.cert}, sigURI: xmlsec.SigRSAPSSSHA256, hash: crypto.SHA256, kind: "pss",
				digestURI: xmlsec.DigestSHA256, digestHash: crypto.SHA256, c14nURI: "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"})
			return err
		}},
		{"attacks/two-references.xml", "", func(doc *etree.Document) error {
			_, err := rawSign(doc.Root(), rawSig{signer: rsaKP.key, certs: []*x509.Certificate{rsaKP.cert}, sigURI: xmlsec.SigRSAPSSSHA256, hash: crypto.SHA256, kind: "pss",
				digestURI: xmlsec.DigestSHA256, digestHash: crypto.SHA256, twoRefs: true})
			return err
		}},
		{"attacks/unknown-signature-method.xml", "", func(doc *etree.Document) error {
			_, err := rawSign(doc.Root(), rawSig{signer: rsaKP.key, certs: []*x509.Certificate{rsaKP.cert}, sigURI: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224", hash: crypto.SHA224, kind: "pkcs1",
				digestURI: xmlsec.DigestSHA256, digestHash: crypto.SHA256})
			return err
		}},
		{"attacks/empty-uri.xml", "", func(doc *etree.Document) error {
			_, err := rawSign(doc.Root(), rawSig{signer: rsaKP.key, certs: []*x509.Certificate{rsaKP.cert}, sigURI: xmlsec.SigRSAPSSSHA256, hash: crypto.SHA256, kind: "pss",
				digestURI: xmlsec.DigestSHA256, digestHash: crypto.SHA256, emptyURI: true})
			return err
		}},
	}
	for _, a := range attacks {
		var doc *etree.Document
		var err error
		if a.base == "" {
			doc, err = response(nameID)
		} else {
			doc, err = loadFixture(g, a.base)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", a.file, err)
		}
		if err := a.build(doc); err != nil {
			return fmt.Errorf("%s: %w", a.file, err)
		}
		if err := g.save(a.file, doc); err != nil {
			return err
		}
	}
	return nil
}

// flipBase64 changes the first character of a base64 string to another
// valid one.
func flipBase64(s string) string {
	s = strings.TrimSpace(s)
	c := "A"
	if s[0] == 'A' {
		c = "B"
	}
	return c + s[1:]
}

func (g *gen) parserAttacks() error {
	files := map[string]string{
		"attacks/doctype-xxe.xml": `<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<r>&xxe;</r>
`,
		"attacks/billion-laughs.xml": `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
`,
		"attacks/processing-instruction.xml": `<?xml version="1.0"?>
<?xml-stylesheet type="text/xsl" href="https://evil.example/x.xsl"?>
<r/>
`,
		"attacks/deep.xml":              strings.Repeat("<a>", 65) + strings.Repeat("</a>", 65) + "\n",
		"attacks/latin1-encoding.xml":   "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<r>Mueller</r>\n",
		"attacks/invalid-utf8.xml":      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r>M\xfcller</r>\n",
		"attacks/undeclared-prefix.xml": `<saml2:Assertion ID="_a"/>` + "\n",
		"attacks/namespace-flood.xml":   namespaceFlood(),
	}
	for name, content := range files {
		if err := g.saveBytes(name, []byte(content)); err != nil {
			return err
		}
	}
	return nil
}

// namespaceFlood declares more prefixes than the parser keeps in scope.
func namespaceFlood() string {
	var b strings.Builder
	b.WriteString("<r")
	for i := range 100 {
		fmt.Fprintf(&b, ` xmlns:p%d="urn:p%d"`, i, i)
	}
	b.WriteString("><p0:x/></r>\n")
	return b.String()
}

func (g *gen) encryptionAttacks() error {
	rsaCert := g.keys["enc-rsa3072"].cert
	manual := []struct {
		file string
		m    manualEnc
	}{
		{"attacks/cbc-aes128.xml", manualEnc{data: "http://www.w3.org/2001/04/xmlenc#aes128-cbc", transport: xmlsec.KeyTransportRSAOAEP, digest: crypto.SHA256, mgf: crypto.SHA256, recipient: rsaCert}},
		{"attacks/cbc-aes256.xml", manualEnc{data: "http://www.w3.org/2001/04/xmlenc#aes256-cbc", transport: xmlsec.KeyTransportRSAOAEP, digest: crypto.SHA256, mgf: crypto.SHA256, recipient: rsaCert}},
		{"attacks/rsa-1_5.xml", manualEnc{data: xmlsec.EncAES256GCM, transport: "http://www.w3.org/2001/04/xmlenc#rsa-1_5", recipient: rsaCert}},
		{"attacks/wrong-recipient.xml", manualEnc{data: xmlsec.EncAES256GCM, transport: xmlsec.KeyTransportRSAOAEP, digest: crypto.SHA256, mgf: crypto.SHA256, recipient: g.keys["attacker-rsa3072"].cert}},
		{"attacks/truncated-gcm-tag.xml", manualEnc{data: xmlsec.EncAES256GCM, transport: xmlsec.KeyTransportRSAOAEP, digest: crypto.SHA256, mgf: crypto.SHA256, recipient: rsaCert, truncateTag: 8}},
		{"attacks/key-transport-with-agreement.xml", manualEnc{data: xmlsec.EncAES256GCM, transport: xmlsec.KeyTransportRSAOAEP, digest: crypto.SHA256, mgf: crypto.SHA256, recipient: rsaCert, withAgreement: true}},
		{"attacks/ecdh-sha1-kdf.xml", manualEnc{data: xmlsec.EncAES256GCM, transport: xmlsec.KeyWrapAES256, kdfDigest: crypto.SHA1, recipient: g.keys["enc-p256"].cert, derOriginator: true}},
	}
	for _, m := range manual {
		doc, err := encryptedResponse(m.m.build)
		if err != nil {
			return fmt.Errorf("%s: %w", m.file, err)
		}
		if err := g.save(m.file, doc); err != nil {
			return err
		}
	}
	// An ECDH-ES sample whose wrapped key was altered.
	doc, err := loadFixture(g, "encrypted/ecdh-p256-kw256-aes256gcm.xml")
	if err != nil {
		return err
	}
	ek := doc.FindElement("//EncryptedKey/CipherData/CipherValue")
	ek.SetText(flipBase64(ek.Text()))
	return g.save("attacks/ecdh-tampered-wrapped-key.xml", doc)
}
