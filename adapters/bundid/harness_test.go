package bundid_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/bundid"
	"github.com/ozg-broker/eidas-broker/adapters/bundid/bundidsim"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

// harness runs the BundID simulator and the adapter over real HTTP on one
// loopback server: /sim/bundid is the IdP, /saml/bundid the adapter's
// routes.
type harness struct {
	t       *testing.T
	srv     *httptest.Server
	sim     *bundidsim.Sim
	ad      *bundid.Adapter
	browser *http.Client
}

func newHarness(t *testing.T, edit func(*bundid.Config)) *harness {
	t.Helper()
	h := &harness{t: t}
	mux := http.NewServeMux()
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	base := h.srv.URL
	sim, err := bundidsim.New(bundidsim.Options{BaseURL: base + "/sim/bundid",
		SPMetadata: func(context.Context) ([]byte, error) { return h.ad.SPMetadata() }})
	if err != nil {
		t.Fatal(err)
	}
	h.sim = sim
	mux.Handle("/sim/bundid/", http.StripPrefix("/sim/bundid", sim.Handler()))
	cfg := bundid.NewConfig()
	cfg.Material, err = sim.Material()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Display = bundid.Display{
		Default: bundid.DisplayEntry{OrganizationDisplayName: "Musterstadt", OnlineServiceID: "default-99"},
		PerService: []bundid.DisplayEntry{
			{Client: "portal", OrganizationDisplayName: "Bürgeramt Musterstadt"},
			{Client: "portal", Service: "residence", OnlineServiceID: "99123456760000"},
			{Client: "portal", Service: "certificate", OnlineServiceID: "99000000000004", OrganizationDisplayName: "Bundesamt für Justiz"},
			{Client: "other", Service: "residence", OnlineServiceID: "other-1"},
		},
	}
	if edit != nil {
		edit(cfg)
	}
	h.ad, err = cfg.Open("bundid", adapters.Deps{BaseURL: base, Store: memory.New(), HTTP: h.srv.Client(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.ad.Close() })
	if err := h.ad.CheckHealth(context.Background()); err != nil {
		t.Fatalf("IdP metadata: %v", err)
	}
	mux.Handle(bundid.MountPath("bundid")+"/", http.StripPrefix(bundid.MountPath("bundid"), h.ad.Routes()))
	h.browser = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return h
}

const testRef = "ref-0123456789abcdefghij"

func request(floor assurance.Level, claims ...string) adapters.Request {
	return adapters.Request{TxID: "tx", Ref: testRef, MinLevel: floor, Claims: claims, Locale: "de",
		ClientID: "portal", Services: []string{"residence"}}
}

var (
	reRequest  = regexp.MustCompile(`name="request" value="([^"]+)"`)
	reResponse = regexp.MustCompile(`name="SAMLResponse" value="([^"]+)"`)
	reRelay    = regexp.MustCompile(`name="RelayState" value="([^"]*)"`)
	reAction   = regexp.MustCompile(`action="([^"]+)"`)
)

// answer is what the simulator posted back.
type answer struct {
	acs          string
	samlResponse string
	relayState   string
}

// run sends the request, lets the person pick a STORK level key ("1".."4",
// or "" to cancel) and returns the simulator's answer form.
func (h *harness) run(req adapters.Request, level string) (answer, []byte) {
	h.t.Helper()
	return h.runAt(req, level, "/sim/bundid/answer")
}

func (h *harness) runAt(req adapters.Request, level, answerPath string) (answer, []byte) {
	h.t.Helper()
	ho, state, err := h.ad.Begin(context.Background(), req)
	if err != nil {
		h.t.Fatalf("Begin: %v", err)
	}
	if ho.PostURL == "" {
		h.t.Fatalf("handoff is not HTTP-POST: %+v", ho)
	}
	page := h.post(ho.PostURL, ho.PostForm)
	m := reRequest.FindStringSubmatch(page)
	if m == nil {
		h.t.Fatalf("simulator page: %s", page)
	}
	form := url.Values{"request": {m[1]}, "person": {"erika"}, "level": {level}}
	if level == "" {
		form.Set("action", "cancel")
	}
	page = h.post(h.srv.URL+answerPath, form)
	var a answer
	for _, x := range []struct {
		re *regexp.Regexp
		to *string
	}{{reAction, &a.acs}, {reResponse, &a.samlResponse}, {reRelay, &a.relayState}} {
		mm := x.re.FindStringSubmatch(page)
		if mm == nil {
			h.t.Fatalf("answer page lacks %v: %s", x.re, page)
		}
		*x.to = htmlUnescape(mm[1])
	}
	return a, state
}

// finish delivers the answer through the fixed ACS (which forwards it to
// the login's callback) and runs Finish there.
func (h *harness) finish(req adapters.Request, state []byte, a answer) (adapters.Identity, error) {
	h.t.Helper()
	form := url.Values{"SAMLResponse": {a.samlResponse}, "RelayState": {a.relayState}}
	resp, err := h.browser.PostForm(a.acs, form)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusTemporaryRedirect || err != nil || loc.Path != "/login/cb/"+testRef {
		h.t.Fatalf("ACS answered %d %v", resp.StatusCode, loc)
	}
	r := httptest.NewRequest(http.MethodPost, loc.String(), strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.ad.Finish(context.Background(), req, state, r)
}

func (h *harness) login(req adapters.Request, level string) (adapters.Identity, error) {
	h.t.Helper()
	a, state := h.run(req, level)
	return h.finish(req, state, a)
}

func (h *harness) post(u string, form url.Values) string {
	h.t.Helper()
	resp, err := h.browser.PostForm(u, form)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("POST %s: %d %s", u, resp.StatusCode, b)
	}
	return string(b)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&#43;", "+", "&#34;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#39;", "'").Replace(s)
}

func postRequest(t *testing.T, path string, a answer) *http.Request {
	t.Helper()
	form := url.Values{"SAMLResponse": {a.samlResponse}, "RelayState": {a.relayState}}
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}
