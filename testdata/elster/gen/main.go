// Command gen regenerates the ELSTER test PKI in testdata/elster: a root and
// an issuing CA of a simulated "ElsterSim" PKI, a delegated OCSP responder,
// a foreign CA, and PKCS#12 certificate files for persons and an
// organisation, including the broken cases the adapter must refuse (revoked,
// expired, foreign CA, wrong key usage).
//
// Run it from the repository root:
//
//	go run ./testdata/elster/gen -out testdata/elster
//
// Every run makes new keys and serial numbers; the tests read everything
// they need (PINs, serials, expected outcomes) from manifest.json, so they
// keep working after a regeneration. The PKI is fake and clearly named as a
// simulator: nothing here is, or imitates the keys of, the real ELSTER CA.
package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SubjectKeyId per RFC 5280 §4.2.1.2 method 1, not a security use
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// simHost is a name that can never resolve (RFC 2606 .invalid), so the URLs
// baked into the certificates cause no traffic by accident. The demo and the
// tests point the adapter at the simulator through its override settings.
const simHost = "http://elster-sim.invalid/sim/elster"

var (
	oidGivenName              = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidSurname                = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}
	oidOCSPNoCheck            = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
)

// Manifest mirrors elstersim's manifest.json format.
type Manifest struct {
	Comment string     `json:"comment"`
	CAs     []CAEntry  `json:"cas"`
	Files   []PFXEntry `json:"files"`
}

// CAEntry is one certificate authority of the simulated PKI.
type CAEntry struct {
	Name string `json:"name"`
	Cert string `json:"cert"`
	Key  string `json:"key,omitempty"`
	// Issuer names the CAEntry that signed this one ("" for a root).
	Issuer string `json:"issuer,omitempty"`
	// Trusted marks the trust anchors of an adapter configured for the
	// simulator (the root; intermediates arrive with each login).
	Trusted bool `json:"trusted"`
	// Responder marks the delegated OCSP responder of its issuer.
	Responder bool `json:"responder,omitempty"`
}

// PFXEntry is one downloadable certificate file.
type PFXEntry struct {
	File          string `json:"file"`
	PIN           string `json:"pin"`
	Kind          string `json:"kind"` // person | organisation
	Issuer        string `json:"issuer"`
	Serial        string `json:"serial"` // hex
	Expect        string `json:"expect"` // ok | revoked | expired | untrusted | key_usage
	RevokedAt     string `json:"revoked_at,omitempty"`
	Format        string `json:"format"` // modern | legacy
	DescriptionDE string `json:"description_de"`
	DescriptionEN string `json:"description_en"`
}

type ca struct {
	name string
	cert *x509.Certificate
	key  *rsa.PrivateKey
}

type leafSpec struct {
	file, pin, kind, expect, format string
	descDE, descEN                  string
	subject                         pkix.Name
	notBefore, notAfter             time.Time
	keyUsage                        x509.KeyUsage
	revokedAt                       time.Time
	foreign                         bool
}

func main() {
	out := flag.String("out", "testdata/elster", "directory to write the fixtures to")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	caStart := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	caEnd := time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC)
	// Real ELSTER certificate files are valid for three years; the fixtures
	// live long so that a fresh clone's tests do not start failing one day.
	leafStart := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	leafEnd := time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC)

	root, err := newCA("root", pkix.Name{
		Country: []string{"DE"}, Organization: []string{"ElsterSim Test PKI (not ELSTER)"},
		CommonName: "ElsterSim Root CA 1",
	}, 3072, nil, caStart, caEnd, -1)
	if err != nil {
		return err
	}
	issuing, err := newCA("issuing", pkix.Name{
		Country: []string{"DE"}, Organization: []string{"ElsterSim Test PKI (not ELSTER)"},
		CommonName: "ElsterSim Issuing CA 1",
	}, 3072, root, caStart, caEnd, 0)
	if err != nil {
		return err
	}
	responder, err := newResponder(issuing, caStart, caEnd)
	if err != nil {
		return err
	}
	foreign, err := newCA("foreign", pkix.Name{
		Country: []string{"DE"}, Organization: []string{"Foreign Test PKI"},
		CommonName: "Foreign Test Root CA",
	}, 2048, nil, caStart, caEnd, -1)
	if err != nil {
		return err
	}

	m := Manifest{
		Comment: "Simulated ELSTER test PKI for demo and tests only. Regenerate with: go run ./testdata/elster/gen -out testdata/elster",
	}
	for _, c := range []struct {
		ca        *ca
		issuer    string
		trusted   bool
		responder bool
		keepKey   bool
	}{
		{root, "", true, false, true},
		{issuing, "root", false, false, true},
		{responder, "issuing", false, true, true},
		{foreign, "", false, false, false},
	} {
		e := CAEntry{Name: c.ca.name, Cert: c.ca.name + ".pem", Issuer: c.issuer, Trusted: c.trusted, Responder: c.responder}
		if err := writePEM(filepath.Join(out, e.Cert), "CERTIFICATE", c.ca.cert.Raw); err != nil {
			return err
		}
		if c.keepKey {
			e.Key = c.ca.name + ".key"
			der, err := x509.MarshalPKCS8PrivateKey(c.ca.key)
			if err != nil {
				return fmt.Errorf("marshal %s key: %w", c.ca.name, err)
			}
			if err := writePEM(filepath.Join(out, e.Key), "PRIVATE KEY", der); err != nil {
				return err
			}
		}
		m.CAs = append(m.CAs, e)
	}

	person := pkix.Name{
		Country: []string{"DE"}, CommonName: "Erika Mustermann", SerialNumber: "ELS-P-100001",
		ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: oidGivenName, Value: "Erika"}, {Type: oidSurname, Value: "Mustermann"},
		},
	}
	specs := []leafSpec{
		{
			file: "person.pfx", pin: "Erika-2025", kind: "person", expect: "ok", format: "modern",
			descDE: "Person, gültig", descEN: "person, valid",
			subject: person, notBefore: leafStart, notAfter: leafEnd,
			keyUsage: x509.KeyUsageDigitalSignature,
		},
		{
			file: "organisation.pfx", pin: "Firma-2025", kind: "organisation", expect: "ok", format: "modern",
			descDE: "Organisation (Musterfirma GmbH), gültig", descEN: "organisation (Musterfirma GmbH), valid",
			subject: pkix.Name{
				Country: []string{"DE"}, Organization: []string{"Musterfirma GmbH"},
				CommonName: "Max Mustermann", SerialNumber: "ELS-O-200001",
				ExtraNames: []pkix.AttributeTypeAndValue{
					{Type: oidGivenName, Value: "Max"}, {Type: oidSurname, Value: "Mustermann"},
					{Type: oidOrganizationIdentifier, Value: "TAXDE-2181508150"},
				},
			},
			notBefore: leafStart, notAfter: leafEnd, keyUsage: x509.KeyUsageDigitalSignature,
		},
		{
			file: "person-legacy.pfx", pin: "Legacy-2025", kind: "person", expect: "ok", format: "legacy",
			descDE: "Person, gültig, älteres Dateiformat (3DES)", descEN: "person, valid, older file format (3DES)",
			subject: pkix.Name{
				Country: []string{"DE"}, CommonName: "Lena Altformat", SerialNumber: "ELS-P-100002",
				ExtraNames: []pkix.AttributeTypeAndValue{
					{Type: oidGivenName, Value: "Lena"}, {Type: oidSurname, Value: "Altformat"},
				},
			},
			notBefore: leafStart, notAfter: leafEnd, keyUsage: x509.KeyUsageDigitalSignature,
		},
		{
			file: "revoked.pfx", pin: "Gesperrt-2025", kind: "person", expect: "revoked", format: "modern",
			descDE: "Person, gesperrt (widerrufen)", descEN: "person, revoked",
			subject: pkix.Name{
				Country: []string{"DE"}, CommonName: "Gerda Gesperrt", SerialNumber: "ELS-P-100003",
				ExtraNames: []pkix.AttributeTypeAndValue{
					{Type: oidGivenName, Value: "Gerda"}, {Type: oidSurname, Value: "Gesperrt"},
				},
			},
			notBefore: leafStart, notAfter: leafEnd, keyUsage: x509.KeyUsageDigitalSignature,
			revokedAt: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
		},
		{
			file: "expired.pfx", pin: "Abgelaufen-2025", kind: "person", expect: "expired", format: "modern",
			descDE: "Person, abgelaufen", descEN: "person, expired",
			subject: pkix.Name{
				Country: []string{"DE"}, CommonName: "Anton Abgelaufen", SerialNumber: "ELS-P-100004",
				ExtraNames: []pkix.AttributeTypeAndValue{
					{Type: oidGivenName, Value: "Anton"}, {Type: oidSurname, Value: "Abgelaufen"},
				},
			},
			notBefore: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC),
			notAfter:  time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
			keyUsage:  x509.KeyUsageDigitalSignature,
		},
		{
			file: "foreign.pfx", pin: "Fremd-2025", kind: "person", expect: "untrusted", format: "modern",
			descDE: "Person, von einer fremden CA (kein ELSTER-Zertifikat)", descEN: "person, issued by a foreign CA (not an ELSTER certificate)",
			subject: pkix.Name{
				Country: []string{"DE"}, CommonName: "Frieda Fremd", SerialNumber: "ELS-P-100005",
				ExtraNames: []pkix.AttributeTypeAndValue{
					{Type: oidGivenName, Value: "Frieda"}, {Type: oidSurname, Value: "Fremd"},
				},
			},
			notBefore: leafStart, notAfter: leafEnd, keyUsage: x509.KeyUsageDigitalSignature, foreign: true,
		},
		{
			file: "wrong-usage.pfx", pin: "Verwendung-2025", kind: "person", expect: "key_usage", format: "modern",
			descDE: "Person, Schlüssel nur zur Verschlüsselung (falsche Schlüsselverwendung)", descEN: "person, key for encryption only (wrong key usage)",
			subject: pkix.Name{
				Country: []string{"DE"}, CommonName: "Walter Verwendung", SerialNumber: "ELS-P-100006",
				ExtraNames: []pkix.AttributeTypeAndValue{
					{Type: oidGivenName, Value: "Walter"}, {Type: oidSurname, Value: "Verwendung"},
				},
			},
			notBefore: leafStart, notAfter: leafEnd, keyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment,
		},
	}
	for _, s := range specs {
		e, err := writeLeaf(out, s, issuing, foreign)
		if err != nil {
			return fmt.Errorf("%s: %w", s.file, err)
		}
		m.Files = append(m.Files, e)
	}
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "manifest.json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

func writeLeaf(out string, s leafSpec, issuing, foreign *ca) (PFXEntry, error) {
	parent, issuerName := issuing, "issuing"
	if s.foreign {
		parent, issuerName = foreign, "foreign"
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return PFXEntry{}, fmt.Errorf("generate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return PFXEntry{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               s.subject,
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		KeyUsage:              s.keyUsage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		SubjectKeyId:          skid(&key.PublicKey),
	}
	if !s.foreign {
		tmpl.OCSPServer = []string{simHost + "/ocsp"}
		tmpl.CRLDistributionPoints = []string{simHost + "/crl/issuing.crl"}
		tmpl.IssuingCertificateURL = []string{simHost + "/ca/issuing.pem"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent.cert, &key.PublicKey, parent.key)
	if err != nil {
		return PFXEntry{}, fmt.Errorf("create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return PFXEntry{}, fmt.Errorf("parse certificate: %w", err)
	}
	enc := pkcs12.Modern2023
	if s.format == "legacy" {
		enc = pkcs12.LegacyDES
	}
	pfx, err := enc.Encode(key, cert, []*x509.Certificate{parent.cert}, s.pin)
	if err != nil {
		return PFXEntry{}, fmt.Errorf("encode pkcs12: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, s.file), pfx, 0o644); err != nil {
		return PFXEntry{}, fmt.Errorf("write pkcs12: %w", err)
	}
	e := PFXEntry{
		File: s.file, PIN: s.pin, Kind: s.kind, Issuer: issuerName, Serial: cert.SerialNumber.Text(16),
		Expect: s.expect, Format: s.format, DescriptionDE: s.descDE, DescriptionEN: s.descEN,
	}
	if !s.revokedAt.IsZero() {
		e.RevokedAt = s.revokedAt.Format(time.RFC3339)
	}
	return e, nil
}

// newCA makes a CA certificate; parent nil means self-signed. maxPathLen -1
// leaves the path length unconstrained.
func newCA(name string, subject pkix.Name, bits int, parent *ca, from, to time.Time, maxPathLen int) (*ca, error) {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", name, err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             from,
		NotAfter:              to,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          skid(&key.PublicKey),
	}
	if maxPathLen == 0 {
		tmpl.MaxPathLenZero = true
	} else if maxPathLen > 0 {
		tmpl.MaxPathLen = maxPathLen
	}
	signer, signerCert := crypto.Signer(key), tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
		tmpl.CRLDistributionPoints = []string{simHost + "/crl/" + parent.name + ".crl"}
		tmpl.OCSPServer = []string{simHost + "/ocsp"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("create %s certificate: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse %s certificate: %w", name, err)
	}
	return &ca{name: name, cert: cert, key: key}, nil
}

// newResponder makes the issuing CA's delegated OCSP responder (RFC 6960
// §4.2.2.2): id-kp-OCSPSigning and id-pkix-ocsp-nocheck.
func newResponder(issuer *ca, from, to time.Time) (*ca, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate responder key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	nullValue, err := asn1.Marshal(asn1.NullRawValue)
	if err != nil {
		return nil, fmt.Errorf("marshal null: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Country: []string{"DE"}, Organization: []string{"ElsterSim Test PKI (not ELSTER)"},
			CommonName: "ElsterSim OCSP Responder 1",
		},
		NotBefore:             from,
		NotAfter:              to,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		BasicConstraintsValid: true,
		SubjectKeyId:          skid(&key.PublicKey),
		ExtraExtensions:       []pkix.Extension{{Id: oidOCSPNoCheck, Value: nullValue}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer.cert, &key.PublicKey, issuer.key)
	if err != nil {
		return nil, fmt.Errorf("create responder certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse responder certificate: %w", err)
	}
	return &ca{name: "ocsp-responder", cert: cert, key: key}, nil
}

func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("random serial: %w", err)
	}
	if n.Sign() == 0 {
		return nil, errors.New("random serial: zero")
	}
	return n, nil
}

func skid(pub *rsa.PublicKey) []byte {
	der := x509.MarshalPKCS1PublicKey(pub)
	sum := sha1.Sum(der) //nolint:gosec // identifier, see import comment
	return sum[:]
}

func writePEM(path, typ string, der []byte) error {
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}
