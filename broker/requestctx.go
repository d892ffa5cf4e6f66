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
)

// requestContext gives every request its request ID (the audit trail's
// request_id) and the router's routing context in one derived context and
// one copy of the request. chi's RequestID middleware and chi's router each
// made their own copy (a request is a few hundred bytes, on every request
// of a login); a router that finds a routing context in the request uses
// it rather than making another, as it does for a sub-router.
//
// The IDs are those of chi's middleware, read back with
// middleware.GetReqID: an X-Request-Id header the request brings (a
// proxy's), else "host/random-counter", the random part drawn per
// Server, so IDs stay unique across the Servers of one process (a
// configuration reload) and across replicas.
type requestContext struct {
	mux    *chi.Mux
	prefix string
	n      atomic.Uint64
	rctxs  sync.Pool // *chi.Context, as the router's own pool
}

func newRequestContext(mux *chi.Mux) *requestContext {
	host, err := os.Hostname()
	if host == "" || err != nil {
		host = "localhost"
	}
	return &requestContext{mux: mux, prefix: host + "/" + rand.Text()[:10] + "-"}
}

func (rc *requestContext) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(middleware.RequestIDHeader)
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
