// Command gen writes the test fixtures of the eIDAS-Service
// (broker/eidasservice): keys, connector metadata and AuthnRequests, every
// algorithm the service accepts and every attack it must refuse. Run it
// from the repository root:
//
//	go run ./testdata/eidasservice/gen
//
// Nothing depends on the exact key material; regenerate at will. Times are
// fixed (certificates 2025-01-01..2035-12-31, requests issued
// 2030-06-01T12:00:00Z) so tests use a fixed clock.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/eidasservice/democonnector"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// Fixed names and times shared with the tests (see README.md).
const (
	serviceBase = "https://broker.test.example"
	atBase      = "https://connector-at.test.example"
	seBase      = "https://connector-se.test.example"
	caBase      = "https://connector-fr.test.example"
)

var (
	notBefore = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = time.Date(2035, 12, 31, 23, 59, 59, 0, time.UTC)
	issued    = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	mdUntil   = time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
)

func main() {
	out := flag.String("out", "testdata/eidasservice", "output directory")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	for _, d := range []string{"keys", "metadata", "requests"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return err
		}
	}
	keys := filepath.Join(out, "keys")
	gen := func(kind, name, file string, enc bool) (democonnector.KeyPair, error) {
		kp, err := democonnector.GenerateKey(kind, name, enc, notBefore, notAfter)
		if err != nil {
			return kp, err
		}
		return kp, kp.WritePEM(keys, file)
	}
	type spec struct {
		kind, name, file string
		enc              bool
	}
	pairs := map[string]democonnector.KeyPair{}
	for _, s := range []spec{
		{democonnector.KindRSA, "eIDAS-Service DE signing (RSA)", "service-sign-rsa", false},
		{democonnector.KindEC, "eIDAS-Service DE signing (EC)", "service-sign-ec", false},
		{democonnector.KindRSA, "eIDAS-Service DE encryption", "service-enc-rsa", true},
		{democonnector.KindRSA, "Connector AT signing", "connector-at-sign", false},
		{democonnector.KindRSA, "Connector AT encryption", "connector-at-enc", true},
		{democonnector.KindEC, "Connector SE signing", "connector-se-sign", false},
		{democonnector.KindEC, "Connector SE encryption", "connector-se-enc", true},
		{democonnector.KindEC, "Connector FR encryption", "connector-fr-enc", true},
		{democonnector.KindRSA, "Attacker", "attacker-sign", false},
	} {
		kp, err := gen(s.kind, s.name, s.file, s.enc)
		if err != nil {
			return fmt.Errorf("%s: %w", s.file, err)
		}
		pairs[s.file] = kp
	}
	// A connector whose metadata signer is issued by a CA (the bilateral
	// trust anchor) rather than being the anchor itself.
	ca, signer, err := caChain()
	if err != nil {
		return err
	}
	if err := ca.WritePEM(keys, "connector-fr-ca"); err != nil {
		return err
	}
	if err := signer.WritePEM(keys, "connector-fr-sign"); err != nil {
		return err
	}

	at := &democonnector.Keys{Signing: pairs["connector-at-sign"], Encryption: pairs["connector-at-enc"]}
	se := &democonnector.Keys{Signing: pairs["connector-se-sign"], Encryption: pairs["connector-se-enc"]}
	fr := &democonnector.Keys{Signing: signer, Encryption: pairs["connector-fr-enc"]}
	attacker := pairs["attacker-sign"]
	md := func(file string, o democonnector.MetadataOptions) error {
		b, err := democonnector.BuildMetadata(o)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		return os.WriteFile(filepath.Join(out, "metadata", file), b, 0o644)
	}
	atMD := democonnector.MetadataOptions{EntityID: atBase + "/metadata", ACS: atBase + "/acs", Country: "AT", SPType: "public", Keys: at, ValidUntil: mdUntil}
	for file, o := range map[string]democonnector.MetadataOptions{
		"connector-at.xml": atMD,
		"connector-se.xml": {EntityID: seBase + "/metadata", ACS: seBase + "/acs", Country: "SE", Keys: se, ValidUntil: mdUntil,
			SigningMethods: []string{xmlsec.SigECDSASHA256, xmlsec.SigECDSASHA384, xmlsec.SigECDSASHA512}},
		"connector-fr-ca.xml":       {EntityID: caBase + "/metadata", ACS: caBase + "/acs", Country: "FR", SPType: "private", Keys: fr, ValidUntil: mdUntil},
		"connector-at-expired.xml":  withUntil(atMD, time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)),
		"connector-at-unsigned.xml": withUnsigned(atMD),
		"connector-at-attacker.xml": withSigner(atMD, attacker),
	} {
		if err := md(file, o); err != nil {
			return err
		}
	}

	sso := serviceBase + "/saml/service/sso"
	req := func(file string, o democonnector.RequestOptions, kp *democonnector.KeyPair, alg string) error {
		if o.Issuer == "" {
			o.Issuer = atBase + "/metadata"
		}
		if o.Destination == "" {
			o.Destination = sso
		}
		o.IssueInstant = issued
		if o.ID == "" {
			o.ID = "_" + strings.TrimSuffix(file, ".xml")
		}
		el := democonnector.BuildRequest(o)
		if kp != nil {
			opts := xmlsec.SignOptions{Algorithm: alg, AllowRSAPKCS1v15: strings.Contains(alg, "#rsa-sha")}
			if err := xmlsec.SignWithOptions(el, kp.Key, []*x509.Certificate{kp.Cert}, opts); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
		}
		b, err := xmlsec.Serialize(el)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(out, "requests", file), b, 0o644)
	}
	atSign, seSign := pairs["connector-at-sign"], pairs["connector-se-sign"]
	for _, r := range []struct {
		file string
		o    democonnector.RequestOptions
		kp   *democonnector.KeyPair
		alg  string
	}{
		{"request-at-pss-sha256.xml", democonnector.RequestOptions{}, &atSign, xmlsec.SigRSAPSSSHA256},
		{"request-at-pss-sha512.xml", democonnector.RequestOptions{NameIDFormat: "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"}, &atSign, xmlsec.SigRSAPSSSHA512},
		{"request-se-ecdsa-sha256.xml", democonnector.RequestOptions{Issuer: seBase + "/metadata", SPType: "public"}, &seSign, xmlsec.SigECDSASHA256},
		{"request-se-ecdsa-sha384.xml", democonnector.RequestOptions{Issuer: seBase + "/metadata", SPType: "public", NameIDFormat: "-"}, &seSign, xmlsec.SigECDSASHA384},
		{"request-at-rsa-sha256.xml", democonnector.RequestOptions{}, &atSign, xmlsec.SigRSASHA256},
		{"request-at-unsigned.xml", democonnector.RequestOptions{}, nil, ""},
		{"request-at-attacker.xml", democonnector.RequestOptions{}, &attacker, xmlsec.SigRSAPSSSHA256},
		{"request-at-wrong-destination.xml", democonnector.RequestOptions{Destination: "https://other-service.test.example/sso"}, &atSign, xmlsec.SigRSAPSSSHA256},
		{"request-at-ispassive.xml", democonnector.RequestOptions{IsPassive: "true"}, &atSign, xmlsec.SigRSAPSSSHA256},
		{"request-at-unsupported-required.xml", democonnector.RequestOptions{Attributes: append(democonnector.MinimumDataSet(),
			democonnector.RequestedAttribute{Name: "http://eidas.europa.eu/attributes/legalperson/LegalName", Required: true})}, &atSign, xmlsec.SigRSAPSSSHA256},
		{"request-at-foreign-acs.xml", democonnector.RequestOptions{ACSURL: "https://evil.test.example/acs"}, &atSign, xmlsec.SigRSAPSSSHA256},
		{"request-at-exact-substantial.xml", democonnector.RequestOptions{Level: []string{"http://eidas.europa.eu/LoA/substantial"}, Comparison: "exact"}, &atSign, xmlsec.SigRSAPSSSHA256},
		{"request-fr-private.xml", democonnector.RequestOptions{Issuer: caBase + "/metadata", RequesterID: "https://rp.test.example/fr"}, &signer, xmlsec.SigECDSASHA256},
	} {
		if err := req(r.file, r.o, r.kp, r.alg); err != nil {
			return err
		}
	}
	// XXE: a DOCTYPE with an external entity before a signed request.
	b, err := os.ReadFile(filepath.Join(out, "requests", "request-at-pss-sha256.xml"))
	if err != nil {
		return err
	}
	xxe := append([]byte("<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"), b...)
	return os.WriteFile(filepath.Join(out, "requests", "request-at-doctype.xml"), xxe, 0o644)
}

func withUntil(o democonnector.MetadataOptions, t time.Time) democonnector.MetadataOptions {
	o.ValidUntil = t
	return o
}

func withUnsigned(o democonnector.MetadataOptions) democonnector.MetadataOptions {
	o.Unsigned = true
	return o
}

func withSigner(o democonnector.MetadataOptions, kp democonnector.KeyPair) democonnector.MetadataOptions {
	o.SignWith = &kp
	return o
}

// caChain makes a CA (EC P-256) and a metadata signer (EC P-256) it issued.
func caChain() (democonnector.KeyPair, democonnector.KeyPair, error) {
	mk := func(name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool) (democonnector.KeyPair, *ecdsa.PrivateKey, error) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return democonnector.KeyPair{}, nil, err
		}
		serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
		tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name, Organization: []string{"eIDAS test"}},
			NotBefore: notBefore, NotAfter: notAfter, BasicConstraintsValid: true, IsCA: isCA,
			KeyUsage: x509.KeyUsageDigitalSignature}
		if isCA {
			tmpl.KeyUsage |= x509.KeyUsageCertSign
		}
		if parent == nil {
			parent, parentKey = tmpl, k
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, parentKey)
		if err != nil {
			return democonnector.KeyPair{}, nil, err
		}
		c, err := x509.ParseCertificate(der)
		return democonnector.KeyPair{Key: k, Cert: c}, k, err
	}
	ca, caKey, err := mk("Connector FR trust anchor (CA)", nil, nil, true)
	if err != nil {
		return ca, ca, err
	}
	signer, _, err := mk("Connector FR metadata and request signer", ca.Cert, caKey, false)
	return ca, signer, err
}
