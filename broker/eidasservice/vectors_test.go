package eidasservice

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

func vectorCert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// highAdapter is the adapter's static description only (MaxLevel high).
type highAdapter struct{}

func (highAdapter) Info() adapters.Info {
	return adapters.Info{Type: "eid", MaxLevel: assurance.High}
}
func (highAdapter) Begin(context.Context, adapters.Request) (adapters.Handoff, []byte, error) {
	return adapters.Handoff{}, nil, errors.New("not used")
}
func (highAdapter) Finish(context.Context, adapters.Request, []byte, *http.Request) (adapters.Identity, error) {
	return adapters.Identity{}, errors.New("not used")
}

// TestGovernikusRequests runs the Governikus eIDAS middleware's
// AuthnRequests (vectors/governikus/requests, see the vectors README).
//
// Every one of them is refused by the full pipeline, as the README
// expects, and the reason must be the specific one:
//   - the PSS-signed requests are signed with RSA-2048 keys, which eIDAS
//     CR v1.4 (and our policy) refuses: xmlsec.ErrWeakKey. The key check
//     comes before the digest check, so the requests whose digest does not
//     match (07022017, WrongNameIDPolicyType, posAuthReq) are refused for
//     the key as well: still a refusal, with the first reason found;
//   - the rsa-sha256 (PKCS#1 v1.5) requests: xmlsec.ErrAlgorithmNotAllowed;
//   - the two 2020 requests signed by the embedded bos-test certificate:
//     that certificate expired in 2016, before they were issued, which is
//     found before its 2048-bit key: xmlsec.ErrCertificateValidity;
//   - a signature by a certificate that is not the connector's:
//     xmlsec.ErrUntrustedCertificate; the schema-invalid negAuthReq: a
//     signature structure error.
//
// Beyond the signature, the content of each request is run through the
// eIDAS rules (as if the signature had been acceptable) to show the
// service reads these independent messages as their producers meant them;
// the expected outcomes follow from the eIDAS v1.4 rules:
// ForceAuthn missing is refused, a required Gender or legal-person
// attribute cannot be served by the German eID, SPType must come from
// somewhere, an unknown NameID format is refused, and attributes requested
// in the generic SAML req-attr namespace instead of eidas:RequestedAttributes
// (WithoutNameIDPolicy) are not an eIDAS request for attributes.
func TestGovernikusRequests(t *testing.T) {
	v := testfiles.Vectors(t)
	oldCert := vectorCert(t, filepath.Join(v, "governikus/keys/EidasSignerTest_x509-old.cert.pem"))
	tests := []struct {
		file      string
		certFrom  string // "old" or "embedded"
		verifyErr error
		spType    string // the connector's configured SP type
		content   error  // outcome of the eIDAS content rules; nil = accepted
		nameID    string
	}{
		{file: "EidasSamlRequest_290216.xml", certFrom: "old", verifyErr: xmlsec.ErrWeakKey, content: ErrForceAuthn},
		{file: "EidasSamlRequest_06042017.xml", certFrom: "old", verifyErr: xmlsec.ErrWeakKey, content: ErrAttributes},
		{file: "EidasSamlRequest_07022017.xml", certFrom: "old", verifyErr: xmlsec.ErrWeakKey, content: ErrAttributes},
		{file: "EidasSamlRequest_13062017.xml", certFrom: "old", verifyErr: xmlsec.ErrWeakKey, content: ErrAttributes},
		{file: "EidasSamlRequestWithoutProviderName.xml", certFrom: "old", verifyErr: xmlsec.ErrAlgorithmNotAllowed, content: ErrAttributes},
		{file: "EidasSamlRequestWithOnlyProviderName.xml", certFrom: "old", verifyErr: xmlsec.ErrAlgorithmNotAllowed, content: ErrSPType},
		{file: "EidasSamlRequestWithOnlyProviderName.xml", certFrom: "old", verifyErr: xmlsec.ErrAlgorithmNotAllowed, spType: SPTypePublic, nameID: samlxml.NameIDTransient},
		{file: "EidasSamlRequestWithOnlyRequesterId.xml", certFrom: "old", verifyErr: xmlsec.ErrAlgorithmNotAllowed, spType: SPTypePublic, nameID: samlxml.NameIDTransient},
		{file: "EidasSamlRequestWithProviderNameAndRequesterId.xml", certFrom: "old", verifyErr: xmlsec.ErrAlgorithmNotAllowed, spType: SPTypePrivate, nameID: samlxml.NameIDTransient},
		{file: "EidasSamlRequestWithWrongNameIDPolicyType.xml", certFrom: "embedded", verifyErr: xmlsec.ErrCertificateValidity, content: ErrNameIDPolicy},
		{file: "EidasSamlRequestWithoutNameIDPolicy.xml", certFrom: "embedded", verifyErr: xmlsec.ErrCertificateValidity, content: ErrAttributes},
		{file: "EidasSamlRequestWithoutNameIDPolicy.xml", certFrom: "old", verifyErr: xmlsec.ErrUntrustedCertificate, content: ErrAttributes},
		{file: "posAuthReq.xml", certFrom: "embedded", verifyErr: xmlsec.ErrWeakKey, content: ErrForceAuthn},
		{file: "negAuthReq.xml", certFrom: "embedded", verifyErr: xmlsec.ErrSignatureStructure},
	}
	svc := &Service{cfg: settings{Config: Config{Adapter: highAdapter{}}}}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.certFrom+"/"+tt.spType, func(t *testing.T) {
			xml, err := os.ReadFile(filepath.Join(v, "governikus/requests", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			root, issuer, err := peekIssuer(xml, DefaultMaxMessageBytes)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if issuer == "" {
				t.Fatal("no issuer")
			}
			cert := oldCert
			if tt.certFrom == "embedded" {
				xc := root.FindElement("./Signature/KeyInfo/X509Data/X509Certificate")
				if xc == nil {
					t.Fatal("no embedded certificate")
				}
				if cert, err = parseCertBase64(xc.Text()); err != nil {
					t.Fatal(err)
				}
			}
			req, err := readRequest(root) // unverified: only for the content check below
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			md := &spMetadata{SigningCerts: []*x509.Certificate{cert}}
			_, err = verifyRequest(&inbound{Binding: samlxml.BindingPOST}, root, md, req.IssueInstant, DefaultMaxMessageBytes)
			if !errors.Is(err, ErrSignature) || !errors.Is(err, tt.verifyErr) {
				t.Errorf("verify: %v, want %v", err, tt.verifyErr)
			}
			if tt.file == "negAuthReq.xml" {
				return
			}
			p := &plan{req: req, conn: &connector{cfg: Connector{SPType: tt.spType}}, md: md}
			err = svc.checkContent(p)
			switch {
			case tt.content == nil && err != nil:
				t.Errorf("content refused: %v", err)
			case tt.content != nil && !errors.Is(err, tt.content):
				t.Errorf("content: %v, want %v", err, tt.content)
			case tt.content != nil:
				if _, ok := asSAMLError(err); !ok {
					t.Errorf("content refusal is not answered with a SAML error: %v", err)
				}
			case p.nameID != tt.nameID:
				t.Errorf("NameID format %q, want %q", p.nameID, tt.nameID)
			}
		})
	}
}

// TestGovernikusConnectorMetadata reads the Governikus demo connector's
// metadata (ECDSA P-521 signature, raw r‖s) and its negative variants.
func TestGovernikusConnectorMetadata(t *testing.T) {
	v := testfiles.Vectors(t)
	signer := vectorCert(t, filepath.Join(v, "governikus/keys/embedded/metadata-9444-signer.cert.pem"))
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC) // before its validUntil
	tests := []struct {
		file string
		want error
	}{
		{"metadata-9444.xml", nil},
		{"metadata-9445-invalid.xml", xmlsec.ErrDigestMismatch},
		{"metadata-9444-shortsign-rsa.xml", xmlsec.ErrNotSigned},
		{"metadata-9444-shortcrypt-rsa.xml", xmlsec.ErrNotSigned},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(v, "governikus/metadata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			md, err := verifyConnectorMetadata(b, []*x509.Certificate{signer}, at)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if md.SPType != SPTypePublic || len(md.ACS) == 0 || len(md.EncryptionKeys) == 0 {
					t.Errorf("metadata read as %+v", md)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// Expired: the same valid document after its validUntil.
	b, _ := os.ReadFile(filepath.Join(v, "governikus/metadata/metadata-9444.xml"))
	if _, err := verifyConnectorMetadata(b, []*x509.Certificate{signer}, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, ErrMetadataExpired) {
		t.Errorf("expired metadata: %v", err)
	}
	// The short-key variants are unsigned; read as content (as if signed)
	// they are still refused for their keys (CR v1.4 §3.4), as GOV does.
	for _, f := range []string{"metadata-9444-shortsign-rsa.xml", "metadata-9444-shortcrypt-rsa.xml", "metadata-9444-shortsign-ec.xml", "metadata-9444-shortcrypt-ec.xml", "metadata-9444-explicit-sign.xml"} {
		b, err := os.ReadFile(filepath.Join(v, "governikus/metadata", f))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := xmlsec.Parse(b, xmlsec.Limits{MaxBytes: maxMetadataBytes})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readSPMetadata(doc.Root(), at); !errors.Is(err, ErrMetadata) {
			t.Errorf("%s: keys accepted: %v", f, err)
		}
	}
}
