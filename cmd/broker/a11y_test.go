package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ozg-broker/eidas-broker/broker/browsertest"
)

// TestBrowserAccessibility walks the broker's pages in Chromium on a
// desktop and a phone viewport, in German and English, and runs axe-core
// (WCAG 2.1 A/AA) on each: any serious or critical violation fails. At
// 320 CSS px no page may scroll horizontally (WCAG 1.4.10).
func TestBrowserAccessibility(t *testing.T) {
	base := startDemo(t)
	viewports := []struct {
		name          string
		width, height int64
	}{{"desktop", 1280, 800}, {"mobile", 390, 844}, {"reflow", 320, 640}}
	for _, vp := range viewports {
		for _, lang := range []string{"de", "en"} {
			if vp.name == "reflow" && lang == "en" {
				continue
			}
			name := vp.name + "-" + lang
			ctx := browsertest.New(t) // one browser each: the session timeout bounds one walk
			check := func(page string) {
				t.Helper()
				if vp.name == "reflow" {
					browsertest.Reflow(t, ctx, name+"/"+page)
					return
				}
				browsertest.Axe(t, ctx, name+"/"+page)
			}
			must := func(steps ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := browsertest.Do(ctx, steps...); err != nil {
					t.Fatalf("%s: %v%s", name, err, browsertest.Screenshot(t, ctx, name))
				}
			}
			must(chromedp.EmulateViewport(vp.width, vp.height),
				chromedp.Navigate(base+"/demo/login?service=certificate"), chromedp.WaitVisible("#start-eid"))
			tx := currentTx(t, ctx)
			must(chromedp.Navigate(base+"/login/"+tx+"?lang="+lang), chromedp.WaitVisible("#start-eid"))
			check("methods")

			must(chromedp.Click("#start-eid"), chromedp.WaitVisible("#start-client"))
			check("eid-start")

			// ELSTER reaches substantial: a service of that level offers it.
			must(chromedp.Navigate(base+"/demo/login?service=residence"), chromedp.WaitVisible("#start-elster"),
				chromedp.Click("#start-elster"), chromedp.WaitVisible("#elster-file"))
			check("elster")
			// In the broker's layout: the portal the login is for, and the
			// warning before the login expires.
			if browsertest.Text(t, ctx, "#context-portal") == "" {
				t.Errorf("%s: the ELSTER page does not name the portal", name)
			}
			must(chromedp.WaitReady("#expiry-status"))

			// The EUDI wallet page (QR code, status polling) in the layout.
			must(chromedp.Navigate(base+"/login/"+tx), chromedp.WaitVisible("#start-eudi-wallet"),
				chromedp.Click("#start-eudi-wallet"), chromedp.WaitVisible("#wallet-qr"), chromedp.WaitReady("#expiry-status"))
			check("wallet")

			// A demo identity below the level: the unmet page.
			must(chromedp.Navigate(base+"/login/"+tx), chromedp.WaitVisible("#start-demo"), chromedp.Click("#start-demo"),
				chromedp.WaitVisible("#level-substantial"))
			check("demo-identities")
			must(chromedp.Click("#level-substantial"), chromedp.Click("#demo-login"), chromedp.WaitVisible("#unmet-message"))
			check("unmet")

			// The same login at high: consent.
			must(chromedp.Click("#stronger"), chromedp.WaitVisible("#start-demo"), chromedp.Click("#start-demo"),
				chromedp.WaitVisible("#demo-login"), chromedp.Click("#level-high"), chromedp.Click("#demo-login"), chromedp.WaitVisible("#allow"))
			check("consent")
			must(chromedp.Click("#allow"), chromedp.WaitVisible("#acr"))

			must(chromedp.Navigate(base+"/login/no-such-login"), chromedp.WaitVisible("#error-message"))
			check("expired")
			// The focus is on the message, not on the page's start.
			if id, err := browsertest.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`)); err != nil || id != "error-message" {
				t.Errorf("%s: focus on %q after an error, want the message", name, id)
			}
			must(chromedp.Navigate(base+"/logout/confirm"), chromedp.WaitVisible("#confirm-logout"))
			check("logout")
			must(chromedp.Click("#confirm-logout"), chromedp.WaitVisible("#logged-out"))
			check("logged-out")

			// The eIDAS-Service's pages (a foreign connector's login with
			// the German eID) in the same layout: start, consent (whose
			// long person identifier must wrap), error.
			// A foreign connector's request names no language: the start
			// page follows the browser's (Accept-Language).
			must(acceptLanguage(lang), chromedp.Navigate(base+"/demo/connector/"), chromedp.WaitVisible("#start"), chromedp.Click("#start"),
				chromedp.WaitVisible("#start-client"))
			if got, err := browsertest.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); err != nil || got != lang {
				t.Errorf("%s: eIDAS-Service start page in %q, want %q (%v)", name, got, lang, err)
			}
			check("eidas-service-start")
			must(acceptLanguage(""))
			must(chromedp.Click("#start-client"), chromedp.WaitVisible(`button[value="ok"]`), chromedp.Click(`button[value="ok"]`),
				chromedp.WaitVisible("#approve"))
			consent, err := browsertest.Run(ctx, chromedp.Evaluate[string](`location.origin + location.pathname`))
			if err != nil {
				t.Fatal(err)
			}
			must(chromedp.Navigate(consent+"?lang="+lang), chromedp.WaitVisible("#approve"))
			check("eidas-service-consent")
			layoutOf(t, ctx, name+"/eidas-service-consent", lang, map[string]string{"de": "Datenübermittlung bestätigen", "en": "Confirm the data release"}[lang])
			must(chromedp.Navigate(base+"/saml/service/consent/no-such-login?lang="+lang), chromedp.WaitVisible("#error-message"))
			check("eidas-service-error")
		}
	}
}

// acceptLanguage makes the browser send Accept-Language: lang with every
// request from now on ("" for its default).
func acceptLanguage(lang string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		h := network.Headers{}
		if lang != "" {
			h["Accept-Language"] = lang
		}
		_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: h})
		return err
	})
}

// layoutOf checks that the page is in the broker's layout: its language,
// its own title, the operator's name, the legal links, one h1 and the
// landmarks.
func layoutOf(t *testing.T, ctx context.Context, page, lang, title string) {
	t.Helper()
	got, err := browsertest.Run(ctx, chromedp.Evaluate[[]string](`[
		document.documentElement.lang, document.title,
		document.querySelector("header.site .brand") ? document.querySelector("header.site .brand").textContent : "",
		String(document.querySelectorAll("footer.site ul.legal a").length),
		String(document.querySelectorAll("h1").length),
		String(document.querySelectorAll("main").length),
		document.querySelector('link[href="/branding/theme.css"]') ? "theme" : "",
		document.querySelector('nav.langswitch') ? "switch" : ""]`))
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != lang || !strings.HasPrefix(got[1], title+" – ") || got[2] == "" || got[3] == "0" || got[4] != "1" || got[5] != "1" || got[6] != "theme" || got[7] != "switch" {
		t.Errorf("%s: not in the broker's layout (lang, title, operator, legal links, h1s, mains, theme, switch): %q", page, got)
	}
}

// TestBrowserKeyboardOnly completes a login with the keyboard alone for
// each login method of the demo, through the simulators' pages too: Tab
// to each control, arrow keys and Space in radio groups, Enter to press,
// never a click. Each subtest ends on the portal's result page with the
// level it received, so a control the keyboard cannot reach or operate
// fails the method it belongs to.
func TestBrowserKeyboardOnly(t *testing.T) {
	base := startDemo(t)
	pfx, err := filepath.Abs("../../testdata/elster/organisation.pfx")
	if err != nil {
		t.Fatal(err)
	}
	const high, substantial = "http://eidas.europa.eu/LoA/high", "http://eidas.europa.eu/LoA/substantial"
	for _, m := range []struct {
		name, service, acr string
		who                string // in the released claims: the chosen person
		steps              []kbStep
	}{
		{"demo", "certificate", high, "Mustermann", []kbStep{
			press("#start-demo", "#demo-login"),
			press("#demo-login", "#allow"),
		}},
		{"eid", "certificate", high, "Mustermann", []kbStep{
			press("#start-eid", "#start-client"),
			press("#start-client", `button[value="ok"]`),
			choose("card", "erika"),
			press(`button[value="ok"]`, "#allow"),
		}},
		{"eidas", "certificate", high, "Müller", []kbStep{
			choose("option", "AT"),
			press(`#method-eidas button[type="submit"]`, "#citizen-anna"),
			choose("citizen", "anna"),
			press("#sim-login", "#allow"),
		}},
		{"elster-certificate", "residence", substantial, "Musterfirma GmbH", []kbStep{
			press("#start-elster", "#elster-file"),
			// The one step that is not the keyboard: headless Chromium
			// opens no file chooser, so the file is set over the
			// DevTools protocol once the keyboard has reached the field.
			upload("elster-file", pfx),
			typeInto("#elster-pin", "Firma-2025"),
			press("#elster-submit", "#allow"),
		}},
		{"elster-nezo", "residence", substantial, "Musterbau GmbH", []kbStep{
			press("#start-"+demoNEZOID, "#account-musterbau"),
			choose("account", "musterbau"),
			press("#sim-login", "#allow"),
		}},
		{"bundid", "residence", substantial, "Mustermann", []kbStep{
			press("#start-"+demoBundIDID, "#bundidsim-login-3"),
			press("#bundidsim-login-3", "#allow"),
		}},
		{"oidc-landeskonto", "residence", substantial, "Mustermann", []kbStep{
			press("#start-"+demoLandID, "#oidcsim-login-substantiell"),
			press("#oidcsim-login-substantiell", "#allow"),
		}},
		{"eudi-wallet-same-device", "certificate", high, "Mustermann", []kbStep{
			press("#start-eudi-wallet", "#wallet-same"),
			press("#wallet-same", "#sim-agree"),
			choose("format", "mso_mdoc"),
			press("#sim-agree", "#allow"),
		}},
	} {
		t.Run(m.name, func(t *testing.T) {
			ctx := browsertest.New(t)
			if err := browsertest.Do(ctx, chromedp.Navigate(base+"/demo/login?service="+m.service), chromedp.WaitVisible("#cancel")); err != nil {
				t.Fatal(err)
			}
			for _, step := range append(m.steps, press("#allow", "#acr")) {
				step(t, ctx)
			}
			if acr := browsertest.Text(t, ctx, "#acr"); acr != m.acr {
				t.Fatalf("acr = %q, want %q", acr, m.acr)
			}
			if ui := browsertest.Text(t, ctx, "#userinfo"); !strings.Contains(strings.ToLower(ui), strings.ToLower(m.who)) {
				t.Fatalf("userinfo lacks %q: %s", m.who, ui)
			}
		})
	}
}

// kbStep is one thing a person does with the keyboard on a page.
type kbStep func(t *testing.T, ctx context.Context)

// press Tabs to the control and presses Enter; next must then appear.
func press(sel, next string) kbStep {
	return func(t *testing.T, ctx context.Context) {
		t.Helper()
		tabTo(t, ctx, sel)
		if err := browsertest.Do(ctx, chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(next)); err != nil {
			t.Fatalf("Enter on %s: %v%s", sel, err, browsertest.Screenshot(t, ctx, "enter"))
		}
	}
}

// choose Tabs into the radio group name (the browser focuses its checked
// radio, or the first) and selects value with the arrow keys, or Space
// when the focused radio is the one and nothing is checked yet.
func choose(name, value string) kbStep {
	return func(t *testing.T, ctx context.Context) {
		t.Helper()
		tabTo(t, ctx, `input[type="radio"][name="`+name+`"]`)
		for range 20 {
			state, err := browsertest.Run(ctx, chromedp.Evaluate[[]any](`[document.activeElement.value, document.activeElement.checked]`))
			if err != nil {
				t.Fatal(err)
			}
			if state[0] == value {
				if state[1] != true {
					if err := browsertest.Do(ctx, chromedp.KeyEvent(" ")); err != nil {
						t.Fatal(err)
					}
				}
				checked, err := browsertest.Run(ctx, chromedp.Evaluate[bool](`document.activeElement.checked`))
				if err != nil || !checked {
					t.Fatalf("radio %s=%s has the focus but is not checked (%v)", name, value, err)
				}
				return
			}
			if err := browsertest.Do(ctx, chromedp.KeyEvent(kb.ArrowDown)); err != nil {
				t.Fatal(err)
			}
		}
		t.Fatalf("arrow keys never reached radio %s=%s%s", name, value, browsertest.Screenshot(t, ctx, "radio-"+name))
	}
}

// typeInto Tabs to a text field and types text.
func typeInto(sel, text string) kbStep {
	return func(t *testing.T, ctx context.Context) {
		t.Helper()
		tabTo(t, ctx, sel)
		if err := browsertest.Do(ctx, chromedp.KeyEvent(text)); err != nil {
			t.Fatal(err)
		}
	}
}

// upload Tabs to a file input (it must be reachable) and sets the file
// over the DevTools protocol: the file chooser is the operating
// system's, not the page's.
func upload(id, file string) kbStep {
	return func(t *testing.T, ctx context.Context) {
		t.Helper()
		tabTo(t, ctx, "#"+id)
		if err := browsertest.Do(ctx, chromedp.SetUploadFiles(chromedp.ID(id), []string{file})); err != nil {
			t.Fatal(err)
		}
	}
}

// tabTo presses Tab until the element matching the CSS selector sel has
// the focus, and checks that the focus is visible there.
func tabTo(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	q, err := json.Marshal(sel)
	if err != nil {
		t.Fatal(err)
	}
	for range 80 {
		got, err := browsertest.Run(ctx, chromedp.Evaluate[bool](`!!document.activeElement && document.activeElement.matches(`+string(q)+`)`))
		if err != nil {
			t.Fatal(err)
		}
		if got {
			visible, err := browsertest.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.activeElement).outlineStyle !== 'none'`))
			if err != nil || !visible {
				t.Errorf("%s has the focus but no visible focus indicator", sel)
			}
			return
		}
		if err := browsertest.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("Tab never reached %s%s", sel, browsertest.Screenshot(t, ctx, "tab"))
}

// currentTx reads the login's transaction ID off the method page's form
// (the page answers the authorization request itself, so the address is
// /authorize).
func currentTx(t *testing.T, ctx context.Context) string {
	t.Helper()
	u, err := browsertest.Run(ctx, chromedp.Evaluate[string](`document.querySelector('form[action$="/start"]').getAttribute('action')`))
	if err != nil {
		t.Fatal(err)
	}
	tx, ok := strings.CutPrefix(strings.TrimSuffix(u, "/start"), "/login/")
	if !ok || tx == "" || strings.Contains(tx, "/") {
		t.Fatalf("not on a login page: %s", u)
	}
	return tx
}

// TestReadmeScreenshots renders the README's screenshots of the method
// and consent pages when BROKER_SCREENSHOTS names a folder (make
// screenshots); otherwise it is skipped.
func TestReadmeScreenshots(t *testing.T) {
	dir := os.Getenv("BROKER_SCREENSHOTS")
	if dir == "" {
		t.Skip("set BROKER_SCREENSHOTS to a folder to render the README screenshots")
	}
	base := startDemo(t)
	ctx := browsertest.New(t)
	shot := func(name string) {
		png, err := browsertest.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err := browsertest.Do(ctx, chromedp.EmulateViewport(1000, 760),
		chromedp.Navigate(base+"/demo/login?service=residence"), chromedp.WaitVisible("#start-demo"))
	if err != nil {
		t.Fatal(err)
	}
	shot("method-page.png")
	err = browsertest.Do(ctx, chromedp.Click("#start-demo"), chromedp.WaitVisible("#demo-login"),
		chromedp.Click("#demo-login"), chromedp.WaitVisible("#allow"))
	if err != nil {
		t.Fatal(err)
	}
	shot("consent-page.png")
}
