package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ozg-broker/eidas-broker/broker/browsertest"
)

// TestBrowserWallet runs the EUDI wallet paths against one demo (its
// start is the expensive part).
func TestBrowserWallet(t *testing.T) {
	base := startDemo(t)
	t.Run("same device", func(t *testing.T) { walletSameDevice(t, base) })
	t.Run("cross device", func(t *testing.T) { walletCrossDevice(t, base) })
	t.Run("revoked", func(t *testing.T) { walletRevoked(t, base) })
}

// walletSameDevice is issue #14's acceptance path on one device: the
// portal's high service, the method EUDI-Wallet, the wallet simulator's
// page (who asks, which attributes), agree, consent, and the portal shows
// acr high with the PID's names and birth date; for both formats.
func walletSameDevice(t *testing.T, base string) {
	for _, format := range []string{"dc+sd-jwt", "mso_mdoc"} {
		t.Run(format, func(t *testing.T) {
			ctx := browsertest.New(t)
			err := browsertest.Do(ctx,
				chromedp.Navigate(base+"/demo/"),
				chromedp.Click("#service-certificate"),
				chromedp.WaitVisible("#start-eudi-wallet"),
				chromedp.Click("#start-eudi-wallet"),
				chromedp.WaitVisible("#wallet-same"),
				chromedp.Click("#wallet-same"),
				chromedp.WaitVisible("#sim-agree"),
				chromedp.Click(`input[name="format"][value="`+format+`"]`),
				chromedp.Click("#sim-agree"),
				chromedp.WaitVisible("#allow"),
				chromedp.Click("#allow"),
				chromedp.WaitVisible("#acr"),
			)
			if err != nil {
				t.Fatalf("browser flow: %v", err)
			}
			if acr := browsertest.Text(t, ctx, "#acr"); acr != "http://eidas.europa.eu/LoA/high" {
				t.Fatalf("acr = %q", acr)
			}
			if ui := browsertest.Text(t, ctx, "#userinfo"); !strings.Contains(ui, "MUSTERMANN") || !strings.Contains(ui, "1964-08-12") {
				t.Fatalf("userinfo lacks the PID's names or birth date: %s", ui)
			}
		})
	}
}

// walletCrossDevice: the desktop shows the QR code; a second
// browser (the phone) opens its URL and agrees; the desktop page notices
// by polling and continues, and only the desktop gets the identity.
func walletCrossDevice(t *testing.T, base string) {
	desktop := browsertest.New(t)
	var qrURL string
	ok := false
	err := browsertest.Do(desktop,
		chromedp.Navigate(base+"/demo/"),
		chromedp.Click("#service-certificate"),
		chromedp.WaitVisible("#start-eudi-wallet"),
		chromedp.Click("#start-eudi-wallet"),
		chromedp.WaitVisible("#wallet-qr"),
	)
	if err == nil {
		var r chromedp.AttributeResult
		r, err = browsertest.Run(desktop, chromedp.AttributeValue("#wallet-qr", "data-url"))
		qrURL, ok = r.Value, r.Exists
	}
	if err != nil || !ok || qrURL == "" {
		t.Fatalf("desktop: %v (qr url %q)", err, qrURL)
	}
	phone := browsertest.New(t)
	if err := browsertest.Do(phone, chromedp.Navigate(qrURL), chromedp.WaitVisible("#sim-agree")); err != nil {
		t.Fatalf("phone: %v", err)
	}
	if who := browsertest.Text(t, phone, "#sim-verifier"); !strings.Contains(who, "Demo-Identitätsbroker") {
		t.Fatalf("wallet page does not say who asks: %q", who)
	}
	if err := browsertest.Do(phone, chromedp.Click("#sim-agree"), chromedp.WaitVisible("#sim-done")); err != nil {
		t.Fatalf("phone: %v", err)
	}
	err = browsertest.Do(desktop,
		chromedp.WaitVisible("#allow"),
		chromedp.Click("#allow"),
		chromedp.WaitVisible("#acr"),
	)
	if err != nil {
		t.Fatalf("desktop after the wallet answered: %v", err)
	}
	if acr := browsertest.Text(t, desktop, "#acr"); acr != "http://eidas.europa.eu/LoA/high" {
		t.Fatalf("acr = %q", acr)
	}
}

// walletRevoked: a revoked PID is refused with a clear page.
func walletRevoked(t *testing.T, base string) {
	ctx := browsertest.New(t)
	err := browsertest.Do(ctx,
		chromedp.Navigate(base+"/demo/"),
		chromedp.Click("#service-certificate"),
		chromedp.WaitVisible("#start-eudi-wallet"),
		chromedp.Click("#start-eudi-wallet"),
		chromedp.WaitVisible("#wallet-same"),
		chromedp.Click("#wallet-same"),
		chromedp.WaitVisible("#sim-agree"),
		chromedp.Click(`input[name="person"][value="max"]`),
		chromedp.Click("#sim-agree"),
		chromedp.WaitVisible("#error-message"),
	)
	if err != nil {
		t.Fatalf("browser flow: %v", err)
	}
	if msg := browsertest.Text(t, ctx, "#error-message"); msg == "" {
		t.Fatal("no error message")
	}
}
