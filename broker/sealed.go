package broker

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store"
)

// sealedStore stores JSON records encrypted with AES-256-GCM. The additional
// data binds each ciphertext to its kind and key, so a value copied to
// another key (a code swapped for a session) fails to open.
type sealedStore struct {
	raw  store.Store
	aead cipher.AEAD
}

func newSealedStore(raw store.Store, key []byte) (*sealedStore, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("data key: want 32 bytes, have %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	return &sealedStore{raw: raw, aead: aead}, nil
}

func (s *sealedStore) seal(kind store.Kind, key string, v any) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s record: %w", kind, err)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal %s record: %w", kind, err)
	}
	return s.aead.Seal(nonce, nonce, plain, []byte(string(kind)+"\x00"+key)), nil
}

func (s *sealedStore) open(kind store.Kind, key string, sealed []byte, v any) error {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return fmt.Errorf("open %s record: too short", kind)
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(string(kind)+"\x00"+key))
	if err != nil {
		return fmt.Errorf("open %s record: %w", kind, err)
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("decode %s record: %w", kind, err)
	}
	return nil
}

func (s *sealedStore) create(ctx context.Context, kind store.Kind, key string, v any, ttl time.Duration) error {
	b, err := s.seal(kind, key, v)
	if err != nil {
		return err
	}
	return s.raw.Create(ctx, kind, key, b, ttl)
}

func (s *sealedStore) get(ctx context.Context, kind store.Kind, key string, v any) (uint64, error) {
	e, err := s.raw.Get(ctx, kind, key)
	if err != nil {
		return 0, err
	}
	return e.Revision, s.open(kind, key, e.Value, v)
}

func (s *sealedStore) take(ctx context.Context, kind store.Kind, key string, v any) error {
	b, err := s.raw.Take(ctx, kind, key)
	if err != nil {
		return err
	}
	return s.open(kind, key, b, v)
}

// update runs fn on the current record and writes the result with
// compare-and-swap, retrying a few times on conflict. fn returns the TTL
// the record keeps; it must be pure, since it may run more than once.
func (s *sealedStore) update(ctx context.Context, kind store.Kind, key string, v any, fn func() (time.Duration, error)) error {
	for range 5 {
		rev, err := s.get(ctx, kind, key, v)
		if err != nil {
			return err
		}
		ttl, err := fn()
		if err != nil {
			return err
		}
		if ttl <= 0 {
			return fmt.Errorf("update %s record: %w", kind, store.ErrNotFound)
		}
		b, err := s.seal(kind, key, v)
		if err != nil {
			return err
		}
		err = s.raw.Swap(ctx, kind, key, rev, b, ttl)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("update %s record: %w", kind, store.ErrConflict)
}

// hashKey turns a bearer secret (code, token, cookie value) into the key it
// is stored under, so the store never holds a usable secret.
func hashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomID returns 32 random bytes, base64url: unguessable identifiers for
// transactions, references, codes, tokens and session cookies.
func randomID() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the runtime guarantees it does not
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
