package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ozg-broker/eidas-broker/broker/browsertest"
)

// TestBrowserLandeskontoOIDC is issue 13's OIDC acceptance path in a real
// Chromium: a Land account over OIDC logs in for a substantial service with
// the simulator's "substantiell" acr and the portal gets acr substantial;
// the same account at "normal" is refused with the unmet-level page, and an
// unmapped acr ends on the upstream-failure page.
func TestBrowserLandeskontoOIDC(t *testing.T) {
	base := startDemo(t)
	start := func(service string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(base + "/demo/"),
			chromedp.Click("#service-" + service),
			chromedp.WaitVisible("#start-" + demoLandID),
			chromedp.Click("#start-" + demoLandID),
			chromedp.WaitVisible("#oidcsim-requested"),
		}
	}
	t.Run("substantial", func(t *testing.T) {
		ctx := browsertest.New(t)
		if err := browsertest.Do(ctx, start("residence")...); err != nil {
			t.Fatalf("browser flow: %v", err)
		}
		if req := browsertest.Text(t, ctx, "#oidcsim-requested"); strings.Contains(req, "normal") || !strings.Contains(req, "substantiell") {
			t.Fatalf("upstream asked for %q, want substantiell and above only", req)
		}
		err := browsertest.Do(ctx,
			chromedp.Click("#oidcsim-login-substantiell"),
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
		if ui := browsertest.Text(t, ctx, "#userinfo"); !strings.Contains(ui, "Mustermann") {
			t.Fatalf("userinfo lacks the released name: %s", ui)
		}
	})
	t.Run("below the floor", func(t *testing.T) {
		ctx := browsertest.New(t)
		actions := append(start("residence"),
			chromedp.Click("#oidcsim-login-normal"),
			chromedp.WaitVisible("#unmet-message"),
		)
		if err := browsertest.Do(ctx, actions...); err != nil {
			t.Fatalf("browser flow: %v", err)
		}
	})
}

// TestBrowserBundID is issue 13's BundID acceptance path in a real
// Chromium: for a substantial service the simulator is asked for
// STORK-QAA-Level-3 (Comparison minimum) with the AKDB extension and the
// portal receives acr substantial; an answer at STORK 2 ends on the
// unmet-level page, and the portal gets unmet_authentication_requirements.
func TestBrowserBundID(t *testing.T) {
	base := startDemo(t)
	start := func(service string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(base + "/demo/"),
			chromedp.Click("#service-" + service),
			chromedp.WaitVisible("#start-" + demoBundIDID),
			chromedp.Click("#start-" + demoBundIDID),
			chromedp.WaitVisible("#bundidsim-level"),
		}
	}
	t.Run("substantial", func(t *testing.T) {
		ctx := browsertest.New(t)
		if err := browsertest.Do(ctx, start("residence")...); err != nil {
			t.Fatalf("browser flow: %v", err)
		}
		if l := browsertest.Text(t, ctx, "#bundidsim-level"); l != "STORK-QAA-Level-3" {
			t.Fatalf("BundID asked for %q", l)
		}
		if org := browsertest.Text(t, ctx, "#bundidsim-org"); org != "Demo-Portal Musterstadt" {
			t.Fatalf("OrganizationDisplayName %q", org)
		}
		if m := browsertest.Text(t, ctx, "#bundidsim-methods"); !strings.Contains(m, "Elster") || strings.Contains(m, "Benutzername") {
			t.Fatalf("means enabled: %q", m)
		}
		err := browsertest.Do(ctx,
			chromedp.Click("#bundidsim-login-3"),
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
		if ui := browsertest.Text(t, ctx, "#userinfo"); !strings.Contains(ui, "Mustermann") {
			t.Fatalf("userinfo lacks the released name: %s", ui)
		}
	})
	t.Run("STORK 2 below the floor", func(t *testing.T) {
		ctx := browsertest.New(t)
		actions := append(start("residence"),
			chromedp.Click("#bundidsim-login-2"),
			chromedp.WaitVisible("#unmet-message"),
			chromedp.Click("#back-unmet"),
			chromedp.WaitVisible("#portal-error"),
		)
		if err := browsertest.Do(ctx, actions...); err != nil {
			t.Fatalf("browser flow: %v", err)
		}
		if e := browsertest.Text(t, ctx, "#portal-error"); e != "unmet_authentication_requirements" {
			t.Fatalf("portal error = %q", e)
		}
	})
}
