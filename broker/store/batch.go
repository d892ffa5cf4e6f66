package store

import (
	"context"
	"fmt"
	"time"
)

// Verb names the operation of an Op.
type Verb uint8

// The operations a batch can carry: the Store methods that name one key.
const (
	OpCreate Verb = iota + 1
	OpGet
	OpSwap
	OpTake
	OpDelete
)

// Op is one operation of a batch, with the arguments of the Store method of
// the same name: Value and TTL for Create and Swap, Rev for Swap.
type Op struct {
	Verb  Verb
	Kind  Kind
	Key   string
	Value []byte
	Rev   uint64
	TTL   time.Duration
}

// Result is what the Op's method would have returned: Err, and for Get the
// entry, for Take the value in Entry.Value.
type Result struct {
	Entry Entry
	Err   error
}

// Batcher is implemented by a store that can send several operations in one
// round trip (a Redis pipeline). Each operation keeps its own semantics and
// atomicity (a Take in a batch is as single use as any other), but nothing
// is atomic across them and their order is not guaranteed (a Redis Cluster
// sends each node its share): callers batch only operations that do not
// depend on one another. It answers one Result per Op, in order.
type Batcher interface {
	Batch(ctx context.Context, ops []Op) []Result
}

// Batch runs ops in one round trip when s is a Batcher, and one after the
// other otherwise. The results are the same either way.
func Batch(ctx context.Context, s Store, ops []Op) []Result {
	if b, ok := s.(Batcher); ok {
		return b.Batch(ctx, ops)
	}
	out := make([]Result, len(ops))
	for i, op := range ops {
		out[i] = Apply(ctx, s, op)
	}
	return out
}

// Apply runs one Op with the Store method it names.
func Apply(ctx context.Context, s Store, op Op) Result {
	switch op.Verb {
	case OpCreate:
		return Result{Err: s.Create(ctx, op.Kind, op.Key, op.Value, op.TTL)}
	case OpGet:
		e, err := s.Get(ctx, op.Kind, op.Key)
		return Result{Entry: e, Err: err}
	case OpSwap:
		return Result{Err: s.Swap(ctx, op.Kind, op.Key, op.Rev, op.Value, op.TTL)}
	case OpTake:
		v, err := s.Take(ctx, op.Kind, op.Key)
		return Result{Entry: Entry{Value: v}, Err: err}
	case OpDelete:
		return Result{Err: s.Delete(ctx, op.Kind, op.Key)}
	}
	return Result{Err: fmt.Errorf("store: unknown operation %d: %w", op.Verb, ErrInvalid)}
}

// String is the verb's Store method, in lower case: "create", "get", ...
func (v Verb) String() string {
	switch v {
	case OpCreate:
		return "create"
	case OpGet:
		return "get"
	case OpSwap:
		return "swap"
	case OpTake:
		return "take"
	case OpDelete:
		return "delete"
	}
	return "unknown"
}
