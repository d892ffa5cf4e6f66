package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Timeout bounds one test's whole browser session.
const Timeout = 2 * time.Minute

// staleAttempts is how often one step may lose the node-id race before Do
// gives up; each loss needs a navigation under the step, so a handful is
// plenty and a real failure still surfaces quickly.
const staleAttempts = 5

// Path returns Debian's chromium (or another Chromium build on PATH). It
// skips the test when there is none, or fails it under
// BROKER_REQUIRE_CHROMIUM=1.
func Path(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("BROKER_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium not installed but BROKER_REQUIRE_CHROMIUM=1")
	}
	t.Skip("chromium not installed: skipping the browser test (`make test` installs it)")
	return ""
}

// New starts a headless Chromium with a fresh profile, stopped when the test
// ends, and returns a context for its first tab bounded by Timeout.
func New(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Path(t)),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Headless,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	// The first run starts the browser; it must not carry the deadline,
	// which would otherwise bound the browser process rather than the test.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// The tab without the deadline stays reachable, so that a step that
	// ran out of time can still say where the browser was (describe).
	ctx = context.WithValue(ctx, tabKey{}, ctx)
	ctx, cancelTimeout := context.WithTimeout(ctx, Timeout)
	t.Cleanup(cancelTimeout)
	return ctx
}

// Do runs the steps in order, like chromedp.Do, but runs a step again when
// it lost the node-id race (see the package documentation). The error names
// the failing step's position, counted from 1, and where the browser was
// then: a wait that never ends usually means the page in front of it is
// another one (an error page), and the test output should say which.
func Do(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) error {
	for i, step := range steps {
		if _, err := Run(ctx, step); err != nil {
			return fmt.Errorf("step %d of %d: %w (browser at %s)", i+1, len(steps), err, describe(ctx))
		}
	}
	return nil
}

type tabKey struct{}

// describe reports the current page's address, title and the start of its
// text, read through the tab without the test's deadline (which may be
// what just ran out). Test pages hold demo identities only.
func describe(ctx context.Context) string {
	tab, ok := ctx.Value(tabKey{}).(context.Context)
	if !ok {
		return "an unknown page"
	}
	dctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(dctx, chromedp.Evaluate[string](`location.href + " [" + document.title + "]: " + (document.body ? document.body.innerText.replace(/\s+/g, " ").slice(0, 400) : "")`))
	if err != nil {
		return fmt.Sprintf("an unknown page (%v)", err)
	}
	return s
}

// Run runs one action that yields a value (chromedp.Text, Evaluate, …) with
// the same retry as Do.
func Run[T any](ctx context.Context, action chromedp.Action[T]) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := chromedp.Run(ctx, action)
		if err == nil || !IsStaleNode(err) || attempt == staleAttempts {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("%w (after: %w)", ctx.Err(), err)
		case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		}
	}
}

// Text returns the visible text of the first element matching sel, failing
// the test when there is none.
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	s, err := Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// IsStaleNode reports whether err is the node-id race and nothing else:
// an action whose node id or JavaScript context belonged to a document that
// has since been replaced. The messages are Chromium's; they are matched on
// the error text because chromedp does not always keep the protocol error
// in the chain.
func IsStaleNode(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	for _, m := range [...]string{
		"Could not find node with given id",
		"No node with given id found",
		"Node with given id does not belong to the document",
		"Cannot find context with specified id",
		"Execution context was destroyed",
	} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}
