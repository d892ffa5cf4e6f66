package memory_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/broker/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, func(time.Duration)) {
		clock := storetest.NewClock(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
		s := memory.New(memory.WithClock(clock.Now))
		t.Cleanup(func() { _ = s.Close() })
		return s, clock.Advance
	})
}

// TestConformanceWallClock runs the suite once more on the default clock, the
// way the demo uses the store.
func TestConformanceWallClock(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out real TTLs")
	}
	storetest.Run(t, func(t *testing.T) (store.Store, func(time.Duration)) {
		s := memory.New()
		t.Cleanup(func() { _ = s.Close() })
		return s, nil
	})
}

// TestSweepReclaimsExpired proves memory does not grow with expired entries
// that nobody reads again: writes reclaim them.
func TestSweepReclaimsExpired(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Unix(0, 0))
	s := memory.New(memory.WithClock(clock.Now))
	defer s.Close()

	const n = 1000
	for i := range n {
		key := "old-" + strconv.Itoa(i)
		if err := s.Create(ctx, store.KindReplay, key, []byte("x"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got != n {
		t.Fatalf("Len = %d, want %d", got, n)
	}
	clock.Advance(2 * time.Minute)
	// Each write reclaims a bounded batch; a modest number of writes must
	// drain all of them while adding only those few new entries.
	writes := 0
	for s.Len() > writes && writes < n {
		writes++
		key := "new-" + strconv.Itoa(writes)
		if err := s.Create(ctx, store.KindReplay, key, []byte("x"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got != writes {
		t.Fatalf("after %d writes Len = %d, want %d (expired entries kept)", writes, got, writes)
	}
	if writes >= n {
		t.Fatalf("needed %d writes to reclaim %d expired entries", writes, n)
	}
}

// TestBoundedUnderSustainedLoad runs a long stream of logins' worth of
// writes on the fake clock: one entry every 10 ms with a TTL of one second,
// half of them updated once and a third taken, none read after it expired.
// The store must hold about what is alive (100 entries), never the
// 100,000 written.
func TestBoundedUnderSustainedLoad(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Unix(0, 0))
	s := memory.New(memory.WithClock(clock.Now))
	defer s.Close()

	const (
		n     = 100_000
		every = 10 * time.Millisecond
		ttl   = time.Second
		alive = int(ttl / every)
	)
	most := 0
	for i := range n {
		clock.Advance(every)
		key := strconv.Itoa(i)
		if err := s.Create(ctx, store.KindTransaction, key, []byte("tx"), ttl); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			e, err := s.Get(ctx, store.KindTransaction, key)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Swap(ctx, store.KindTransaction, key, e.Revision, []byte("tx2"), ttl); err != nil {
				t.Fatal(err)
			}
		}
		if i%3 == 0 {
			if _, err := s.Take(ctx, store.KindTransaction, key); err != nil {
				t.Fatal(err)
			}
		}
		most = max(most, s.Len())
	}
	if most > alive+1 {
		t.Fatalf("held up to %d entries with at most %d alive", most, alive+1)
	}
}

// TestSwapKeepsHeapConsistent mixes swaps that move expiries both ways with
// deletes and takes, then checks that exactly the right entries expire.
func TestSwapKeepsHeapConsistent(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Unix(0, 0))
	s := memory.New(memory.WithClock(clock.Now))
	defer s.Close()

	keys := []string{"a", "b", "c", "d", "e", "f"}
	for i, k := range keys {
		if err := s.Create(ctx, store.KindSession, k, []byte(k), time.Duration(i+1)*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	swap := func(k string, ttl time.Duration) {
		t.Helper()
		e, err := s.Get(ctx, store.KindSession, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Swap(ctx, store.KindSession, k, e.Revision, e.Value, ttl); err != nil {
			t.Fatal(err)
		}
	}
	swap("a", time.Hour)      // was first to expire, now last
	swap("f", 30*time.Second) // was last, now first
	if err := s.Delete(ctx, store.KindSession, "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Take(ctx, store.KindSession, "d"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(150 * time.Second) // past f (30s), b (2m); before e (5m), a (1h)
	// A write triggers the sweep.
	if err := s.Create(ctx, store.KindSession, "z", []byte("z"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Len(), 3; got != want { // a, e, z
		t.Fatalf("Len = %d, want %d", got, want)
	}
	for _, k := range []string{"a", "e", "z"} {
		if _, err := s.Get(ctx, store.KindSession, k); err != nil {
			t.Errorf("Get %s: %v", k, err)
		}
	}
}

func BenchmarkCreateTake(b *testing.B) {
	s := memory.New()
	defer s.Close()
	storetest.BenchCreateTake(b, s)
}

func BenchmarkCreateTakeParallel(b *testing.B) {
	s := memory.New()
	defer s.Close()
	storetest.BenchCreateTakeParallel(b, s)
}

// TestConformanceWithLimit runs the suite on a store with a limit it never
// reaches, so the bookkeeping of evictable entries runs under every case.
func TestConformanceWithLimit(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, func(time.Duration)) {
		clock := storetest.NewClock(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
		s := memory.New(memory.WithClock(clock.Now), memory.WithLimit(1<<30, nil, store.KindSession, store.KindTransaction))
		t.Cleanup(func() { _ = s.Close() })
		return s, clock.Advance
	})
}

// TestLimitEvictsOnlyEvictableKinds fills a limited store: the evictable
// kind gives way, least recently written first, and the others are never
// touched, even when the limit cannot be met without them.
func TestLimitEvictsOnlyEvictableKinds(t *testing.T) {
	ctx := context.Background()
	value := make([]byte, 800) // about 1 KB per entry with key and overhead
	var evicted []store.Kind
	s := memory.New(memory.WithLimit(10_500, func(k store.Kind) { evicted = append(evicted, k) }, store.KindSession))
	defer s.Close()

	for i := range 5 {
		if err := s.Create(ctx, store.KindReplay, "replay-"+strconv.Itoa(i), value, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		if err := s.Create(ctx, store.KindSession, "session-"+strconv.Itoa(i), value, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if len(evicted) != 0 {
		t.Fatalf("evicted %v below the limit (%d bytes)", evicted, s.Bytes())
	}
	// Session 0 is used again (a write), so session 1 is now the least
	// recently written.
	e, err := s.Get(ctx, store.KindSession, "session-0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Swap(ctx, store.KindSession, "session-0", e.Revision, value, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, store.KindSession, "session-5", value, time.Hour); err != nil {
		t.Fatal(err)
	}
	if len(evicted) != 1 || evicted[0] != store.KindSession {
		t.Fatalf("evicted %v, want one session", evicted)
	}
	if _, err := s.Get(ctx, store.KindSession, "session-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("least recently written session: %v, want it evicted", err)
	}
	for _, k := range []string{"session-0", "session-2", "session-5"} {
		if _, err := s.Get(ctx, store.KindSession, k); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	if s.Bytes() > 10_500 {
		t.Fatalf("holds %d bytes, over the limit", s.Bytes())
	}

	// Replay markers beyond the limit: every session goes, no marker does.
	for i := 5; i < 20; i++ {
		if err := s.Create(ctx, store.KindReplay, "replay-"+strconv.Itoa(i), value, time.Hour); err != nil {
			t.Fatalf("a write over the limit must still succeed: %v", err)
		}
	}
	for i := range 20 {
		if _, err := s.Get(ctx, store.KindReplay, "replay-"+strconv.Itoa(i)); err != nil {
			t.Fatalf("replay marker %d: %v (never evicted)", i, err)
		}
	}
	if n := s.Len(); n != 20 {
		t.Fatalf("%d entries, want the 20 markers alone", n)
	}

	// The accounting returns to zero.
	for i := range 20 {
		if _, err := s.Take(ctx, store.KindReplay, "replay-"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	if b := s.Bytes(); b != 0 {
		t.Fatalf("%d bytes counted in an empty store", b)
	}
}
