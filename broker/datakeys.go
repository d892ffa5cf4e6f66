package broker

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

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
// which name a sealed record) under a key derived from the active data key,
// with that key's ID in the token, so every replica opens what another
// issued and a rotation does not invalidate tokens in use.
//
// The format is tokenPrefix, the key ID (base64url), ".", and nonce and
// AES-256-GCM ciphertext (base64url), the first two parts authenticated as
// additional data. Tokens issued by earlier versions are compact JWE
// (A256GCMKW with A256GCM, kid = key ID, or without kid: the library's own
// format from before key IDs) and still open. The compact format costs a
// fraction of building and parsing a JWE: one access token per login.
type tokenCrypto struct {
	active string
	keys   map[string][]byte
	// codeKeys authenticate the family named in a code (codefamily.go).
	codeKeys map[string][]byte
	aeads    map[string]cipher.AEAD
	order    []string
}

// tokenPrefix marks (and versions) the compact token format.
const tokenPrefix = "at1."

var _ op.Crypto = (*tokenCrypto)(nil)

func newTokenCrypto(keys []DataKey) *tokenCrypto {
	c := &tokenCrypto{keys: map[string][]byte{}, aeads: map[string]cipher.AEAD{}, codeKeys: map[string][]byte{}}
	for _, k := range keys {
		c.keys[k.ID] = tokenKey(k.Key)
		c.codeKeys[k.ID] = codeMACKey(k.Key)
		block, err := aes.NewCipher(c.keys[k.ID])
		if err != nil {
			panic("token key: " + err.Error()) // 32 bytes from SHA-256: cannot fail
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			panic("token key: " + err.Error())
		}
		c.aeads[k.ID] = aead
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
	aead := c.aeads[c.active]
	head := tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(c.active)) + "."
	body := make([]byte, aead.NonceSize(), aead.NonceSize()+len(s)+aead.Overhead())
	if _, err := rand.Read(body); err != nil {
		return "", fmt.Errorf("token nonce: %w", err)
	}
	body = aead.Seal(body, body, []byte(s), []byte(head))
	return head + base64.RawURLEncoding.EncodeToString(body), nil
}

func (c *tokenCrypto) Decrypt(s string) (string, error) {
	if rest, ok := strings.CutPrefix(s, tokenPrefix); ok {
		return c.decryptCompact(s[:len(s)-len(rest)], rest)
	}
	return c.decryptJWE(s)
}

func (c *tokenCrypto) decryptCompact(prefix, rest string) (string, error) {
	kid64, body64, ok := strings.Cut(rest, ".")
	if !ok {
		return "", errors.New("parse token: no key ID")
	}
	kid, err := base64.RawURLEncoding.DecodeString(kid64)
	if err != nil {
		return "", fmt.Errorf("parse token: %w", err)
	}
	aead, ok := c.aeads[string(kid)]
	if !ok {
		return "", errors.New("token sealed under a data key that is not configured")
	}
	body, err := base64.RawURLEncoding.DecodeString(body64)
	if err != nil || len(body) < aead.NonceSize()+aead.Overhead() {
		return "", errors.New("parse token: malformed")
	}
	n := aead.NonceSize()
	p, err := aead.Open(nil, body[:n], body[n:], []byte(prefix+kid64+"."))
	if err != nil {
		return "", fmt.Errorf("decrypt token: %w", err)
	}
	return string(p), nil
}

// decryptJWE opens tokens of earlier versions.
func (c *tokenCrypto) decryptJWE(s string) (string, error) {
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
