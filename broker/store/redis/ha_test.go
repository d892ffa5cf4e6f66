package redisstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/storetest"
)

// opResult is one store round (create, read, take a key: what one login
// step does) and when it ended.
type opResult struct {
	start, end time.Time
	err        error
}

// TestClusterFailover kills a master of a real 3-master, 3-replica Redis
// Cluster while workers run store operations, measures how long Redis needs
// to promote the replica and how long the store fails, and requires the
// store to fail for at most the failover time plus 2 s.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a six-node Redis Cluster")
	}
	const nodeTimeout = 2 * time.Second
	setup := time.Now()
	c := storetest.StartRedisCluster(t, 3, nodeTimeout)
	t.Logf("cluster ready after %v", time.Since(setup).Round(time.Millisecond))
	s := newStore(t, &redis.UniversalOptions{Addrs: c.Addrs(), ContextTimeoutEnabled: true})

	var (
		mu      sync.Mutex
		results []opResult
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	round := func() error {
		// A request deadline, as the broker's handlers have.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		key := rand.Text()
		if err := s.Create(ctx, store.KindCode, key, []byte("v"), time.Minute); err != nil {
			return err
		}
		if _, err := s.Get(ctx, store.KindCode, key); err != nil {
			return err
		}
		_, err := s.Take(ctx, store.KindCode, key)
		return err
	}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				err := round()
				mu.Lock()
				results = append(results, opResult{start, time.Now(), err})
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond) // a client retrying, not a busy loop
				}
			}
		}()
	}
	time.Sleep(time.Second)
	killed := time.Now()
	c.Masters[0].Kill()
	failover := storetest.WaitPromoted(t, c.Replicas[0], killed, 30*time.Second)
	time.Sleep(failover + 3*time.Second)
	close(stop)
	wg.Wait()

	var before, after, failed int
	var last time.Time
	for _, r := range results {
		if r.start.Before(killed) && r.end.Before(killed) {
			before++
			if r.err != nil {
				t.Errorf("store failed before the kill: %v", r.err)
			}
			continue
		}
		after++
		if r.err != nil {
			failed++
			if !errors.Is(r.err, store.ErrUnavailable) {
				t.Errorf("failure is not ErrUnavailable (no clean 503): %v", r.err)
			}
			if r.end.After(last) {
				last = r.end
			}
		}
	}
	if failed == 0 {
		t.Fatal("no operation failed: the killed master held no slot the workers used?")
	}
	window := last.Sub(killed)
	t.Logf("cluster failover: node timeout %v, replica promoted after %v, store failed for %v after the kill "+
		"(%d of %d rounds after the kill failed, %d before it all fine)", nodeTimeout, failover.Round(time.Millisecond),
		window.Round(time.Millisecond), failed, after, before)
	if window > failover+2*time.Second {
		t.Errorf("store unavailable for %v, more than the failover time %v + 2s", window, failover)
	}
	// And afterwards everything works again.
	for range 20 {
		if err := round(); err != nil {
			t.Fatalf("after failover: %v", err)
		}
	}
}
