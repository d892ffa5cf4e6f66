package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Round trips of the consent step. With a networked store each store call
// is a round trip the request waits for; the consent step needs three:
//
//  1. the transaction and the SSO session are read together
//     (withSessionPrefetch, getTxEntry);
//  2. the code's grant is stored together with the consent recorded in the
//     session (prepareUpdate's compare-and-swap, sent by issueCode);
//  3. the transaction is taken (single use) together with the deletion of
//     its reference.

// sessionPrefetch names the SSO session a handler will update after it has
// read its transaction, so that getTxEntry fetches both in one round trip.
// It is request scoped (a context value set by withSessionPrefetch).
type sessionPrefetch struct {
	mu     sync.Mutex
	key    string
	done   bool
	entry  store.Entry
	loaded bool
}

type sessionPrefetchKey struct{}

// withSessionPrefetch fetches the browser's SSO session (by its cookie)
// with the request's first read of a transaction.
func (s *Server) withSessionPrefetch(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(s.sessionCookieName())
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		p := &sessionPrefetch{key: hashKey(c.Value)}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionPrefetchKey{}, p)))
	})
}

// getTxEntry is data.getEntry for a transaction, reading the prefetched
// session in the same round trip when the request asked for it. An absent
// session is just not remembered (the update that needs it reads again and
// answers for it); an outage fails the read like any other.
func (s *Server) getTxEntry(ctx context.Context, id string, tx *transaction) (store.Entry, error) {
	p, _ := ctx.Value(sessionPrefetchKey{}).(*sessionPrefetch)
	if p == nil {
		return s.data.getEntry(ctx, store.KindTransaction, id, tx)
	}
	p.mu.Lock()
	first := !p.done
	p.done = true
	p.mu.Unlock()
	if !first {
		return s.data.getEntry(ctx, store.KindTransaction, id, tx)
	}
	res := store.Batch(ctx, s.raw, []store.Op{
		{Verb: store.OpGet, Kind: store.KindTransaction, Key: id},
		{Verb: store.OpGet, Kind: store.KindSession, Key: p.key},
	})
	if err := res[1].Err; errors.Is(err, store.ErrUnavailable) {
		return store.Entry{}, err
	} else if err == nil {
		p.mu.Lock()
		p.entry, p.loaded = res[1].Entry, true
		p.mu.Unlock()
	}
	if res[0].Err != nil {
		return store.Entry{}, res[0].Err
	}
	return res[0].Entry, s.data.open(store.KindTransaction, id, res[0].Entry.Value, tx)
}

// prefetched returns the session read by getTxEntry, once.
func prefetched(ctx context.Context, key string) (store.Entry, bool) {
	p, _ := ctx.Value(sessionPrefetchKey{}).(*sessionPrefetch)
	if p == nil {
		return store.Entry{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.loaded || p.key != key {
		return store.Entry{}, false
	}
	p.loaded = false
	return p.entry, true
}

// companionWrite is a write that travels with another one (issueCode), with
// the way to redo it should its compare-and-swap meet a conflict.
type companionWrite struct {
	op   store.Op
	redo func(context.Context) error
}

// prepareUpdate is the first attempt of data.update without its swap: it
// runs fn on the session the request prefetched (or reads it now) and
// returns the compare-and-swap, to be sent with the code. Should that meet
// a conflict, redo runs data.update from a fresh read (fn must be pure, as
// for update). v holds the result.
func (s *Server) prepareUpdate(ctx context.Context, kind store.Kind, key string, v any, fn func() (time.Duration, error)) (companionWrite, error) {
	e, ok := prefetched(ctx, key)
	if !ok {
		var err error
		if e, err = s.raw.Get(ctx, kind, key); err != nil {
			return companionWrite{}, err
		}
	}
	if err := s.data.open(kind, key, e.Value, v); err != nil {
		return companionWrite{}, err
	}
	ttl, err := fn()
	if err != nil {
		return companionWrite{}, err
	}
	if ttl <= 0 {
		return companionWrite{}, fmt.Errorf("update %s record: %w", kind, store.ErrNotFound)
	}
	b, err := s.data.seal(kind, key, v)
	if err != nil {
		return companionWrite{}, err
	}
	return companionWrite{
		op: store.Op{Verb: store.OpSwap, Kind: kind, Key: key, Rev: e.Revision, Value: b, TTL: ttl},
		redo: func(ctx context.Context) error {
			// The fresh read must not inherit what fn set from the stale one.
			reflect.ValueOf(v).Elem().SetZero()
			return s.data.update(ctx, kind, key, v, fn)
		},
	}, nil
}

// issueCode stores the grant under the code's hash, with the companion
// writes in the same round trip, then takes the transaction and deletes
// its reference in the next. The transaction taken must be exactly the
// record this request read or wrote (tx.sealed; every write seals with a
// fresh nonce): of two requests finishing one login only one takes it, and
// a transaction changed meanwhile yields no code. The code is stored before
// the transaction is taken, so a store failure on the way leaves the login
// as it was for the person's retry; on any failure the code is removed
// again (it was never delivered).
func (s *Server) issueCode(ctx context.Context, tx *transaction, sessionExpiry time.Time, with ...companionWrite) (string, error) {
	code := s.tokens.newCode(tx.ID)
	key := hashKey(code)
	b, err := s.data.seal(store.KindCode, key, s.grantFor(tx, sessionExpiry))
	if err != nil {
		return "", err
	}
	ops := make([]store.Op, 0, 1+len(with))
	ops = append(ops, store.Op{Verb: store.OpCreate, Kind: store.KindCode, Key: key, Value: b, TTL: codeTTL})
	for _, c := range with {
		ops = append(ops, c.op)
	}
	res := store.Batch(ctx, s.raw, ops)
	err = res[0].Err
	for i, c := range with {
		werr := res[i+1].Err
		if errors.Is(werr, store.ErrConflict) && c.redo != nil {
			werr = c.redo(ctx)
		}
		err = errors.Join(err, werr)
	}
	if err != nil {
		if res[0].Err == nil {
			_ = s.raw.Delete(ctx, store.KindCode, key)
		}
		return "", err
	}
	res = store.Batch(ctx, s.raw, []store.Op{
		{Verb: store.OpTake, Kind: store.KindTransaction, Key: tx.ID},
		{Verb: store.OpDelete, Kind: store.KindTransaction, Key: "ref:" + tx.Ref},
	})
	err = res[0].Err
	if err == nil && !bytes.Equal(res[0].Entry.Value, tx.sealed) {
		s.log.WarnContext(ctx, "login changed while its code was issued; no code given", "tx", logID(tx.ID))
		err = fmt.Errorf("transaction changed: %w", store.ErrNotFound)
	}
	if err != nil {
		_ = s.raw.Delete(ctx, store.KindCode, key)
		return "", err
	}
	return code, nil
}

// updateLoadedTxWith is updateLoadedTx whose compare-and-swap carries the
// writes in with (creates under fresh random keys, which nothing reads
// before this returns) in the same round trip. They are sent whatever the
// swap's outcome. It returns the updated transaction and, joined, the
// errors of with; a nil transaction means the update itself failed, and
// the caller removes what with created.
func (s *Server) updateLoadedTxWith(ctx context.Context, tx *transaction, fn func(*transaction) error, with ...store.Op) (*transaction, error) {
	if !tx.loaded || len(with) == 0 {
		t, err := s.updateLoadedTx(ctx, tx, fn)
		if err != nil {
			return nil, err
		}
		var werr error
		for _, r := range store.Batch(ctx, s.raw, with) {
			werr = errors.Join(werr, r.Err)
		}
		return t, werr
	}
	t := *tx
	t.loaded, t.rev, t.sealed = false, 0, nil
	if err := fn(&t); err != nil {
		return nil, err
	}
	b, err := s.data.seal(store.KindTransaction, t.ID, &t)
	if err != nil {
		return nil, err
	}
	ops := make([]store.Op, 0, 1+len(with))
	ops = append(ops, store.Op{Verb: store.OpSwap, Kind: store.KindTransaction, Key: t.ID, Rev: tx.rev, Value: b, TTL: txTTL})
	res := store.Batch(ctx, s.raw, append(ops, with...))
	var werr error
	for _, r := range res[1:] {
		werr = errors.Join(werr, r.Err)
	}
	switch err := res[0].Err; {
	case errors.Is(err, store.ErrConflict):
		t2, err := s.updateTx(ctx, tx.ID, fn)
		if err != nil {
			return nil, errors.Join(err, werr)
		}
		return t2, werr
	case err != nil:
		return nil, errors.Join(err, werr)
	}
	t.sealed = b
	return &t, werr
}
