package redisstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/internal/keyspace"
)

var _ store.Store = (*Store)(nil)

// revLen is the size of the big-endian revision in front of every value.
const revLen = 8

// maxStartRev bounds a new entry's random first revision, leaving 2^62
// increments of headroom before a uint64 could wrap.
const maxStartRev = 1 << 62

// swapScript is compare-and-swap on the revision bytes. Replies: 1 swapped,
// 0 key absent (or expired), -1 revision differs, -2 entry too short to hold
// a revision (not written by this package).
var swapScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if #cur < 8 then return -2 end
if string.sub(cur, 1, 8) ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// Store is the Redis store.Store. It owns its client: Close closes it.
type Store struct {
	client redis.UniversalClient
	prefix string
	closed atomic.Bool
}

// New returns a Store that keeps its entries under prefix (the namespace
// that lets several brokers or environments share one Redis). The Store takes
// ownership of client and closes it on Close.
func New(client redis.UniversalClient, prefix string) *Store {
	return &Store{client: client, prefix: prefix}
}

// Timeouts NewFromOptions applies where opts leave them zero. A Redis that
// hangs (it accepts connections but does not answer) then costs a request
// at most about half a second per store call before the broker answers
// 503, instead of go-redis's defaults (5 s dial, 3 s read, plus retries).
// A healthy Redis answers in well under a millisecond.
const (
	DefaultDialTimeout  = 500 * time.Millisecond
	DefaultReadTimeout  = 500 * time.Millisecond
	DefaultWriteTimeout = 500 * time.Millisecond
)

// NewFromOptions builds the client from opts (one address: single node; a
// MasterName: Sentinel; several addresses or IsClusterMode: Cluster) and
// returns a Store owning it. It does not contact Redis; use Ping for that.
//
// It changes opts where the store's contract demands it:
//   - zero dial, read and write timeouts get the defaults above, and the
//     wait for a free pooled connection is bounded by the read timeout, so
//     a hung Redis cannot hold requests for seconds;
//   - MaxRetries 0 (go-redis: three retries) becomes -1, no retries. A
//     command whose answer timed out may still have run on the server, and
//     running GETDEL or SET NX a second time changes its answer: the retry
//     of a Take that did run reports "not found", that of a Create "already
//     exists". The broker answers 503 instead and the client retries the
//     whole request, which is safe;
//   - ContextTimeoutEnabled is set, so a request's deadline bounds its
//     store calls.
//   - a Cluster client refreshes its slot map every second and right after
//     a failed command, follows up to DefaultMaxRedirects redirects and
//     reads only masters (ha.go), so it follows a failover as soon as Redis
//     has promoted the replica.
func NewFromOptions(opts *redis.UniversalOptions, prefix string) (*Store, error) {
	if opts == nil {
		return nil, errors.New("new redis store: nil options")
	}
	if len(opts.Addrs) == 0 {
		// go-redis would silently fall back to a default local address.
		return nil, errors.New("new redis store: no address")
	}
	o := *opts
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.PoolTimeout == 0 && o.ReadTimeout > 0 {
		o.PoolTimeout = o.ReadTimeout
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = -1
	}
	o.ContextTimeoutEnabled = true
	return New(newClient(withDefaults(&o)), prefix), nil
}

// Refusal returns the reply with which the Redis server refused a command
// when err carries one that retrying will not cure: a wrong or missing
// password (WRONGPASS, NOAUTH), an ACL user without permission (NOPERM), a
// bad database number or another ERR of the connection handshake. The
// server was reached, so this is a configuration error, unlike a network
// failure or a transient state (LOADING, BUSY, MASTERDOWN, CLUSTERDOWN,
// TRYAGAIN, READONLY), for which ok is false.
func Refusal(err error) (reply string, ok bool) {
	var re redis.Error
	if err == nil || !errors.As(err, &re) || errors.Is(err, redis.Nil) {
		return "", false
	}
	reply = re.Error()
	code, _, _ := strings.Cut(reply, " ")
	switch code {
	case "LOADING", "BUSY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "MOVED", "ASK":
		return "", false
	}
	return reply, true
}

// Client is the go-redis client the Store owns, for other users of the same
// Redis (the rate limit counters). It must not be closed by them.
func (s *Store) Client() redis.UniversalClient { return s.client }

// Prefix is the key prefix given to New.
func (s *Store) Prefix() string { return s.prefix }

// Create implements store.Store with SET NX PX.
func (s *Store) Create(ctx context.Context, kind store.Kind, key string, value []byte, ttl time.Duration) error {
	k, err := s.begin(ctx, "create", kind, key)
	if err != nil {
		return err
	}
	if err := keyspace.CheckTTL(ttl); err != nil {
		return fmt.Errorf("redis store: create %s: %w", kind, err)
	}
	return createResult(ctx, kind, s.client.SetNX(ctx, k, encode(newRevision(), value), roundTTL(ttl)))
}

func createResult(ctx context.Context, kind store.Kind, cmd *redis.BoolCmd) error {
	ok, err := cmd.Result()
	if err != nil {
		return unavailable(ctx, "create", kind, err)
	}
	if !ok {
		return fmt.Errorf("redis store: create %s: %w", kind, store.ErrExists)
	}
	return nil
}

// Get implements store.Store with GET.
func (s *Store) Get(ctx context.Context, kind store.Kind, key string) (store.Entry, error) {
	k, err := s.begin(ctx, "get", kind, key)
	if err != nil {
		return store.Entry{}, err
	}
	return getResult(ctx, kind, s.client.Get(ctx, k))
}

func getResult(ctx context.Context, kind store.Kind, cmd *redis.StringCmd) (store.Entry, error) {
	raw, err := cmd.Bytes()
	if err != nil {
		return store.Entry{}, readErr(ctx, "get", kind, err)
	}
	rev, value, err := decode(raw)
	if err != nil {
		return store.Entry{}, unavailable(ctx, "get", kind, err)
	}
	return store.Entry{Value: value, Revision: rev}, nil
}

// Swap implements store.Store with a compare-and-swap script.
func (s *Store) Swap(ctx context.Context, kind store.Kind, key string, rev uint64, value []byte, ttl time.Duration) error {
	k, err := s.begin(ctx, "swap", kind, key)
	if err != nil {
		return err
	}
	if err := keyspace.CheckTTL(ttl); err != nil {
		return fmt.Errorf("redis store: swap %s: %w", kind, err)
	}
	return swapResult(ctx, kind, swapScript.Run(ctx, s.client, []string{k}, swapArgs(rev, value, ttl)...))
}

// swapArgs are the script's arguments: the expected revision bytes, the new
// entry and its TTL in milliseconds.
func swapArgs(rev uint64, value []byte, ttl time.Duration) []any {
	var want [revLen]byte
	binary.BigEndian.PutUint64(want[:], rev)
	return []any{want[:], encode(rev+1, value), strconv.FormatInt(roundTTL(ttl).Milliseconds(), 10)}
}

func swapResult(ctx context.Context, kind store.Kind, cmd *redis.Cmd) error {
	res, err := cmd.Int64()
	if err != nil {
		return unavailable(ctx, "swap", kind, err)
	}
	switch res {
	case 1:
		return nil
	case 0:
		return fmt.Errorf("redis store: swap %s: %w", kind, store.ErrNotFound)
	case -1:
		return fmt.Errorf("redis store: swap %s: %w", kind, store.ErrConflict)
	case -2:
		return unavailable(ctx, "swap", kind, errCorrupt)
	default:
		return unavailable(ctx, "swap", kind, fmt.Errorf("unexpected script reply %d", res))
	}
}

// Take implements store.Store with GETDEL.
func (s *Store) Take(ctx context.Context, kind store.Kind, key string) ([]byte, error) {
	k, err := s.begin(ctx, "take", kind, key)
	if err != nil {
		return nil, err
	}
	return takeResult(ctx, kind, s.client.GetDel(ctx, k))
}

func takeResult(ctx context.Context, kind store.Kind, cmd *redis.StringCmd) ([]byte, error) {
	raw, err := cmd.Bytes()
	if err != nil {
		return nil, readErr(ctx, "take", kind, err)
	}
	_, value, err := decode(raw)
	if err != nil {
		return nil, unavailable(ctx, "take", kind, err)
	}
	return value, nil
}

// Delete implements store.Store with DEL.
func (s *Store) Delete(ctx context.Context, kind store.Kind, key string) error {
	k, err := s.begin(ctx, "delete", kind, key)
	if err != nil {
		return err
	}
	return deleteResult(ctx, kind, s.client.Del(ctx, k))
}

func deleteResult(ctx context.Context, kind store.Kind, cmd *redis.IntCmd) error {
	if err := cmd.Err(); err != nil {
		return unavailable(ctx, "delete", kind, err)
	}
	return nil
}

// Ping implements store.Store with PING.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return closedErr("ping")
	}
	if err := ctx.Err(); err != nil {
		return unavailable(ctx, "ping", "", err)
	}
	if err := s.client.Ping(ctx).Err(); err != nil {
		return unavailable(ctx, "ping", "", err)
	}
	return nil
}

// Close closes the client. Later calls, including a second Close, return an
// error wrapping store.ErrUnavailable.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return closedErr("close")
	}
	if err := s.client.Close(); err != nil {
		return unavailable(context.Background(), "close", "", err)
	}
	return nil
}

// begin runs the checks every keyed method shares and returns the Redis key.
// The context is checked here, not left to the client, so that a finished
// request never reaches the server, whatever the client's timeout settings.
func (s *Store) begin(ctx context.Context, op string, kind store.Kind, key string) (string, error) {
	if s.closed.Load() {
		return "", closedErr(op)
	}
	if err := ctx.Err(); err != nil {
		return "", unavailable(ctx, op, kind, err)
	}
	if err := keyspace.Check(kind, key); err != nil {
		return "", fmt.Errorf("redis store: %s: %w", op, err)
	}
	if s.prefix == "" {
		return string(kind) + ":" + key, nil
	}
	return s.prefix + ":" + string(kind) + ":" + key, nil
}

var errCorrupt = errors.New("entry shorter than its revision")

// encode prefixes value with its revision.
func encode(rev uint64, value []byte) []byte {
	b := make([]byte, revLen+len(value))
	binary.BigEndian.PutUint64(b, rev)
	copy(b[revLen:], value)
	return b
}

// decode splits a stored string; the value shares raw, which the client
// allocated for this call alone.
func decode(raw []byte) (uint64, []byte, error) {
	if len(raw) < revLen {
		return 0, nil, errCorrupt
	}
	return binary.BigEndian.Uint64(raw), raw[revLen:], nil
}

// newRevision draws a first revision. It needs to be unpredictable only to
// chance, not to an attacker (revisions never leave the broker), so the
// runtime's generator suffices.
func newRevision() uint64 {
	return rand.Uint64N(maxStartRev) + 1
}

// roundTTL rounds up to whole milliseconds, the server's resolution; the
// client would otherwise truncate, and complain, below one millisecond.
func roundTTL(ttl time.Duration) time.Duration {
	return (ttl + time.Millisecond - 1).Truncate(time.Millisecond)
}

// readErr maps a read's error: redis.Nil means absent or expired.
func readErr(ctx context.Context, op string, kind store.Kind, err error) error {
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("redis store: %s %s: %w", op, kind, store.ErrNotFound)
	}
	return unavailable(ctx, op, kind, err)
}

// unavailable wraps a backend failure in store.ErrUnavailable and keeps the
// cause reachable with errors.Is (redis.ErrClosed, a net.Error). When the
// request's context ended, its error joins the chain too, because the client
// reports a deadline it enforced on the socket as a plain i/o timeout, and
// callers want to tell "the client gave up" from "Redis is down".
func unavailable(ctx context.Context, op string, kind store.Kind, err error) error {
	if cerr := contextErr(ctx); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w (%w)", err, cerr)
	}
	if kind == "" {
		return fmt.Errorf("redis store: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("redis store: %s %s: %w: %w", op, kind, store.ErrUnavailable, err)
}

// contextErr is ctx.Err, except that a deadline already passed counts even if
// the context's own timer has not fired yet: the socket deadline the client
// derived from it can expire a moment earlier.
func contextErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

func closedErr(op string) error {
	return fmt.Errorf("redis store: %s: store closed: %w", op, store.ErrUnavailable)
}
