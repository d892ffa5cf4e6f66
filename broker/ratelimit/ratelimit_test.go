package ratelimit_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozg-broker/eidas-broker/broker/ratelimit"
	"github.com/ozg-broker/eidas-broker/broker/store/storetest"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestSourceAddress(t *testing.T) {
	trusted := []ratelimit.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct", "192.0.2.1:4000", nil, "192.0.2.1"},
		{"untrusted peer's header ignored", "192.0.2.1:4000", []string{"198.51.100.9"}, "192.0.2.1"},
		{"trusted proxy", "10.1.1.1:80", []string{"198.51.100.9"}, "198.51.100.9"},
		{"client-written hops left of the real one", "10.1.1.1:80", []string{"203.0.113.5, 198.51.100.9"}, "198.51.100.9"},
		{"chain of trusted proxies", "127.0.0.1:80", []string{"198.51.100.9, 10.2.2.2", "10.3.3.3"}, "198.51.100.9"},
		{"only proxies", "10.1.1.1:80", []string{"10.2.2.2"}, "10.2.2.2"},
		{"garbage stops the walk", "10.1.1.1:80", []string{"198.51.100.9, bogus"}, "10.1.1.1"},
		{"no header", "10.1.1.1:80", nil, "10.1.1.1"},
		{"ipv6 per /64", "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::"},
		{"mapped ipv4", "[::ffff:192.0.2.1]:4000", nil, "192.0.2.1"},
		{"unparsable peer", "pipe", nil, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/authorize", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ratelimit.SourceAddress(r, trusted); got != tt.want {
				t.Errorf("SourceAddress = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClientExtraction(t *testing.T) {
	assertion := "eyJhbGciOiJFUzI1NiJ9." + b64(`{"iss":"jwtclient","sub":"jwtclient"}`) + ".sig"
	tests := []struct {
		name string
		req  func() *http.Request
		fn   func(*http.Request) string
		want string
		body string
	}{
		{"authorize query", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/authorize?client_id=portal", nil) },
			ratelimit.AuthorizeClient, "portal", ""},
		{"authorize form", func() *http.Request { return form("/authorize", "client_id=portal&scope=openid") },
			ratelimit.AuthorizeClient, "portal", "client_id=portal&scope=openid"},
		{"token basic, form-encoded user", func() *http.Request {
			r := form("/token", "grant_type=authorization_code")
			r.SetBasicAuth(url.QueryEscape("a b"), "x")
			return r
		}, ratelimit.TokenClient, "a b", "grant_type=authorization_code"},
		{"token client_id", func() *http.Request { return form("/token", "grant_type=x&client_id=other") },
			ratelimit.TokenClient, "other", "grant_type=x&client_id=other"},
		{"token client assertion", func() *http.Request { return form("/token", "client_assertion="+assertion) },
			ratelimit.TokenClient, "jwtclient", "client_assertion=" + assertion},
		{"token nothing", func() *http.Request { return form("/token", "grant_type=x") }, ratelimit.TokenClient, "", "grant_type=x"},
		{"token not a form", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(`{"client_id":"x"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, ratelimit.TokenClient, "", `{"client_id":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req()
			if got := tt.fn(r); got != tt.want {
				t.Errorf("client = %q, want %q", got, tt.want)
			}
			// The handler after the limiter must read the body as sent.
			b, _ := io.ReadAll(r.Body)
			if string(b) != tt.body {
				t.Errorf("body left = %q, want %q", b, tt.body)
			}
		})
	}
}

func rules() []ratelimit.Rule {
	return []ratelimit.Rule{
		{Name: "authorize", Path: "/authorize", Browser: true, ByAddress: true, Client: ratelimit.AuthorizeClient},
		{Name: "token", Path: "/token", Client: ratelimit.TokenClient},
		{Name: "callback", Path: "/login/cb/", Browser: true, ByAddress: true},
	}
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }

type call struct {
	method, path, from, client string
	want                       int
}

func (c call) do(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	var r *http.Request
	if c.method == http.MethodPost {
		r = form(c.path, "client_id="+c.client)
	} else {
		r = httptest.NewRequest(http.MethodGet, c.path+"?client_id="+c.client, nil)
	}
	r.RemoteAddr = c.from + ":1234"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != c.want {
		t.Fatalf("%s %s from %s (client %q) = %d, want %d", c.method, c.path, c.from, c.client, w.Code, c.want)
	}
	return w
}

func TestLimits(t *testing.T) {
	known := func(id string) bool { return id == "a" || id == "b" }
	tests := []struct {
		name  string
		cfg   ratelimit.Config
		calls []call
	}{
		{"per address over all browser routes", ratelimit.Config{PerAddress: 3, PerClient: -1}, []call{
			{"GET", "/authorize", "192.0.2.1", "a", 200},
			{"GET", "/login/cb/x", "192.0.2.1", "", 200},
			{"GET", "/authorize", "192.0.2.1", "b", 200},
			{"GET", "/login/cb/y", "192.0.2.1", "", 429},
			{"GET", "/authorize", "192.0.2.2", "a", 200}, // another address
			{"POST", "/token", "192.0.2.1", "a", 200},    // token: per client only
			{"GET", "/static/x.css", "192.0.2.1", "", 200},
		}},
		{"per client on authorize and token, separately", ratelimit.Config{PerAddress: -1, PerClient: 2}, []call{
			{"GET", "/authorize", "192.0.2.1", "a", 200},
			{"GET", "/authorize", "192.0.2.2", "a", 200},
			{"GET", "/authorize", "192.0.2.3", "a", 429},
			{"GET", "/authorize", "192.0.2.3", "b", 200},
			{"POST", "/token", "192.0.2.3", "a", 200},
			{"POST", "/token", "192.0.2.3", "a", 200},
			{"POST", "/token", "192.0.2.3", "a", 429},
		}},
		{"unknown clients share one bucket", ratelimit.Config{PerAddress: -1, PerClient: 2}, []call{
			{"POST", "/token", "192.0.2.1", "x1", 200},
			{"POST", "/token", "192.0.2.1", "x2", 200},
			{"POST", "/token", "192.0.2.1", "x3", 429},
			{"POST", "/token", "192.0.2.1", "", 429},
			{"POST", "/token", "192.0.2.1", "a", 200},
		}},
		{"limits off", ratelimit.Config{PerAddress: -1, PerClient: -1}, []call{
			{"GET", "/authorize", "192.0.2.1", "a", 200}, {"GET", "/authorize", "192.0.2.1", "a", 200},
			{"GET", "/authorize", "192.0.2.1", "a", 200}, {"GET", "/authorize", "192.0.2.1", "a", 200},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.KeySecret, cfg.KnownClient = secret, known
			l, err := ratelimit.New(cfg, rules())
			if err != nil {
				t.Fatal(err)
			}
			h := l.Handler(http.HandlerFunc(ok))
			for _, c := range tt.calls {
				c.do(t, h)
			}
		})
	}
}

func TestRefusalAnswers(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Config{PerAddress: 1, PerClient: 1, KeySecret: secret,
		KnownClient: func(string) bool { return true }}, rules())
	if err != nil {
		t.Fatal(err)
	}
	h := l.Handler(http.HandlerFunc(ok))
	call{"GET", "/authorize", "192.0.2.1", "a", 200}.do(t, h)
	page := call{"GET", "/authorize", "192.0.2.1", "a", 429}.do(t, h)
	if page.Header().Get("Retry-After") != "60" || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Errorf("browser refusal headers = %v", page.Header())
	}
	body := page.Body.String()
	for _, want := range []string{"in einer Minute erneut", "try again in a minute"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if page.Header().Get("X-RateLimit-Remaining") != "" {
		t.Error("remaining budget disclosed")
	}
	call{"POST", "/token", "192.0.2.1", "a", 200}.do(t, h)
	api := call{"POST", "/token", "192.0.2.1", "a", 429}.do(t, h)
	if api.Header().Get("Retry-After") != "60" || api.Header().Get("Content-Type") != "application/json" ||
		!strings.Contains(api.Body.String(), `"error":"temporarily_unavailable"`) {
		t.Errorf("API refusal = %v %s", api.Header(), api.Body)
	}
	if s := l.Stats(); s.Limited != 2 {
		t.Errorf("stats = %+v", s)
	}
}

// TestInFlightCap fills the only slot with a request that blocks, then
// checks that the next request is shed after the queue wait, that probes
// still pass, and that a slot freed in time serves the waiting request.
func TestInFlightCap(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Config{MaxInFlight: 1, QueueWait: 50 * time.Millisecond,
		PerAddress: -1, PerClient: -1, KeySecret: secret, Unlimited: []string{"/healthz"}}, rules())
	if err != nil {
		t.Fatal(err)
	}
	release, entered := make(chan struct{}), make(chan struct{})
	h := l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-release
		}
		ok(w, r)
	}))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/slow", nil))
	}()
	<-entered

	start := time.Now()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/token", nil)
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("above the cap: %d %v", w.Code, w.Header())
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > time.Second {
		t.Errorf("shed after %v, want the queue wait", d)
	}
	w = httptest.NewRecorder()
	r = httptest.NewRequest(http.MethodGet, "/login/x", nil)
	r.Header.Set("Accept", "text/html,application/xhtml+xml")
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "in einer Minute") {
		t.Errorf("browser above the cap: %d", w.Code)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if w.Code != http.StatusOK {
		t.Errorf("probe shed: %d", w.Code)
	}
	// A request that arrives while the slot is busy but frees within the
	// queue wait is served, not shed.
	done := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/token", nil))
		done <- w.Code
	}()
	time.Sleep(10 * time.Millisecond)
	close(release)
	if code := <-done; code != http.StatusOK {
		t.Errorf("queued request = %d", code)
	}
	wg.Wait()
	if s := l.Stats(); s.Shed != 2 {
		t.Errorf("stats = %+v", s)
	}
}

// TestRedisCountersShared runs two limiters (two replicas) on one real
// redis-server: together they allow the limit once, not twice. Then Redis
// goes away: the replicas keep limiting with their own counts.
func TestRedisCountersShared(t *testing.T) {
	srv := storetest.StartRedisServer(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	replica := func() (*ratelimit.Limiter, http.Handler) {
		l, err := ratelimit.New(ratelimit.Config{PerAddress: 4, PerClient: -1, KeySecret: secret,
			NewCounter: ratelimit.RedisCounters(client, "broker")}, rules())
		if err != nil {
			t.Fatal(err)
		}
		return l, l.Handler(http.HandlerFunc(ok))
	}
	l1, a := replica()
	_, b := replica()
	for i, h := range []http.Handler{a, b, a, b} {
		_ = i
		call{"GET", "/login/cb/x", "192.0.2.1", "", 200}.do(t, h)
	}
	call{"GET", "/login/cb/x", "192.0.2.1", "", 429}.do(t, a)
	call{"GET", "/login/cb/x", "192.0.2.1", "", 429}.do(t, b)

	// Nothing readable is stored: keys are HMACs.
	keys, err := client.Keys(context.Background(), "broker:rl:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys = %v, %v", keys, err)
	}
	for _, k := range keys {
		if strings.Contains(k, "192.0.2.1") {
			t.Errorf("address in clear in key %q", k)
		}
		if ttl := client.PTTL(context.Background(), k).Val(); ttl <= 0 || ttl > 3*time.Minute {
			t.Errorf("key %q ttl %v", k, ttl)
		}
	}

	srv.Stop()
	for range 4 {
		call{"GET", "/login/cb/x", "192.0.2.7", "", 200}.do(t, a)
	}
	call{"GET", "/login/cb/x", "192.0.2.7", "", 429}.do(t, a)
	if s := l1.Stats(); s.Fallback == 0 {
		t.Errorf("stats = %+v, want fallbacks", s)
	}
}

func form(path, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// TestRefusalPageInjected: a browser above a limit gets the page the
// broker renders (with Retry-After already set); API clients keep JSON.
func TestRefusalPageInjected(t *testing.T) {
	var gotStatus int
	var gotRetry time.Duration
	l, err := ratelimit.New(ratelimit.Config{PerAddress: 1, PerClient: 1, KeySecret: secret,
		KnownClient: func(string) bool { return true },
		Page: func(w http.ResponseWriter, _ *http.Request, status int, retry time.Duration) {
			gotStatus, gotRetry = status, retry
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			_, _ = w.Write([]byte("<p>branded</p>"))
		}}, rules())
	if err != nil {
		t.Fatal(err)
	}
	h := l.Handler(http.HandlerFunc(ok))
	call{"GET", "/authorize", "192.0.2.1", "a", 200}.do(t, h)
	page := call{"GET", "/authorize", "192.0.2.1", "a", 429}.do(t, h)
	if page.Body.String() != "<p>branded</p>" || gotStatus != 429 || gotRetry != time.Minute {
		t.Errorf("page %q, status %d, retry %v", page.Body, gotStatus, gotRetry)
	}
	if page.Header().Get("Retry-After") != "60" || page.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("headers = %v", page.Header())
	}
	call{"POST", "/token", "192.0.2.1", "a", 200}.do(t, h)
	api := call{"POST", "/token", "192.0.2.1", "a", 429}.do(t, h)
	if api.Header().Get("Content-Type") != "application/json" || !strings.Contains(api.Body.String(), `"error":"temporarily_unavailable"`) {
		t.Errorf("API refusal = %v %s", api.Header(), api.Body)
	}
}
