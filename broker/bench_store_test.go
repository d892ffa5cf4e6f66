package broker_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	redisstore "github.com/ozg-broker/eidas-broker/broker/store/redis"
	"github.com/ozg-broker/eidas-broker/broker/store/storetest"
)

// BenchmarkWholeLoginStore is BenchmarkWholeLogin on each store in the same
// run: the memory store and a real redis-server on loopback. It reports
// logins/s beside ns/op, the figure the performance notes compare.
func BenchmarkWholeLoginStore(b *testing.B) {
	stores := []struct {
		name string
		new  func(b *testing.B) store.Store
	}{
		{"memory", func(b *testing.B) store.Store { return memory.New() }},
		{"redis", func(b *testing.B) store.Store {
			srv := storetest.StartRedisServer(b)
			rs, err := redisstore.NewFromOptions(&redis.UniversalOptions{Addrs: []string{srv.Addr()}}, "bench")
			if err != nil {
				b.Fatal(err)
			}
			return rs
		}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			s := st.new(b)
			b.Cleanup(func() { _ = s.Close() })
			e := newEnvWithStore(b, s, nil)
			r := e.rp("portal", "portal-secret", rpRedirect)
			b.ReportAllocs()
			for b.Loop() {
				r.browser = e.newBrowser()
				r.login("erika", "high")
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
		})
	}
}
