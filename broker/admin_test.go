package broker_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/broker"
)

// TestAdminSurfaceOnlyOnAdminHandler: metrics and profiling answer on the
// admin handler and nowhere on the public one.
func TestAdminSurfaceOnlyOnAdminHandler(t *testing.T) {
	shared := broker.NewMetrics()
	e := newEnv(t, func(c *broker.Config) { c.Metrics = shared })
	e.rp("portal", "portal-secret", rpRedirect).login("erika", "high")
	adminURL := e.adminURL()

	get := func(t *testing.T, url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		path      string
		public    int
		admin     int
		adminBody string
	}{
		{"/metrics", http.StatusNotFound, http.StatusOK, `broker_upstream_total{adapter="demo",result="verified"} 1`},
		{"/debug/pprof/", http.StatusNotFound, http.StatusOK, "goroutine"},
		{"/debug/pprof/goroutine?debug=1", http.StatusNotFound, http.StatusOK, "goroutine profile"},
		{"/debug/pprof/cmdline", http.StatusNotFound, http.StatusOK, ""},
		{"/debug/pprof/symbol", http.StatusNotFound, http.StatusOK, "num_symbols"},
		// The admin listener is only that: no OIDC, no login pages.
		{"/.well-known/openid-configuration", http.StatusOK, http.StatusNotFound, ""},
		{"/healthz", http.StatusOK, http.StatusNotFound, ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			if code, body := get(t, e.srv.URL+tc.path); code != tc.public {
				t.Errorf("public %s: %d, want %d (%.80s)", tc.path, code, tc.public, body)
			}
			code, body := get(t, adminURL+tc.path)
			if code != tc.admin || !strings.Contains(body, tc.adminBody) {
				t.Errorf("admin %s: %d, want %d with %q (%.200s)", tc.path, code, tc.admin, tc.adminBody, body)
			}
		})
	}

	// The counters live in the Metrics the wiring passed, so a new Server
	// after a config reload continues them.
	next := newEnv(t, func(c *broker.Config) { c.Metrics = shared })
	next.rp("portal", "portal-secret", rpRedirect).login("erika", "high")
	if _, body := get(t, next.adminURL()+"/metrics"); !strings.Contains(body, `broker_upstream_total{adapter="demo",result="verified"} 2`) {
		t.Fatalf("counters after reload:\n%s", body)
	}
}

// adminURL serves the broker's admin handler on a listener of its own, as
// cmd/broker does on admin_listen, and returns its base URL.
func (e *env) adminURL() string {
	srv := httptest.NewServer(e.broker.AdminHandler())
	e.t.Cleanup(srv.Close)
	return srv.URL
}
