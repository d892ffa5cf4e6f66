package eidas

import (
	"crypto"
	"crypto/x509"
	"fmt"

	"github.com/ozg-broker/eidas-broker/broker/saml/sp"

	"github.com/ozg-broker/eidas-broker/config"
)

// ParsePrivateKeyPEM reads an unencrypted private key: PKCS#8 ("PRIVATE
// KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY").
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	return config.ParsePrivateKeyPEM(data)
}

// ParseCertificatesPEM reads every CERTIFICATE block.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	return config.ParseCertificatesPEM(data)
}

// SignatureMethodFor picks the XML signature method for a key: RSASSA-PSS
// with SHA-256 for RSA, ECDSA with the curve's matching hash for EC.
func SignatureMethodFor(pub crypto.PublicKey) (string, error) {
	m, err := sp.SignatureMethodFor(pub)
	if err != nil {
		return "", fmt.Errorf("no eIDAS signature method for %T", pub)
	}
	return m, nil
}
