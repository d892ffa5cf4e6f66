package ratelimit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/httprate"
)

// Defaults for the zero values of Config. docs/configuration.md repeats
// them; config.Limits applies the same numbers to the file.
const (
	DefaultWindow      = time.Minute
	DefaultPerAddress  = 300
	DefaultPerClient   = 6000
	DefaultMaxInFlight = 512
	DefaultQueueWait   = 200 * time.Millisecond
)

// shards spreads keys over several httprate limiters: each limiter holds a
// mutex around "read the counters, then increment", which with Redis
// counters is two round trips; one limiter would serialise every limited
// request of the replica behind that mutex.
const shards = 16

// Config is the runtime configuration. Zero numbers take the defaults; a
// negative number turns that limit off.
type Config struct {
	// Window is the length of the sliding window the limits count in.
	Window time.Duration
	// PerAddress is the number of requests one source address may send to
	// the routes marked ByAddress within Window, together.
	PerAddress int
	// PerClient is the number of requests one OIDC client may cause on each
	// route that names a Client extractor within Window.
	PerClient int
	// MaxInFlight caps the requests served at the same time by this
	// replica; QueueWait is how long a request above the cap waits for a
	// slot before it is shed with 503.
	MaxInFlight int
	QueueWait   time.Duration
	// TrustedProxies are the load balancers whose X-Forwarded-For is
	// believed; without them the TCP peer is the source address.
	TrustedProxies []Prefix
	// KeySecret keys the HMAC that replaces every counter key (at least 16
	// bytes; every replica needs the same one to share counters).
	KeySecret []byte
	// NewCounter returns the shared counter for one limit (e.g. Redis,
	// see RedisCounters); nil counts in this process only.
	NewCounter func(name string) httprate.LimitCounter
	// KnownClient reports whether a client ID is configured. Requests
	// naming an unknown client share one bucket, so invented IDs cannot
	// create counters without bound.
	KnownClient func(id string) bool
	// Unlimited are exact paths the in-flight cap never sheds (health
	// probes: an overloaded replica is still alive and still ready).
	Unlimited []string
	Logger    *slog.Logger
	// Page writes the answer to a browser above a limit (status 429 or
	// 503; Retry-After and Cache-Control are already set): the broker's
	// branded page in the person's language. Nil writes a plain
	// bilingual page of this package's own.
	Page func(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration)
	// Now is the clock of the in-flight cap's log throttling (tests).
	Now func() time.Time
}

// Rule selects the requests a limit applies to.
type Rule struct {
	// Name labels the rule in logs and counter keys ("authorize").
	Name string
	// Path is an exact path, or a prefix when it ends in "/".
	Path string
	// Browser routes answer with an HTML page, others with JSON.
	Browser bool
	// ByAddress counts the request against its source address.
	ByAddress bool
	// Client, when set, names the OIDC client the request is counted for
	// ("" when the request names none).
	Client func(*http.Request) string
}

// Limiter is the middleware. Build it with New.
type Limiter struct {
	cfg      Config
	rules    []Rule
	addr     *sharded
	client   *sharded
	sem      chan struct{}
	free     map[string]bool
	proxies  []Prefix
	log      *slog.Logger
	lastLog  atomic.Int64
	shed     atomic.Uint64
	limited  atomic.Uint64
	fallback atomic.Uint64
}

// New builds a Limiter for rules. Rules are tried in order; the first
// whose Path matches applies.
func New(cfg Config, rules []Rule) (*Limiter, error) {
	if len(cfg.KeySecret) < 16 {
		return nil, errors.New("ratelimit: key secret must be at least 16 bytes")
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Window < time.Second {
		return nil, errors.New("ratelimit: window must be at least 1s")
	}
	if cfg.PerAddress == 0 {
		cfg.PerAddress = DefaultPerAddress
	}
	if cfg.PerClient == 0 {
		cfg.PerClient = DefaultPerClient
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = DefaultQueueWait
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Limiter{cfg: cfg, rules: rules, free: map[string]bool{}, proxies: cfg.TrustedProxies, log: cfg.Logger}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	for _, p := range cfg.Unlimited {
		l.free[p] = true
	}
	if cfg.MaxInFlight > 0 {
		l.sem = make(chan struct{}, cfg.MaxInFlight)
	}
	if cfg.PerAddress > 0 {
		l.addr = newSharded("addr", cfg.PerAddress, cfg.Window, cfg.NewCounter, &l.fallback, l.log)
	}
	if cfg.PerClient > 0 {
		l.client = newSharded("client", cfg.PerClient, cfg.Window, cfg.NewCounter, &l.fallback, l.log)
	}
	return l, nil
}

// Stats are counters for tests and metrics: requests shed by the in-flight
// cap, requests refused by a rate limit, counter calls answered by the
// in-process fallback because the shared counter failed.
type Stats struct{ Shed, Limited, Fallback uint64 }

// Stats returns the counters since New.
func (l *Limiter) Stats() Stats {
	return Stats{Shed: l.shed.Load(), Limited: l.limited.Load(), Fallback: l.fallback.Load()}
}

// Handler wraps next with the in-flight cap and the rate limits.
func (l *Limiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rule := l.match(r.URL.Path)
		if l.sem != nil && !l.free[r.URL.Path] {
			if !l.acquire(r) {
				l.shed.Add(1)
				l.note("overloaded: request shed", "path_group", ruleName(rule))
				l.refuse(w, r, rule, http.StatusServiceUnavailable, 1)
				return
			}
			defer func() { <-l.sem }()
		}
		if rule != nil && l.limitedBy(w, r, rule) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// acquire takes an in-flight slot, waiting at most QueueWait.
func (l *Limiter) acquire(r *http.Request) bool {
	select {
	case l.sem <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(l.cfg.QueueWait)
	defer t.Stop()
	select {
	case l.sem <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-r.Context().Done():
		return false
	}
}

// limitedBy counts r and answers it when a limit is exceeded.
func (l *Limiter) limitedBy(w http.ResponseWriter, r *http.Request, rule *Rule) bool {
	retry := int(l.cfg.Window.Seconds())
	if rule.ByAddress && l.addr != nil {
		if l.addr.over(w, r, l.key("addr", SourceAddress(r, l.proxies))) {
			l.limited.Add(1)
			l.note("rate limited", "limit", "address", "path_group", rule.Name)
			l.refuse(w, r, rule, http.StatusTooManyRequests, retry)
			return true
		}
	}
	if rule.Client != nil && l.client != nil {
		id := rule.Client(r)
		if id == "" || l.cfg.KnownClient == nil || !l.cfg.KnownClient(id) {
			// One shared bucket: unknown IDs are refused later anyway, and
			// they must not create a counter each.
			id = "\x00unknown"
		}
		if l.client.over(w, r, l.key("client", rule.Name+"\x00"+id)) {
			l.limited.Add(1)
			logged := id
			if strings.HasPrefix(id, "\x00") {
				logged = "(unknown)"
			}
			l.note("rate limited", "limit", "client", "path_group", rule.Name, "client", logged)
			l.refuse(w, r, rule, http.StatusTooManyRequests, retry)
			return true
		}
	}
	return false
}

// key replaces a counter key by its HMAC, so no address or client ID is
// stored in clear (in Redis or in memory).
func (l *Limiter) key(kind, k string) string {
	m := hmac.New(sha256.New, l.cfg.KeySecret)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(k))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func (l *Limiter) match(path string) *Rule {
	for i := range l.rules {
		p := l.rules[i].Path
		if path == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(path, p)) {
			return &l.rules[i]
		}
	}
	return nil
}

func ruleName(r *Rule) string {
	if r == nil {
		return "other"
	}
	return r.Name
}

// note logs at most one line per second: a flood must not turn into a
// flood of log lines. What was not logged is in Stats.
func (l *Limiter) note(msg string, args ...any) {
	now := l.cfg.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last < int64(time.Second) || !l.lastLog.CompareAndSwap(last, now) {
		return
	}
	l.log.Warn(msg, append(args, "shed_total", l.shed.Load(), "limited_total", l.limited.Load())...)
}

// refuse writes the answer for a refused request: a page for browsers,
// JSON for API clients, both with Retry-After.
func (l *Limiter) refuse(w http.ResponseWriter, r *http.Request, rule *Rule, status, retryAfter int) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	w.Header().Set("Cache-Control", "no-store")
	browser := rule != nil && rule.Browser
	if rule == nil {
		// The in-flight cap covers every route; guess from what the
		// requester accepts.
		browser = strings.Contains(r.Header.Get("Accept"), "text/html")
	}
	if browser {
		if l.cfg.Page != nil {
			l.cfg.Page(w, r, status, time.Duration(retryAfter)*time.Second)
			return
		}
		writePage(w, status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	desc := "too many requests, retry later"
	if status == http.StatusServiceUnavailable {
		desc = "the service is overloaded, retry later"
	}
	// RFC 6749 §4.1.2.1 / §5.2 style; temporarily_unavailable is the code
	// OAuth defines for a server that cannot handle the request now.
	_, _ = w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"` + desc + `"}`))
}

// sharded spreads keys over several httprate limiters (see shards).
type sharded struct {
	parts [shards]*httprate.RateLimiter
}

func newSharded(name string, limit int, window time.Duration, newCounter func(string) httprate.LimitCounter,
	fallbacks *atomic.Uint64, log *slog.Logger) *sharded {
	s := &sharded{}
	for i := range s.parts {
		var opts []httprate.Option
		// Headers are set by refuse; the X-RateLimit-* ones would tell a
		// prober exactly how much budget is left.
		opts = append(opts, httprate.WithResponseHeaders(httprate.ResponseHeaders{}))
		if newCounter != nil {
			opts = append(opts, httprate.WithLimitCounter(&fallbackCounter{
				primary: newCounter(name), local: httprate.NewLocalLimitCounter(window), count: fallbacks, log: log,
			}))
		}
		s.parts[i] = httprate.NewRateLimiter(limit, window, opts...)
	}
	return s
}

// over counts the request under key and reports whether it exceeds the
// limit (the request is then not counted).
func (s *sharded) over(w http.ResponseWriter, r *http.Request, key string) bool {
	h := binary.BigEndian.Uint32([]byte(key[:4]))
	return s.parts[h%shards].OnLimit(w, r, key)
}
