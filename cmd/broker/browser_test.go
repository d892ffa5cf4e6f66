package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ozg-broker/eidas-broker/broker/browsertest"
)

// startDemo runs the real demo wiring on a free loopback port.
func startDemo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	d, err := newDemo(base, "../../testdata", newLogger(os.Stderr, "warn"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: d.handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); d.close() })
	return base
}

// TestBrowserDemoLogin logs in through the demo portal in a real Chromium:
// portal → method page → demo identities → consent → portal shows acr high.
func TestBrowserDemoLogin(t *testing.T) {
	base := startDemo(t)
	ctx := browsertest.New(t)
	err := browsertest.Do(ctx,
		chromedp.Navigate(base+"/demo/"),
		chromedp.Click("#service-certificate"),
		chromedp.WaitVisible("#start-demo"),
		chromedp.Click("#start-demo"),
		chromedp.WaitVisible("#demo-login"),
		chromedp.Click("#demo-login"),
		chromedp.WaitVisible("#allow"),
		chromedp.Click("#allow"),
		chromedp.WaitVisible("#acr"),
	)
	if err != nil {
		t.Fatalf("browser flow: %v", err)
	}
	acr := browsertest.Text(t, ctx, "#acr")
	userinfo := browsertest.Text(t, ctx, "#userinfo")
	if acr != "http://eidas.europa.eu/LoA/high" {
		t.Fatalf("acr = %q", acr)
	}
	if !strings.Contains(userinfo, "Mustermann") {
		t.Fatalf("userinfo lacks the released name: %s", userinfo)
	}
}

// TestBrowserLevelRefused: a substantial login for a high service is
// refused with a way forward, and the portal gets the standard error.
func TestBrowserLevelRefused(t *testing.T) {
	base := startDemo(t)
	ctx := browsertest.New(t)
	err := browsertest.Do(ctx,
		chromedp.Navigate(base+"/demo/"),
		chromedp.Click("#service-certificate"),
		chromedp.WaitVisible("#start-demo"),
		chromedp.Click("#start-demo"),
		chromedp.WaitVisible("#level-substantial"),
		chromedp.Click("#level-substantial"),
		chromedp.Click("#demo-login"),
		chromedp.WaitVisible("#unmet-message"),
		chromedp.WaitVisible("#stronger"),
	)
	if err != nil {
		t.Fatalf("browser flow: %v", err)
	}
	msg := browsertest.Text(t, ctx, "#unmet-message")
	err = browsertest.Do(ctx,
		chromedp.Click("#back-unmet"),
		chromedp.WaitVisible("#portal-error"),
	)
	if err != nil {
		t.Fatalf("browser flow: %v", err)
	}
	portalErr := browsertest.Text(t, ctx, "#portal-error")
	if !strings.Contains(msg, "hoch") && !strings.Contains(msg, "high") {
		t.Fatalf("unmet page does not name the required level: %q", msg)
	}
	if portalErr != "unmet_authentication_requirements" {
		t.Fatalf("portal error = %q", portalErr)
	}
}

// TestBrowserELSTERThroughPortal is issue #5's acceptance path: a test
// certificate and its PIN log in at the demo portal with acr substantial
// (organisation certificate: acting-for claim); the same person is refused
// for a high service with a way forward; a wrong PIN stays in the page.
func TestBrowserELSTERThroughPortal(t *testing.T) {
	base := startDemo(t)
	pfx, err := filepath.Abs("../../testdata/elster/organisation.pfx")
	if err != nil {
		t.Fatal(err)
	}
	startELSTER := func(ctx context.Context, service string) error {
		return browsertest.Do(ctx,
			chromedp.Navigate(base+"/demo/"),
			chromedp.Click("#service-"+service),
			chromedp.WaitVisible("#start-elster"),
			chromedp.Click("#start-elster"),
			chromedp.WaitVisible(chromedp.ID("elster-file")),
			chromedp.SetUploadFiles(chromedp.ID("elster-file"), []string{pfx}),
		)
	}
	t.Run("login", func(t *testing.T) {
		ctx := browsertest.New(t)
		err := startELSTER(ctx, "residence")
		if err == nil {
			err = browsertest.Do(ctx,
				chromedp.SendKeys(chromedp.ID("elster-pin"), "Firma-2025"),
				chromedp.Click(chromedp.ID("elster-submit")),
				chromedp.WaitVisible("#allow"),
				chromedp.Click("#allow"),
				chromedp.WaitVisible("#acr"),
			)
		}
		if err != nil {
			t.Fatalf("browser flow: %v", err)
		}
		if acr := browsertest.Text(t, ctx, "#acr"); acr != "http://eidas.europa.eu/LoA/substantial" {
			t.Fatalf("acr = %q", acr)
		}
		if ui := browsertest.Text(t, ctx, "#userinfo"); !strings.Contains(ui, "legal_entity") || !strings.Contains(ui, "Musterfirma GmbH") {
			t.Fatalf("acting-for claim missing: %s", ui)
		}
	})
	t.Run("high service not offered", func(t *testing.T) {
		ctx := browsertest.New(t)
		err := browsertest.Do(ctx,
			chromedp.Navigate(base+"/demo/"),
			chromedp.Click("#service-certificate"),
			chromedp.WaitVisible("#start-demo"),
		)
		if err != nil {
			t.Fatal(err)
		}
		// ELSTER reaches substantial only: the page for a high service
		// does not offer it (the demo identities stay, they can claim high).
		n, err := browsertest.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#start-elster").length`))
		if err != nil || n != 0 {
			t.Fatalf("ELSTER offered for a high service (%d, %v)", n, err)
		}
		// ... but explained, beside the methods that do reach high.
		if why := browsertest.Text(t, ctx, "#insufficient-elster"); !strings.Contains(why, "substan") {
			t.Fatalf("no explanation for ELSTER: %q", why)
		}
	})
	t.Run("wrong PIN", func(t *testing.T) {
		ctx := browsertest.New(t)
		err := startELSTER(ctx, "residence")
		if err == nil {
			err = browsertest.Do(ctx,
				chromedp.SendKeys(chromedp.ID("elster-pin"), "wrong-pin"),
				chromedp.Click(chromedp.ID("elster-submit")),
				chromedp.WaitVisible(chromedp.ID("elster-error")),
			)
		}
		if err != nil {
			t.Fatalf("browser flow: %v", err)
		}
		code, err := browsertest.Run(ctx, chromedp.AttributeValue(chromedp.ID("elster-error"), "data-code"))
		if err != nil || !strings.Contains(strings.ToLower(code.Value), "pin") {
			t.Fatalf("error code = %q (%v)", code.Value, err)
		}
	})
}

// TestBrowserEIDThroughPortal is issue #4's acceptance path: the person
// picks "Online-Ausweis", the simulated eID-Client (AusweisApp role) asks
// for consent, and the portal receives acr high; a cancelled card read
// returns the portal a standard OIDC error.
func TestBrowserEIDThroughPortal(t *testing.T) {
	base := startDemo(t)
	toClient := func(ctx context.Context) error {
		return browsertest.Do(ctx,
			chromedp.Navigate(base+"/demo/"),
			chromedp.Click("#service-certificate"),
			chromedp.WaitVisible("#start-eid"),
			chromedp.Click("#start-eid"),
			chromedp.WaitVisible("#start-client"),
			chromedp.Click("#start-client"),
			chromedp.WaitVisible(`button[value="ok"]`),
		)
	}
	t.Run("erika", func(t *testing.T) {
		ctx := browsertest.New(t)
		err := toClient(ctx)
		if err == nil {
			err = browsertest.Do(ctx,
				chromedp.Click(`input[name="card"][value="erika"]`),
				chromedp.Click(`button[value="ok"]`),
				chromedp.WaitVisible("#allow"),
				chromedp.Click("#allow"),
				chromedp.WaitVisible("#acr"),
			)
		}
		if err != nil {
			t.Fatalf("browser flow: %v", err)
		}
		if acr := browsertest.Text(t, ctx, "#acr"); acr != "http://eidas.europa.eu/LoA/high" {
			t.Fatalf("acr = %q", acr)
		}
		if ui := browsertest.Text(t, ctx, "#userinfo"); !strings.Contains(ui, "MUSTERMANN") && !strings.Contains(ui, "Mustermann") {
			t.Fatalf("userinfo: %s", ui)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		// Cancelling in the eID-Client returns to the method page with a
		// note; "cancel" there answers the portal with access_denied.
		ctx := browsertest.New(t)
		err := toClient(ctx)
		if err == nil {
			err = browsertest.Do(ctx,
				chromedp.Click(`button[value="cancel"]`),
				chromedp.WaitVisible("#note"),
				chromedp.WaitVisible("#start-eid"),
				chromedp.Click("#cancel"),
				chromedp.WaitVisible("#portal-error"),
			)
		}
		if err != nil {
			t.Fatalf("browser flow: %v", err)
		}
		if e := browsertest.Text(t, ctx, "#portal-error"); e != "access_denied" {
			t.Fatalf("portal error = %q", e)
		}
	})
}

// TestBrowserEIDASThroughPortal is issue #3's acceptance path: "EU eID",
// a country, a test citizen, and the portal gets the eIDAS level; a
// country that only reaches substantial is not offered for a high service.
func TestBrowserEIDASThroughPortal(t *testing.T) {
	base := startDemo(t)
	// login runs a citizen of a country through the portal's service and
	// returns the browser on the portal's result page.
	login := func(t *testing.T, service, country, citizen string) context.Context {
		t.Helper()
		ctx := browsertest.New(t)
		option := `#method-eidas input[value="` + country + `"]`
		err := browsertest.Do(ctx,
			chromedp.Navigate(base+"/demo/"),
			chromedp.Click("#service-"+service),
			chromedp.WaitVisible(option),
			chromedp.Click(option),
			chromedp.Click(`#method-eidas button[type="submit"]`),
			chromedp.WaitVisible("#citizen-"+citizen),
			chromedp.Click("#citizen-"+citizen),
			chromedp.Click("#sim-login"),
			chromedp.WaitVisible("#allow"),
			chromedp.Click("#allow"),
			chromedp.WaitVisible("#acr"),
		)
		if err != nil {
			t.Fatalf("browser flow: %v", err)
		}
		return ctx
	}
	t.Run("austria high", func(t *testing.T) {
		ctx := login(t, "certificate", "AT", "anna")
		if acr := browsertest.Text(t, ctx, "#acr"); acr != "http://eidas.europa.eu/LoA/high" {
			t.Fatalf("acr = %q", acr)
		}
		if ui := browsertest.Text(t, ctx, "#userinfo"); !strings.Contains(ui, "Müller") {
			t.Fatalf("userinfo: %s", ui)
		}
	})
	t.Run("sweden not offered for high", func(t *testing.T) {
		ctx := browsertest.New(t)
		err := browsertest.Do(ctx,
			chromedp.Navigate(base+"/demo/"),
			chromedp.Click("#service-certificate"),
			chromedp.WaitVisible(`#method-eidas input[value="AT"]`),
		)
		if err != nil {
			t.Fatal(err)
		}
		n, err := browsertest.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#method-eidas input[value="SE"]').length`))
		if err != nil || n != 0 {
			t.Fatalf("SE offered for a high service (%d, %v)", n, err)
		}
		if why := browsertest.Text(t, ctx, "#below-eidas"); !strings.Contains(why, "Schweden") && !strings.Contains(why, "Sweden") {
			t.Fatalf("no explanation for Sweden: %q", why)
		}
	})
	t.Run("sweden substantial", func(t *testing.T) {
		ctx := login(t, "residence", "SE", "sven")
		if acr := browsertest.Text(t, ctx, "#acr"); acr != "http://eidas.europa.eu/LoA/substantial" {
			t.Fatalf("acr = %q", acr)
		}
	})
}

// TestBrowserForeignConnectorThroughDemo is issue #6's acceptance path in
// the real demo wiring: the demo foreign connector sends a signed eIDAS
// AuthnRequest, the person uses the simulated eID card, consents, and the
// connector shows the decrypted attributes with LoA high.
func TestBrowserForeignConnectorThroughDemo(t *testing.T) {
	base := startDemo(t)
	ctx := browsertest.New(t)
	err := browsertest.Do(ctx,
		chromedp.Navigate(base+"/demo/connector/"),
		chromedp.WaitVisible("#start"),
		chromedp.Click("#start"),
		chromedp.WaitVisible("#start-client"),
		chromedp.Click("#start-client"),
		chromedp.WaitVisible(`button[value="ok"]`),
		chromedp.Click(`button[value="ok"]`),
		chromedp.WaitVisible("#approve"),
		chromedp.Click("#approve"),
		chromedp.WaitVisible("#result"),
	)
	if err != nil {
		t.Fatalf("browser flow: %v", err)
	}
	if loa := browsertest.Text(t, ctx, "#loa"); loa != "http://eidas.europa.eu/LoA/high" {
		t.Fatalf("LoA = %q", loa)
	}
	if res := browsertest.Text(t, ctx, "main"); !strings.Contains(res, "MUSTERMANN") || !strings.Contains(res, "DE/") {
		t.Fatalf("connector result lacks the decrypted attributes: %s", res)
	}
}

// TestBrowserRelayRefused is one cross-browser relay attempt in real
// Chromium: browser A starts an eID login and hands the eID-Client link to
// browser B, whose person authenticates with the card. B sees the relay
// page; A, continuing its login, gets no identity.
func TestBrowserRelayRefused(t *testing.T) {
	base := startDemo(t)
	a := browsertest.New(t)
	err := browsertest.Do(a,
		chromedp.Navigate(base+"/demo/"),
		chromedp.Click("#service-certificate"),
		chromedp.WaitVisible("#start-eid"),
		chromedp.Click("#start-eid"),
		chromedp.WaitVisible("#start-client"),
	)
	if err != nil {
		t.Fatalf("browser A: %v", err)
	}
	link, err := browsertest.Run(a, chromedp.Evaluate[string](`document.getElementById('start-client').href`))
	if err != nil || !strings.Contains(link, "tcTokenURL=") {
		t.Fatalf("eID-Client link: %q %v", link, err)
	}
	b := browsertest.New(t)
	err = browsertest.Do(b,
		chromedp.Navigate(link),
		chromedp.WaitVisible(`button[value="ok"]`),
		chromedp.Click(`input[name="card"][value="erika"]`),
		chromedp.Click(`button[value="ok"]`),
		chromedp.WaitVisible("#error-message"),
	)
	if err != nil {
		t.Fatalf("browser B: %v", err)
	}
	if msg := browsertest.Text(t, b, "#error-message"); !strings.Contains(msg, "keine Daten weitergegeben") && !strings.Contains(msg, "No data was passed on") {
		t.Fatalf("browser B: %q", msg)
	}
	// A goes on as if the eID-Client had come back to it.
	txURL, err := browsertest.Run(a, chromedp.Evaluate[string](`document.location.href`))
	if err != nil {
		t.Fatal(err)
	}
	tx := txURL[strings.Index(txURL, "/login/")+len("/login/"):]
	tx = strings.SplitN(tx, "/", 2)[0]
	err = browsertest.Do(a,
		chromedp.Navigate(base+"/login/"+tx+"/done"),
		chromedp.WaitVisible("#error-message"),
	)
	if err != nil {
		t.Fatalf("browser A: %v", err)
	}
	if msg := browsertest.Text(t, a, "#error-message"); !strings.Contains(msg, "abgelaufen") && !strings.Contains(msg, "expired") {
		t.Fatalf("browser A: %q", msg)
	}
}
