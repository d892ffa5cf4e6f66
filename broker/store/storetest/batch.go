package storetest

import (
	"fmt"

	"testing"

	"github.com/ozg-broker/eidas-broker/broker/store"
)

// testBatch runs every kind of operation through store.Batch (a pipeline
// on backends that are a store.Batcher, one call after another on the
// rest) and checks each result is what the single method answers: the
// operations of one batch do not leak into each other, a refused one does
// not stop the rest, and the effects are visible afterwards.
func testBatch(t *testing.T, e *env) {
	e.create(t, store.KindTransaction, "exists", "old", longTTL)
	e.create(t, store.KindSession, "read", "r", longTTL)
	e.create(t, store.KindSession, "swap", "v1", longTTL)
	e.create(t, store.KindSession, "stale", "s1", longTTL)
	e.create(t, store.KindCode, "take", "grant", longTTL)
	e.create(t, store.KindAccess, "del", "d", longTTL)
	readRev := e.get(t, store.KindSession, "read").Revision
	swapRev := e.get(t, store.KindSession, "swap").Revision
	staleRev := e.get(t, store.KindSession, "stale").Revision

	res := store.Batch(t.Context(), e.s, []store.Op{
		{Verb: store.OpCreate, Kind: store.KindTransaction, Key: "new", Value: []byte("fresh"), TTL: longTTL},
		{Verb: store.OpCreate, Kind: store.KindTransaction, Key: "exists", Value: []byte("lost"), TTL: longTTL},
		{Verb: store.OpGet, Kind: store.KindSession, Key: "read"},
		{Verb: store.OpGet, Kind: store.KindSession, Key: "absent"},
		{Verb: store.OpSwap, Kind: store.KindSession, Key: "swap", Rev: swapRev, Value: []byte("v2"), TTL: longTTL},
		{Verb: store.OpSwap, Kind: store.KindSession, Key: "stale", Rev: staleRev + 1, Value: []byte("lost"), TTL: longTTL},
		{Verb: store.OpTake, Kind: store.KindCode, Key: "take"},
		{Verb: store.OpTake, Kind: store.KindCode, Key: "absent"},
		{Verb: store.OpDelete, Kind: store.KindAccess, Key: "del"},
		{Verb: store.OpCreate, Kind: store.KindTransaction, Key: "", Value: []byte("x"), TTL: longTTL},
		{Verb: store.OpCreate, Kind: store.KindTransaction, Key: "nottl", Value: []byte("x")},
		{Verb: 0, Kind: store.KindTransaction, Key: "what"},
	})
	if len(res) != 12 {
		t.Fatalf("Batch answered %d results for 12 operations", len(res))
	}
	for i, want := range []error{nil, store.ErrExists, nil, store.ErrNotFound, nil, store.ErrConflict,
		nil, store.ErrNotFound, nil, store.ErrInvalid, store.ErrInvalid, store.ErrInvalid} {
		if want == nil {
			if res[i].Err != nil {
				t.Errorf("operation %d: %v", i, res[i].Err)
			}
			continue
		}
		wantErr(t, fmt.Sprintf("batch operation %d", i), res[i].Err, want)
	}
	if string(res[2].Entry.Value) != "r" || res[2].Entry.Revision != readRev {
		t.Errorf("batched Get = %q rev %d, want \"r\" rev %d", res[2].Entry.Value, res[2].Entry.Revision, readRev)
	}
	if string(res[6].Entry.Value) != "grant" {
		t.Errorf("batched Take = %q, want \"grant\"", res[6].Entry.Value)
	}
	e.wantValue(t, store.KindTransaction, "new", "fresh")
	e.wantValue(t, store.KindTransaction, "exists", "old")
	if got := e.wantValue(t, store.KindSession, "swap", "v2"); got.Revision <= swapRev {
		t.Errorf("revision after batched Swap = %d, want > %d", got.Revision, swapRev)
	}
	e.wantValue(t, store.KindSession, "stale", "s1")
	e.wantAbsent(t, store.KindCode, "take")
	e.wantAbsent(t, store.KindAccess, "del")
	e.wantAbsent(t, store.KindTransaction, "nottl")
}

// testBatchTakeConcurrent races batched Takes of one key: a Take keeps its
// single use inside a pipeline.
func testBatchTakeConcurrent(t *testing.T, e *env) {
	e.create(t, store.KindCode, "once", "secret-grant", longTTL)
	got := make([][]byte, contenders)
	errs := race(contenders, func(i int) error {
		r := store.Batch(t.Context(), e.s, []store.Op{
			{Verb: store.OpTake, Kind: store.KindCode, Key: "once"},
			{Verb: store.OpDelete, Kind: store.KindCode, Key: "other"},
		})
		got[i] = r[0].Entry.Value
		if r[1].Err != nil {
			return r[1].Err
		}
		return r[0].Err
	})
	w := oneWinner(t, errs, store.ErrNotFound)
	if string(got[w]) != "secret-grant" {
		t.Fatalf("winner took %q, want secret-grant", got[w])
	}
}
