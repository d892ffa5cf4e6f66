package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// AxeEnv names axe-core's browser build (axe.min.js) explicitly; without
// it AxePath looks where the repository's install script puts it.
const AxeEnv = "BROKER_AXE_JS"

// AxePath returns the path of axe.min.js. Like Path, it skips the test
// when axe-core is missing, or fails it under BROKER_REQUIRE_CHROMIUM=1
// (make test installs axe-core from the npm registry first).
func AxePath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(AxeEnv); p != "" {
		return p
	}
	if dir, err := os.UserCacheDir(); err == nil {
		p := filepath.Join(dir, "eidas-broker-test", "node_modules", "axe-core", "axe.min.js")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("BROKER_REQUIRE_CHROMIUM") == "1" {
		t.Fatalf("axe-core not found (set %s or run .ci/install-deps)", AxeEnv)
	}
	t.Skipf("axe-core not installed (run .ci/install-deps or set %s); the accessibility checks were not run", AxeEnv)
	return ""
}

// Violation is one axe-core rule that failed on a page.
type Violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// Axe runs axe-core's WCAG 2.1 A/AA rules on the page the context shows
// and fails the test for every violation of impact serious or critical,
// with a full-page screenshot of the page written to a temporary folder.
// DevTools evaluation is not subject to the page's CSP, so nothing about
// the page is loosened for the check.
func Axe(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	src, err := os.ReadFile(AxePath(t))
	if err != nil {
		t.Fatalf("read axe-core: %v", err)
	}
	if _, err := Run(ctx, chromedp.Evaluate[bool](string(src)+";true")); err != nil {
		t.Fatalf("%s: inject axe-core: %v", page, err)
	}
	const run = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
	  .then(r => JSON.stringify(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
	  .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))))`
	out, err := Run(ctx, chromedp.Evaluate[string](run, func(p *runtime.EvaluateParams) { await := true; p.AwaitPromise = &await }))
	if err != nil {
		t.Fatalf("%s: run axe-core: %v", page, err)
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("%s: axe-core result: %v", page, err)
	}
	if len(vs) == 0 {
		return
	}
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "\n  %s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
	}
	t.Errorf("%s: %d serious/critical accessibility violations:%s%s", page, len(vs), b.String(), Screenshot(t, ctx, page))
}

// Screenshot writes a full-page PNG of what the context shows to a
// temporary folder that outlives the test and returns a note naming it.
func Screenshot(t testing.TB, ctx context.Context, page string) string {
	t.Helper()
	png, err := Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Sprintf(" (no screenshot: %v)", err)
	}
	dir := filepath.Join(os.TempDir(), "broker-browser-failures")
	_ = os.MkdirAll(dir, 0o755)
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name() + "-" + page)
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Sprintf(" (no screenshot: %v)", err)
	}
	return "\n  screenshot: " + path
}

// Reflow reports whether the page needs horizontal scrolling at the
// current viewport (WCAG 1.4.10 at 320 CSS px).
func Reflow(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	over, err := Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil {
		t.Fatalf("%s: reflow check: %v", page, err)
	}
	if over {
		t.Errorf("%s: scrolls horizontally at this width (WCAG 1.4.10)%s", page, Screenshot(t, ctx, page))
	}
}
