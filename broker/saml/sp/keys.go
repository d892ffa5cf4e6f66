package sp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/config"
)

// maxPEMFile bounds key and certificate files; real ones are a few KiB.
const maxPEMFile = 1 << 20

// LoadKey reads an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1):
// an SP's signing or decryption key.
func LoadKey(path string) (crypto.Signer, error) {
	b, err := ReadFileLimited(path, maxPEMFile)
	if err != nil {
		return nil, err
	}
	return config.ParsePrivateKeyPEM(b)
}

// LoadCerts reads every CERTIFICATE block of a PEM file.
func LoadCerts(path string) ([]*x509.Certificate, error) {
	b, err := ReadFileLimited(path, maxPEMFile)
	if err != nil {
		return nil, err
	}
	return config.ParseCertificatesPEM(b)
}

// CheckKeyPair makes sure the certificate holds the key's public half and
// the key satisfies the key policy (RSA ≥ 3072, P-256/384/521).
func CheckKeyPair(key crypto.Signer, cert *x509.Certificate) error {
	if err := xmlsec.CheckPublicKey(key.Public()); err != nil {
		return err
	}
	eq, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(cert.PublicKey) {
		return errors.New("the certificate does not belong to the private key")
	}
	return nil
}

// SignatureMethodFor picks the XML signature method for a key: RSASSA-PSS
// with SHA-256 for RSA, ECDSA with the curve's matching hash for EC.
func SignatureMethodFor(pub crypto.PublicKey) (string, error) {
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
