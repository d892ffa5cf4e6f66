package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ozg-broker/eidas-broker/broker/browsertest"
)

// TestBrowserNEZOThroughPortal is issue #12's acceptance path in a real
// Chromium: a person picks ELSTER (NEZO), logs in at the simulator as the
// test company's employee, and the portal receives acr substantial with
// the person's names and a legal_entity carrying company name,
// Steuernummer and register entry; the ELSTER test account is refused.
func TestBrowserNEZOThroughPortal(t *testing.T) {
	base := startDemo(t)
	start := func(t *testing.T, account string) (ctx context.Context) {
		ctx = browsertest.New(t)
		err := browsertest.Do(ctx,
			chromedp.Navigate(base+"/demo/"),
			chromedp.Click("#service-residence"),
			chromedp.WaitVisible("#start-"+demoNEZOID),
			chromedp.Click("#start-"+demoNEZOID),
			chromedp.WaitVisible("#account-"+account),
			chromedp.Click("#account-"+account),
			chromedp.Click("#sim-login"),
		)
		if err != nil {
			t.Fatalf("browser flow: %v", err)
		}
		return ctx
	}
	t.Run("company employee", func(t *testing.T) {
		ctx := start(t, "musterbau")
		err := browsertest.Do(ctx,
			chromedp.WaitVisible("#allow"),
			chromedp.Click("#allow"),
			chromedp.WaitVisible("#acr"),
		)
		if err != nil {
			t.Fatalf("browser flow: %v", err)
		}
		if acr := browsertest.Text(t, ctx, "#acr"); acr != "http://eidas.europa.eu/LoA/substantial" {
			t.Fatalf("acr = %q", acr)
		}
		ui := browsertest.Text(t, ctx, "#userinfo")
		for _, want := range []string{"Max", "Mustermann", "legal_entity", "Musterbau GmbH", "143/123/45678", "HRB", "123456", "Amtsgericht München"} {
			if !strings.Contains(ui, want) {
				t.Errorf("userinfo lacks %q: %s", want, ui)
			}
		}
	})
	t.Run("test account refused", func(t *testing.T) {
		ctx := start(t, "testkonto")
		if err := browsertest.Do(ctx, chromedp.WaitVisible("#error-message")); err != nil {
			t.Fatalf("browser flow: %v", err)
		}
	})
}
