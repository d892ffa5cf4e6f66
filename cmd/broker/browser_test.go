package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium; the tests skip without it unless
// BROKER_REQUIRE_CHROMIUM=1 (CI), so a missing browser can never turn the
// suite silently green there.
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
	t.Skip("chromium not installed; `make test` installs it")
	return ""
}

// startDemo runs the real demo wiring on a free loopback port.
func startDemo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	d, err := newDemo(base, newLogger(os.Stderr, "warn"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: d.handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); d.close() })
	return base
}

func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Headless,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// TestBrowserDemoLogin logs in through the demo portal in a real Chromium:
// portal → method page → demo identities → consent → portal shows acr high.
func TestBrowserDemoLogin(t *testing.T) {
	base := startDemo(t)
	ctx := newBrowser(t)
	err := chromedp.Do(ctx,
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
	acr := text(t, ctx, "#acr")
	userinfo := text(t, ctx, "#userinfo")
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
	ctx := newBrowser(t)
	err := chromedp.Do(ctx,
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
	msg := text(t, ctx, "#unmet-message")
	err = chromedp.Do(ctx,
		chromedp.Click("#back-unmet"),
		chromedp.WaitVisible("#portal-error"),
	)
	if err != nil {
		t.Fatalf("browser flow: %v", err)
	}
	portalErr := text(t, ctx, "#portal-error")
	if !strings.Contains(msg, "hoch") && !strings.Contains(msg, "high") {
		t.Fatalf("unmet page does not name the required level: %q", msg)
	}
	if portalErr != "unmet_authentication_requirements" {
		t.Fatalf("portal error = %q", portalErr)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}
