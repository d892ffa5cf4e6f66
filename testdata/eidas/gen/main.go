// Command gen regenerates the fixtures of package adapters/eidas: the
// connector's keys, a fictional Austrian proxy-service (trust anchor CA,
// RSA-3072 and P-256 signing keys), its signed metadata and broken
// variants, and eIDAS Responses — valid ones for both algorithm families
// (RSASSA-PSS + RSA-OAEP/AES-256-GCM and ECDSA + ECDH-ES/AES-256-GCM) and
// one per attack the adapter must refuse.
//
// Run from the repository root:
//
//	go run ./testdata/eidas/gen            # keep existing keys
//	go run ./testdata/eidas/gen -newkeys   # also replace the keys
//
// All documents use the fixed values below; the tests run with the clock
// at 2030-06-01T12:01:00Z. Signature values and GCM nonces are random, so
// files change on every run; tests depend only on their meaning.
// Attacks are built the way an attacker would: by editing a genuine signed
// message (wrapping, comments, moved signatures) or, where the check under
// test sits behind the signature, by having the genuine proxy-service key
// sign a message that is wrong in exactly one respect.
package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters/eidas"
	"github.com/ozg-broker/eidas-broker/adapters/eidas/eidassim"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// Fixed values (the tests in adapters/eidas repeat them).
const (
	baseURL   = "https://broker.test.example"
	spEntity  = baseURL + "/saml/connector/metadata"
	acsURL    = baseURL + "/saml/connector/acs"
	idpEntity = "https://proxy.at.test.example/eidas/metadata"
	ssoURL    = "https://proxy.at.test.example/eidas/sso"
	requestID = "_req-0001"
	pid       = "AT/DE/1234567890abc"
)

var (
	issueInstant = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	authnInstant = time.Date(2030, 6, 1, 11, 59, 30, 0, time.UTC)
	notBefore    = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter     = time.Date(2035, 12, 31, 23, 59, 59, 0, time.UTC)
)

func main() {
	out := flag.String("out", filepath.Join("testdata", "eidas"), "fixture directory")
	newKeys := flag.Bool("newkeys", false, "replace existing keys and certificates")
	flag.Parse()
	g := &gen{dir: *out, newKeys: *newKeys, keys: map[string]eidassim.Signer{}}
	if err := g.run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

type gen struct {
	dir     string
	newKeys bool
	keys    map[string]eidassim.Signer
}

func (g *gen) run() error {
	for _, d := range []string{"keys", "metadata", "responses"} {
		if err := os.MkdirAll(filepath.Join(g.dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := g.makeKeys(); err != nil {
		return err
	}
	if err := g.makeMetadata(); err != nil {
		return err
	}
	return g.makeResponses()
}

// --- keys -------------------------------------------------------------------

type keySpec struct {
	name   string
	rsa    int // bits; 0 = EC
	curve  elliptic.Curve
	issuer string // "" = self-signed
	ca     bool
	usage  x509.KeyUsage
}

func (g *gen) makeKeys() error {
	specs := []keySpec{
		{name: "anchor-ca", curve: elliptic.P384(), ca: true, usage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign},
		{name: "idp-at-rsa3072", rsa: 3072, issuer: "anchor-ca", usage: x509.KeyUsageDigitalSignature},
		{name: "idp-at-p256", curve: elliptic.P256(), issuer: "anchor-ca", usage: x509.KeyUsageDigitalSignature},
		{name: "idp-at-weak-rsa2048", rsa: 2048, issuer: "anchor-ca", usage: x509.KeyUsageDigitalSignature},
		{name: "connector-sign-rsa3072", rsa: 3072, usage: x509.KeyUsageDigitalSignature},
		{name: "connector-enc-rsa3072", rsa: 3072, usage: x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment},
		{name: "connector-sign-p256", curve: elliptic.P256(), usage: x509.KeyUsageDigitalSignature},
		{name: "connector-enc-p256", curve: elliptic.P256(), usage: x509.KeyUsageKeyAgreement},
		{name: "attacker-rsa3072", rsa: 3072, usage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment},
	}
	for _, s := range specs {
		kp, err := g.loadOrMake(s)
		if err != nil {
			return fmt.Errorf("key %s: %w", s.name, err)
		}
		g.keys[s.name] = kp
	}
	return nil
}

func (g *gen) keyPath(name, kind string) string {
	return filepath.Join(g.dir, "keys", name+"."+kind+".pem")
}

func (g *gen) loadOrMake(s keySpec) (eidassim.Signer, error) {
	if !g.newKeys {
		kb, err1 := os.ReadFile(g.keyPath(s.name, "key"))
		cb, err2 := os.ReadFile(g.keyPath(s.name, "cert"))
		if err1 == nil && err2 == nil {
			key, err := eidas.ParsePrivateKeyPEM(kb)
			if err != nil {
				return eidassim.Signer{}, err
			}
			certs, err := eidas.ParseCertificatesPEM(cb)
			if err != nil {
				return eidassim.Signer{}, err
			}
			return eidassim.Signer{Key: key, Cert: certs[0]}, nil
		}
	}
	var key crypto.Signer
	var err error
	if s.rsa > 0 {
		key, err = rsa.GenerateKey(rand.Reader, s.rsa)
	} else {
		key, err = ecdsa.GenerateKey(s.curve, rand.Reader)
	}
	if err != nil {
		return eidassim.Signer{}, err
	}
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return eidassim.Signer{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: s.name + " (test fixture)", Organization: []string{"Fictional eIDAS test PKI"}},
		NotBefore:    notBefore, NotAfter: notAfter, KeyUsage: s.usage,
		BasicConstraintsValid: true, IsCA: s.ca,
	}
	parent, signer := tmpl, key
	if s.issuer != "" {
		iss := g.keys[s.issuer]
		parent, signer = iss.Cert, iss.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return eidassim.Signer{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return eidassim.Signer{}, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return eidassim.Signer{}, err
	}
	if err := os.WriteFile(g.keyPath(s.name, "key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		return eidassim.Signer{}, err
	}
	if err := os.WriteFile(g.keyPath(s.name, "cert"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return eidassim.Signer{}, err
	}
	return eidassim.Signer{Key: key, Cert: cert}, nil
}

// --- metadata ---------------------------------------------------------------

type mdVariant struct {
	name       string
	validUntil time.Time
	signer     string // key name; "" = unsigned
	chain      bool   // put the CA certificate into KeyInfo as well
	extraCert  string // another signing certificate listed in the metadata
	after      func([]byte) []byte
	entityID   string
	country    string
}

func (g *gen) makeMetadata() error {
	good := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	variants := []mdVariant{
		{name: "at-proxy", validUntil: good, signer: "idp-at-rsa3072", chain: true},
		{name: "at-proxy-ec-signed", validUntil: good, signer: "idp-at-p256"},
		{name: "at-proxy-expired", validUntil: time.Date(2030, 5, 1, 0, 0, 0, 0, time.UTC), signer: "idp-at-rsa3072"},
		{name: "at-proxy-unsigned", validUntil: good},
		{name: "at-proxy-bad-signature", validUntil: good, signer: "idp-at-rsa3072", after: func(b []byte) []byte {
			return bytes.Replace(b, []byte(ssoURL), []byte("https://evil.test.example/sso"), 1)
		}},
		{name: "at-proxy-untrusted-signer", validUntil: good, signer: "attacker-rsa3072"},
		{name: "at-proxy-weak-key", validUntil: good, signer: "idp-at-rsa3072", extraCert: "idp-at-weak-rsa2048"},
		{name: "at-proxy-wrong-country", validUntil: good, signer: "idp-at-rsa3072", country: "FR"},
		{name: "at-proxy-http-entity", validUntil: good, signer: "idp-at-rsa3072", entityID: "http://proxy.at.test.example/eidas/metadata"},
		{name: "at-proxy-doctype", validUntil: good, signer: "idp-at-rsa3072", after: func(b []byte) []byte {
			return bytes.Replace(b, []byte("?>\n"), []byte("?>\n<!DOCTYPE md:EntityDescriptor [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"), 1)
		}},
	}
	for _, v := range variants {
		b, err := g.metadataDoc(v)
		if err != nil {
			return fmt.Errorf("metadata %s: %w", v.name, err)
		}
		if v.after != nil {
			b = v.after(b)
		}
		if err := os.WriteFile(filepath.Join(g.dir, "metadata", v.name+".xml"), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) metadataDoc(v mdVariant) ([]byte, error) {
	entity := idpEntity
	if v.entityID != "" {
		entity = v.entityID
	}
	country := "AT"
	if v.country != "" {
		country = v.country
	}
	ed := etree.NewElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", samlxml.NSMetadata)
	ed.CreateAttr("xmlns:ds", samlxml.NSDSig)
	ed.CreateAttr("xmlns:eidas", samlxml.NSEIDAS)
	ed.CreateAttr("ID", "_md-at-0001")
	ed.CreateAttr("entityID", entity)
	ed.CreateAttr("validUntil", v.validUntil.UTC().Format("2006-01-02T15:04:05.000Z"))
	idp := ed.CreateElement("md:IDPSSODescriptor")
	idp.CreateAttr("WantAuthnRequestsSigned", "true")
	idp.CreateAttr("protocolSupportEnumeration", "urn:oasis:names:tc:SAML:2.0:protocol")
	idp.CreateElement("md:Extensions").CreateElement("eidas:NodeCountry").SetText(country)
	certs := []string{"idp-at-rsa3072", "idp-at-p256"}
	if v.extraCert != "" {
		certs = append(certs, v.extraCert)
	}
	for _, c := range certs {
		kd := idp.CreateElement("md:KeyDescriptor")
		kd.CreateAttr("use", "signing")
		kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
			SetText(base64.StdEncoding.EncodeToString(g.keys[c].Cert.Raw))
	}
	idp.CreateElement("md:NameIDFormat").SetText(samlxml.NameIDPersistent)
	for _, b := range []string{samlxml.BindingPOST, samlxml.BindingRedirect} {
		sso := idp.CreateElement("md:SingleSignOnService")
		sso.CreateAttr("Binding", b)
		sso.CreateAttr("Location", ssoURL)
	}
	if v.signer != "" {
		s := g.keys[v.signer]
		certs := []*x509.Certificate{s.Cert}
		if v.chain {
			certs = append(certs, g.keys["anchor-ca"].Cert)
		}
		alg, err := eidas.SignatureMethodFor(s.Key.Public())
		if err != nil {
			return nil, err
		}
		if err := xmlsec.Sign(ed, s.Key, certs, alg); err != nil {
			return nil, err
		}
	}
	b, err := eidassim.Serialize(ed)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// --- responses --------------------------------------------------------------

// variant describes one Response fixture by how it departs from a valid
// one.
type variant struct {
	name string
	set  string // "rsa" (RSASSA-PSS, RSA-OAEP) or "ec" (ECDSA, ECDH-ES)
	// params edits the Response/assertion parameters.
	params func(p *eidassim.ResponseParams)
	// assertion edits the assertion before it is (optionally) signed.
	assertion     func(as *etree.Element)
	signAssertion bool
	// signedAssertion edits the assertion after its signature.
	signedAssertion func(as *etree.Element)
	// encryptOpts override the encryption; recipient overrides the key.
	encryptOpts *xmlsec.EncryptOptions
	recipient   string
	// encrypted edits the EncryptedData (algorithm downgrades).
	encrypted func(ed *etree.Element)
	// noAssertion leaves the assertion out (error responses).
	noAssertion bool
	// response edits the Response before it is signed.
	response func(resp *etree.Element, as *etree.Element) error
	// signer overrides the Response signing key; unsigned leaves it unsigned.
	signer   string
	signOpts *xmlsec.SignOptions
	unsigned bool
	// after edits the signed document (wrapping attacks); as is the
	// plaintext assertion (nil for error responses).
	after func(root, as *etree.Element) *etree.Element
	// raw edits the final bytes.
	raw func([]byte) []byte
}

func natural() []eidassim.Attribute {
	const n = "http://eidas.europa.eu/attributes/naturalperson/"
	return []eidassim.Attribute{
		{Name: n + "PersonIdentifier", FriendlyName: "PersonIdentifier", Values: []eidassim.Value{{Latin: pid}}},
		{Name: n + "CurrentFamilyName", FriendlyName: "FamilyName", Values: []eidassim.Value{{Latin: "Müller"}}},
		{Name: n + "CurrentGivenName", FriendlyName: "FirstName", Values: []eidassim.Value{{Latin: "Anna Maria"}}},
		{Name: n + "DateOfBirth", FriendlyName: "DateOfBirth", Values: []eidassim.Value{{Latin: "1985-03-21"}}},
		{Name: n + "BirthName", FriendlyName: "BirthName", Values: []eidassim.Value{{Latin: "Anna Maria Huber"}}},
		{Name: n + "CurrentAddress", FriendlyName: "CurrentAddress", Values: []eidassim.Value{{Latin: eidassim.EncodeAddress(eidassim.Address{
			Thoroughfare: "Praterstraße", LocatorDesignator: "12", PostCode: "1020", PostName: "Wien", Country: "AT"})}}},
		{Name: n + "Gender", FriendlyName: "Gender", Values: []eidassim.Value{{Latin: "Female"}}},
	}
}

// legalPerson is a company with its representative (Attribute Profile
// §2.8): the legal person's data set plus the natural person's minimum
// data set under the representative prefix.
func legalPerson(lpi string) []eidassim.Attribute {
	const (
		l   = "http://eidas.europa.eu/attributes/legalperson/"
		rep = "http://eidas.europa.eu/attributes/naturalperson/representative/"
	)
	return []eidassim.Attribute{
		{Name: l + "LegalPersonIdentifier", FriendlyName: "LegalPersonIdentifier", Values: []eidassim.Value{{Latin: lpi}}},
		{Name: l + "LegalName", FriendlyName: "LegalName", Values: []eidassim.Value{{Latin: "Gruber Bau GmbH"}}},
		{Name: l + "LEI", FriendlyName: "LEI", Values: []eidassim.Value{{Latin: "529900T8BM49AURSDO55"}}},
		{Name: rep + "PersonIdentifier", FriendlyName: "RepresentativePersonIdentifier", Values: []eidassim.Value{{Latin: "AT/DE/7781X22AB"}}},
		{Name: rep + "CurrentFamilyName", FriendlyName: "RepresentativeFamilyName", Values: []eidassim.Value{{Latin: "Gruber"}}},
		{Name: rep + "CurrentGivenName", FriendlyName: "RepresentativeFirstName", Values: []eidassim.Value{{Latin: "Franz"}}},
		{Name: rep + "DateOfBirth", FriendlyName: "RepresentativeDateOfBirth", Values: []eidassim.Value{{Latin: "1971-11-02"}}},
	}
}

func baseParams(set string) eidassim.ResponseParams {
	return eidassim.ResponseParams{
		ResponseID: "_resp-" + set + "-0001", AssertionID: "_assert-" + set + "-0001",
		Issuer: idpEntity, Destination: acsURL, Audience: spEntity, InResponseTo: requestID,
		IssueInstant: issueInstant, Lifetime: 5 * time.Minute, AuthnInstant: authnInstant,
		LoA: "http://eidas.europa.eu/LoA/substantial", NameID: pid, NameIDFormat: samlxml.NameIDPersistent,
		Attributes: natural(),
	}
}

func (g *gen) makeResponses() error {
	for _, v := range variants() {
		b, err := g.response(v)
		if err != nil {
			return fmt.Errorf("response %s: %w", v.name, err)
		}
		name := v.set + "-" + v.name + ".xml"
		if err := os.WriteFile(filepath.Join(g.dir, "responses", name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) idpSigner(set string) eidassim.Signer {
	if set == "ec" {
		return g.keys["idp-at-p256"]
	}
	return g.keys["idp-at-rsa3072"]
}

func (g *gen) response(v variant) ([]byte, error) {
	p := baseParams(v.set)
	if v.params != nil {
		v.params(&p)
	}
	signer := g.idpSigner(v.set)
	if v.signer != "" {
		signer = g.keys[v.signer]
	}
	recipient := g.keys["connector-enc-rsa3072"].Cert
	if v.set == "ec" {
		recipient = g.keys["connector-enc-p256"].Cert
	}
	if v.recipient != "" {
		recipient = g.keys[v.recipient].Cert
	}
	resp, err := eidassim.BuildResponse(p)
	if err != nil {
		return nil, err
	}
	var as *etree.Element
	if !v.noAssertion {
		if as, err = eidassim.BuildAssertion(p); err != nil {
			return nil, err
		}
		if v.assertion != nil {
			v.assertion(as)
		}
		if v.signAssertion {
			if err := g.idpSigner(v.set).Sign(as); err != nil {
				return nil, err
			}
		}
		if v.signedAssertion != nil {
			v.signedAssertion(as)
		}
		opts := xmlsec.EncryptOptions{}
		if v.encryptOpts != nil {
			opts = *v.encryptOpts
		}
		ed, err := xmlsec.Encrypt(as, recipient, opts)
		if err != nil {
			return nil, err
		}
		if v.encrypted != nil {
			v.encrypted(ed)
		}
		resp.CreateElement("saml2:EncryptedAssertion").AddChild(ed)
	}
	if v.response != nil {
		if err := v.response(resp, as); err != nil {
			return nil, err
		}
	}
	if !v.unsigned {
		if v.signOpts != nil {
			o := *v.signOpts
			if err := xmlsec.SignWithOptions(resp, signer.Key, []*x509.Certificate{signer.Cert}, o); err != nil {
				return nil, err
			}
		} else if err := signer.Sign(resp); err != nil {
			return nil, err
		}
	}
	root := resp
	if v.after != nil {
		root = v.after(resp, as)
	}
	b, err := eidassim.Serialize(root)
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	if v.raw != nil {
		b = v.raw(b)
	}
	return b, nil
}

// --- element helpers for the attacks ---------------------------------------

func findChild(e *etree.Element, tag string) *etree.Element {
	for _, c := range e.ChildElements() {
		if c.Tag == tag {
			return c
		}
	}
	return nil
}

func find(e *etree.Element, tag string) *etree.Element {
	if e.Tag == tag {
		return e
	}
	for _, c := range e.ChildElements() {
		if f := find(c, tag); f != nil {
			return f
		}
	}
	return nil
}

func setAttr(e *etree.Element, key, value string) {
	e.RemoveAttr(key)
	e.CreateAttr(key, value)
}

// evilCopy returns a copy of the signed Response without its signature,
// with another ID and a different identity inside: an attacker's forgery.
func evilCopy(resp *etree.Element) *etree.Element {
	c := resp.Copy()
	if s := findChild(c, "Signature"); s != nil {
		c.RemoveChild(s)
	}
	setAttr(c, "ID", "_evil")
	setAttr(c, "InResponseTo", requestID)
	return c
}

// evilAssertion is a forged plain assertion: a copy of the genuine one
// without signature, with another ID and another person.
func evilAssertion(as *etree.Element) *etree.Element {
	c := as.Copy()
	if s := findChild(c, "Signature"); s != nil {
		c.RemoveChild(s)
	}
	setAttr(c, "ID", "_evil-assertion")
	find(c, "NameID").SetText("AT/DE/evil")
	find(find(c, "AttributeStatement"), "AttributeValue").SetText("AT/DE/evil")
	return c
}

func variants() []variant {
	const (
		nat   = "http://eidas.europa.eu/attributes/naturalperson/"
		loaLo = "http://eidas.europa.eu/LoA/low"
	)
	dropAttr := func(name string) func(*eidassim.ResponseParams) {
		return func(p *eidassim.ResponseParams) {
			var keep []eidassim.Attribute
			for _, a := range p.Attributes {
				if a.Name != nat+name {
					keep = append(keep, a)
				}
			}
			p.Attributes = keep
		}
	}
	setPID := func(v string) func(*eidassim.ResponseParams) {
		return func(p *eidassim.ResponseParams) {
			p.Attributes[0].Values = []eidassim.Value{{Latin: v}}
		}
	}
	status := func(top, sub, msg string) func(*eidassim.ResponseParams) {
		return func(p *eidassim.ResponseParams) { p.Status = &eidassim.Status{Top: top, Sub: sub, Message: msg} }
	}
	return []variant{
		// Valid answers.
		{name: "valid", set: "rsa"},
		{name: "valid", set: "ec"},
		{name: "valid-signed-assertion", set: "rsa", signAssertion: true},
		{name: "valid-signed-assertion", set: "ec", signAssertion: true},
		{name: "valid-aes128", set: "ec", encryptOpts: &xmlsec.EncryptOptions{DataAlgorithm: xmlsec.EncAES128GCM, KeyWrapAlgorithm: xmlsec.KeyWrapAES128}},
		{name: "valid-latin-script", set: "rsa", params: func(p *eidassim.ResponseParams) {
			p.Attributes[1].Values = []eidassim.Value{{Latin: "Papadopoulou", Native: "Παπαδοπούλου"}}
		}},
		{name: "valid-pkcs1", set: "rsa", signOpts: &xmlsec.SignOptions{Algorithm: xmlsec.SigRSASHA256, AllowRSAPKCS1v15: true}},

		// Signature wrapping (specs/security.md S1–S9, layouts after Somorovsky
		// et al.): the genuine signed Response is edited by the attacker.
		// In eIDAS the assertion is encrypted and covered by the Response
		// signature, so the assertion-level layouts (S3–S8) are built both
		// around the signed Response and, where they rely on an assertion
		// signature alone, in an unsigned Response around a signed assertion.
		{name: "xsw1-original-inside-signature", set: "rsa", after: func(r, _ *etree.Element) *etree.Element {
			evil := evilCopy(r)
			sig := findChild(r, "Signature")
			r.RemoveChild(sig)
			sig.AddChild(r)
			evil.InsertChildAt(findChild(evil, "Issuer").Index()+1, sig)
			return evil
		}},
		{name: "xsw2-evil-sibling", set: "rsa", after: func(r, _ *etree.Element) *etree.Element {
			evil := evilCopy(r)
			r.InsertChildAt(findChild(r, "Signature").Index(), evil)
			return r
		}},
		{name: "xsw3-evil-assertion-first", set: "rsa", after: func(r, as *etree.Element) *etree.Element {
			r.InsertChildAt(find(r, "EncryptedAssertion").Index(), evilAssertion(as))
			return r
		}},
		{name: "xsw3-unsigned-response-evil-assertion-first", set: "rsa", signAssertion: true, unsigned: true, response: func(resp, as *etree.Element) error {
			resp.RemoveChild(find(resp, "EncryptedAssertion"))
			resp.AddChild(evilAssertion(as))
			resp.AddChild(as.Copy())
			return nil
		}},
		{name: "xsw4-assertion-inside-evil", set: "rsa", after: func(r, as *etree.Element) *etree.Element {
			ea := find(r, "EncryptedAssertion")
			r.RemoveChild(ea)
			evil := evilAssertion(as)
			evil.AddChild(ea)
			r.AddChild(evil)
			return r
		}},
		{name: "xsw4-unsigned-response-signed-inside-evil", set: "rsa", signAssertion: true, unsigned: true, response: func(resp, as *etree.Element) error {
			resp.RemoveChild(find(resp, "EncryptedAssertion"))
			evil := evilAssertion(as)
			evil.AddChild(as.Copy())
			resp.AddChild(evil)
			return nil
		}},
		{name: "xsw5-evil-content-keeps-signature", set: "rsa", after: func(r, _ *etree.Element) *etree.Element {
			orig := r.Copy()
			orig.RemoveChild(findChild(orig, "Signature"))
			setAttr(r, "ID", "_evil")
			ext := etree.NewElement("saml2p:Extensions")
			ext.AddChild(orig)
			r.InsertChildAt(findChild(r, "Signature").Index()+1, ext)
			return r
		}},
		{name: "xsw5-unsigned-response-signed-assertion-edited", set: "rsa", signAssertion: true, unsigned: true, response: func(resp, as *etree.Element) error {
			resp.RemoveChild(find(resp, "EncryptedAssertion"))
			orig := as.Copy()
			orig.RemoveChild(findChild(orig, "Signature"))
			edited := as.Copy()
			setAttr(edited, "ID", "_evil")
			find(edited, "NameID").SetText("AT/DE/evil")
			resp.AddChild(edited)
			resp.AddChild(orig)
			return nil
		}},
		{name: "xsw5-duplicate-id-in-extensions", set: "rsa", after: func(r, _ *etree.Element) *etree.Element {
			evil := evilCopy(r)
			setAttr(evil, "ID", attrOf(r, "ID"))
			ext := etree.NewElement("saml2p:Extensions")
			ext.AddChild(evil)
			r.InsertChildAt(findChild(r, "Signature").Index()+1, ext)
			return r
		}},
		{name: "xsw6-original-inside-signature-evil-content", set: "rsa", after: func(r, _ *etree.Element) *etree.Element {
			orig := r.Copy()
			orig.RemoveChild(findChild(orig, "Signature"))
			findChild(r, "Signature").AddChild(orig)
			setAttr(r, "Destination", "https://broker.test.example/saml/connector/acs?evil")
			return r
		}},
		{name: "xsw7-evil-assertion-in-extensions", set: "rsa", after: func(r, as *etree.Element) *etree.Element {
			ext := etree.NewElement("saml2p:Extensions")
			ext.AddChild(evilAssertion(as))
			r.InsertChildAt(findChild(r, "Issuer").Index()+1, ext)
			return r
		}},
		// Signed as it stands: the plain assertion hides in Extensions; only
		// the recursive search for assertions finds it.
		{name: "xsw7-signed-plain-assertion-in-extensions", set: "rsa", response: func(resp, as *etree.Element) error {
			ext := etree.NewElement("saml2p:Extensions")
			ext.AddChild(evilAssertion(as))
			resp.InsertChildAt(findChild(resp, "Issuer").Index()+1, ext)
			return nil
		}},
		{name: "xsw7-signed-encrypted-assertion-in-extensions", set: "rsa", response: func(resp, _ *etree.Element) error {
			ext := etree.NewElement("saml2p:Extensions")
			ext.AddChild(find(resp, "EncryptedAssertion").Copy())
			resp.InsertChildAt(findChild(resp, "Issuer").Index()+1, ext)
			return nil
		}},
		{name: "xsw8-original-in-signature-object", set: "rsa", after: func(r, _ *etree.Element) *etree.Element {
			orig := r.Copy()
			orig.RemoveChild(findChild(orig, "Signature"))
			findChild(r, "Signature").CreateElement("ds:Object").AddChild(orig)
			setAttr(r, "Destination", "https://broker.test.example/saml/connector/acs?evil")
			return r
		}},
		{name: "xsw9a-second-signature", set: "rsa", after: func(r, _ *etree.Element) *etree.Element {
			sig := findChild(r, "Signature").Copy()
			r.InsertChildAt(findChild(r, "Signature").Index()+1, sig)
			return r
		}},
		{name: "xsw9a-evil-root-wraps-signed", set: "rsa", after: func(r, _ *etree.Element) *etree.Element {
			evil := evilCopy(r)
			evil.AddChild(r)
			return evil
		}},
		{name: "xsw9b-error-response-with-assertion", set: "rsa", params: status(samlxml.StatusResponder, samlxml.StatusRequestDenied, "202007 - Citizen cancelled the authentication")},
		{name: "xsw9d-signature-moved-to-evil-root", set: "rsa", after: func(r, _ *etree.Element) *etree.Element {
			evil := evilCopy(r)
			sig := findChild(r, "Signature")
			r.RemoveChild(sig)
			evil.InsertChildAt(1, sig)
			evil.AddChild(r)
			return evil
		}},
		{name: "xsw9d-unsigned-response-signed-assertion", set: "rsa", signAssertion: true, unsigned: true},

		// Comment injection (S10): a comment inside signed text.
		{name: "comment-in-issuer", set: "rsa", after: func(r, _ *etree.Element) *etree.Element {
			iss := findChild(r, "Issuer")
			t := iss.Text()
			iss.SetText(t[:14])
			iss.CreateComment("")
			iss.CreateText(t[14:])
			return r
		}},
		{name: "comment-in-person-identifier", set: "rsa", signAssertion: true, signedAssertion: func(as *etree.Element) {
			v := find(find(as, "AttributeStatement"), "AttributeValue")
			v.SetText("AT/DE/12345")
			v.CreateComment("")
			v.CreateText("67890abc")
		}},

		// Signature exclusion and bad signatures (S11–S13, S21).
		{name: "unsigned", set: "rsa", unsigned: true},
		{name: "tampered-after-signing", set: "rsa", after: func(r, _ *etree.Element) *etree.Element {
			findChild(r, "Issuer").CreateAttr("NameQualifier", "evil")
			return r
		}},
		{name: "untrusted-keyinfo", set: "rsa", signer: "attacker-rsa3072"},
		{name: "attacker-no-keyinfo", set: "rsa", signer: "attacker-rsa3072", after: func(r, _ *etree.Element) *etree.Element {
			sig := findChild(r, "Signature")
			sig.RemoveChild(findChild(sig, "KeyInfo"))
			return r
		}},
		{name: "assertion-bad-signature", set: "rsa", signAssertion: true, signedAssertion: func(as *etree.Element) {
			find(as, "NameID").SetText("AT/DE/someone-else")
		}},
		{name: "sha1-digest", set: "rsa", after: func(r, _ *etree.Element) *etree.Element {
			setAttr(find(findChild(r, "Signature"), "DigestMethod"), "Algorithm", "http://www.w3.org/2000/09/xmldsig#sha1")
			return r
		}},
		{name: "rsa-sha1", set: "rsa", after: func(r, _ *etree.Element) *etree.Element {
			setAttr(find(findChild(r, "Signature"), "SignatureMethod"), "Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
			return r
		}},
		{name: "ecdsa-sha1", set: "ec", after: func(r, _ *etree.Element) *etree.Element {
			setAttr(find(findChild(r, "Signature"), "SignatureMethod"), "Algorithm", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1")
			return r
		}},

		// Multiple or plain assertions (S3, S14).
		{name: "two-encrypted-assertions", set: "rsa", response: func(resp, _ *etree.Element) error {
			resp.AddChild(find(resp, "EncryptedAssertion").Copy())
			return nil
		}},
		{name: "plain-assertion", set: "rsa", response: func(resp, as *etree.Element) error {
			resp.RemoveChild(find(resp, "EncryptedAssertion"))
			resp.AddChild(as)
			return nil
		}},
		{name: "plain-and-encrypted", set: "rsa", response: func(resp, as *etree.Element) error {
			resp.AddChild(as)
			return nil
		}},

		// Time (S16).
		{name: "expired", set: "rsa", params: func(p *eidassim.ResponseParams) {
			p.IssueInstant = issueInstant.Add(-2 * time.Minute)
			p.AuthnInstant = p.IssueInstant
			p.Lifetime = 2 * time.Minute
		}},
		{name: "conditions-expired", set: "rsa", assertion: func(as *etree.Element) {
			setAttr(findChild(as, "Conditions"), "NotOnOrAfter", "2030-06-01T11:59:00.000Z")
		}},
		{name: "not-yet-valid", set: "rsa", params: func(p *eidassim.ResponseParams) {
			p.IssueInstant = issueInstant.Add(10 * time.Minute)
			p.AuthnInstant = p.IssueInstant
		}},
		{name: "conditions-not-yet-valid", set: "rsa", assertion: func(as *etree.Element) {
			setAttr(findChild(as, "Conditions"), "NotBefore", "2030-06-01T12:05:00.000Z")
		}},
		{name: "authn-before-request", set: "rsa", params: func(p *eidassim.ResponseParams) {
			p.AuthnInstant = time.Date(2030, 6, 1, 11, 50, 0, 0, time.UTC)
		}},
		{name: "no-timezone", set: "rsa", assertion: func(as *etree.Element) {
			setAttr(findChild(as, "Conditions"), "NotOnOrAfter", "2030-06-01T12:05:00")
		}},

		// Audience, destination, recipient, InResponseTo (S17, S18).
		{name: "wrong-audience", set: "rsa", params: func(p *eidassim.ResponseParams) { p.Audience = "https://other-sp.test.example/metadata" }},
		{name: "wrong-destination", set: "rsa", params: func(p *eidassim.ResponseParams) {
			p.Destination = "https://other-sp.test.example/acs"
			p.Recipient = acsURL
		}},
		{name: "missing-destination", set: "rsa", response: func(resp, _ *etree.Element) error {
			resp.RemoveAttr("Destination")
			return nil
		}},
		{name: "wrong-recipient", set: "rsa", params: func(p *eidassim.ResponseParams) { p.Recipient = "https://other-sp.test.example/acs" }},
		{name: "wrong-in-response-to", set: "rsa", params: func(p *eidassim.ResponseParams) { p.InResponseTo = "_req-other" }},
		{name: "assertion-wrong-in-response-to", set: "rsa", assertion: func(as *etree.Element) {
			setAttr(find(as, "SubjectConfirmationData"), "InResponseTo", "_req-other")
		}},
		{name: "unsolicited", set: "rsa", response: func(resp, _ *etree.Element) error {
			resp.RemoveAttr("InResponseTo")
			return nil
		}},
		{name: "unknown-issuer", set: "rsa", params: func(p *eidassim.ResponseParams) { p.Issuer = "https://proxy.fr.test.example/metadata" }},
		{name: "assertion-issuer-mismatch", set: "rsa", assertion: func(as *etree.Element) {
			findChild(as, "Issuer").SetText("https://proxy.fr.test.example/metadata")
		}},
		{name: "unknown-condition", set: "rsa", assertion: func(as *etree.Element) {
			findChild(as, "Conditions").CreateElement("saml2:Condition")
		}},
		{name: "encrypted-attribute", set: "rsa", assertion: func(as *etree.Element) {
			find(as, "AttributeStatement").CreateElement("saml2:EncryptedAttribute")
		}},

		// Encryption downgrades (S27, S28).
		{name: "cbc", set: "rsa", encrypted: func(ed *etree.Element) {
			setAttr(findChild(ed, "EncryptionMethod"), "Algorithm", "http://www.w3.org/2001/04/xmlenc#aes256-cbc")
		}},
		{name: "cbc", set: "ec", encrypted: func(ed *etree.Element) {
			setAttr(findChild(ed, "EncryptionMethod"), "Algorithm", "http://www.w3.org/2001/04/xmlenc#aes128-cbc")
		}},
		{name: "rsa-1_5", set: "rsa", encrypted: func(ed *etree.Element) {
			setAttr(find(find(ed, "EncryptedKey"), "EncryptionMethod"), "Algorithm", "http://www.w3.org/2001/04/xmlenc#rsa-1_5")
		}},
		{name: "oaep-mgf1p", set: "rsa", encryptOpts: &xmlsec.EncryptOptions{KeyTransport: xmlsec.KeyTransportRSAOAEPMGF1P, AllowLegacyKeyTransport: true}},
		{name: "wrong-recipient-key", set: "rsa", recipient: "attacker-rsa3072"},

		// Content (S32, S33, status, attributes).
		{name: "loa-downgrade", set: "rsa", params: func(p *eidassim.ResponseParams) { p.LoA = loaLo }},
		{name: "loa-downgrade", set: "ec", params: func(p *eidassim.ResponseParams) { p.LoA = loaLo }},
		{name: "loa-not-notified", set: "rsa", params: func(p *eidassim.ResponseParams) { p.LoA = "http://eidas.europa.eu/NotNotified/LoA/high" }},
		{name: "loa-unknown", set: "rsa", params: func(p *eidassim.ResponseParams) { p.LoA = "urn:example:loa:3" }},
		{name: "pid-country-mismatch", set: "rsa", params: setPID("DE/DE/1234567890abc")},
		{name: "pid-destination-mismatch", set: "rsa", params: setPID("AT/FR/1234567890abc")},
		{name: "pid-whitespace", set: "rsa", params: setPID("AT/DE/1234 567890abc")},
		{name: "missing-date-of-birth", set: "rsa", params: dropAttr("DateOfBirth")},
		{name: "missing-person-identifier", set: "rsa", params: dropAttr("PersonIdentifier")},
		{name: "representative", set: "rsa", params: func(p *eidassim.ResponseParams) {
			p.Attributes = append(p.Attributes, eidassim.Attribute{Name: nat + "representative/PersonIdentifier", Values: []eidassim.Value{{Latin: "AT/DE/rep-42"}}})
		}},
		{name: "status-cancel", set: "rsa", noAssertion: true, params: status(samlxml.StatusResponder, samlxml.StatusRequestDenied, "202007 - Citizen cancelled the authentication")},
		{name: "status-authn-failed", set: "ec", noAssertion: true, params: status(samlxml.StatusResponder, samlxml.StatusAuthnFailed, "Authentication failed")},
		{name: "status-error", set: "rsa", noAssertion: true, params: status(samlxml.StatusRequester, samlxml.StatusInvalidNameIDPolicy, "Invalid NameIDPolicy")},

		// Legal person with its representative (person_type legal).
		{name: "valid-legal-representative", set: "rsa", params: func(p *eidassim.ResponseParams) {
			p.Attributes = legalPerson("AT/DE/FN123456a")
			p.NameID = "AT/DE/7781X22AB"
		}},
		{name: "legal-identifier-country-mismatch", set: "rsa", params: func(p *eidassim.ResponseParams) {
			p.Attributes = legalPerson("FR/DE/FN123456a")
		}},

		// Parser attacks (S23, S24, S26).
		{name: "doctype", set: "rsa", raw: func(b []byte) []byte {
			return bytes.Replace(b, []byte("?>\n"), []byte("?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"), 1)
		}},
		{name: "entity-expansion", set: "rsa", raw: func(b []byte) []byte {
			var dtd bytes.Buffer
			dtd.WriteString("<!DOCTYPE r [\n<!ENTITY l0 \"lol\">\n")
			for i := 1; i <= 9; i++ {
				fmt.Fprintf(&dtd, "<!ENTITY l%d \"%s\">\n", i, bytes.Repeat([]byte(fmt.Sprintf("&l%d;", i-1)), 10))
			}
			dtd.WriteString("]>\n")
			b = bytes.Replace(b, []byte("?>\n"), append([]byte("?>\n"), dtd.Bytes()...), 1)
			return bytes.Replace(b, []byte("</saml2:Issuer>"), []byte("&l9;</saml2:Issuer>"), 1)
		}},
		{name: "deep-nesting", set: "rsa", raw: func(b []byte) []byte {
			deep := strings.Repeat("<x>", 200) + strings.Repeat("</x>", 200)
			return bytes.Replace(b, []byte("</saml2p:Response>"), []byte("<saml2p:Extensions>"+deep+"</saml2p:Extensions></saml2p:Response>"), 1)
		}},
		// Larger than the 256 KiB message limit (well below the form limit,
		// so the XML limit is what refuses it).
		{name: "oversized", set: "rsa", raw: func(b []byte) []byte {
			return append(b, bytes.Repeat([]byte("\n"), 270<<10)...)
		}},
	}
}

func attrOf(e *etree.Element, key string) string { return e.SelectAttrValue(key, "") }
