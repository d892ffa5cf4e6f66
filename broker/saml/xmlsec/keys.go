package xmlsec

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// Minimum key sizes of the eIDAS profile (CR v1.4 §3.4).
const (
	MinRSABits = 3072
	MinECBits  = 256
)

// ECDHKey is the private half of an ECDH-ES key agreement. *ecdh.PrivateKey
// satisfies it; an HSM-backed key can implement it without exposing the
// private scalar. ECDH must return the raw shared secret (the x-coordinate,
// fixed length for the curve) as crypto/ecdh does.
type ECDHKey interface {
	Curve() ecdh.Curve
	ECDH(remote *ecdh.PublicKey) ([]byte, error)
}

var _ ECDHKey = (*ecdh.PrivateKey)(nil)

// keyPolicy holds the minimum sizes. Production code always uses
// defaultKeyPolicy; tests lower it to show that independent vectors signed
// with weaker keys are otherwise cryptographically valid.
type keyPolicy struct {
	minRSABits int
	minECBits  int
}

func defaultKeyPolicy() keyPolicy {
	return keyPolicy{minRSABits: MinRSABits, minECBits: MinECBits}
}

// CheckPublicKey applies the eIDAS key policy to a public key from a
// certificate or metadata: RSA of at least 3072 bits, or ECDSA/ECDH on the
// named NIST curves P-256, P-384 or P-521. (Brainpool curves, also allowed by
// eIDAS, are not supported by the Go standard library and are refused with
// ErrUnsupportedCurve; smaller curves with ErrWeakKey.)
func CheckPublicKey(pub crypto.PublicKey) error {
	return defaultKeyPolicy().check(pub)
}

func (p keyPolicy) check(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < p.minRSABits {
			return fmt.Errorf("check key: RSA %d bits, need %d: %w", bits, p.minRSABits, ErrWeakKey)
		}
		return nil
	case *ecdsa.PublicKey:
		return p.checkCurveBits(k.Curve.Params().BitSize, k.Curve.Params().Name)
	case *ecdh.PublicKey:
		return p.checkECDHCurve(k.Curve())
	}
	return fmt.Errorf("check key: %T: %w", pub, ErrKeyType)
}

func (p keyPolicy) checkCurveBits(bits int, name string) error {
	if bits < p.minECBits {
		return fmt.Errorf("check key: EC curve %s (%d bits), need %d: %w", name, bits, p.minECBits, ErrWeakKey)
	}
	switch name {
	case "P-256", "P-384", "P-521":
		return nil
	}
	return fmt.Errorf("check key: EC curve %s: %w", name, ErrUnsupportedCurve)
}

func (p keyPolicy) checkECDHCurve(c ecdh.Curve) error {
	switch c {
	case ecdh.P256():
		return p.checkCurveBits(256, "P-256")
	case ecdh.P384():
		return p.checkCurveBits(384, "P-384")
	case ecdh.P521():
		return p.checkCurveBits(521, "P-521")
	}
	return fmt.Errorf("check key: %v: %w", c, ErrUnsupportedCurve)
}

// Named-curve URIs (XML Signature 1.1 ECKeyValue/NamedCurve).
const (
	curveURIP256 = "urn:oid:1.2.840.10045.3.1.7"
	curveURIP384 = "urn:oid:1.3.132.0.34"
	curveURIP521 = "urn:oid:1.3.132.0.35"
)

func curveFromURI(uri string) (ecdh.Curve, error) {
	switch strings.TrimSpace(uri) {
	case curveURIP256:
		return ecdh.P256(), nil
	case curveURIP384:
		return ecdh.P384(), nil
	case curveURIP521:
		return ecdh.P521(), nil
	}
	return nil, fmt.Errorf("named curve %q: %w", uri, ErrUnsupportedCurve)
}

func curveURI(c ecdh.Curve) string {
	switch c {
	case ecdh.P256():
		return curveURIP256
	case ecdh.P384():
		return curveURIP384
	case ecdh.P521():
		return curveURIP521
	}
	return ""
}

func ecdsaCurveToECDH(c elliptic.Curve) (ecdh.Curve, error) {
	switch c {
	case elliptic.P256():
		return ecdh.P256(), nil
	case elliptic.P384():
		return ecdh.P384(), nil
	case elliptic.P521():
		return ecdh.P521(), nil
	}
	return nil, fmt.Errorf("curve %s: %w", c.Params().Name, ErrUnsupportedCurve)
}

// decodeBase64 is samlxml.DecodeBase64 with this package's error class.
func decodeBase64(s string) ([]byte, error) {
	b, err := samlxml.DecodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b, nil
}

// parseCertificateBase64 parses an X509Certificate element's content.
func parseCertificateBase64(s string) (*x509.Certificate, error) {
	der, err := decodeBase64(s)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate: %v", ErrMalformed, err)
	}
	return cert, nil
}
