package memory

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/internal/keyspace"
)

var _ store.Store = (*Store)(nil)

// sweepPerWrite bounds the expired entries reclaimed by one write. Each write
// adds at most one entry and reclaims up to this many, so expired entries
// drain faster than new ones arrive, while a mass expiry is spread over many
// writes instead of stalling one caller behind the lock.
const sweepPerWrite = 64

// Option configures a Store.
type Option func(*Store)

// WithClock sets the time source used for every expiry decision; tests use a
// fake clock so TTL behaviour is checked without sleeping. A nil clock keeps
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// Store is the in-memory store.Store. The zero value is not usable; call New.
type Store struct {
	now func() time.Time

	mu      sync.Mutex
	closed  bool
	lastRev uint64
	entries map[mapKey]*entry
	expiry  expiryHeap
}

type mapKey struct {
	kind store.Kind
	key  string
}

type entry struct {
	id      mapKey
	value   []byte
	rev     uint64
	expires time.Time
	index   int // position in Store.expiry, maintained by expiryHeap
}

// New returns an empty, open Store.
func New(opts ...Option) *Store {
	s := &Store{
		now:     time.Now,
		entries: make(map[mapKey]*entry),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Create implements store.Store.
func (s *Store) Create(ctx context.Context, kind store.Kind, key string, value []byte, ttl time.Duration) error {
	if err := begin(ctx, "create", kind, key); err != nil {
		return err
	}
	if err := keyspace.CheckTTL(ttl); err != nil {
		return fmt.Errorf("memory store: create %s: %w", kind, err)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return closedErr("create")
	}
	s.sweep(now)
	id := mapKey{kind, key}
	if e, ok := s.entries[id]; ok {
		if !expired(e, now) {
			return fmt.Errorf("memory store: create %s: %w", kind, store.ErrExists)
		}
		s.remove(e)
	}
	e := &entry{id: id, value: clone(value), rev: s.nextRev(), expires: now.Add(ttl)}
	s.entries[id] = e
	heap.Push(&s.expiry, e)
	return nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, kind store.Kind, key string) (store.Entry, error) {
	if err := begin(ctx, "get", kind, key); err != nil {
		return store.Entry{}, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.Entry{}, closedErr("get")
	}
	e, err := s.live(mapKey{kind, key}, now)
	if err != nil {
		return store.Entry{}, fmt.Errorf("memory store: get %s: %w", kind, err)
	}
	return store.Entry{Value: clone(e.value), Revision: e.rev}, nil
}

// Swap implements store.Store.
func (s *Store) Swap(ctx context.Context, kind store.Kind, key string, rev uint64, value []byte, ttl time.Duration) error {
	if err := begin(ctx, "swap", kind, key); err != nil {
		return err
	}
	if err := keyspace.CheckTTL(ttl); err != nil {
		return fmt.Errorf("memory store: swap %s: %w", kind, err)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return closedErr("swap")
	}
	s.sweep(now)
	e, err := s.live(mapKey{kind, key}, now)
	if err != nil {
		return fmt.Errorf("memory store: swap %s: %w", kind, err)
	}
	if e.rev != rev {
		return fmt.Errorf("memory store: swap %s: %w", kind, store.ErrConflict)
	}
	e.value = clone(value)
	e.rev = s.nextRev()
	e.expires = now.Add(ttl)
	heap.Fix(&s.expiry, e.index)
	return nil
}

// Take implements store.Store.
func (s *Store) Take(ctx context.Context, kind store.Kind, key string) ([]byte, error) {
	if err := begin(ctx, "take", kind, key); err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedErr("take")
	}
	e, err := s.live(mapKey{kind, key}, now)
	if err != nil {
		return nil, fmt.Errorf("memory store: take %s: %w", kind, err)
	}
	s.remove(e)
	// The entry left the map, so no one else can see its slice: no copy.
	return e.value, nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, kind store.Kind, key string) error {
	if err := begin(ctx, "delete", kind, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return closedErr("delete")
	}
	if e, ok := s.entries[mapKey{kind, key}]; ok {
		s.remove(e)
	}
	return nil
}

// Ping implements store.Store: an open memory store always answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory store: ping: %w: %w", store.ErrUnavailable, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return closedErr("ping")
	}
	return nil
}

// Close drops every entry. Later calls, including a second Close, return an
// error wrapping store.ErrUnavailable, as the contract requires.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return closedErr("close")
	}
	s.closed = true
	s.entries = nil
	s.expiry = nil
	return nil
}

// Len reports the number of entries held, expired or not; it lets operators
// and tests see that expired entries are reclaimed.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// begin runs the checks shared by every keyed method: a finished context
// fails like an unreachable backend, so callers see one behaviour for both.
func begin(ctx context.Context, op string, kind store.Kind, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory store: %s %s: %w: %w", op, kind, store.ErrUnavailable, err)
	}
	if err := keyspace.Check(kind, key); err != nil {
		return fmt.Errorf("memory store: %s: %w", op, err)
	}
	return nil
}

func closedErr(op string) error {
	return fmt.Errorf("memory store: %s: store closed: %w", op, store.ErrUnavailable)
}

// live returns the entry if present and unexpired; an expired entry is
// removed on the spot. Callers hold s.mu.
func (s *Store) live(id mapKey, now time.Time) (*entry, error) {
	e, ok := s.entries[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	if expired(e, now) {
		s.remove(e)
		return nil, store.ErrNotFound
	}
	return e, nil
}

// sweep reclaims up to sweepPerWrite expired entries. Callers hold s.mu.
func (s *Store) sweep(now time.Time) {
	for i := 0; i < sweepPerWrite && len(s.expiry) > 0 && expired(s.expiry[0], now); i++ {
		s.remove(s.expiry[0])
	}
}

// remove deletes e from the map and the heap. Callers hold s.mu.
func (s *Store) remove(e *entry) {
	delete(s.entries, e.id)
	heap.Remove(&s.expiry, e.index)
}

// nextRev hands out the next revision. A uint64 incremented once per write
// cannot wrap in the life of a process. Callers hold s.mu.
func (s *Store) nextRev() uint64 {
	s.lastRev++
	return s.lastRev
}

// expired treats the instant of expiry as already expired, so a TTL of d
// never yields an entry readable for longer than d.
func expired(e *entry, now time.Time) bool {
	return !now.Before(e.expires)
}

// clone copies b and turns nil into an empty slice, so a stored empty value
// reads back as empty rather than as "no value".
func clone(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	return out
}

// expiryHeap is a min-heap of entries by expiry time, with each entry's index
// kept current so Swap can re-position it and Delete can remove it in
// O(log n).
type expiryHeap []*entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *expiryHeap) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil // let the entry be collected
	e.index = -1
	*h = old[:n-1]
	return e
}
