package bundid

import (
	"crypto"
	"crypto/x509"
	"errors"

	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

func loadKey(path string) (crypto.Signer, error) { return sp.LoadKey(path) }

func loadCerts(path string) ([]*x509.Certificate, error) {
	certs, err := sp.LoadCerts(path)
	if err == nil && len(certs) == 0 {
		err = errors.New("no certificate in the file")
	}
	return certs, err
}

func loadCert(path string) (*x509.Certificate, error) {
	certs, err := loadCerts(path)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

func publicKeyMatches(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// signatureMethodFor: RSASSA-PSS SHA-256 for RSA (TR-03116-4, BundID from
// 2024), ECDSA with the curve's hash for EC.
func signatureMethodFor(pub crypto.PublicKey) (string, error) {
	if err := xmlsec.CheckPublicKey(pub); err != nil {
		return "", err
	}
	return sp.SignatureMethodFor(pub)
}
