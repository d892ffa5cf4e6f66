package storetest

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store"
)

// BenchCreateTake measures the round trip every single-use item makes
// (authorization code, adapter challenge): Create, then Take, with a
// 256-byte value. Backends' benchmarks call it so figures compare.
func BenchCreateTake(b *testing.B, s store.Store) {
	ctx := b.Context()
	value := make([]byte, 256)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key := strconv.Itoa(i)
		i++
		if err := s.Create(ctx, store.KindCode, key, value, time.Minute); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Take(ctx, store.KindCode, key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchCreateTakeParallel is BenchCreateTake from GOMAXPROCS goroutines
// (times -cpu), on distinct keys: it shows lock or connection-pool
// contention.
func BenchCreateTakeParallel(b *testing.B, s store.Store) {
	ctx := b.Context()
	value := make([]byte, 256)
	var next atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := strconv.FormatUint(next.Add(1), 10)
			if err := s.Create(ctx, store.KindCode, key, value, time.Minute); err != nil {
				b.Error(err)
				return
			}
			if _, err := s.Take(ctx, store.KindCode, key); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
