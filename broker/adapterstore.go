package broker

import (
	"context"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store"
)

// AdapterStore confines an adapter to a key space of its own inside the
// broker's store (adapters.Deps.Store): every key is prefixed with the
// adapter's ID, so an adapter can neither read nor clobber transactions,
// codes, sessions or another adapter's entries.
func AdapterStore(s store.Store, adapterID string) store.Store {
	return &prefixedStore{s: s, prefix: "adapter:" + adapterID + ":"}
}

type prefixedStore struct {
	s      store.Store
	prefix string
}

var _ store.Store = (*prefixedStore)(nil)

func (p *prefixedStore) Create(ctx context.Context, k store.Kind, key string, v []byte, ttl time.Duration) error {
	return p.s.Create(ctx, k, p.prefix+key, v, ttl)
}

func (p *prefixedStore) Get(ctx context.Context, k store.Kind, key string) (store.Entry, error) {
	return p.s.Get(ctx, k, p.prefix+key)
}

func (p *prefixedStore) Swap(ctx context.Context, k store.Kind, key string, rev uint64, v []byte, ttl time.Duration) error {
	return p.s.Swap(ctx, k, p.prefix+key, rev, v, ttl)
}

func (p *prefixedStore) Take(ctx context.Context, k store.Kind, key string) ([]byte, error) {
	return p.s.Take(ctx, k, p.prefix+key)
}

func (p *prefixedStore) Delete(ctx context.Context, k store.Kind, key string) error {
	return p.s.Delete(ctx, k, p.prefix+key)
}

func (p *prefixedStore) Ping(ctx context.Context) error { return p.s.Ping(ctx) }

// Close is a no-op: the broker owns the underlying store's lifetime.
func (p *prefixedStore) Close() error { return nil }
