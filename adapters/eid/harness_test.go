package eid_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/eid"
	"github.com/ozg-broker/eidas-broker/adapters/eid/eidsim"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

func fixtureDir(t testing.TB, sub ...string) string {
	return testfiles.Path(t, append([]string{"testdata", "eid"}, sub...)...)
}

func loadPKI(t testing.TB, sub ...string) *eidsim.PKI {
	t.Helper()
	p, err := eidsim.LoadPKI(fixtureDir(t, sub...))
	if err != nil {
		t.Fatalf("load fixtures (regenerate with go run ./testdata/eid/gen): %v", err)
	}
	return p
}

// harness is a broker stand-in: an HTTP server that mounts the adapter's
// routes at /eid/ and the eID-Client simulator at /sim/eid-client/, with
// the eID-Server simulator on its own mutual-TLS listener.
type harness struct {
	t       testing.TB
	demo    *eidsim.Demo
	broker  *httptest.Server
	mux     *http.ServeMux
	adapter *eid.Adapter
	store   store.Store
	cfg     *eid.Config
}

type harnessOpts struct {
	demo   func(*eidsim.DemoOptions)
	config func(*eid.Config)
}

func newHarness(t testing.TB, o harnessOpts) *harness {
	t.Helper()
	dopts := eidsim.DemoOptions{PKI: loadPKI(t)}
	if o.demo != nil {
		o.demo(&dopts)
	}
	d, err := eidsim.StartDemo(dopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	mux := http.NewServeMux()
	broker := httptest.NewServer(mux)
	t.Cleanup(broker.Close)
	cfg := d.AdapterConfig(broker.URL + "/sim/eid-client/")
	if o.config != nil {
		o.config(cfg)
	}
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	a, err := cfg.Open("eid", adapters.Deps{Store: st, BaseURL: broker.URL})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/eid/", http.StripPrefix("/eid", a.Routes()))
	mux.Handle("/sim/eid-client/", d.Client)
	return &harness{t: t, demo: d, broker: broker, mux: mux, adapter: a, store: st, cfg: cfg}
}

func newRef(t testing.TB) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func (h *harness) request(claims []string) adapters.Request {
	return adapters.Request{
		TxID:        newRef(h.t),
		Ref:         newRef(h.t),
		MinLevel:    assurance.High,
		CallbackURL: h.broker.URL + "/callback",
		BaseURL:     h.broker.URL,
		Claims:      claims,
		Locale:      "de",
	}
}

// begin starts a login and returns the request, the start page and state.
func (h *harness) begin(claims []string) (adapters.Request, []byte, []byte) {
	h.t.Helper()
	req := h.request(claims)
	ho, state, err := h.adapter.Begin(context.Background(), req)
	if err != nil {
		h.t.Fatalf("begin: %v", err)
	}
	if len(ho.Content) == 0 || ho.RedirectURL != "" || ho.PostURL != "" {
		h.t.Fatalf("handoff %+v", ho)
	}
	return req, ho.Content, state
}

func (h *harness) tcTokenURL(req adapters.Request) string {
	return h.broker.URL + "/eid/tctoken/" + req.Ref
}

var startLink = regexp.MustCompile(`id="start-client" href="([^"]+)"`)

// startURL extracts the eID-Client link from the start page.
func (h *harness) startURL(page []byte) string {
	h.t.Helper()
	m := startLink.FindSubmatch(page)
	if m == nil {
		h.t.Fatalf("no start link in page:\n%s", page)
	}
	return html.UnescapeString(string(m[1]))
}

// takeTCToken fetches the login's TC Token as an eID-Client would (it
// works once) and serves it again, once, at a URL of the harness, so a
// test can both know the refresh address and let the simulated eID-Client
// run. It returns the refresh address and that URL.
func (h *harness) takeTCToken(req adapters.Request) (refresh, tcURL string) {
	h.t.Helper()
	resp, err := http.Get(h.tcTokenURL(req))
	if err != nil {
		h.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	tok, err := eid.ParseTCToken(body)
	if resp.StatusCode != http.StatusOK || err != nil {
		h.t.Fatalf("tc token: %d %v", resp.StatusCode, err)
	}
	var once sync.Once
	path := "/replay-tc/" + req.Ref
	h.mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
		served := false
		once.Do(func() { served = true; _, _ = w.Write(body) })
		if !served {
			http.NotFound(w, nil)
		}
	})
	return tok.RefreshAddress, h.broker.URL + path
}

// finish calls Finish as the broker's callback would with the refresh URL
// the eID-Client sent the browser to.
func (h *harness) finish(req adapters.Request, state []byte, refresh string) (adapters.Identity, error) {
	h.t.Helper()
	r := httptest.NewRequest(http.MethodGet, refresh, nil)
	return h.adapter.Finish(context.Background(), req, state, r)
}

// noRedirect is a browser that shows us where it would go next.
func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
}

var handleField = regexp.MustCompile(`name="handle" value="([0-9a-f]+)"`)

// viaPage drives the eID-Client simulator page as a person would: open the
// start link, pick the card, keep the listed optional items, submit.
func (h *harness) viaPage(page []byte, card, action string, keep func(op string) bool) string {
	h.t.Helper()
	c := noRedirect()
	resp, err := c.Get(h.startURL(page))
	if err != nil {
		h.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("client page: %d\n%s", resp.StatusCode, body)
	}
	m := handleField.FindSubmatch(body)
	if m == nil {
		h.t.Fatalf("no form in client page:\n%s", body)
	}
	form := url.Values{"handle": {string(m[1])}, "card": {card}, "action": {action}}
	for _, om := range regexp.MustCompile(`name="keep" value="([A-Za-z]+)"`).FindAllSubmatch(body, -1) {
		if keep == nil || keep(string(om[1])) {
			form.Add("keep", string(om[1]))
		}
	}
	resp, err = c.PostForm(h.broker.URL+"/sim/eid-client/complete", form)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("complete: status %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// mtlsClient returns an HTTP client for the demo's eID-Server, with the
// given client certificate (nil: none).
func mtlsClient(p *eidsim.PKI, cert *tls.Certificate) *http.Client {
	conf := &tls.Config{RootCAs: p.CAPool(), MinVersion: tls.VersionTLS12}
	if cert != nil {
		conf.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: conf}, Timeout: 10 * time.Second}
}

// rawClient builds an eid.Client against the demo server with explicit options.
func rawClient(t *testing.T, d *eidsim.Demo, mutate func(*eid.ClientOptions)) *eid.Client {
	t.Helper()
	o := eid.ClientOptions{
		Endpoint:          d.ServerURL,
		HTTP:              mtlsClient(d.PKI, &d.PKI.ClientTLS),
		SigningKey:        d.PKI.ServiceSigning.Key,
		SigningCert:       d.PKI.ServiceSigning.Cert,
		ServerSigningCert: d.PKI.ServerSigning.Cert,
		Timeout:           5 * time.Second,
	}
	if mutate != nil {
		mutate(&o)
	}
	c, err := eid.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func basicRequest() *eid.UseIDRequest {
	r := &eid.UseIDRequest{}
	for _, n := range eid.OperationNames() {
		r.UseOperations.Set(n, eid.Prohibited)
	}
	r.UseOperations.RestrictedID = eid.Required
	r.UseOperations.GivenNames = eid.Required
	return r
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// httpRecorder serves one GET through h and returns the status.
func httpRecorder(t *testing.T, h http.Handler, path string) int {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code
}
