package sp

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

type testCert struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
}

func newTestCert(t *testing.T, name string, parent *testCert, tmpl x509.Certificate) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.Subject = pkix.Name{CommonName: name}
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)
	issuer, signer := &tmpl, key
	if parent != nil {
		issuer, signer = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCert{key: key, cert: c}
}

func signedMetadata(t *testing.T, by *testCert) []byte {
	t.Helper()
	ed := etree.NewElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", samlxml.NSMetadata)
	ed.CreateAttr("ID", "_md1")
	ed.CreateAttr("entityID", "https://idp.test.example/metadata")
	if err := xmlsec.Sign(ed, by.key, []*x509.Certificate{by.cert}, xmlsec.SigECDSASHA256); err != nil {
		t.Fatal(err)
	}
	b, err := Serialize(ed)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVerifyMetadataSignerKeyUsage: a certificate that chains to the
// anchor may sign metadata only as an end-entity signing certificate.
func TestVerifyMetadataSignerKeyUsage(t *testing.T) {
	anchor := newTestCert(t, "anchor", nil, x509.Certificate{IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature})
	cases := []struct {
		name string
		tmpl x509.Certificate
		ok   bool
	}{
		{"end-entity signer", x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true}, true},
		{"no key usage", x509.Certificate{}, false},
		{"key encipherment only", x509.Certificate{KeyUsage: x509.KeyUsageKeyEncipherment}, false},
		{"intermediate CA with digitalSignature", x509.Certificate{IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			signer := newTestCert(t, tc.name, anchor, tc.tmpl)
			if got := IsMetadataSigner(signer.cert); got != tc.ok {
				t.Fatalf("IsMetadataSigner = %v", got)
			}
			_, err := VerifyMetadata(signedMetadata(t, signer), VerifyMetadataOptions{Anchors: []*x509.Certificate{anchor.cert}})
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && (!errors.Is(err, ErrMetadata) || !errors.Is(err, xmlsec.ErrUntrustedCertificate)) {
				t.Fatalf("err = %v, want ErrMetadata + untrusted certificate", err)
			}
		})
	}
	// The anchor itself signs whatever its extensions say.
	if _, err := VerifyMetadata(signedMetadata(t, anchor), VerifyMetadataOptions{Anchors: []*x509.Certificate{anchor.cert}}); err != nil {
		t.Fatalf("anchor-signed metadata refused: %v", err)
	}
}
