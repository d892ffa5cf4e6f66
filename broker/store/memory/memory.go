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

// WithLimit bounds the memory the entries hold to about maxBytes (their
// keys and values plus a fixed cost per entry for the map, the heap and the
// entry itself). Over the limit, entries of the evictable kinds go first,
// the one closest to its expiry first, until the total fits again; nothing
// else is ever evicted. Only kinds whose loss fails closed belong there: an
// SSO session that is gone means the person logs in again, while a replay
// marker that is gone would let a replay through. If the limit is still
// exceeded with no evictable entry left, writes go on (refusing them would
// stop logins); the excess is bounded by the other kinds' short lifetimes.
// onEvict, if not nil, is called for each eviction with the store's lock
// held, so it must be quick (a counter, a log line the first time).
func WithLimit(maxBytes int64, onEvict func(store.Kind), evictable ...store.Kind) Option {
	return func(s *Store) {
		s.maxBytes = maxBytes
		s.onEvict = onEvict
		s.evictable = make(map[store.Kind]bool, len(evictable))
		for _, k := range evictable {
			s.evictable[k] = true
		}
	}
}

// Store is the in-memory store.Store. The zero value is not usable; call New.
type Store struct {
	now func() time.Time

	// maxBytes > 0 bounds bytes by evicting entries of the evictable kinds
	// (WithLimit).
	maxBytes  int64
	evictable map[store.Kind]bool
	onEvict   func(store.Kind)

	mu      sync.Mutex
	closed  bool
	lastRev uint64
	entries map[mapKey]*entry
	expiry  entryHeap
	// victims holds the entries of evictable kinds by last write, for
	// WithLimit.
	victims entryHeap
	bytes   int64
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
	index   int // position in Store.expiry (entryHeap)
	victim  int // position in Store.victims, or -1
}

// entryOverhead estimates what an entry costs beyond its key and value: the
// entry struct, its map slot and key header, and its heap slots.
const entryOverhead = 200

func (e *entry) cost() int64 { return int64(len(e.id.key) + cap(e.value) + entryOverhead) }

// New returns an empty, open Store.
func New(opts ...Option) *Store {
	s := &Store{
		now:     time.Now,
		entries: make(map[mapKey]*entry),
		expiry:  byExpiry(),
		victims: byLastWrite(),
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
	e := &entry{id: id, value: keep(value), rev: s.nextRev(), expires: now.Add(ttl), victim: -1}
	s.entries[id] = e
	heap.Push(&s.expiry, e)
	if s.evictable[kind] {
		heap.Push(&s.victims, e)
	}
	s.bytes += e.cost()
	s.fit()
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
	// Stored slices are never written to (a write replaces the slice), so
	// the reader may share it; the contract makes Entry.Value read-only.
	return store.Entry{Value: e.value[:len(e.value):len(e.value)], Revision: e.rev}, nil
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
	s.bytes -= e.cost()
	e.value = keep(value)
	e.rev = s.nextRev()
	e.expires = now.Add(ttl)
	s.bytes += e.cost()
	heap.Fix(&s.expiry, e.index)
	if e.victim >= 0 {
		heap.Fix(&s.victims, e.victim)
	}
	s.fit()
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
	s.expiry.items = nil
	s.victims.items = nil
	s.bytes = 0
	return nil
}

// Len reports the number of entries held, expired or not; it lets operators
// and tests see that expired entries are reclaimed.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Bytes reports the estimated memory the entries hold, as WithLimit counts
// it.
func (s *Store) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// fit evicts entries of the evictable kinds, the one written longest
// ago first, until the store is within its limit. Callers hold s.mu.
func (s *Store) fit() {
	for s.maxBytes > 0 && s.bytes > s.maxBytes && len(s.victims.items) > 0 {
		e := s.victims.items[0]
		s.remove(e)
		if s.onEvict != nil {
			s.onEvict(e.id.kind)
		}
	}
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
	for i := 0; i < sweepPerWrite && len(s.expiry.items) > 0 && expired(s.expiry.items[0], now); i++ {
		s.remove(s.expiry.items[0])
	}
}

// remove deletes e from the map and the heaps. Callers hold s.mu.
func (s *Store) remove(e *entry) {
	delete(s.entries, e.id)
	heap.Remove(&s.expiry, e.index)
	if e.victim >= 0 {
		heap.Remove(&s.victims, e.victim)
	}
	s.bytes -= e.cost()
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

// keep is the slice a write stores: the caller's own (the contract hands
// a written value to the store), capped so that no later append by
// anyone can reach into it, with nil turned into an empty slice, so a
// stored empty value reads back as empty rather than as "no value".
func keep(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b[:len(b):len(b)]
}

// entryHeap is a min-heap of entries, with each entry's position kept
// current (in the field pos names) so that a write can re-position it and
// Delete can remove it in O(log n). The store keeps two: all entries by
// expiry, and the evictable ones by last write.
type entryHeap struct {
	items []*entry
	less  func(a, b *entry) bool
	pos   func(e *entry) *int
}

func byExpiry() entryHeap {
	return entryHeap{
		less: func(a, b *entry) bool { return a.expires.Before(b.expires) },
		pos:  func(e *entry) *int { return &e.index },
	}
}

// byLastWrite orders by revision, which grows with every write.
func byLastWrite() entryHeap {
	return entryHeap{
		less: func(a, b *entry) bool { return a.rev < b.rev },
		pos:  func(e *entry) *int { return &e.victim },
	}
}

func (h *entryHeap) Len() int           { return len(h.items) }
func (h *entryHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *entryHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	*h.pos(h.items[i]) = i
	*h.pos(h.items[j]) = j
}

func (h *entryHeap) Push(x any) {
	e := x.(*entry)
	*h.pos(e) = len(h.items)
	h.items = append(h.items, e)
}

func (h *entryHeap) Pop() any {
	n := len(h.items)
	e := h.items[n-1]
	h.items[n-1] = nil // let the entry be collected
	*h.pos(e) = -1
	h.items = h.items[:n-1]
	return e
}
