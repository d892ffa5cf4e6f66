package xmlsec

import (
	"crypto"
	"crypto/ecdsa"
	"fmt"
)

// SignBytes signs data that is not XML with an eIDAS signature method URI:
// the detached signature of the SAML HTTP-Redirect binding, computed over
// the query string. The same profile as for XML signatures applies
// (RSASSA-PSS or ECDSA; no SHA-1, no PKCS#1 v1.5); ECDSA values are raw
// r‖s, as the SigAlg URIs define them.
func SignBytes(signer crypto.Signer, alg string, data []byte) ([]byte, error) {
	a, err := lookupSignatureAlgorithm(alg, false)
	if err != nil {
		return nil, err
	}
	if err := checkKeyForAlg(signer.Public(), a.kind, defaultKeyPolicy()); err != nil {
		return nil, err
	}
	return signData(signer, a, data)
}

// VerifyBytes checks a SignBytes signature with the eIDAS key policy. For
// ECDSA it also accepts the ASN.1 DER form, because some implementations
// of the HTTP-Redirect binding send that.
func VerifyBytes(pub crypto.PublicKey, alg string, data, sig []byte) error {
	a, err := lookupSignatureAlgorithm(alg, false)
	if err != nil {
		return err
	}
	if err := checkKeyForAlg(pub, a.kind, defaultKeyPolicy()); err != nil {
		return err
	}
	h := a.hash.New()
	h.Write(data)
	hashed := h.Sum(nil)
	if verifyRaw(pub, a, hashed, sig) {
		return nil
	}
	if k, ok := pub.(*ecdsa.PublicKey); ok && ecdsa.VerifyASN1(k, hashed, sig) {
		return nil
	}
	return fmt.Errorf("detached signature: %w", ErrSignatureInvalid)
}
