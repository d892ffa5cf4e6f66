package broker

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Metrics are the broker's Prometheus metrics, in a registry of their own
// (no global state). They count outcomes, never people: every label comes
// from a closed set (clients, adapters and services from the config,
// results, levels, route patterns, store operations), never a subject, a
// transaction ID or free text. One Metrics may outlive a Server
// (Config.Metrics), so counters survive a configuration reload. Safe for
// concurrent use.
type Metrics struct {
	reg        *prometheus.Registry
	logins     *prometheus.CounterVec
	upstream   *prometheus.CounterVec
	upstreamT  *prometheus.HistogramVec
	requests   *prometheus.HistogramVec
	storeOps   *prometheus.HistogramVec
	storeFails *prometheus.CounterVec
	sessions   prometheus.Counter
}

// NewMetrics registers the broker's metrics and Go's runtime and process
// collectors in a new registry.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broker_logins_total", Help: "Login transactions ended, by client, result (completed or the OIDC error) and acr.",
		}, []string{"client", "result", "acr"}),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broker_upstream_total", Help: "Upstream answers, by adapter and result (verified, failed, cancelled, below_floor).",
		}, []string{"adapter", "result"}),
		upstreamT: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "broker_upstream_call_seconds", Help: "Time an adapter's Begin or Finish took, by adapter, step and outcome.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"adapter", "step", "outcome"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "broker_http_request_seconds", Help: "HTTP request latency by route group and status class.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "code"}),
		storeOps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "broker_store_operation_seconds", Help: "Store operation latency by operation and result.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .5, 1},
		}, []string{"op", "result"}),
		storeFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broker_store_unavailable_total", Help: "Store operations that failed because the store was unavailable.",
		}, []string{"op"}),
		sessions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "broker_sso_sessions_created_total", Help: "SSO sessions created after an upstream login.",
		}),
	}
	reg.MustRegister(m.logins, m.upstream, m.upstreamT, m.requests, m.storeOps, m.storeFails, m.sessions,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// inc counts one event on a counter vector by name; labels come in pairs
// as before, in the vector's label order.
func (m *Metrics) inc(name string, labels ...string) {
	vals := make([]string, 0, len(labels)/2)
	for i := 1; i < len(labels); i += 2 {
		vals = append(vals, labels[i])
	}
	switch name {
	case "broker_logins_total":
		for len(vals) < 3 {
			vals = append(vals, "")
		}
		m.logins.WithLabelValues(vals...).Inc()
	case "broker_upstream_total":
		m.upstream.WithLabelValues(vals...).Inc()
	}
}

func (m *Metrics) observeUpstream(adapter, step string, start time.Time, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.upstreamT.WithLabelValues(adapter, step, outcome).Observe(time.Since(start).Seconds())
}

func (m *Metrics) serve(w http.ResponseWriter, r *http.Request) {
	promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// instrument times every request by its route group: the first segment
// of chi's matched route pattern (bounded by the router's routes).
func (m *Metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := "other"
		if rc := chi.RouteContext(r.Context()); rc != nil {
			if p := rc.RoutePattern(); p != "" {
				route = routeGroup(p)
			}
		}
		m.requests.WithLabelValues(route, statusClass(sw.code)).Observe(time.Since(start).Seconds())
	})
}

// statusClasses are the code label's values, so that a request does not
// build its own.
var statusClasses = [...]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"}

// statusClass is "2xx" for 200 and so on.
func statusClass(code int) string {
	if c := code / 100; c >= 0 && c < len(statusClasses) {
		return statusClasses[c]
	}
	return strconv.Itoa(code/100) + "xx"
}

// routeGroup keeps the stable head of a route pattern: "/login/{tx}/done"
// → "/login/{tx}/done", adapter subtrees "/login/eid/*" → "/login/eid/*".
func routeGroup(p string) string {
	if len(p) > 64 {
		p = p[:64]
	}
	return strings.TrimSuffix(p, "/")
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// timedStore measures every store operation of the broker.
type timedStore struct {
	store.Store
	m *Metrics
}

func (t timedStore) observe(op string, start time.Time, err error) {
	result := "ok"
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
		result = "not_found"
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrConflict):
		result = "conflict"
	case errors.Is(err, store.ErrUnavailable):
		result = "unavailable"
		t.m.storeFails.WithLabelValues(op).Inc()
	default:
		result = "error"
	}
	t.m.storeOps.WithLabelValues(op, result).Observe(time.Since(start).Seconds())
}

func (t timedStore) Create(ctx context.Context, kind store.Kind, key string, value []byte, ttl time.Duration) error {
	start := time.Now()
	err := t.Store.Create(ctx, kind, key, value, ttl)
	t.observe("create", start, err)
	return err
}

func (t timedStore) Get(ctx context.Context, kind store.Kind, key string) (store.Entry, error) {
	start := time.Now()
	e, err := t.Store.Get(ctx, kind, key)
	t.observe("get", start, err)
	return e, err
}

func (t timedStore) Swap(ctx context.Context, kind store.Kind, key string, rev uint64, value []byte, ttl time.Duration) error {
	start := time.Now()
	err := t.Store.Swap(ctx, kind, key, rev, value, ttl)
	t.observe("swap", start, err)
	return err
}

func (t timedStore) Take(ctx context.Context, kind store.Kind, key string) ([]byte, error) {
	start := time.Now()
	b, err := t.Store.Take(ctx, kind, key)
	t.observe("take", start, err)
	return b, err
}

func (t timedStore) Delete(ctx context.Context, kind store.Kind, key string) error {
	start := time.Now()
	err := t.Store.Delete(ctx, kind, key)
	t.observe("delete", start, err)
	return err
}

// Batch keeps the store's one round trip for a batch and observes each
// operation with the batch's duration.
func (t timedStore) Batch(ctx context.Context, ops []store.Op) []store.Result {
	start := time.Now()
	res := store.Batch(ctx, t.Store, ops)
	for i, op := range ops {
		t.observe(op.Verb.String(), start, res[i].Err)
	}
	return res
}
