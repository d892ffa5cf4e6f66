package broker_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/browsertest"
	"github.com/ozg-broker/eidas-broker/broker/ratelimit"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// TestBrowserLoginPages: in Chromium, a login page warns shortly before
// the login expires (in a status region, with the time), its button
// renews the login, and once the login is gone the page says so and offers
// the way back to the portal. The warning is set to come a few seconds
// after the page loads instead of two minutes before the end.
//
// The branded 429 page shares the browser (one per test binary run).
func TestBrowserLoginPages(t *testing.T) {
	// A small per-address budget: the expiry walk needs one /authorize,
	// the busy page a few more.
	e := newEnv(t, func(c *broker.Config) { c.Limits = &ratelimit.Config{PerAddress: 3, PerClient: 100} })
	broker.SetExpiryWarning(e.broker, 15*time.Minute-4*time.Second)
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
	status := func() string { return browsertest.Text(t, ctx, "#expiry-status") }
	if err := browsertest.Do(ctx, chromedp.Navigate(r.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))), chromedp.WaitVisible("#cancel")); err != nil {
		fail("start", err)
	}
	// The method page (served by /authorize itself); its address for
	// reloading is /login/{id}.
	extend, err := browsertest.Run(ctx, chromedp.Evaluate[string](`document.getElementById("expiry").dataset.extend`))
	if err != nil || !strings.HasPrefix(extend, "/login/") || !strings.HasSuffix(extend, "/extend") {
		t.Fatalf("no expiry warning on the method page: %q %v", extend, err)
	}
	u := e.srv.URL + strings.TrimSuffix(extend, "/extend")
	tx := strings.TrimPrefix(strings.TrimSuffix(extend, "/extend"), "/login/")

	// Nothing shows at first; the warning a few seconds later.
	if err := browsertest.Do(ctx, chromedp.Navigate(u+"?lang=de"), chromedp.WaitVisible("#cancel")); err != nil {
		fail("german", err)
	}
	if s := status(); s != "" {
		t.Fatalf("status before the warning time: %q", s)
	}
	if err := browsertest.Do(ctx, chromedp.WaitVisible("#expiry-extend")); err != nil {
		fail("warning", err)
	}
	if s := status(); !strings.HasPrefix(s, "Ihre Anmeldung läuft um ") || !strings.Contains(s, "Brauchen Sie mehr Zeit?") {
		t.Fatalf("warning %q", s)
	}
	browsertest.Axe(t, ctx, "expiry-warning")

	// More time: the broker renews the login; the page says so.
	e.advance(10 * time.Minute)
	before, _ := broker.TxRenewed(e.broker, tx)
	extended := `document.getElementById("expiry-status").textContent === "Sie haben wieder 15 Minuten Zeit." ? "ok" : null`
	if err := browsertest.Do(ctx, chromedp.Click("#expiry-extend")); err != nil {
		fail("extend", err)
	}
	if _, err := browsertest.Run(ctx, chromedp.Poll[string](extended, chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		fail("extended", fmt.Errorf("%w (status %q)", err, status()))
	}
	if after, _ := broker.TxRenewed(e.broker, tx); after.Sub(before) < 10*time.Minute {
		t.Fatalf("the button did not renew the login (%v, before %v)", after, before)
	}

	// The login ends meanwhile (here: removed from the store); the next
	// "more time" finds it gone, and the page offers the way back.
	if err := browsertest.Do(ctx, chromedp.Navigate(u+"?lang=en"), chromedp.WaitVisible("#expiry-extend")); err != nil {
		fail("warning in english", err)
	}
	if s := status(); !strings.HasPrefix(s, "Your login expires at ") {
		t.Fatalf("english warning %q", s)
	}
	if err := e.store.Delete(context.Background(), store.KindTransaction, tx); err != nil {
		t.Fatal(err)
	}
	if err := browsertest.Do(ctx, chromedp.Click("#expiry-extend"), chromedp.WaitVisible("#expiry-back"), chromedp.WaitNotVisible("#expiry-extend")); err != nil {
		fail("expired", err)
	}
	if s := status(); !strings.HasPrefix(s, "Your login has expired.") {
		t.Fatalf("expired message %q", s)
	}
	href, err := browsertest.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#expiry-back a").href`))
	if err != nil || !strings.HasPrefix(rpRedirect, href) {
		t.Fatalf("way back %q (%v), want the portal %s", href, err, rpRedirect)
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
