package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/internal/keyspace"
)

var _ store.Batcher = (*Store)(nil)

// Batch implements store.Batcher with one pipeline: the operations travel
// together and their answers come back together, one round trip (per node
// of a Cluster) instead of one each. Every command is the one the single
// method sends, so each operation keeps its atomicity; Swap is sent as
// EVAL with the script's text, because a pipeline cannot fall back from
// EVALSHA when the server does not know the script yet.
func (s *Store) Batch(ctx context.Context, ops []store.Op) []store.Result {
	out := make([]store.Result, len(ops))
	cmds := make([]redis.Cmder, len(ops))
	pipe := s.client.Pipeline()
	for i, op := range ops {
		name := op.Verb.String()
		k, err := s.begin(ctx, name, op.Kind, op.Key)
		if err != nil {
			out[i].Err = err
			continue
		}
		if op.Verb == store.OpCreate || op.Verb == store.OpSwap {
			if err := keyspace.CheckTTL(op.TTL); err != nil {
				out[i].Err = fmt.Errorf("redis store: %s %s: %w", name, op.Kind, err)
				continue
			}
		}
		switch op.Verb {
		case store.OpCreate:
			cmds[i] = pipe.SetNX(ctx, k, encode(newRevision(), op.Value), roundTTL(op.TTL))
		case store.OpGet:
			cmds[i] = pipe.Get(ctx, k)
		case store.OpSwap:
			cmds[i] = swapScript.Eval(ctx, pipe, []string{k}, swapArgs(op.Rev, op.Value, op.TTL)...)
		case store.OpTake:
			cmds[i] = pipe.GetDel(ctx, k)
		case store.OpDelete:
			cmds[i] = pipe.Del(ctx, k)
		default:
			out[i].Err = fmt.Errorf("redis store: batch: unknown operation %d: %w", op.Verb, store.ErrInvalid)
		}
	}
	if pipe.Len() > 0 {
		// Exec reports the first failed command; every command carries
		// its own error, read below.
		_, _ = pipe.Exec(ctx)
	}
	for i, c := range cmds {
		if c == nil {
			continue
		}
		kind := ops[i].Kind
		switch c := c.(type) {
		case *redis.BoolCmd:
			out[i].Err = createResult(ctx, kind, c)
		case *redis.StringCmd:
			if ops[i].Verb == store.OpGet {
				out[i].Entry, out[i].Err = getResult(ctx, kind, c)
			} else {
				out[i].Entry.Value, out[i].Err = takeResult(ctx, kind, c)
			}
		case *redis.Cmd:
			out[i].Err = swapResult(ctx, kind, c)
		case *redis.IntCmd:
			out[i].Err = deleteResult(ctx, kind, c)
		}
	}
	return out
}
