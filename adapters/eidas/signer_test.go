package eidas

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// TestMetadataSignerMustBeSigningCertificate: proxy-service metadata may
// be signed by a certificate that chains to the country's anchor only if
// that certificate is an end-entity signing certificate (key usage
// digitalSignature, no CA flag). An intermediate CA, or an encryption or
// TLS certificate issued under the anchor, cannot sign metadata.
func TestMetadataSignerMustBeSigningCertificate(t *testing.T) {
	mk := func(tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return key, c
	}
	caKey, ca := mk(&x509.Certificate{Subject: pkix.Name{CommonName: "AT metadata CA"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	for _, tc := range []struct {
		name string
		tmpl x509.Certificate
		ok   bool
	}{
		{"signing certificate", x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature}, true},
		{"encryption certificate", x509.Certificate{KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement}, false},
		{"no key usage", x509.Certificate{}, false},
		{"intermediate CA", x509.Certificate{IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.tmpl.Subject = pkix.Name{CommonName: tc.name}
			key, cert := mk(&tc.tmpl, ca, caKey)
			ed := etree.NewElement("md:EntityDescriptor")
			ed.CreateAttr("xmlns:md", samlxml.NSMetadata)
			ed.CreateAttr("ID", "_m")
			ed.CreateAttr("entityID", "https://proxy.at.example/metadata")
			if err := xmlsec.Sign(ed, key, []*x509.Certificate{cert}, xmlsec.SigECDSASHA256); err != nil {
				t.Fatal(err)
			}
			b, err := serialize(ed)
			if err != nil {
				t.Fatal(err)
			}
			_, err = VerifyMetadata(b, VerifyMetadataOptions{Anchors: []*x509.Certificate{ca}})
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok && !errors.Is(err, ErrMetadata) {
				t.Fatalf("err = %v, want ErrMetadata", err)
			}
		})
	}
}
