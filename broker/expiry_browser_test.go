package broker_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/browsertest"
	"github.com/ozg-broker/eidas-broker/broker/ratelimit"
)

// TestBrowserLoginPages: in Chromium, a login page warns shortly
// before the login expires (in a status region, with the time), its
// button renews the login, and once the time is over the page says so and
// offers the way back to the portal. The broker's clock is moved instead
// of waiting; the page counts from the seconds it was served with.
//
// The branded 429 page shares the browser (one per test binary run).
func TestBrowserLoginPages(t *testing.T) {
	// A small per-address budget: the expiry walk needs one /authorize,
	// the busy page a few more.
	e := newEnv(t, func(c *broker.Config) { c.Limits = &ratelimit.Config{PerAddress: 3, PerClient: 100} })
	ctx := browsertest.New(t)
	t.Run("expiry warning", func(t *testing.T) { expiryWarning(t, e, ctx) })
	t.Run("busy page", func(t *testing.T) { busyPage(t, e, ctx) })
}

func expiryWarning(t *testing.T, e *env, ctx context.Context) {
	r := e.rp("portal", "portal-secret", rpRedirect)
	fail := func(step string, err error) {
		t.Helper()
		t.Fatalf("%s: %v%s", step, err, browsertest.Screenshot(t, ctx, "expiry-"+step))
	}
	if err := browsertest.Do(ctx, chromedp.Navigate(r.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))), chromedp.WaitVisible("#cancel")); err != nil {
		fail("start", err)
	}
	u, err := browsertest.Run(ctx, chromedp.Evaluate[string](`location.origin + location.pathname`))
	if err != nil || !strings.Contains(u, "/login/") {
		t.Fatalf("not on the method page: %q %v", u, err)
	}
	// Nothing shows while there is time.
	if err := browsertest.Do(ctx, chromedp.WaitNotVisible("#expiry-extend")); err != nil {
		fail("no warning yet", err)
	}
	if s := browsertest.Text(t, ctx, "#expiry-status"); s != "" {
		t.Fatalf("status before the warning time: %q", s)
	}

	// 90 seconds left: the warning is due at once.
	e.advance(13*time.Minute + 30*time.Second)
	if err := browsertest.Do(ctx, chromedp.Navigate(u+"?lang=de"), chromedp.WaitVisible("#expiry-extend")); err != nil {
		fail("warning", err)
	}
	if s := browsertest.Text(t, ctx, "#expiry-status"); !strings.HasPrefix(s, "Ihre Anmeldung läuft um ") || !strings.Contains(s, "Brauchen Sie mehr Zeit?") {
		t.Fatalf("warning %q", s)
	}
	browsertest.Axe(t, ctx, "expiry-warning")
	if err := browsertest.Do(ctx, chromedp.Click("#expiry-extend"), chromedp.WaitNotVisible("#expiry-extend")); err != nil {
		fail("extend", err)
	}
	if s := browsertest.Text(t, ctx, "#expiry-status"); s != "Sie haben wieder 15 Minuten Zeit." {
		t.Fatalf("after extending: %q", s)
	}
	if err := browsertest.Do(ctx, chromedp.Navigate(u), chromedp.WaitVisible("#cancel")); err != nil {
		fail("reload", err)
	}
	left, err := browsertest.Run(ctx, chromedp.Evaluate[int](`parseInt(document.getElementById("expiry").dataset.expiresIn, 10)`))
	if err != nil || left < 14*60 {
		t.Fatalf("after extending the page says %d s left (%v)", left, err)
	}

	// One second left: the warning, then the end with the way back.
	e.advance(15*time.Minute - time.Second)
	if err := browsertest.Do(ctx, chromedp.Navigate(u+"?lang=en"), chromedp.WaitVisible("#expiry-back")); err != nil {
		fail("expired", err)
	}
	if s := browsertest.Text(t, ctx, "#expiry-status"); !strings.HasPrefix(s, "Your login has expired.") {
		t.Fatalf("expired message %q", s)
	}
	href, err := browsertest.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#expiry-back a").href`))
	if err != nil || !strings.HasPrefix(rpRedirect, href) {
		t.Fatalf("way back %q (%v), want the portal %s", href, err, rpRedirect)
	}
	if err := browsertest.Do(ctx, chromedp.WaitNotVisible("#expiry-extend")); err != nil {
		fail("no extension after the end", err)
	}
	browsertest.Axe(t, ctx, "expiry-expired")
}

// busyPage: a browser above the rate limit gets the broker's branded page
// in its language (the explicit switch wins), which passes axe-core and
// reflows at 320 px.
func busyPage(t *testing.T, e *env, ctx context.Context) {
	u := e.srv.URL + "/authorize?" + url.Values{"client_id": {"portal"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {rpRedirect}, "state": {"s"}}.Encode()
	// Use up the address's budget: the requests within it are answered
	// with a redirect to the (unreachable) portal, which does not matter.
	for range 4 {
		_ = browsertest.Do(ctx, chromedp.Navigate(u))
	}
	for _, tc := range []struct{ lang, h1, title string }{
		{"de", "Bitte versuchen Sie es gleich noch einmal", "Bitte später erneut versuchen – "},
		{"en", "Please try again shortly", "Please try again later – "},
	} {
		if err := browsertest.Do(ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(u+"&lang="+tc.lang), chromedp.WaitVisible("#busy")); err != nil {
			t.Fatalf("%s: %v%s", tc.lang, err, browsertest.Screenshot(t, ctx, "busy-"+tc.lang))
		}
		got, err := browsertest.Run(ctx, chromedp.Evaluate[[]string](`[document.documentElement.lang, document.title,
			document.querySelector("#busy").textContent, document.querySelector("header.site .brand") ? "brand" : ""]`))
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != tc.lang || !strings.HasPrefix(got[1], tc.title) || got[2] != tc.h1 || got[3] != "brand" {
			t.Errorf("%s: busy page %q", tc.lang, got)
		}
		browsertest.Axe(t, ctx, "busy-"+tc.lang)
		if err := browsertest.Do(ctx, chromedp.EmulateViewport(320, 640)); err != nil {
			t.Fatal(err)
		}
		browsertest.Reflow(t, ctx, "busy-"+tc.lang)
	}
}
