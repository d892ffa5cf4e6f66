package eidasservice_test

import (
	"context"
	"crypto/x509"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/eid"
	"github.com/ozg-broker/eidas-broker/adapters/eid/eidsim"
	es "github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/eidasservice/democonnector"
	"github.com/ozg-broker/eidas-broker/broker/logtest"
	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
	"github.com/ozg-broker/eidas-broker/config"
)

func fixture(t testing.TB, parts ...string) string {
	return testfiles.Path(t, append([]string{"testdata", "eidasservice"}, parts...)...)
}

func readFixture(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture(t, parts...))
	if err != nil {
		t.Fatalf("read fixture (regenerate with go run ./testdata/eidasservice/gen): %v", err)
	}
	return b
}

var (
	pairMu    sync.Mutex
	pairCache = map[string]democonnector.KeyPair{}
)

func pair(t testing.TB, base string) democonnector.KeyPair {
	t.Helper()
	pairMu.Lock()
	defer pairMu.Unlock()
	if kp, ok := pairCache[base]; ok {
		return kp
	}
	kp, err := democonnector.LoadKeyPair(fixture(t, "keys"), base)
	if err != nil {
		t.Fatalf("load key pair (regenerate with go run ./testdata/eidasservice/gen): %v", err)
	}
	pairCache[base] = kp
	return kp
}

var (
	pkiOnce sync.Once
	pki     *eidsim.PKI
	pkiErr  error
)

func eidPKI(t testing.TB) *eidsim.PKI {
	t.Helper()
	pkiOnce.Do(func() { pki, pkiErr = eidsim.LoadPKI(testfiles.Path(t, "testdata", "eid")) })
	if pkiErr != nil {
		t.Fatalf("load eID fixtures: %v", pkiErr)
	}
	return pki
}

// harness is a broker stand-in for the eIDAS-Service: one HTTP server with
// the service at /saml/service/, the eID adapter's routes at /eid/, the
// eID-Client simulator at /sim/eid-client/ and a demo connector at
// /demo/connector/, plus the eID-Server simulator on its own mutual-TLS
// listener.
type harness struct {
	t       testing.TB
	srv     *httptest.Server
	base    string
	svc     *es.Service
	conn    *democonnector.Connector
	eid     *eidsim.Demo
	adapter *eid.Adapter
	store   store.Store
	logs    *logtest.Buffer
	mux     *http.ServeMux
}

type harnessOpts struct {
	serviceKey string // fixture base name, default service-sign-ec
	connKeys   *democonnector.Keys
	connCfg    func(*democonnector.Config)
	// svcCfg may change the service config; it sees the harness (base URL).
	svcCfg func(*harness, *es.Config)
	eidCfg func(*eid.Config)
}

func newHarness(t testing.TB, o harnessOpts) *harness {
	t.Helper()
	h := &harness{t: t, mux: http.NewServeMux()}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }))
	t.Cleanup(h.srv.Close)
	h.base = h.srv.URL

	d, err := eidsim.StartDemo(eidsim.DemoOptions{PKI: eidPKI(t), ClientBasePath: "/sim/eid-client/"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	h.eid = d
	ecfg := d.AdapterConfig(h.base + "/sim/eid-client/")
	ecfg.Timeouts.ResultPoll = config.Duration(20 * time.Millisecond)
	if o.eidCfg != nil {
		o.eidCfg(ecfg)
	}
	ad, err := ecfg.Open("eid", adapters.Deps{Store: memory.New(), BaseURL: h.base})
	if err != nil {
		t.Fatal(err)
	}
	h.adapter = ad

	skName := o.serviceKey
	if skName == "" {
		skName = "service-sign-ec"
	}
	sk := pair(t, skName)
	keys := o.connKeys
	if keys == nil {
		keys = &democonnector.Keys{Signing: pair(t, "connector-at-sign"), Encryption: pair(t, "connector-at-enc")}
	}
	ccfg := democonnector.Config{BaseURL: h.base + "/demo/connector", Country: "AT", Keys: keys,
		Service: democonnector.ServiceInfo{EntityID: h.base + es.MetadataPath, SSOURL: h.base + es.SSOPath, Certs: []*x509.Certificate{sk.Cert}}}
	if o.connCfg != nil {
		o.connCfg(&ccfg)
	}
	conn, err := democonnector.New(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	h.conn = conn
	entry, err := conn.ServiceEntry()
	if err != nil {
		t.Fatal(err)
	}
	h.store = memory.New()
	h.logs = &logtest.Buffer{}
	cfg := es.Config{
		BaseURL: h.base, SigningKey: sk.Key, SigningCert: sk.Cert,
		Adapter: ad, AdapterID: "eid", Store: h.store,
		PseudonymSecret: []byte(strings.Repeat("s", 32)), DataKey: []byte(strings.Repeat("k", 32)),
		Connectors: []es.Connector{entry},
		Logger:     newTestLogger(h.logs),
	}
	if o.svcCfg != nil {
		o.svcCfg(h, &cfg)
	}
	svc, err := es.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.svc = svc
	h.mux.Handle(es.PathPrefix+"/", http.StripPrefix(es.PathPrefix, svc.Routes()))
	h.mux.Handle("/eid/", http.StripPrefix("/eid", ad.Routes()))
	h.mux.Handle("/sim/eid-client/", d.Client)
	h.mux.Handle("/demo/connector/", http.StripPrefix("/demo/connector", conn.Handler()))
	return h
}

// browser is a person's browser: a cookie jar, no automatic redirects
// across our checks unless asked.
type browser struct {
	t      testing.TB
	client *http.Client
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: h.t, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

type page struct {
	status int
	body   string
	header http.Header
	url    string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(body), header: resp.Header, url: resp.Request.URL.String()}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	hrefRE   = regexp.MustCompile(`href="([^"]*tcTokenURL=[^"]*)"`)
	inputRE  = regexp.MustCompile(`<input type="hidden" name="([A-Za-z]+)" value="([^"]*)">`)
	actionRE = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
)

// tcTokenURL extracts the TC Token URL from the eID adapter's start page.
func (p page) tcTokenURL(t testing.TB) string {
	t.Helper()
	m := hrefRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no eID-Client link on the page (status %d):\n%s", p.status, truncateBody(p.body))
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("tcTokenURL")
}

func (p page) form(t testing.TB) (string, url.Values) {
	t.Helper()
	m := actionRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no form on the page (status %d):\n%s", p.status, truncateBody(p.body))
	}
	v := url.Values{}
	for _, in := range inputRE.FindAllStringSubmatch(p.body, -1) {
		v.Set(in[1], html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), v
}

func truncateBody(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

// sendPOST posts a SAMLRequest to the service's SSO endpoint.
func (h *harness) sendPOST(b *browser, samlRequest, relayState string) page {
	h.t.Helper()
	return b.post(h.base+es.SSOPath, url.Values{"SAMLRequest": {samlRequest}, "RelayState": {relayState}})
}

// login runs a person through the eID simulator with card and returns the
// page the browser lands on after the eID-Client sends it back.
func (h *harness) eidLogin(b *browser, start page, card string, deselect ...string) page {
	h.t.Helper()
	if start.status != http.StatusOK {
		h.t.Fatalf("start page status %d:\n%s", start.status, truncateBody(start.body))
	}
	refresh, err := h.eid.Client.Authenticate(context.Background(), start.tcTokenURL(h.t), card, deselect...)
	if err != nil {
		h.t.Fatalf("eID-Client simulator: %v", err)
	}
	return b.get(refresh)
}

// consent answers the consent page and returns the page with the
// Response form.
func (h *harness) consent(b *browser, consentPage page, decision string) page {
	h.t.Helper()
	if consentPage.status != http.StatusOK || !strings.Contains(consentPage.body, `name="decision"`) {
		h.t.Fatalf("not the consent page (status %d):\n%s", consentPage.status, truncateBody(consentPage.body))
	}
	action, form := consentPage.form(h.t)
	form.Set("decision", decision)
	return b.post(action, form)
}

// result reads the Response off the auto-submit page with the connector.
func (h *harness) result(p page) (*democonnector.Result, url.Values) {
	h.t.Helper()
	action, form := p.form(h.t)
	if action != h.conn.ACSURL() || form.Get("SAMLResponse") == "" {
		h.t.Fatalf("not a Response form to the ACS (action %q, status %d):\n%s", action, p.status, truncateBody(p.body))
	}
	res, err := h.conn.ReadResponse(form.Get("SAMLResponse"))
	if err != nil {
		h.t.Fatalf("connector refused the Response: %v", err)
	}
	return res, form
}

// post signs a request built with o with the connector's key and posts it.
func (h *harness) postRequest(b *browser, o democonnector.RequestOptions) page {
	h.t.Helper()
	v, err := h.conn.SignPOST(h.conn.Request(o))
	if err != nil {
		h.t.Fatal(err)
	}
	return h.sendPOST(b, v, "")
}

// redirectRequest sends a request built with o with the HTTP-Redirect
// binding, signed with the connector's key and alg.
func (h *harness) redirectRequest(b *browser, o democonnector.RequestOptions, kp democonnector.KeyPair, alg string) page {
	h.t.Helper()
	q, err := democonnector.RedirectQuery(h.conn.Request(o), "rs-1", kp, alg)
	if err != nil {
		h.t.Fatal(err)
	}
	return b.get(h.base + es.SSOPath + "?" + q)
}

// expectPage checks that the service answered with an error page (not a
// Response) and logged the reason.
func (h *harness) expectPage(p page, status int, logged string) {
	h.t.Helper()
	if p.status != status {
		h.t.Errorf("status %d, want %d:\n%s", p.status, status, truncateBody(p.body))
	}
	if strings.Contains(p.body, "SAMLResponse") {
		h.t.Errorf("an error page must not carry a SAML Response")
	}
	if logged != "" && !strings.Contains(h.logs.String(), logged) {
		h.t.Errorf("log does not name the reason %q:\n%s", logged, h.logs.String())
	}
}

// expectStatus checks that the service answered with a signed SAML error
// Response carrying top and sub.
func (h *harness) expectStatus(p page, top, sub, msg string) *democonnector.Result {
	h.t.Helper()
	res, _ := h.result(p)
	if res.Status != top || res.SubStatus != sub {
		h.t.Errorf("status %s / %s (%q), want %s / %s", res.Status, res.SubStatus, res.Message, top, sub)
	}
	if msg != "" && !strings.Contains(res.Message, msg) {
		h.t.Errorf("StatusMessage %q, want it to contain %q", res.Message, msg)
	}
	return res
}
