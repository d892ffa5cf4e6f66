package democonnector_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/eid/eidsim"
	es "github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/eidasservice/democonnector"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

// chromiumPath finds Debian's chromium; the test skips without it unless
// BROKER_REQUIRE_CHROMIUM=1.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("BROKER_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium not installed but BROKER_REQUIRE_CHROMIUM=1")
	}
	t.Skip("chromium not installed: skipping the browser test")
	return ""
}

// TestBrowserForeignLogin clicks through the whole eIDAS-Service flow in a
// real Chromium: the foreign connector's button, the auto-submitted
// AuthnRequest, the eID start page, the eID-Client simulator, the consent
// page and the auto-submitted Response, under the pages' strict content
// security policies (no inline script anywhere).
func TestBrowserForeignLogin(t *testing.T) {
	chrome := chromiumPath(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	pki, err := eidsim.LoadPKI(filepath.Join(repoRoot(t), "testdata", "eid"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := eidsim.StartDemo(eidsim.DemoOptions{PKI: pki})
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

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Headless,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel2 := chromedp.NewContext(actx)
	defer cancel2()
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	defer cancel3()

	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return v
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(issuer+"/demo/connector/"),
		chromedp.WaitVisible("#start"),
		chromedp.Click("#start"),
		// The AuthnRequest form submits itself (served script), the
		// service answers with the eID start page.
		chromedp.WaitVisible("#start-de"),
		chromedp.Click("#start-de"),
		// The eID-Client simulator: first card (Erika Mustermann), PIN.
		chromedp.WaitVisible(`button[value="ok"]`),
		chromedp.Click(`button[value="ok"]`),
		chromedp.WaitVisible("#approve"),
	)
	if err != nil {
		t.Fatalf("browser flow to the consent page: %v", err)
	}
	body := text("main")
	if err := chromedp.Do(ctx, chromedp.Click("#approve"), chromedp.WaitVisible("#result")); err != nil {
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
