package broker

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// TestRequestContext: every request gets its own request ID, also under
// concurrency and across two Servers of one process, a proxy's
// X-Request-Id is kept, and the router matches routes (and reports their
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
	a, b := newRequestContext(newMux()), newRequestContext(newMux())
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

	// A proxy's ID is kept, as chi's RequestID middleware kept it.
	got = nil
	serve(a, "/login/abc", "proxy-42")
	if got[0].id != "proxy-42" {
		t.Errorf("X-Request-Id not kept: %q", got[0].id)
	}
}
