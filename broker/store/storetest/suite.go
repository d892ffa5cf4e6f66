package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store"
)

// contenders is how many goroutines race for one key in the concurrency
// cases; enough to make a non-atomic implementation lose reliably.
const contenders = 50

// Run runs the conformance suite against the backend built by newStore.
//
// newStore is called once per subtest and must return an open store whose key
// space is empty (a fresh instance, or a fresh prefix on a shared server) and
// register its own cleanup. advance moves the backend's clock forward; if the
// backend follows the wall clock (a real redis-server), advance is nil and
// the suite waits out short TTLs instead. The waits prove expiry happens, not
// how fast: they are generous and no case measures time.
func Run(t *testing.T, newStore func(t *testing.T) (s store.Store, advance func(time.Duration))) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, advance := newStore(t)
			c.run(t, &env{s: s, advance: advance})
		})
	}
}

var cases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"ping", testPing},
	{"create_get", testCreateGet},
	{"create_existing", testCreateExisting},
	{"create_concurrent", testCreateConcurrent},
	{"get_absent", testGetAbsent},
	{"take", testTake},
	{"take_twice", testTakeTwice},
	{"take_absent", testTakeAbsent},
	{"take_concurrent", testTakeConcurrent},
	{"expiry", testExpiry},
	{"expiry_per_key", testExpiryPerKey},
	{"swap", testSwap},
	{"swap_shortens_ttl", testSwapShortensTTL},
	{"swap_stale", testSwapStale},
	{"swap_absent", testSwapAbsent},
	{"swap_concurrent", testSwapConcurrent},
	{"swap_no_lost_updates", testSwapNoLostUpdates},
	{"revision_not_reused", testRevisionNotReused},
	{"kinds_separate", testKindsSeparate},
	{"keys_opaque", testKeysOpaque},
	{"values_binary", testValuesBinary},
	{"value_slices", testValueSlices},
	{"delete", testDelete},
	{"batch", testBatch},
	{"batch_take_concurrent", testBatchTakeConcurrent},
	{"invalid_arguments", testInvalidArguments},
	{"cancelled_context", testCancelledContext},
	{"closed", testClosed},
}

// env is one subtest's store and clock.
type env struct {
	s       store.Store
	advance func(time.Duration)
}

// Real-clock TTLs: short enough to keep the suite quick, long enough that a
// loaded machine does not expire a key between two consecutive calls.
const (
	realShortTTL = 300 * time.Millisecond
	realMargin   = 250 * time.Millisecond
	fakeShortTTL = time.Minute
	fakeMargin   = time.Second
	longTTL      = time.Hour
)

func (e *env) fake() bool { return e.advance != nil }

// shortTTL is a TTL the case will outlive by calling expire.
func (e *env) shortTTL() time.Duration {
	if e.fake() {
		return fakeShortTTL
	}
	return realShortTTL
}

// expire lets shortTTL pass, with a margin.
func (e *env) expire() {
	if e.fake() {
		e.advance(fakeShortTTL + fakeMargin)
		return
	}
	time.Sleep(realShortTTL + realMargin)
}

// almostExpire moves a fake clock to just before shortTTL ends, so cases can
// prove a key is still there at the last moment. With a real clock it does
// nothing: asserting "not yet" would be a timing test.
func (e *env) almostExpire() {
	if e.fake() {
		e.advance(fakeShortTTL - fakeMargin)
	}
}

func (e *env) create(t *testing.T, kind store.Kind, key, value string, ttl time.Duration) {
	t.Helper()
	if err := e.s.Create(t.Context(), kind, key, []byte(value), ttl); err != nil {
		t.Fatalf("Create(%s, %q): %v", kind, key, err)
	}
}

func (e *env) get(t *testing.T, kind store.Kind, key string) store.Entry {
	t.Helper()
	got, err := e.s.Get(t.Context(), kind, key)
	if err != nil {
		t.Fatalf("Get(%s, %q): %v", kind, key, err)
	}
	return got
}

func (e *env) wantValue(t *testing.T, kind store.Kind, key, want string) store.Entry {
	t.Helper()
	got := e.get(t, kind, key)
	if string(got.Value) != want {
		t.Fatalf("Get(%s, %q) = %q, want %q", kind, key, got.Value, want)
	}
	return got
}

func (e *env) wantAbsent(t *testing.T, kind store.Kind, key string) {
	t.Helper()
	got, err := e.s.Get(t.Context(), kind, key)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%s, %q) = %q, %v; want ErrNotFound", kind, key, got.Value, err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

// race runs f(0..n-1) in n goroutines released together, so they contend
// for the same key at the same moment.
func race(n int, f func(i int) error) []error {
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner asserts that exactly one error is nil and all others match
// loser; it returns the winner's index.
func oneWinner(t *testing.T, errs []error, loser error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("contenders %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, loser):
			t.Fatalf("contender %d: err = %v, want %v", i, err, loser)
		}
	}
	if winner < 0 {
		t.Fatalf("no contender won")
	}
	return winner
}

func testPing(t *testing.T, e *env) {
	if err := e.s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testCreateGet(t *testing.T, e *env) {
	e.create(t, store.KindTransaction, "k", "v1", longTTL)
	got := e.wantValue(t, store.KindTransaction, "k", "v1")
	if got.Revision == 0 {
		t.Errorf("Revision = 0; revisions start above zero so 0 never matches")
	}
}

func testCreateExisting(t *testing.T, e *env) {
	e.create(t, store.KindReplay, "id", "first", longTTL)
	before := e.get(t, store.KindReplay, "id")
	err := e.s.Create(t.Context(), store.KindReplay, "id", []byte("second"), longTTL)
	wantErr(t, "second Create", err, store.ErrExists)
	after := e.wantValue(t, store.KindReplay, "id", "first")
	if after.Revision != before.Revision {
		t.Errorf("failed Create changed revision %d -> %d", before.Revision, after.Revision)
	}
}

func testCreateConcurrent(t *testing.T, e *env) {
	errs := race(contenders, func(i int) error {
		return e.s.Create(t.Context(), store.KindReplay, "msg-id", []byte(strconv.Itoa(i)), longTTL)
	})
	w := oneWinner(t, errs, store.ErrExists)
	e.wantValue(t, store.KindReplay, "msg-id", strconv.Itoa(w))
}

func testGetAbsent(t *testing.T, e *env) {
	e.wantAbsent(t, store.KindSession, "nope")
}

func testTake(t *testing.T, e *env) {
	e.create(t, store.KindCode, "c", "payload", longTTL)
	got, err := e.s.Take(t.Context(), store.KindCode, "c")
	if err != nil || string(got) != "payload" {
		t.Fatalf("Take = %q, %v; want payload", got, err)
	}
	e.wantAbsent(t, store.KindCode, "c")
}

func testTakeTwice(t *testing.T, e *env) {
	e.create(t, store.KindCode, "c", "payload", longTTL)
	if _, err := e.s.Take(t.Context(), store.KindCode, "c"); err != nil {
		t.Fatalf("first Take: %v", err)
	}
	got, err := e.s.Take(t.Context(), store.KindCode, "c")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second Take = %q, %v; want ErrNotFound", got, err)
	}
}

func testTakeAbsent(t *testing.T, e *env) {
	_, err := e.s.Take(t.Context(), store.KindRefresh, "never")
	wantErr(t, "Take absent", err, store.ErrNotFound)
}

func testTakeConcurrent(t *testing.T, e *env) {
	e.create(t, store.KindCode, "once", "secret-grant", longTTL)
	got := make([][]byte, contenders)
	errs := race(contenders, func(i int) error {
		v, err := e.s.Take(t.Context(), store.KindCode, "once")
		got[i] = v
		return err
	})
	w := oneWinner(t, errs, store.ErrNotFound)
	if string(got[w]) != "secret-grant" {
		t.Fatalf("winner took %q, want secret-grant", got[w])
	}
	e.wantAbsent(t, store.KindCode, "once")
}

func testExpiry(t *testing.T, e *env) {
	// One key per operation, so each meets an entry that expired rather than
	// one a previous operation already cleaned up.
	for _, k := range []string{"get", "take", "swap", "create", "delete"} {
		e.create(t, store.KindSession, k, "old", e.shortTTL())
	}
	rev := e.get(t, store.KindSession, "swap").Revision
	e.almostExpire()
	e.wantValue(t, store.KindSession, "get", "old")
	e.expire()

	e.wantAbsent(t, store.KindSession, "get")
	_, err := e.s.Take(t.Context(), store.KindSession, "take")
	wantErr(t, "Take expired", err, store.ErrNotFound)
	err = e.s.Swap(t.Context(), store.KindSession, "swap", rev, []byte("new"), longTTL)
	wantErr(t, "Swap expired", err, store.ErrNotFound)
	e.wantAbsent(t, store.KindSession, "swap") // the failed Swap did not revive it
	if err := e.s.Delete(t.Context(), store.KindSession, "delete"); err != nil {
		t.Fatalf("Delete expired: %v", err)
	}
	e.create(t, store.KindSession, "create", "new", longTTL)
	e.wantValue(t, store.KindSession, "create", "new")
}

func testExpiryPerKey(t *testing.T, e *env) {
	e.create(t, store.KindAccess, "short", "s", e.shortTTL())
	e.create(t, store.KindAccess, "long", "l", longTTL)
	e.expire()
	e.wantAbsent(t, store.KindAccess, "short")
	e.wantValue(t, store.KindAccess, "long", "l")
}

func testSwap(t *testing.T, e *env) {
	e.create(t, store.KindSession, "s", "v1", e.shortTTL())
	r1 := e.get(t, store.KindSession, "s").Revision
	if err := e.s.Swap(t.Context(), store.KindSession, "s", r1, []byte("v2"), longTTL); err != nil {
		t.Fatalf("Swap current revision: %v", err)
	}
	r2 := e.wantValue(t, store.KindSession, "s", "v2").Revision
	if r2 <= r1 {
		t.Fatalf("revision after Swap = %d, want > %d", r2, r1)
	}
	// The Swap set the long TTL: outliving the original one changes nothing.
	e.expire()
	e.wantValue(t, store.KindSession, "s", "v2")
	if err := e.s.Swap(t.Context(), store.KindSession, "s", r2, []byte("v3"), longTTL); err != nil {
		t.Fatalf("second Swap: %v", err)
	}
	if r3 := e.wantValue(t, store.KindSession, "s", "v3").Revision; r3 <= r2 {
		t.Fatalf("revision after second Swap = %d, want > %d", r3, r2)
	}
}

func testSwapShortensTTL(t *testing.T, e *env) {
	e.create(t, store.KindSession, "s", "v1", longTTL)
	r := e.get(t, store.KindSession, "s").Revision
	if err := e.s.Swap(t.Context(), store.KindSession, "s", r, []byte("v2"), e.shortTTL()); err != nil {
		t.Fatalf("Swap: %v", err)
	}
	e.expire()
	e.wantAbsent(t, store.KindSession, "s")
}

func testSwapStale(t *testing.T, e *env) {
	e.create(t, store.KindTransaction, "tx", "v1", longTTL)
	r1 := e.get(t, store.KindTransaction, "tx").Revision
	if err := e.s.Swap(t.Context(), store.KindTransaction, "tx", r1, []byte("v2"), longTTL); err != nil {
		t.Fatalf("Swap: %v", err)
	}
	r2 := e.get(t, store.KindTransaction, "tx").Revision
	for _, stale := range []uint64{r1, 0, r2 + 1, r2 + 1000} {
		err := e.s.Swap(t.Context(), store.KindTransaction, "tx", stale, []byte("lost"), longTTL)
		wantErr(t, fmt.Sprintf("Swap with revision %d (current %d)", stale, r2), err, store.ErrConflict)
	}
	if got := e.wantValue(t, store.KindTransaction, "tx", "v2"); got.Revision != r2 {
		t.Fatalf("failed Swaps changed revision %d -> %d", r2, got.Revision)
	}
}

func testSwapAbsent(t *testing.T, e *env) {
	err := e.s.Swap(t.Context(), store.KindTransaction, "none", 1, []byte("v"), longTTL)
	wantErr(t, "Swap absent", err, store.ErrNotFound)
	e.wantAbsent(t, store.KindTransaction, "none") // Swap never creates

	e.create(t, store.KindTransaction, "gone", "v", longTTL)
	r := e.get(t, store.KindTransaction, "gone").Revision
	if err := e.s.Delete(t.Context(), store.KindTransaction, "gone"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	err = e.s.Swap(t.Context(), store.KindTransaction, "gone", r, []byte("v2"), longTTL)
	wantErr(t, "Swap deleted", err, store.ErrNotFound)
}

func testSwapConcurrent(t *testing.T, e *env) {
	e.create(t, store.KindSession, "s", "start", longTTL)
	// Several rounds: each revision admits exactly one writer.
	for round := range 3 {
		rev := e.get(t, store.KindSession, "s").Revision
		errs := race(contenders, func(i int) error {
			v := fmt.Sprintf("r%d-w%d", round, i)
			return e.s.Swap(t.Context(), store.KindSession, "s", rev, []byte(v), longTTL)
		})
		w := oneWinner(t, errs, store.ErrConflict)
		got := e.wantValue(t, store.KindSession, "s", fmt.Sprintf("r%d-w%d", round, w))
		if got.Revision <= rev {
			t.Fatalf("round %d: revision %d, want > %d", round, got.Revision, rev)
		}
	}
}

// testSwapNoLostUpdates is the read-modify-write loop callers run: every
// increment must survive, however the goroutines interleave.
func testSwapNoLostUpdates(t *testing.T, e *env) {
	const workers, increments, maxAttempts = 8, 25, 100000
	e.create(t, store.KindSession, "counter", "0", longTTL)
	errs := race(workers, func(int) error {
		for range increments {
			for attempt := 0; ; attempt++ {
				if attempt == maxAttempts {
					return errors.New("no progress")
				}
				cur, err := e.s.Get(t.Context(), store.KindSession, "counter")
				if err != nil {
					return err
				}
				n, err := strconv.Atoi(string(cur.Value))
				if err != nil {
					return err
				}
				err = e.s.Swap(t.Context(), store.KindSession, "counter", cur.Revision, []byte(strconv.Itoa(n+1)), longTTL)
				if err == nil {
					break
				}
				if !errors.Is(err, store.ErrConflict) {
					return err
				}
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
	e.wantValue(t, store.KindSession, "counter", strconv.Itoa(workers*increments))
}

// testRevisionNotReused: a Swap prepared against one incarnation of a key
// must not land on the next incarnation (ABA), whether the first one was
// deleted, taken or expired.
func testRevisionNotReused(t *testing.T, e *env) {
	ends := []struct {
		name string
		ttl  time.Duration
		end  func(t *testing.T, key string)
	}{
		{"delete", longTTL, func(t *testing.T, key string) {
			if err := e.s.Delete(t.Context(), store.KindTransaction, key); err != nil {
				t.Fatalf("Delete: %v", err)
			}
		}},
		{"take", longTTL, func(t *testing.T, key string) {
			if _, err := e.s.Take(t.Context(), store.KindTransaction, key); err != nil {
				t.Fatalf("Take: %v", err)
			}
		}},
		{"expire", e.shortTTL(), func(t *testing.T, key string) { e.expire() }},
	}
	for _, end := range ends {
		t.Run(end.name, func(t *testing.T) {
			key := "aba-" + end.name
			e.create(t, store.KindTransaction, key, "old", end.ttl)
			old := e.get(t, store.KindTransaction, key).Revision
			end.end(t, key)
			e.create(t, store.KindTransaction, key, "new", longTTL)
			cur := e.get(t, store.KindTransaction, key).Revision
			if cur == old {
				t.Fatalf("new incarnation reuses revision %d", old)
			}
			err := e.s.Swap(t.Context(), store.KindTransaction, key, old, []byte("lost"), longTTL)
			wantErr(t, "Swap with old incarnation's revision", err, store.ErrConflict)
			e.wantValue(t, store.KindTransaction, key, "new")
		})
	}
}

func testKindsSeparate(t *testing.T, e *env) {
	kinds := []store.Kind{
		store.KindTransaction, store.KindCode, store.KindSession, store.KindRefresh,
		store.KindAccess, store.KindReplay, store.KindJTI, store.KindChallenge,
	}
	for _, k := range kinds {
		e.create(t, k, "same", string(k), longTTL)
	}
	for _, k := range kinds {
		e.wantValue(t, k, "same", string(k))
	}
	if v, err := e.s.Take(t.Context(), store.KindCode, "same"); err != nil || string(v) != "code" {
		t.Fatalf("Take code = %q, %v", v, err)
	}
	if err := e.s.Delete(t.Context(), store.KindSession, "same"); err != nil {
		t.Fatalf("Delete session: %v", err)
	}
	e.wantAbsent(t, store.KindCode, "same")
	e.wantAbsent(t, store.KindSession, "same")
	e.wantValue(t, store.KindRefresh, "same", "refresh")
	e.wantValue(t, store.KindAccess, "same", "access")

	// One kind a prefix of another, with the rest moved into the key: the
	// pairs must stay distinct.
	e.create(t, "tx", "_1", "a", longTTL)
	e.create(t, "tx_", "1", "b", longTTL)
	e.wantValue(t, "tx", "_1", "a")
	e.wantValue(t, "tx_", "1", "b")
}

func testKeysOpaque(t *testing.T, e *env) {
	keys := []string{
		"a", "a\x00", ":", "a:b:c", "tx:a", "{hash-tag}", " spaced ", "*", "?[]",
		"\u00fcmlaut", "\xff\xfe", "line\nbreak", strings.Repeat("k", 4096),
	}
	for i, k := range keys {
		e.create(t, store.KindJTI, k, strconv.Itoa(i), longTTL)
	}
	for i, k := range keys {
		e.wantValue(t, store.KindJTI, k, strconv.Itoa(i))
	}
}

func testValuesBinary(t *testing.T, e *env) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := make([]byte, 1<<20)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	values := []struct {
		name string
		v    []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"all_bytes", all},
		{"short", []byte{0}}, // shorter than any revision prefix a backend might use
		{"one_mib", big},
	}
	for _, tc := range values {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.s.Create(t.Context(), store.KindSession, tc.name, tc.v, longTTL); err != nil {
				t.Fatalf("Create: %v", err)
			}
			got := e.get(t, store.KindSession, tc.name)
			if !bytes.Equal(got.Value, tc.v) {
				t.Fatalf("Get returned %d bytes, want %d equal bytes", len(got.Value), len(tc.v))
			}
			if err := e.s.Swap(t.Context(), store.KindSession, tc.name, got.Revision, tc.v, longTTL); err != nil {
				t.Fatalf("Swap: %v", err)
			}
			took, err := e.s.Take(t.Context(), store.KindSession, tc.name)
			if err != nil || !bytes.Equal(took, tc.v) {
				t.Fatalf("Take returned %d bytes, %v; want %d equal bytes", len(took), err, len(tc.v))
			}
		})
	}
}

func testValueSlices(t *testing.T, e *env) {
	if err := e.s.Create(t.Context(), store.KindSession, "k", []byte("original"), longTTL); err != nil {
		t.Fatalf("Create: %v", err)
	}
	got := e.wantValue(t, store.KindSession, "k", "original")
	// A read value is read-only (the memory store shares it), but a
	// reader appending to it must get a copy, never grow the stored one.
	grown := append(got.Value, '!')
	grown[0] = 'Y'
	got = e.wantValue(t, store.KindSession, "k", "original")

	// A written slice with spare capacity is the caller's no longer, but
	// an append to what a reader gets still cannot reach into it.
	sw := make([]byte, 0, 64)
	sw = append(sw, "swapped"...)
	if err := e.s.Swap(t.Context(), store.KindSession, "k", got.Revision, sw, longTTL); err != nil {
		t.Fatalf("Swap: %v", err)
	}
	got = e.wantValue(t, store.KindSession, "k", "swapped")
	grown = append(got.Value, '!')
	grown[0] = 'Y'
	e.wantValue(t, store.KindSession, "k", "swapped")
}

func testDelete(t *testing.T, e *env) {
	if err := e.s.Delete(t.Context(), store.KindRefresh, "absent"); err != nil {
		t.Fatalf("Delete absent: %v", err)
	}
	e.create(t, store.KindRefresh, "r", "v", longTTL)
	if err := e.s.Delete(t.Context(), store.KindRefresh, "r"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	e.wantAbsent(t, store.KindRefresh, "r")
	if err := e.s.Delete(t.Context(), store.KindRefresh, "r"); err != nil {
		t.Fatalf("Delete again: %v", err)
	}
	e.create(t, store.KindRefresh, "r", "again", longTTL)
	e.wantValue(t, store.KindRefresh, "r", "again")
}

func testInvalidArguments(t *testing.T, e *env) {
	e.create(t, store.KindSession, "present", "v", longTTL)
	rev := e.get(t, store.KindSession, "present").Revision

	type call struct {
		name string
		do   func(ctx context.Context) error
	}
	var calls []call
	addr := []struct {
		name string
		kind store.Kind
		key  string
	}{
		{"empty_kind", "", "k"},
		{"upper_kind", "TX", "k"},
		{"colon_kind", "tx:x", "k"},
		{"dash_kind", "tx-x", "k"},
		{"space_kind", "t x", "k"},
		{"non_ascii_kind", "t\u00fc", "k"},
		{"empty_key", store.KindSession, ""},
	}
	for _, a := range addr {
		calls = append(calls,
			call{"create_" + a.name, func(ctx context.Context) error {
				return e.s.Create(ctx, a.kind, a.key, []byte("v"), longTTL)
			}},
			call{"get_" + a.name, func(ctx context.Context) error {
				_, err := e.s.Get(ctx, a.kind, a.key)
				return err
			}},
			call{"swap_" + a.name, func(ctx context.Context) error {
				return e.s.Swap(ctx, a.kind, a.key, 1, []byte("v"), longTTL)
			}},
			call{"take_" + a.name, func(ctx context.Context) error {
				_, err := e.s.Take(ctx, a.kind, a.key)
				return err
			}},
			call{"delete_" + a.name, func(ctx context.Context) error {
				return e.s.Delete(ctx, a.kind, a.key)
			}},
		)
	}
	for _, ttl := range []time.Duration{0, -time.Second, -1} {
		calls = append(calls,
			call{fmt.Sprintf("create_ttl_%d", ttl), func(ctx context.Context) error {
				return e.s.Create(ctx, store.KindSession, "new", []byte("v"), ttl)
			}},
			call{fmt.Sprintf("swap_ttl_%d", ttl), func(ctx context.Context) error {
				return e.s.Swap(ctx, store.KindSession, "present", rev, []byte("changed"), ttl)
			}},
		)
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			err := c.do(t.Context())
			wantErr(t, c.name, err, store.ErrInvalid)
			if errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("%s: invalid argument reported as outage: %v", c.name, err)
			}
		})
	}
	// Refused calls changed nothing.
	e.wantAbsent(t, store.KindSession, "new")
	if got := e.wantValue(t, store.KindSession, "present", "v"); got.Revision != rev {
		t.Fatalf("refused Swap changed revision %d -> %d", rev, got.Revision)
	}
}

// everyMethod calls each Store method once on (kind, key) and returns the
// errors by method name. Close is left out: callers decide about it.
func everyMethod(ctx context.Context, s store.Store, kind store.Kind, key string, rev uint64) map[string]error {
	errs := make(map[string]error)
	errs["Create"] = s.Create(ctx, kind, key+"-new", []byte("v"), longTTL)
	_, errs["Get"] = s.Get(ctx, kind, key)
	errs["Swap"] = s.Swap(ctx, kind, key, rev, []byte("v2"), longTTL)
	_, errs["Take"] = s.Take(ctx, kind, key)
	errs["Delete"] = s.Delete(ctx, kind, key)
	errs["Ping"] = s.Ping(ctx)
	res := store.Batch(ctx, s, []store.Op{
		{Verb: store.OpCreate, Kind: kind, Key: key + "-new", Value: []byte("v"), TTL: longTTL},
		{Verb: store.OpGet, Kind: kind, Key: key},
		{Verb: store.OpSwap, Kind: kind, Key: key, Rev: rev, Value: []byte("v2"), TTL: longTTL},
		{Verb: store.OpTake, Kind: kind, Key: key},
		{Verb: store.OpDelete, Kind: kind, Key: key},
	})
	for i, m := range batchMethods {
		errs[m] = res[i].Err
	}
	return errs
}

// batchMethods names the operations everyMethod sends in one batch.
var batchMethods = []string{"Batch create", "Batch get", "Batch swap", "Batch take", "Batch delete"}

// WantUnavailable calls every method of s except Close with a live context
// and fails t unless each returns an error wrapping store.ErrUnavailable. It
// is the check for a closed store or an unreachable backend; a panic fails
// the test as well. Backends' own tests use it for outages the suite cannot
// produce (a server going away). Close is left out because closing a store
// whose backend is down must still succeed in releasing its resources.
func WantUnavailable(t *testing.T, s store.Store) {
	t.Helper()
	errs := everyMethod(t.Context(), s, store.KindCode, "k", 1)
	for _, m := range append([]string{"Create", "Get", "Swap", "Take", "Delete", "Ping"}, batchMethods...) {
		if !errors.Is(errs[m], store.ErrUnavailable) {
			t.Errorf("%s: err = %v, want ErrUnavailable", m, errs[m])
		}
	}
}

// testCancelledContext: a finished context fails closed like an outage and
// has no effect, so a request abandoned mid-way never half-writes.
func testCancelledContext(t *testing.T, e *env) {
	e.create(t, store.KindCode, "k", "v", longTTL)
	rev := e.get(t, store.KindCode, "k").Revision
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// With the current revision, a backend ignoring the context would
	// succeed, and the checks below would see the change.
	for m, err := range everyMethod(ctx, e.s, store.KindCode, "k", rev) {
		if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Errorf("%s with cancelled context: err = %v, want ErrUnavailable and context.Canceled", m, err)
		}
	}
	e.wantAbsent(t, store.KindCode, "k-new")
	if got := e.wantValue(t, store.KindCode, "k", "v"); got.Revision != rev {
		t.Fatalf("cancelled calls changed revision %d -> %d", rev, got.Revision)
	}
}

func testClosed(t *testing.T, e *env) {
	e.create(t, store.KindCode, "k", "v", longTTL)
	if err := e.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	WantUnavailable(t, e.s)
	wantErr(t, "second Close", e.s.Close(), store.ErrUnavailable)
}
