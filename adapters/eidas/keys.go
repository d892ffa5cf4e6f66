package eidas

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

// maxPEMFile bounds key and certificate files; real ones are a few KiB.
const maxPEMFile = 1 << 20

// readFileLimited reads a regular file of at most limit bytes.
func readFileLimited(path string, limit int64) ([]byte, error) {
	return sp.ReadFileLimited(path, limit)
}

// ParsePrivateKeyPEM reads an unencrypted private key: PKCS#8 ("PRIVATE
// KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY").
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	return config.ParsePrivateKeyPEM(data)
}

// ParseCertificatesPEM reads every CERTIFICATE block.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	return config.ParseCertificatesPEM(data)
}

func loadKey(path string) (crypto.Signer, error) {
	b, err := readFileLimited(path, maxPEMFile)
	if err != nil {
		return nil, err
	}
	return ParsePrivateKeyPEM(b)
}

func loadCerts(path string) ([]*x509.Certificate, error) {
	b, err := readFileLimited(path, maxPEMFile)
	if err != nil {
		return nil, err
	}
	return ParseCertificatesPEM(b)
}

// checkKeyPair makes sure the certificate holds the key's public half and
// the key satisfies the eIDAS key policy (RSA ≥ 3072, P-256/384/521).
func checkKeyPair(key crypto.Signer, cert *x509.Certificate) error {
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
	return "", fmt.Errorf("no eIDAS signature method for %T", pub)
}
