package broker

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// SigningKey is one ID-token signing key. The same key material may appear
// under two IDs for two algorithms (an RSA key for RS256 and PS256), since a
// published JWK names one algorithm.
type SigningKey struct {
	ID     string
	Alg    jose.SignatureAlgorithm
	Signer crypto.Signer
	// Active marks the key that signs for its algorithm; others are only
	// published (rotation: publish first, activate later, retire last).
	Active bool
}

// GenerateSigningKeys makes a fresh ES256 key and an RSA-3072 key published
// for RS256 and PS256: what demo mode and key-less single-node setups use.
func GenerateSigningKeys() ([]SigningKey, error) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ES256 key: %w", err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key: %w", err)
	}
	suffix := randomID()[:8]
	return []SigningKey{
		{ID: "es256-" + suffix, Alg: jose.ES256, Signer: ec, Active: true},
		{ID: "rs256-" + suffix, Alg: jose.RS256, Signer: rk, Active: true},
		{ID: "ps256-" + suffix, Alg: jose.PS256, Signer: rk, Active: true},
	}, nil
}

// keySet is the broker's signing keys, validated once.
type keySet struct {
	keys   []SigningKey
	active map[jose.SignatureAlgorithm]*SigningKey
	// signers signs ID tokens with the active key of each algorithm.
	signers map[jose.SignatureAlgorithm]*jwsSigner
}

func newKeySet(keys []SigningKey) (*keySet, error) {
	ks := &keySet{keys: keys, active: map[jose.SignatureAlgorithm]*SigningKey{}}
	seen := map[string]bool{}
	for i := range keys {
		k := &keys[i]
		if seen[k.ID] {
			return nil, fmt.Errorf("signing key %q: duplicate id", k.ID)
		}
		seen[k.ID] = true
		if err := checkKeyAlg(k); err != nil {
			return nil, err
		}
		if k.Active {
			if ks.active[k.Alg] != nil {
				return nil, fmt.Errorf("signing key %q: a second active %s key", k.ID, k.Alg)
			}
			ks.active[k.Alg] = k
		}
	}
	for i := range keys {
		if ks.active[keys[i].Alg] == nil {
			ks.active[keys[i].Alg] = &keys[i]
		}
	}
	if ks.active[jose.ES256] == nil {
		return nil, errors.New("signing keys: an ES256 key is required (the default ID-token algorithm)")
	}
	ks.signers = make(map[jose.SignatureAlgorithm]*jwsSigner, len(ks.active))
	for alg, k := range ks.active {
		s, err := newJWSSigner(k)
		if err != nil {
			return nil, err
		}
		ks.signers[alg] = s
	}
	return ks, nil
}

func checkKeyAlg(k *SigningKey) error {
	switch pub := k.Signer.Public().(type) {
	case *ecdsa.PublicKey:
		if k.Alg != jose.ES256 || pub.Curve != elliptic.P256() {
			return fmt.Errorf("signing key %q: an EC key must be P-256 and used for ES256", k.ID)
		}
	case *rsa.PublicKey:
		if k.Alg != jose.RS256 && k.Alg != jose.PS256 {
			return fmt.Errorf("signing key %q: an RSA key is used for RS256 or PS256, not %s", k.ID, k.Alg)
		}
		if pub.N.BitLen() < 2048 {
			return fmt.Errorf("signing key %q: RSA key below 2048 bits", k.ID)
		}
	default:
		return fmt.Errorf("signing key %q: unsupported key type %T", k.ID, pub)
	}
	return nil
}

// signingKey is the library's view of the ES256 key (the default
// algorithm). The library signs nothing itself any more (ID tokens:
// tokenResponse); it still asks for a key when it sets up.
func (ks *keySet) signingKey() (op.SigningKey, error) {
	k := ks.active[jose.ES256]
	if k == nil {
		return nil, errors.New("no ES256 signing key")
	}
	return opSigningKey{k}, nil
}

func (ks *keySet) algorithms() []jose.SignatureAlgorithm {
	var algs []jose.SignatureAlgorithm
	for _, a := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.PS256} {
		if ks.active[a] != nil {
			algs = append(algs, a)
		}
	}
	return algs
}

func (ks *keySet) public() []op.Key {
	out := make([]op.Key, len(ks.keys))
	for i := range ks.keys {
		out[i] = opPublicKey{&ks.keys[i]}
	}
	return out
}

type opSigningKey struct{ k *SigningKey }

func (s opSigningKey) SignatureAlgorithm() jose.SignatureAlgorithm { return s.k.Alg }
func (s opSigningKey) Key() any                                    { return s.k.Signer }
func (s opSigningKey) ID() string                                  { return s.k.ID }

type opPublicKey struct{ k *SigningKey }

func (p opPublicKey) ID() string                         { return p.k.ID }
func (p opPublicKey) Algorithm() jose.SignatureAlgorithm { return p.k.Alg }
func (p opPublicKey) Use() string                        { return "sig" }
func (p opPublicKey) Key() any                           { return p.k.Signer.Public() }
