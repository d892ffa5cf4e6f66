package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ozg-broker/eidas-broker/broker/browsertest"
)

// recorder is a testing.TB that keeps what Axe and Reflow report instead
// of failing the real test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Helper() {}

// TestAxeAndReflowCatchViolations proves the checks can fail: an image
// without a text alternative (axe-core: image-alt, critical) and a page
// wider than the viewport are reported; a clean page is not.
func TestAxeAndReflowCatchViolations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		body := `<main><h1>ok</h1><p>fine</p></main>`
		if r.URL.Path == "/bad" {
			body = `<main><h1>bad</h1><img src="/x.png"><div style="width:2000px">wide</div></main>`
		}
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>t</title><meta name="viewport" content="width=device-width"></head><body>%s</body></html>`, body)
	}))
	defer srv.Close()
	ctx := browsertest.New(t)
	for _, tc := range []struct {
		path string
		bad  bool
	}{{"/good", false}, {"/bad", true}} {
		if err := browsertest.Do(ctx, chromedp.EmulateViewport(320, 640), chromedp.Navigate(srv.URL+tc.path)); err != nil {
			t.Fatal(err)
		}
		rec := &recorder{TB: t}
		browsertest.Axe(rec, ctx, tc.path)
		browsertest.Reflow(rec, ctx, tc.path)
		joined := strings.Join(rec.errs, "\n")
		if tc.bad && (!strings.Contains(joined, "image-alt") || !strings.Contains(joined, "scrolls horizontally")) {
			t.Errorf("%s: violations not reported: %q", tc.path, joined)
		}
		if !tc.bad && len(rec.errs) > 0 {
			t.Errorf("%s: clean page reported: %q", tc.path, joined)
		}
	}
}
