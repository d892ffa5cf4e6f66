package bundid

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/config"
)

const maxPEM = 1 << 20

func loadKey(path string) (crypto.Signer, error) {
	b, err := sp.ReadFileLimited(path, maxPEM)
	if err != nil {
		return nil, err
	}
	return config.ParsePrivateKeyPEM(b)
}

func loadCerts(path string) ([]*x509.Certificate, error) {
	b, err := sp.ReadFileLimited(path, maxPEM)
	if err != nil {
		return nil, err
	}
	certs, err := config.ParseCertificatesPEM(b)
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
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return xmlsec.SigRSAPSSSHA256, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return xmlsec.SigECDSASHA256, nil
		case elliptic.P384():
			return xmlsec.SigECDSASHA384, nil
		case elliptic.P521():
			return xmlsec.SigECDSASHA512, nil
		}
	}
	return "", fmt.Errorf("no signature method for %T", pub)
}
