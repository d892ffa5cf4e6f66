package broker_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

func brandedEnv(t *testing.T) *env {
	return newEnv(t, func(c *broker.Config) {
		c.Branding = broker.Branding{
			OperatorName: "Land Musterland", Primary: "#0b3d91", OnPrimary: "#ffffff",
			Links: []broker.BrandLink{{Kind: "privacy", URL: "https://musterland.example/datenschutz"}, {Kind: "imprint", URL: "https://musterland.example/impressum"}},
		}
	})
}

var titleRE = regexp.MustCompile(`<title>([^<]*)</title>`)

// TestPagesCarryBrandingAndContext: operator name, legal links in the
// footer (in the fixed order), the portal on every step, one h1, and a
// title of its own per step.
func TestPagesCarryBrandingAndContext(t *testing.T) {
	e := brandedEnv(t)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, methods := r.authorize(oauth2.SetAuthURLParam("scope", "openid profile service:tax"))
	m := txPath.FindStringSubmatch(methods.body)
	demo := r.post("/login/"+m[1]+"/start", url.Values{"method": {"demo"}})
	consent := r.post(demo.formAction(), url.Values{"nonce": {demo.field("nonce")}, "person": {"erika"}, "level": {"high"}, "action": {"login"}})
	titles := map[string]bool{}
	for name, p := range map[string]*page{"methods": methods, "consent": consent} {
		if p.status != http.StatusOK {
			t.Fatalf("%s: status %d", name, p.status)
		}
		for _, want := range []string{"Land Musterland", `id="context-portal">Test Portal<`, "Tax", "Impressum", "Datenschutzerklärung", `href="#main"`, `<main id="main">`, "/branding/theme.css"} {
			if !strings.Contains(p.body, want) {
				t.Errorf("%s page lacks %q", name, want)
			}
		}
		if strings.Index(p.body, "Impressum") > strings.Index(p.body, "Datenschutzerklärung") {
			t.Errorf("%s: footer links out of order", name)
		}
		if n := strings.Count(p.body, "<h1"); n != 1 {
			t.Errorf("%s: %d h1 elements", name, n)
		}
		tm := titleRE.FindStringSubmatch(p.body)
		if tm == nil || titles[tm[1]] {
			t.Errorf("%s: missing or repeated title %v", name, tm)
		} else {
			titles[tm[1]] = true
		}
	}
	css := r.get(e.srv.URL + "/branding/theme.css")
	if css.status != http.StatusOK || !strings.Contains(css.body, "--primary:#0b3d91") {
		t.Fatalf("theme: %d %q", css.status, css.body)
	}
	if fav := r.get(e.srv.URL + "/branding/favicon.svg"); fav.status != http.StatusOK {
		t.Fatalf("favicon: %d", fav.status)
	}
}

// TestLanguageRule: explicit switch > ui_locales > Accept-Language > German,
// and the switch holds for the rest of the login, adapter pages included.
func TestLanguageRule(t *testing.T) {
	e := newEnv(t, nil)
	isEN := func(p *page) bool { return strings.Contains(p.body, `<html lang="en">`) }
	t.Run("default German", func(t *testing.T) {
		r := e.rp("portal", "portal-secret", rpRedirect)
		if _, p := r.authorize(); isEN(p) {
			t.Fatal("want German")
		}
	})
	t.Run("ui_locales", func(t *testing.T) {
		r := e.rp("portal", "portal-secret", rpRedirect)
		if _, p := r.authorize(oauth2.SetAuthURLParam("ui_locales", "en de")); !isEN(p) {
			t.Fatal("want English")
		}
	})
	t.Run("Accept-Language", func(t *testing.T) {
		r := e.rp("portal", "portal-secret", rpRedirect)
		f := &flow{state: "s", nonce: "n", verifier: oauth2.GenerateVerifier()}
		req, _ := http.NewRequest(http.MethodGet, r.cfg.AuthCodeURL(f.state, oauth2.S256ChallengeOption(f.verifier)), nil)
		req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
		if p := r.do(req); !isEN(p) {
			t.Fatal("want English")
		}
	})
	t.Run("switch beats ui_locales and lasts", func(t *testing.T) {
		r := e.rp("portal", "portal-secret", rpRedirect)
		_, p := r.authorize(oauth2.SetAuthURLParam("ui_locales", "de"))
		m := txPath.FindStringSubmatch(p.body)
		if sw := r.get(e.srv.URL + "/login/" + m[1] + "?lang=en"); !isEN(sw) {
			t.Fatal("switch: want English")
		}
		// The next step, without the parameter, stays English, and the
		// adapter gets the language too.
		demo := r.post("/login/"+m[1]+"/start", url.Values{"method": {"demo"}})
		if !strings.Contains(demo.body, "Demo") {
			t.Fatalf("demo page: %d", demo.status)
		}
		if again := r.get(e.srv.URL + "/login/" + m[1]); !isEN(again) {
			t.Fatal("switch did not last")
		}
	})
}

// TestExpiredLoginOffersWayBack: a page for an unknown login names the
// portal of the browser's last login and links back to it.
func TestExpiredLoginOffersWayBack(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	r.authorize()
	p := r.get(e.srv.URL + "/login/unknown-transaction-id")
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="back-portal" href="https://portal.example/"`) {
		t.Fatalf("want the expired page with the way back: %d %.500s", p.status, p.body)
	}
	fresh := e.newBrowser()
	resp, err := fresh.Get(e.srv.URL + "/login/unknown-transaction-id")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("fresh browser: %d", resp.StatusCode)
	}
}

// TestBindingCookieRenewed: every step renews the binding cookie.
func TestBindingCookieRenewed(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, p := r.authorize()
	m := txPath.FindStringSubmatch(p.body)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/login/"+m[1], nil)
	resp, err := r.browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	renewed := false
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "broker_tx_") && c.MaxAge > 0 {
			renewed = true
		}
	}
	if !renewed {
		t.Fatal("binding cookie not renewed on a later step")
	}
}

// reasonAdapter refuses every answer with a fixed reason (a test double
// of an upstream that reports why it refused).
type reasonAdapter struct{ reason adapters.Reason }

func (a reasonAdapter) Info() adapters.Info {
	return adapters.Info{Type: "reason", Name: adapters.Text{DE: "Grund", EN: "Reason"}, MaxLevel: assurance.High}
}

func (a reasonAdapter) Begin(_ context.Context, req adapters.Request) (adapters.Handoff, []byte, error) {
	return adapters.Handoff{RedirectURL: req.CallbackURL}, []byte("x"), nil
}

func (a reasonAdapter) Finish(context.Context, adapters.Request, []byte, *http.Request) (adapters.Identity, error) {
	return adapters.Identity{}, adapters.WithReason(a.reason, errors.New("refused"))
}

// TestRefusalReasonsExplained: each reason an adapter reports gets its own
// message with the ways on (another method, back to the portal).
func TestRefusalReasonsExplained(t *testing.T) {
	tests := []struct {
		reason adapters.Reason
		want   string
	}{
		{adapters.ReasonCertificateRevoked, "gesperrt oder widerrufen"},
		{adapters.ReasonCertificateExpired, "abgelaufen"},
		{adapters.ReasonCertificateUsage, "nicht für die Anmeldung bestimmt"},
		{adapters.ReasonCertificateUntrusted, "nicht von ELSTER ausgestellt"},
		{adapters.ReasonCardBlocked, "PUK"},
		{adapters.ReasonDocumentNotAccepted, "Smart-eID"},
		{adapters.ReasonUpstreamUnreachable, "nicht erreichbar"},
		{adapters.ReasonCredentialRevoked, "vom Aussteller gesperrt"},
		{"", "konnte nicht bestätigt werden"},
	}
	for _, tt := range tests {
		t.Run(string(tt.reason), func(t *testing.T) {
			e := newEnv(t, func(c *broker.Config) {
				c.Adapters = append(c.Adapters, broker.AdapterEntry{ID: "r", Adapter: reasonAdapter{tt.reason}})
			})
			r := e.rp("portal", "portal-secret", rpRedirect)
			_, methods := r.authorize()
			m := txPath.FindStringSubmatch(methods.body)
			p := r.post("/login/"+m[1]+"/start", url.Values{"method": {"r"}})
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, tt.want) ||
				!strings.Contains(p.body, `id="retry"`) || !strings.Contains(p.body, `id="cancel"`) {
				t.Fatalf("status %d, want %q with both ways on: %.600s", p.status, tt.want, p.body)
			}
		})
	}
}
