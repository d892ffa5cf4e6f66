package sdjwt

import (
	"crypto"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// KBType is the typ header of a Key Binding JWT.
const KBType = "kb+jwt"

// kbAlgs are the algorithms accepted for holder signatures.
var kbAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512}

// ErrKeyBinding is wrapped by every Key Binding failure.
var ErrKeyBinding = errors.New("key binding")

// KBClaims are the claims of a Key Binding JWT.
type KBClaims struct {
	IssuedAt int64  `json:"iat"`
	Audience string `json:"aud"`
	Nonce    string `json:"nonce"`
	SDHash   string `json:"sd_hash"`
}

// SignKB makes the Key Binding JWT for the presented SD-JWT (ending in ~).
func SignKB(key crypto.Signer, alg jose.SignatureAlgorithm, presented, aud, nonce string, iat time.Time) (string, error) {
	sdHash, err := Digest("sha-256", presented)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key},
		(&jose.SignerOptions{}).WithType(KBType))
	if err != nil {
		return "", fmt.Errorf("kb signer: %w", err)
	}
	payload, err := marshalJSON(KBClaims{IssuedAt: iat.Unix(), Audience: aud, Nonce: nonce, SDHash: sdHash})
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("kb sign: %w", err)
	}
	return jws.CompactSerialize()
}

// KBCheck says what a Key Binding JWT must match.
type KBCheck struct {
	HolderKey any    // public key from the credential's cnf claim
	HashAlg   string // the SD-JWT's _sd_alg
	Audience  string
	Nonce     string
	Now       time.Time
	MaxAge    time.Duration // how old iat may be
	Skew      time.Duration // how far in the future iat may be
}

// VerifyKB checks s's Key Binding JWT against c (RFC 9901 §7.3): typ,
// signature by the holder key, nonce and aud equal to the request's, iat
// in the window, and sd_hash over the presented SD-JWT.
func (s *SDJWT) VerifyKB(c KBCheck) error {
	if s.KBJWT == "" {
		return fmt.Errorf("%w: no key binding jwt", ErrKeyBinding)
	}
	if c.HolderKey == nil {
		return fmt.Errorf("%w: the credential names no holder key (cnf)", ErrKeyBinding)
	}
	jws, err := jose.ParseSigned(s.KBJWT, kbAlgs)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeyBinding, err)
	}
	if len(jws.Signatures) != 1 {
		return fmt.Errorf("%w: want one signature", ErrKeyBinding)
	}
	if typ, _ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string); typ != KBType {
		return fmt.Errorf("%w: typ %q, want %s", ErrKeyBinding, typ, KBType)
	}
	raw, err := jws.Verify(c.HolderKey)
	if err != nil {
		return fmt.Errorf("%w: signature does not verify with the holder key: %w", ErrKeyBinding, err)
	}
	m, err := DecodePayload(raw)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeyBinding, err)
	}
	aud, _ := m["aud"].(string)
	nonce, _ := m["nonce"].(string)
	sdHash, _ := m["sd_hash"].(string)
	iat, ok := numericDate(m["iat"])
	if !ok {
		return fmt.Errorf("%w: iat missing or not a number", ErrKeyBinding)
	}
	if aud == "" || aud != c.Audience {
		return fmt.Errorf("%w: aud is not this verifier", ErrKeyBinding)
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(nonce), []byte(c.Nonce)) != 1 {
		return fmt.Errorf("%w: nonce is not the request's", ErrKeyBinding)
	}
	if iat.After(c.Now.Add(c.Skew)) {
		return fmt.Errorf("%w: iat in the future", ErrKeyBinding)
	}
	if iat.Before(c.Now.Add(-c.MaxAge)) {
		return fmt.Errorf("%w: iat too old", ErrKeyBinding)
	}
	want, err := Digest(c.HashAlg, s.Presented())
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(sdHash), []byte(want)) != 1 {
		return fmt.Errorf("%w: sd_hash does not match the presented sd-jwt", ErrKeyBinding)
	}
	return nil
}
