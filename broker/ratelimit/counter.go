package ratelimit

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-chi/httprate"
	"github.com/redis/go-redis/v9"
)

// fallbackCounter counts in the shared counter and, always, in this
// process. When the shared counter fails (Redis failing over), reads come
// from the local counts: limits then hold per replica instead of refusing
// every login while the store may already be back.
type fallbackCounter struct {
	primary httprate.LimitCounter
	local   httprate.LimitCounter
	count   *atomic.Uint64
	log     *slog.Logger
	lastLog atomic.Int64
}

var _ httprate.LimitCounter = (*fallbackCounter)(nil)

func (c *fallbackCounter) Config(limit int, window time.Duration) {
	c.primary.Config(limit, window)
	c.local.Config(limit, window)
}

func (c *fallbackCounter) Increment(key string, window time.Time) error {
	return c.IncrementBy(key, window, 1)
}

func (c *fallbackCounter) IncrementBy(key string, window time.Time, n int) error {
	_ = c.local.IncrementBy(key, window, n) // in memory; cannot fail
	if err := c.primary.IncrementBy(key, window, n); err != nil {
		c.failed(err)
	}
	return nil
}

func (c *fallbackCounter) Get(key string, cur, prev time.Time) (int, int, error) {
	a, b, err := c.primary.Get(key, cur, prev)
	if err != nil {
		c.failed(err)
		return c.local.Get(key, cur, prev)
	}
	return a, b, nil
}

func (c *fallbackCounter) failed(err error) {
	c.count.Add(1)
	now := time.Now().UnixNano()
	if last := c.lastLog.Load(); now-last > int64(10*time.Second) && c.lastLog.CompareAndSwap(last, now) {
		c.log.Warn("rate limit counter unavailable, counting per replica", "err", err)
	}
}

// DefaultCounterTimeout bounds one counter round trip: a rate limit must
// not add more latency than that to a login when Redis is slow.
const DefaultCounterTimeout = 150 * time.Millisecond

// incrScript adds to a window's counter and (re)sets its expiry in one
// round trip; the expiry outlives the window that reads it as "previous".
var incrScript = redis.NewScript(`
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n
`)

// RedisCounters returns a Config.NewCounter that keeps the counters in
// Redis under prefix, shared by every replica using the same Redis. Works
// with a single node, Sentinel and Cluster: the two windows of one key
// share a hash tag, so they live in one slot.
func RedisCounters(client redis.UniversalClient, prefix string) func(name string) httprate.LimitCounter {
	return func(name string) httprate.LimitCounter {
		p := "rl:" + name
		if prefix != "" {
			p = prefix + ":" + p
		}
		return &redisCounter{client: client, prefix: p, timeout: DefaultCounterTimeout}
	}
}

type redisCounter struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	window  time.Duration
}

var _ httprate.LimitCounter = (*redisCounter)(nil)

func (c *redisCounter) Config(_ int, window time.Duration) { c.window = window }

func (c *redisCounter) Increment(key string, window time.Time) error {
	return c.IncrementBy(key, window, 1)
}

func (c *redisCounter) IncrementBy(key string, window time.Time, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	ttl := strconv.FormatInt((3 * c.window).Milliseconds(), 10)
	return incrScript.Run(ctx, c.client, []string{c.key(key, window)}, n, ttl).Err()
}

func (c *redisCounter) Get(key string, cur, prev time.Time) (int, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	vals, err := c.client.MGet(ctx, c.key(key, cur), c.key(key, prev)).Result()
	if err != nil {
		return 0, 0, err
	}
	return atoi(vals[0]), atoi(vals[1]), nil
}

// key is prefix:{key}:window-start; the braces make it a Cluster hash tag.
func (c *redisCounter) key(key string, window time.Time) string {
	return c.prefix + ":{" + key + "}:" + strconv.FormatInt(window.UnixMilli(), 10)
}

func atoi(v any) int {
	s, ok := v.(string)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}
