package broker

import (
	"context"
	"crypto/rand"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/ozg-broker/eidas-broker/broker/ratelimit"
)

// requestContext gives every request its request ID (the audit trail's
// request_id) and the router's routing context in one derived context and
// one copy of the request. chi's RequestID middleware and chi's router each
// made their own copy (a request is a few hundred bytes, on every request
// of a login); a router that finds a routing context in the request uses
// it rather than making another, as it does for a sub-router.
//
// The IDs are read back with chi's middleware.GetReqID. A request ID is
// "host/random-counter", the random part drawn per Server, so IDs stay
// unique across the Servers of one process (a configuration reload) and
// across replicas. An X-Request-Id header is kept only when a trusted
// proxy (limits.trusted_proxies) sent the request and the ID is short and
// printable: the audit trail and the logs correlate by it, and a client
// that could choose it could make its requests' lines carry another
// request's ID.
type requestContext struct {
	mux     *chi.Mux
	prefix  string
	trusted []ratelimit.Prefix
	n       atomic.Uint64
	rctxs   sync.Pool // *chi.Context, as the router's own pool
}

func newRequestContext(mux *chi.Mux, trusted []ratelimit.Prefix) *requestContext {
	host, err := os.Hostname()
	if host == "" || err != nil {
		host = "localhost"
	}
	return &requestContext{mux: mux, prefix: host + "/" + rand.Text()[:10] + "-", trusted: trusted}
}

// maxProxyRequestID bounds a proxy's request ID.
const maxProxyRequestID = 128

// proxyRequestID is the X-Request-Id to keep, or "".
func (rc *requestContext) proxyRequestID(r *http.Request) string {
	id := r.Header.Get(middleware.RequestIDHeader)
	if id == "" || len(id) > maxProxyRequestID || len(rc.trusted) == 0 || !ratelimit.FromTrustedProxy(r, rc.trusted) {
		return ""
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return ""
		}
	}
	return id
}

func (rc *requestContext) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := rc.proxyRequestID(r)
	if id == "" {
		id = rc.nextID()
	}
	rctx, _ := rc.rctxs.Get().(*chi.Context)
	if rctx == nil {
		rctx = chi.NewRouteContext()
	}
	rctx.Reset()
	rctx.Routes = rc.mux
	ctx := context.WithValue(context.WithValue(r.Context(), middleware.RequestIDKey, id), chi.RouteCtxKey, rctx)
	rc.mux.ServeHTTP(w, r.WithContext(ctx))
	rc.rctxs.Put(rctx)
}

// nextID is prefix and a counter of at least six digits, in one
// allocation.
func (rc *requestContext) nextID() string {
	var buf [96]byte
	b := append(buf[:0], rc.prefix...)
	var num [20]byte
	digits := strconv.AppendUint(num[:0], rc.n.Add(1), 10)
	for i := len(digits); i < 6; i++ {
		b = append(b, '0')
	}
	return string(append(b, digits...))
}
