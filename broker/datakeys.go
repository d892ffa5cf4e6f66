package broker

import (
	"crypto/sha256"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// DataKey is one AES-256 key for data at rest. Exactly one configured key
// is Active and seals; the others only open what was sealed under them
// before a rotation, so an operator can rotate without ending sessions.
type DataKey struct {
	// ID names the key in every record and token it seals (1 to
	// maxDataKeyID bytes). Never reuse an ID for other key material.
	ID     string
	Key    []byte // 32 bytes
	Active bool
}

// DefaultDataKeyID is the ID of a single key given as Config.DataKey (and
// of the config file's single keys.data_key), so that a later move to a
// list of keys can name it.
const DefaultDataKeyID = "default"

// maxDataKeyID bounds a key ID; it is stored in a one-byte length field.
const maxDataKeyID = 64

// dataKeys returns the configured keys: Config.DataKeys, or Config.DataKey
// as the single active key DefaultDataKeyID.
func (cfg *Config) dataKeys() ([]DataKey, error) {
	switch {
	case len(cfg.DataKeys) > 0 && len(cfg.DataKey) > 0:
		return nil, errors.New("data key: set DataKey or DataKeys, not both")
	case len(cfg.DataKeys) > 0:
		return cfg.DataKeys, nil
	case len(cfg.DataKey) > 0:
		return []DataKey{{ID: DefaultDataKeyID, Key: cfg.DataKey, Active: true}}, nil
	}
	return nil, errors.New("data key: required")
}

// tokenCrypto encrypts the OIDC library's opaque values (access tokens,
// which name a sealed record) as compact JWE, A256GCMKW with A256GCM, like
// the library's own default, but under a key derived from the active data
// key and with that key's ID as kid, so every replica opens what another
// issued and a rotation does not invalidate tokens in use. Decryption picks
// the key by kid; tokens without kid (issued before key IDs) are tried
// with every key.
type tokenCrypto struct {
	active string
	keys   map[string][]byte
	order  []string
}

var _ op.Crypto = (*tokenCrypto)(nil)

func newTokenCrypto(keys []DataKey) *tokenCrypto {
	c := &tokenCrypto{keys: map[string][]byte{}}
	for _, k := range keys {
		c.keys[k.ID] = tokenKey(k.Key)
		c.order = append(c.order, k.ID)
		if k.Active {
			c.active = k.ID
		}
	}
	return c
}

// tokenKey derives the token key from a data key (the derivation the
// broker used before key IDs, so older tokens still open).
func tokenKey(dataKey []byte) []byte {
	sum := sha256.Sum256(append([]byte("broker access tokens\x00"), dataKey...))
	return sum[:]
}

func (c *tokenCrypto) Encrypt(s string) (string, error) {
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.A256GCMKW, Key: c.keys[c.active], KeyID: c.active}, nil)
	if err != nil {
		return "", fmt.Errorf("token encrypter: %w", err)
	}
	obj, err := enc.Encrypt([]byte(s))
	if err != nil {
		return "", fmt.Errorf("encrypt token: %w", err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("serialize token: %w", err)
	}
	return out, nil
}

func (c *tokenCrypto) Decrypt(s string) (string, error) {
	jwe, err := jose.ParseEncryptedCompact(s, []jose.KeyAlgorithm{jose.A256GCMKW}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return "", fmt.Errorf("parse token: %w", err)
	}
	if kid := jwe.Header.KeyID; kid != "" {
		key, ok := c.keys[kid]
		if !ok {
			return "", errors.New("token sealed under a data key that is not configured")
		}
		p, err := jwe.Decrypt(key)
		if err != nil {
			return "", fmt.Errorf("decrypt token: %w", err)
		}
		return string(p), nil
	}
	for _, id := range c.order {
		if p, err := jwe.Decrypt(c.keys[id]); err == nil {
			return string(p), nil
		}
	}
	return "", errors.New("token does not open with any configured data key")
}
