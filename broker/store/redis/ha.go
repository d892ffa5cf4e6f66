package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Failover settings NewFromOptions applies (the timeouts are in redis.go).
const (
	// DefaultMaxRedirects follows MOVED/ASK a few more times than go-redis
	// (3) does: right after a failover or during a slot migration several
	// redirects in a row are normal.
	DefaultMaxRedirects = 8
	// DefaultClusterStateReload is how old the cached Cluster slot map may
	// get before the next command refreshes it in the background
	// (go-redis: 60s, which is how long a broker kept dialling a killed
	// master). A failed command refreshes it at once (reloadOnError).
	DefaultClusterStateReload = time.Second
)

// withDefaults returns a copy of opts with the failover settings. It never
// overrides a value the caller (the config file) chose, except that
// replicas are never read: a replica may not have a code that was just
// written, and single-use reads must happen where the delete happens.
func withDefaults(opts *redis.UniversalOptions) *redis.UniversalOptions {
	o := *opts
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	o.ReadOnly, o.RouteByLatency, o.RouteRandomly = false, false, false
	return &o
}

// isCluster mirrors NewUniversalClient's choice of a Cluster client.
func isCluster(o *redis.UniversalOptions) bool {
	return o.MasterName == "" && (len(o.Addrs) > 1 || o.IsClusterMode)
}

// newClient builds the client for opts; Cluster clients refresh their slot
// map on a short interval and right after a failed command.
func newClient(opts *redis.UniversalOptions) redis.UniversalClient {
	if !isCluster(opts) {
		return redis.NewUniversalClient(opts)
	}
	co := opts.Cluster()
	co.ClusterStateReloadInterval = DefaultClusterStateReload
	c := redis.NewClusterClient(co)
	c.AddHook(reloadOnError{c})
	return c
}

// reloadOnError asks the Cluster client to refresh its slot map whenever a
// command fails for another reason than a missing key. go-redis retries a
// failed command on the slot's master from its cached map, which still
// names the dead node until the map is refreshed; refreshing is rate
// limited by go-redis (one reload, then 200ms cool-down), so a burst of
// failures costs a few CLUSTER SLOTS calls, not one per request.
type reloadOnError struct{ c *redis.ClusterClient }

func (h reloadOnError) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h reloadOnError) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err != nil && !errors.Is(err, redis.Nil) {
			h.c.ReloadState(ctx)
		}
		return err
	}
}

func (h reloadOnError) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if err != nil && !errors.Is(err, redis.Nil) {
			h.c.ReloadState(ctx)
		}
		return err
	}
}

// ACLRule is what the broker's Redis user needs, for a key prefix P:
// "ACL SETUSER broker on >PASSWORD " + ACLRule(P). Only keys under the
// prefix, no channels, and only the commands the store and the rate limit
// counters send (plus connection setup and, for a Cluster, slot discovery).
// The TLS/ACL test runs the store under exactly this rule.
func ACLRule(prefix string) string {
	return "resetkeys ~" + prefix + ":* resetchannels -@all +@connection +get +set +getdel +del +mget +incrby +pexpire " +
		"+eval +evalsha +script|load +script|exists +command +cluster|slots +cluster|shards +cluster|nodes +readonly +readwrite"
}
