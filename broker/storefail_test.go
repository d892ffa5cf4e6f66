package broker_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	redisstore "github.com/ozg-broker/eidas-broker/broker/store/redis"
	"github.com/ozg-broker/eidas-broker/broker/store/storetest"
	"github.com/redis/go-redis/v9"
)

// flakyStore fails every call with ErrUnavailable while down is set, the
// way the Redis backend reports a lost connection.
type flakyStore struct {
	store.Store
	down atomic.Bool
}

func (f *flakyStore) err() error {
	if f.down.Load() {
		return fmt.Errorf("test: connection refused: %w", store.ErrUnavailable)
	}
	return nil
}

func (f *flakyStore) Create(ctx context.Context, k store.Kind, key string, v []byte, ttl time.Duration) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Create(ctx, k, key, v, ttl)
}

func (f *flakyStore) Get(ctx context.Context, k store.Kind, key string) (store.Entry, error) {
	if err := f.err(); err != nil {
		return store.Entry{}, err
	}
	return f.Store.Get(ctx, k, key)
}

func (f *flakyStore) Swap(ctx context.Context, k store.Kind, key string, rev uint64, v []byte, ttl time.Duration) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Swap(ctx, k, key, rev, v, ttl)
}

func (f *flakyStore) Take(ctx context.Context, k store.Kind, key string) ([]byte, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Store.Take(ctx, k, key)
}

func (f *flakyStore) Delete(ctx context.Context, k store.Kind, key string) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Delete(ctx, k, key)
}

func (f *flakyStore) Ping(ctx context.Context) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Ping(ctx)
}

func memStore(t testing.TB) store.Store {
	m := memory.New()
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestStoreDownGives503AndLosesNothing(t *testing.T) {
	fs := &flakyStore{Store: memory.New()}
	e := newEnvWithStore(t, fs, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)

	fs.down.Store(true)
	_, p := r.authorize()
	if p.status != http.StatusServiceUnavailable || p.loc != nil {
		t.Fatalf("authorize with the store down: %d %v", p.status, p.loc)
	}
	resp, err := http.Get(e.srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the store down: %d", resp.StatusCode)
	}
	fs.down.Store(false)

	f, methods := r.authorize()
	fs.down.Store(true)
	if p := r.get(methods.url.String()); p.status != http.StatusServiceUnavailable {
		t.Fatalf("login page with the store down: %d", p.status)
	}
	fs.down.Store(false)
	q := r.callbackParams(r.consent(r.demoLogin(methods, "erika", "high")), f)

	fs.down.Store(true)
	_, err = r.exchange(f, q.Get("code"))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusServiceUnavailable || re.ErrorCode != "temporarily_unavailable" {
		t.Fatalf("token endpoint with the store down: want 503 temporarily_unavailable, got %v", err)
	}
	// Nothing was consumed while the store was down: the code still works.
	fs.down.Store(false)
	if _, err := r.exchange(f, q.Get("code")); err != nil {
		t.Fatalf("code lost during the outage: %v", err)
	}
}

// TestLoginOnRealRedis runs the whole flow against a real redis-server:
// the production backend, shared by replicas (here two broker instances
// sharing one Redis and one set of keys and secrets).
func TestLoginOnRealRedis(t *testing.T) {
	addr := storetest.StartRedis(t)
	rs := redisstore.New(redis.NewClient(&redis.Options{Addr: addr}), "broker-test")
	t.Cleanup(func() { _ = rs.Close() })
	e := newEnvWithStore(t, rs, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	f, methods := r.authorize()
	q := r.callbackParams(r.consent(r.demoLogin(methods, "erika", "substantial")), f)
	tk, err := r.exchange(f, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if tk.claims["acr"] != "http://eidas.europa.eu/LoA/substantial" {
		t.Fatalf("acr = %v", tk.claims["acr"])
	}
	if _, err := r.exchange(f, q.Get("code")); err == nil {
		t.Fatal("code replay on Redis")
	}
}
