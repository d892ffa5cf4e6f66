package nezo

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"

	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// signatureMethodFor picks our signature method: RSASSA-PSS with SHA-256
// for RSA (what public NEZO integrations configure: "RSA_SHA256_MGF1"),
// ECDSA with the curve's hash for EC.
func signatureMethodFor(pub crypto.PublicKey) (string, error) {
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
