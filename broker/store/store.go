package store

import (
	"context"
	"errors"
	"time"
)

// Errors every implementation returns, wrapped or bare; callers test them with
// errors.Is. A call with invalid arguments returns ErrInvalid; any other
// failure of the backend is wrapped in ErrUnavailable.
var (
	// ErrNotFound: the key does not exist, has expired, or was already taken.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: Create found the key present. For replay caches this is the
	// "seen before" signal, so it must be reliable under concurrency.
	ErrExists = errors.New("store: already exists")
	// ErrConflict: Swap's revision no longer matches; re-read and retry.
	ErrConflict = errors.New("store: update conflict")
	// ErrUnavailable: the backend could not answer (connection refused,
	// timeout, closed store). The broker fails the request closed with 503;
	// it never guesses that a replay ID is new when the store is down.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrInvalid: the caller passed an empty or malformed Kind, an empty key
	// or a non-positive TTL. It is a programming error in the caller, not a
	// backend failure, so it is kept apart from ErrUnavailable (which readiness
	// checks and retries would otherwise misread as an outage).
	ErrInvalid = errors.New("store: invalid argument")
)

// Kind separates key spaces so that a code can never be read as a session.
// It becomes part of the key in every backend.
type Kind string

// The kinds the broker uses. Backends accept any non-empty Kind made of
// [a-z0-9_]; these are listed to keep key spaces documented in one place.
const (
	KindTransaction Kind = "tx"      // login transactions, keyed by id and by ref
	KindCode        Kind = "code"    // authorization codes (single use)
	KindSession     Kind = "session" // SSO sessions
	KindRefresh     Kind = "refresh" // refresh tokens (single use, rotated)
	KindAccess      Kind = "access"  // access tokens (for userinfo and revocation)
	KindReplay      Kind = "replay"  // SAML assertion / message IDs seen
	KindJTI         Kind = "jti"     // private_key_jwt client assertion IDs seen
	KindChallenge   Kind = "chal"    // adapter challenges (single use)
)

// Entry is a value with its revision. Revisions increase with every write of
// the key and are only meaningful for Swap on the same key.
type Entry struct {
	Value    []byte
	Revision uint64
}

// Store is the persistence contract. Every method is safe for concurrent use
// by many goroutines and, for networked backends, many broker replicas.
//
// TTLs must be positive: nothing lives forever. Expiry is checked on read, so
// an expired key is ErrNotFound even if the backend has not evicted it yet.
// Keys and values are bytes the store does not interpret; a backend must
// never log values (they may carry encrypted personal data or secrets).
//
// A value given to a write (Create, Swap, a Batch op) belongs to the store
// from then on: the caller must not change the slice afterwards, since a
// backend may keep it rather than copy it (the memory store does). Every
// writer in the broker passes a slice it has just built for the write.
type Store interface {
	// Create stores value under (kind, key) only if the key is absent.
	// Atomic: of many concurrent Creates of one key exactly one succeeds and
	// the others get ErrExists.
	Create(ctx context.Context, kind Kind, key string, value []byte, ttl time.Duration) error

	// Get returns the current entry or ErrNotFound. The entry's Value is
	// read-only: a backend may hand out the bytes it holds (the memory
	// store does, rather than copy every record on every read).
	Get(ctx context.Context, kind Kind, key string) (Entry, error)

	// Swap replaces the value if the key still has revision rev (from Get),
	// resetting its TTL. ErrConflict if it changed, ErrNotFound if it is gone.
	// This is compare-and-swap: callers re-read and retry on ErrConflict.
	Swap(ctx context.Context, kind Kind, key string, rev uint64, value []byte, ttl time.Duration) error

	// Take returns the value and deletes the key in one atomic step. Of many
	// concurrent Takes of one key exactly one gets the value; the others get
	// ErrNotFound. This is how single-use codes and tokens are redeemed.
	Take(ctx context.Context, kind Kind, key string) ([]byte, error)

	// Delete removes the key; deleting an absent key is not an error.
	Delete(ctx context.Context, kind Kind, key string) error

	// Ping reports whether the backend answers (readiness probes).
	Ping(ctx context.Context) error

	// Close releases resources. Calls after Close return ErrUnavailable.
	Close() error
}
