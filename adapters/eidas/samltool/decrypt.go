package samltool

import (
	"crypto"
	"fmt"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// DecryptOptions configure Decrypt.
type DecryptOptions struct {
	// AllowLegacyKeyTransport also opens rsa-oaep-mgf1p and SHA-1 OAEP,
	// which nodes before eIDAS protocol 1.4 (EU eIDAS-Node 2.x) produce.
	// The adapter refuses them; the tool can show what such a node sent.
	AllowLegacyKeyTransport bool
}

// Decrypt opens every EncryptedAssertion of a Response (any form Decode
// reads) with key (an RSA key for RSA-OAEP, an EC key for ECDH-ES) and
// returns the assertions' XML, one document each. The signature is not
// checked (use Verify); CBC and RSA PKCS#1 v1.5 are refused as in the
// adapter.
func Decrypt(msg []byte, key crypto.PrivateKey, opts DecryptOptions) ([][]byte, error) {
	m, err := Decode(msg)
	if err != nil {
		return nil, err
	}
	root, err := m.parse()
	if err != nil {
		return nil, err
	}
	encs := samlxml.Descendants(root, samlxml.NSAssertion, "EncryptedAssertion")
	if len(encs) == 0 {
		return nil, ErrNoEncryptedAssertion
	}
	var out [][]byte
	for i, ea := range encs {
		as, err := xmlsec.Decrypt(ea, key, xmlsec.DecryptOptions{Limits: parseLimits, AllowLegacyKeyTransport: opts.AllowLegacyKeyTransport})
		if err != nil {
			return nil, fmt.Errorf("samltool: EncryptedAssertion %d of %d: %w", i+1, len(encs), err)
		}
		b, err := xmlsec.Serialize(as)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
