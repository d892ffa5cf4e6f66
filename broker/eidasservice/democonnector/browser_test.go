package democonnector_test

import (
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/eid/eidsim"
	"github.com/ozg-broker/eidas-broker/broker/browsertest"
	es "github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/eidasservice/democonnector"
	"github.com/ozg-broker/eidas-broker/broker/logtest"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

// TestBrowserForeignLogin clicks through the whole eIDAS-Service flow in a
// real Chromium: the foreign connector's button, the auto-submitted
// AuthnRequest, the eID start page, the eID-Client simulator, the consent
// page and the auto-submitted Response, under the pages' strict content
// security policies (no inline script anywhere).
func TestBrowserForeignLogin(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	pki, err := eidsim.LoadPKI(testfiles.Path(t, "testdata", "eid"))
	if err != nil {
		t.Fatal(err)
	}
	// The simulators' log goes to the test's output if it fails: a failed
	// step then shows why the eID-Client page did not come (TC Token,
	// eID-Server).
	simLog := new(logtest.Buffer)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("eID simulators' log:\n%s", simLog.String())
		}
	})
	d, err := eidsim.StartDemo(eidsim.DemoOptions{PKI: pki, Logger: slog.New(slog.NewTextHandler(simLog, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ad, err := d.AdapterConfig(issuer+"/sim/eid-client/").Open("eid", adapters.Deps{Store: memory.New(), BaseURL: issuer})
	if err != nil {
		t.Fatal(err)
	}
	demo, err := democonnector.Wire(democonnector.WireOptions{Issuer: issuer, Adapter: ad, Store: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(es.PathPrefix+"/", http.StripPrefix(es.PathPrefix, demo.Service.Routes()))
	mux.Handle("/demo/connector/", http.StripPrefix("/demo/connector", demo.Connector.Handler()))
	mux.Handle("/eid/", http.StripPrefix("/eid", ad.Routes()))
	mux.Handle("/sim/eid-client/", d.Client)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	ctx := browsertest.New(t)

	text := func(sel string) string {
		t.Helper()
		v, err := browsertest.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return v
	}
	err = browsertest.Do(ctx,
		chromedp.Navigate(issuer+"/demo/connector/"),
		chromedp.WaitVisible("#start"),
		chromedp.Click("#start"),
		// The AuthnRequest form submits itself (served script), the
		// service answers with the eID start page.
		chromedp.WaitVisible("#start-client"),
		chromedp.Click("#start-client"),
		// The eID-Client simulator: first card (Erika Mustermann), PIN.
		chromedp.WaitVisible(`button[value="ok"]`),
		chromedp.Click(`button[value="ok"]`),
		chromedp.WaitVisible("#approve"),
	)
	if err != nil {
		t.Fatalf("browser flow to the consent page: %v", err)
	}
	body := text("main")
	if err := browsertest.Do(ctx, chromedp.Click("#approve"), chromedp.WaitVisible("#result")); err != nil {
		t.Fatalf("browser flow after consent: %v", err)
	}
	result, loa := text("#result"), text("#loa")
	if !strings.Contains(body, "MUSTERMANN") {
		t.Errorf("consent page does not show the data: %s", body)
	}
	if !strings.Contains(result, "Login successful") || loa != "http://eidas.europa.eu/LoA/high" {
		t.Errorf("result %q, LoA %q", result, loa)
	}
}
