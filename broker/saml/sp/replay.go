package sp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Consume makes an accepted answer single use, across replicas: the
// Response and assertion IDs (hashed with the issuer) are recorded in the
// adapter's store until the assertion expires (plus skew, at least a
// second). A second use wraps ErrReplay; any store error wraps
// ErrReplayCache and the store's own error (store.ErrUnavailable gives the
// person a 503), so the cache fails closed. prefix keeps the keys of
// different adapters apart and stable across versions.
func Consume(ctx context.Context, st store.Store, prefix, issuer string, a *Assertion, now time.Time, skew time.Duration) error {
	ttl := a.NotOnOrAfter.Add(skew).Sub(now)
	if ttl < time.Second {
		ttl = time.Second
	}
	if err := consumeID(ctx, st, prefix, "response", issuer, a.ResponseID, ttl); err != nil {
		return err
	}
	return consumeID(ctx, st, prefix, "assertion", issuer, a.ID, ttl)
}

func consumeID(ctx context.Context, st store.Store, prefix, kind, issuer, id string, ttl time.Duration) error {
	h := sha256.Sum256([]byte(kind + "\x00" + issuer + "\x00" + id))
	err := st.Create(ctx, store.KindReplay, prefix+hex.EncodeToString(h[:]), []byte{1}, ttl)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrExists):
		return fmt.Errorf("%w: %s ID seen before", ErrReplay, kind)
	}
	return fmt.Errorf("%w: %w", ErrReplayCache, err)
}
