package broker

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"

	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/ozg-broker/eidas-broker/broker/store"
)

// sealedStore stores JSON records encrypted with AES-256-GCM under the
// active data key. The additional data binds each ciphertext to its kind
// and key, so a value copied to another key (a code swapped for a session)
// fails to open.
//
// A sealed record starts with a header naming its data key (sealedMagic, the
// ID's length, the ID), so opening picks the key directly, and after a
// rotation records sealed under a retired key that is still configured keep
// opening. The header is part of the additional data. Records written
// before key IDs existed have no header (nonce first); they are opened by
// trying each configured key, and they are gone once the longest record
// lifetime has passed.
//
// A record that no configured key opens (its key was removed, or it was
// tampered with) reads as not found: the session, code or token it held is
// over, and the request gets the answer for an expired one, not a 500.
type sealedStore struct {
	raw    store.Store
	active *sealKey
	byID   map[string]*sealKey
	all    []*sealKey // in configuration order, for header-less records
	log    *slog.Logger
	// plain holds *bytes.Buffer for plaintexts on their way into or out of
	// AES-GCM: every request seals and opens records, and neither the JSON
	// going in nor the plaintext coming out outlives the call.
	plain sync.Pool
}

// maxPooledPlain keeps an unusually large record's buffer out of the pool.
const maxPooledPlain = 64 << 10

func (s *sealedStore) getPlain() *bytes.Buffer {
	if b, ok := s.plain.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

func (s *sealedStore) putPlain(b *bytes.Buffer) {
	if b.Cap() <= maxPooledPlain {
		s.plain.Put(b)
	}
}

type sealKey struct {
	id     string
	header []byte
	aead   cipher.AEAD
}

// sealedMagic starts every record sealed with a key ID. A header-less
// record begins with its random nonce, so the first byte alone may match;
// opening falls back to the header-less form whenever the header does not
// lead to a key that opens the record.
const sealedMagic = 0xD1

// errUnreadable is the cause of a record no configured key opens.
var errUnreadable = fmt.Errorf("sealed under a data key that is not configured, or damaged: %w", store.ErrNotFound)

func newSealedStore(raw store.Store, keys []DataKey, log *slog.Logger) (*sealedStore, error) {
	s := &sealedStore{raw: raw, byID: map[string]*sealKey{}, log: log}
	for _, k := range keys {
		if len(k.Key) != 32 {
			return nil, fmt.Errorf("data key %q: want 32 bytes, have %d", k.ID, len(k.Key))
		}
		if k.ID == "" || len(k.ID) > maxDataKeyID {
			return nil, fmt.Errorf("data key ID %q: want 1 to %d bytes", k.ID, maxDataKeyID)
		}
		if _, dup := s.byID[k.ID]; dup {
			return nil, fmt.Errorf("data key %q configured twice", k.ID)
		}
		block, err := aes.NewCipher(k.Key)
		if err != nil {
			return nil, fmt.Errorf("data key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("data key %q: %w", k.ID, err)
		}
		sk := &sealKey{id: k.ID, header: append([]byte{sealedMagic, byte(len(k.ID))}, k.ID...), aead: aead}
		s.byID[k.ID] = sk
		s.all = append(s.all, sk)
		if k.Active {
			if s.active != nil {
				return nil, fmt.Errorf("data keys %q and %q are both active; want exactly one", s.active.id, k.ID)
			}
			s.active = sk
		}
	}
	if s.active == nil {
		return nil, errors.New("no active data key")
	}
	return s, nil
}

func additionalData(kind store.Kind, key string, header []byte) []byte {
	ad := make([]byte, 0, len(kind)+1+len(key)+len(header))
	ad = append(ad, kind...)
	ad = append(ad, 0)
	ad = append(ad, key...)
	return append(ad, header...)
}

func (s *sealedStore) seal(kind store.Kind, key string, v any) ([]byte, error) {
	buf := s.getPlain()
	defer s.putPlain(buf)
	if err := gojson.NewEncoder(buf).Encode(v); err != nil {
		return nil, fmt.Errorf("encode %s record: %w", kind, err)
	}
	plain := buf.Bytes()
	k := s.active
	n := k.aead.NonceSize()
	out := make([]byte, len(k.header)+n, len(k.header)+n+len(plain)+k.aead.Overhead())
	copy(out, k.header)
	nonce := out[len(k.header):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal %s record: %w", kind, err)
	}
	return k.aead.Seal(out, nonce, plain, additionalData(kind, key, k.header)), nil
}

func (s *sealedStore) open(kind store.Kind, key string, sealed []byte, v any) error {
	buf := s.getPlain()
	defer s.putPlain(buf)
	buf.Grow(len(sealed)) // the plaintext is shorter than the record
	plain, err := s.openBytes(buf.AvailableBuffer(), kind, key, sealed)
	if err != nil {
		return err
	}
	// Decoding was the costliest part of reading a record with
	// encoding/json (several times its encoding); go-json reads and writes
	// the same JSON about three times faster. The records are our own,
	// sealed and authenticated, so its parser never sees foreign input.
	if err := gojson.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("decode %s record: %w", kind, err)
	}
	return nil
}

// openBytes appends the plaintext of sealed to dst.
func (s *sealedStore) openBytes(dst []byte, kind store.Kind, key string, sealed []byte) ([]byte, error) {
	id, named := "", false
	if len(sealed) > 2 && sealed[0] == sealedMagic && int(sealed[1]) <= len(sealed)-2 {
		hl := 2 + int(sealed[1])
		id, named = string(sealed[2:hl]), true
		if k := s.byID[id]; k != nil {
			if p, ok := openWith(dst, k, sealed[hl:], additionalData(kind, key, sealed[:hl])); ok {
				return p, nil
			}
		}
	}
	// No header (written before key IDs), or one that by chance was the
	// start of a random nonce.
	for _, k := range s.all {
		if p, ok := openWith(dst, k, sealed, additionalData(kind, key, nil)); ok {
			return p, nil
		}
	}
	if named && s.byID[id] == nil {
		// The ID comes from our own store, is at most 255 bytes and is
		// quoted; it names a key, not a person.
		s.log.Warn("stored record sealed under a data key that is no longer configured; treated as expired",
			"kind", string(kind), "data_key", id)
	} else {
		s.log.Warn("stored record does not open with any configured data key; treated as expired", "kind", string(kind))
	}
	return nil, fmt.Errorf("open %s record: %w", kind, errUnreadable)
}

func openWith(dst []byte, k *sealKey, body, ad []byte) ([]byte, bool) {
	n := k.aead.NonceSize()
	if len(body) < n+k.aead.Overhead() {
		return nil, false
	}
	p, err := k.aead.Open(dst, body[:n], body[n:], ad)
	return p, err == nil
}

func (s *sealedStore) create(ctx context.Context, kind store.Kind, key string, v any, ttl time.Duration) error {
	b, err := s.seal(kind, key, v)
	if err != nil {
		return err
	}
	return s.raw.Create(ctx, kind, key, b, ttl)
}

func (s *sealedStore) get(ctx context.Context, kind store.Kind, key string, v any) (uint64, error) {
	e, err := s.getEntry(ctx, kind, key, v)
	return e.Revision, err
}

// getEntry is get that also returns the sealed bytes as stored.
func (s *sealedStore) getEntry(ctx context.Context, kind store.Kind, key string, v any) (store.Entry, error) {
	e, err := s.raw.Get(ctx, kind, key)
	if err != nil {
		return store.Entry{}, err
	}
	return e, s.open(kind, key, e.Value, v)
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
		// A retry must not inherit what fn set in the last attempt where
		// the fresh JSON leaves a field out (omitempty) or a map keeps
		// keys: decoding merges into what v holds.
		reflect.ValueOf(v).Elem().SetZero()
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
	return encodeKey(sum)
}

// encodeKey is base64url of 32 bytes in one allocation (the string): a
// login hashes and draws a dozen of them.
func encodeKey(b [32]byte) string {
	var out [43]byte
	base64.RawURLEncoding.Encode(out[:], b[:])
	return string(out[:])
}

// randomID returns 32 random bytes, base64url: unguessable identifiers for
// transactions, references, codes, tokens and session cookies.
func randomID() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the runtime guarantees it does not
	}
	return encodeKey(b)
}
