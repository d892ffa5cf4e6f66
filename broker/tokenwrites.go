package broker

import (
	"context"
	"errors"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store"
)

// usedMarker is the reuse marker of a refresh token being rotated
// (markUsed; codes name their family themselves, codefamily.go), handed down to the token creation so that it travels in the
// same round trip as the new tokens: written before the old code or token
// is taken, as markUsed requires, without a round trip of its own.
type usedMarker struct {
	op   store.Op
	sent bool
}

type usedMarkerCtxKey struct{}

func withUsedMarker(ctx context.Context, kind store.Kind, key string, g *grant, now time.Time) (context.Context, *usedMarker) {
	m := &usedMarker{op: store.Op{Verb: store.OpCreate, Kind: kind, Key: usedPrefix + key, Value: []byte(g.ID), TTL: familyLifetime(g, now)}}
	return context.WithValue(ctx, usedMarkerCtxKey{}, m), m
}

// familyLifetime is how long a token of g's family can still be valid:
// refresh tokens end with the SSO session (CreateAccessAndRefreshTokens),
// and an access token issued at that last moment lives accessTokenTTL
// longer. A reuse marker kept beyond that would revoke nothing, so it does
// not outlive it: the markers, one per rotation, are held for the
// session's lifetime (30 minutes at level high) rather than usedMarkerTTL,
// which remains the cap.
func familyLifetime(g *grant, now time.Time) time.Duration {
	d := max(g.SessionExpiry.Sub(now), 0) + accessTokenTTL
	return min(d, usedMarkerTTL)
}

// flush writes the marker unless the token creation already carried it
// (the library creates tokens in every successful response, but the take
// must never depend on that).
func (m *usedMarker) flush(ctx context.Context, o *opStorage) error {
	if m.sent {
		return nil
	}
	m.sent = true
	return o.markUsed(ctx, m.op.Kind, m.op.Key[len(usedPrefix):], string(m.op.Value), m.op.TTL)
}

// createTokens stores the sealed grant under each key in one batch, with
// the pending reuse marker of the request if there is one. Any failure
// fails the whole: tokens already stored are never handed out, and expire.
func (o *opStorage) createTokens(ctx context.Context, g *grant, keys []store.Op) error {
	ops := make([]store.Op, 0, len(keys)+1)
	for _, k := range keys {
		b, err := o.s.data.seal(k.Kind, k.Key, g)
		if err != nil {
			return err
		}
		k.Verb, k.Value = store.OpCreate, b
		ops = append(ops, k)
	}
	m, _ := ctx.Value(usedMarkerCtxKey{}).(*usedMarker)
	if m != nil && !m.sent {
		ops = append(ops, m.op)
		m.sent = true
	}
	if len(ops) == 0 {
		return nil
	}
	for i, res := range store.Batch(ctx, o.s.raw, ops) {
		if res.Err == nil || i == len(keys) && errors.Is(res.Err, store.ErrExists) {
			// An existing marker was left by an earlier attempt of the
			// same redemption (markUsed).
			continue
		}
		return storeError(res.Err, nil)
	}
	return nil
}
