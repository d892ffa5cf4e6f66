package main

import (
	"github.com/ozg-broker/eidas-broker/broker/ratelimit"
	"github.com/ozg-broker/eidas-broker/broker/store"
	redisstore "github.com/ozg-broker/eidas-broker/broker/store/redis"
	"github.com/ozg-broker/eidas-broker/config"
)

// limitsConfig turns the limits block into the overload protection's
// runtime config. With the Redis store the counters live in the same Redis,
// so every replica enforces one shared limit.
func limitsConfig(l config.Limits, st store.Store) *ratelimit.Config {
	off := func(p *int) int {
		if p == nil {
			return 0 // default
		}
		if *p == 0 {
			return -1 // the file turned it off
		}
		return *p
	}
	rc := &ratelimit.Config{
		Window: l.Window.D(), QueueWait: l.QueueWait.D(), TrustedProxies: l.Proxies(),
		PerAddress: off(l.PerAddress), PerClient: off(l.PerClient), MaxInFlight: off(l.MaxInFlight),
	}
	if rs, ok := st.(*redisstore.Store); ok {
		rc.NewCounter = ratelimit.RedisCounters(rs.Client(), rs.Prefix())
	}
	return rc
}
