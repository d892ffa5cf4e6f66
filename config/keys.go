package config

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// Signing algorithms a signing key or a client's id_token_alg may name.
const (
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
	AlgPS256 = "PS256"
)

// minRSABits is the smallest RSA modulus accepted for ID-token signing.
const minRSABits = 2048

// Load reads and parses the key file (k.File is absolute after Parse). The
// key must fit k.Alg: ES256 needs a P-256 EC key, RS256 and PS256 an RSA key
// of at least 2048 bits. An empty Alg means ES256.
func (k SigningKey) Load() (crypto.Signer, error) {
	b, err := readLimited(k.File, maxSecretFile)
	if err != nil {
		return nil, fmt.Errorf("read signing key %s: %w", k.ID, err)
	}
	s, err := parseSigner(b, k.Alg)
	if err != nil {
		return nil, fmt.Errorf("load signing key %s: %w", k.ID, err)
	}
	return s, nil
}

// parseSigner decodes the first private key in PEM data (PKCS#8, SEC1 or
// PKCS#1) and checks it against alg. Errors never quote the data.
func parseSigner(data []byte, alg string) (crypto.Signer, error) {
	if alg == "" {
		alg = AlgES256
	}
	signer, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, err
	}
	var key any = signer
	switch alg {
	case AlgES256:
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok || k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%s needs an EC P-256 key, got %s", alg, keyKind(key))
		}
		return k, nil
	case AlgRS256, AlgPS256:
		k, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s needs an RSA key, got %s", alg, keyKind(key))
		}
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key has %d bits, want at least %d", k.N.BitLen(), minRSABits)
		}
		return k, nil
	}
	return nil, fmt.Errorf("unsupported alg %q (want ES256, RS256 or PS256)", alg)
}

func keyKind(k any) string {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		return "an EC " + k.Curve.Params().Name + " key"
	case *rsa.PrivateKey:
		return "an RSA key"
	}
	return fmt.Sprintf("a %T", k)
}

// parseJWKS reads a client's key set for private_key_jwt. It must hold only
// public keys (a private key here means the client leaked it to us), and at
// least one of them must be usable to verify signatures.
func parseJWKS(data []byte) (*jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	usable := 0
	for i := range set.Keys {
		k := &set.Keys[i]
		if !k.IsPublic() {
			return nil, fmt.Errorf("key %d (kid %q) is not a public key; give only public keys", i, k.KeyID)
		}
		if k.Valid() && (k.Use == "" || k.Use == "sig") {
			usable++
		}
	}
	if usable == 0 {
		return nil, errors.New("no public signature key in the JWKS")
	}
	return &set, nil
}

// DataKeyLen is the length of the identity-data encryption key (AES-256).
const DataKeyLen = 32

// DefaultDataKeyID is the ID under which keys.data_key encrypts, so that a
// later move to keys.data_keys can keep opening its records by listing the
// same key with this ID.
const DefaultDataKeyID = "default"

// DataKeyMaterial is one decoded data key.
type DataKeyMaterial struct {
	ID     string
	Key    []byte // DataKeyLen bytes
	Active bool
}

// DataKeyList returns the configured data keys, decoded: keys.data_keys,
// or keys.data_key as the single active key DefaultDataKeyID; nil when
// neither is set (a memory store generates its key).
func (k Keys) DataKeyList() ([]DataKeyMaterial, error) {
	if k.DataKey.IsSet() {
		b, err := k.DataKeyBytes()
		if err != nil {
			return nil, err
		}
		return []DataKeyMaterial{{ID: DefaultDataKeyID, Key: b, Active: true}}, nil
	}
	var out []DataKeyMaterial
	for _, dk := range k.DataKeys {
		b, err := decodeDataKey(dk.Key.Value())
		if err != nil {
			return nil, fmt.Errorf("data key %s: %w", dk.ID, err)
		}
		out = append(out, DataKeyMaterial{ID: dk.ID, Key: b, Active: dk.Active || len(k.DataKeys) == 1})
	}
	return out, nil
}

// DataKeyBytes decodes DataKey (standard base64, padded or not) into the
// 32-byte AES-256 key.
func (k Keys) DataKeyBytes() ([]byte, error) {
	return decodeDataKey(k.DataKey.Value())
}

func decodeDataKey(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		// The cause would quote the offending byte of the secret.
		return nil, errors.New("decode data key: not base64")
	}
	if len(b) != DataKeyLen {
		return nil, fmt.Errorf("decode data key: %d bytes, want %d", len(b), DataKeyLen)
	}
	return b, nil
}
