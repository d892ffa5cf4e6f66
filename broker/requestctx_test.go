package broker

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/ozg-broker/eidas-broker/broker/ratelimit"
)

// TestRequestContext: every request gets its own request ID, also under
// concurrency and across two Servers of one process, only a trusted
// proxy's X-Request-Id is kept, and the router matches routes (and reports their
// patterns to the metrics) with the routing context it was given.
func TestRequestContext(t *testing.T) {
	type seen struct{ id, pattern, param string }
	var mu sync.Mutex
	var got []seen
	newMux := func() *chi.Mux {
		mux := chi.NewRouter()
		mux.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, r)
				mu.Lock()
				defer mu.Unlock()
				got[len(got)-1].pattern = chi.RouteContext(r.Context()).RoutePattern()
			})
		})
		record := func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, seen{id: middleware.GetReqID(r.Context()), param: chi.URLParam(r, "tx")})
		}
		mux.Get("/login/{tx}", record)
		mux.Route("/sub", func(r chi.Router) { r.Get("/{tx}/x", record) })
		return mux
	}
	proxy := netip.MustParsePrefix("10.0.0.0/8")
	a, b := newRequestContext(newMux(), []ratelimit.Prefix{proxy}), newRequestContext(newMux(), nil)
	serve := func(h http.Handler, path string, header string) {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		if header != "" {
			r.Header.Set("X-Request-Id", header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Errorf("%s: status %d", path, w.Code)
		}
	}
	for i := 0; i < 50; i++ {
		serve(a, "/login/abc", "")
		serve(b, "/sub/def/x", "")
	}
	ids := map[string]bool{}
	for i, s := range got {
		if s.id == "" || ids[s.id] {
			t.Fatalf("request %d: request ID %q empty or repeated", i, s.id)
		}
		ids[s.id] = true
		want := seen{id: s.id, param: "abc", pattern: "/login/{tx}"}
		if i%2 == 1 {
			want.param, want.pattern = "def", "/sub/{tx}/x"
		}
		if s != want {
			t.Errorf("request %d: param %q pattern %q, want %q %q", i, s.param, s.pattern, want.param, want.pattern)
		}
	}
	if first := got[0].id; !strings.HasPrefix(first, a.prefix) || !strings.HasSuffix(first, "-000001") {
		t.Errorf("first ID %q: want %s000001", first, a.prefix)
	}
	if a.prefix == b.prefix {
		t.Error("two Servers share a request-ID prefix")
	}

	// Concurrent requests on one Server.
	got = nil
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/login/abc", nil))
		}()
	}
	wg.Wait()
	ids = map[string]bool{}
	for _, s := range got {
		if ids[s.id] {
			t.Fatalf("request ID %q repeated under concurrency", s.id)
		}
		ids[s.id] = true
	}
	if len(ids) != 64 {
		t.Fatalf("%d IDs for 64 requests", len(ids))
	}

	// A trusted proxy's ID is kept if it is short and printable; a
	// client's, or a malformed one, is replaced by the broker's own.
	for _, tc := range []struct {
		name, peer, header string
		h                  http.Handler
		kept               bool
	}{
		{"trusted proxy", "10.1.2.3:4000", "proxy-42", a, true},
		{"client", "192.0.2.7:4000", "forged-42", a, false},
		{"no trusted proxies configured", "10.1.2.3:4000", "proxy-42", b, false},
		{"too long", "10.1.2.3:4000", strings.Repeat("x", 129), a, false},
		{"control character", "10.1.2.3:4000", "id\x1b[31m", a, false},
		{"space", "10.1.2.3:4000", "two words", a, false},
	} {
		got = nil
		r := httptest.NewRequest(http.MethodGet, "/login/abc", nil)
		r.RemoteAddr = tc.peer
		r.Header.Set("X-Request-Id", tc.header)
		tc.h.ServeHTTP(httptest.NewRecorder(), r)
		if kept := got[0].id == tc.header; kept != tc.kept || got[0].id == "" {
			t.Errorf("%s: request ID %q, kept %v, want %v", tc.name, got[0].id, kept, tc.kept)
		}
	}
}
