package eidassim_test

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/eidas"
	"github.com/ozg-broker/eidas-broker/adapters/eidas/eidassim"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

const (
	base    = "http://127.0.0.1:8080"
	simBase = base + "/sim/eidas"
)

// env is a simulator and a connector (the eidas adapter) that trust each
// other, driven through the simulator's handler without a network.
type env struct {
	sim     *eidassim.Sim
	ad      *eidas.Adapter
	handler http.Handler
}

func newEnv(t *testing.T, mutate func(*eidas.Config)) *env {
	t.Helper()
	e := &env{}
	var err error
	e.sim, err = eidassim.New(eidassim.Options{
		BaseURL:           simBase,
		ConnectorMetadata: func(context.Context) ([]byte, error) { return e.ad.Metadata() },
	})
	if err != nil {
		t.Fatal(err)
	}
	mat, err := eidassim.GenerateMaterial(false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.sim.AdapterConfig(mat)
	if mutate != nil {
		mutate(cfg)
	}
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	if e.ad, err = cfg.Open("eidas", adapters.Deps{BaseURL: base, Store: st}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.ad.Close() })
	e.handler = e.sim.Handler()
	return e
}

func (e *env) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

func postForm(path string, form url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// begin runs the adapter's Begin for a country; binding is "post" or
// "redirect".
func (e *env) begin(t *testing.T, cc string, floor assurance.Level) (adapters.Handoff, []byte, string) {
	t.Helper()
	ref := strings.Repeat("r", 20) + cc
	ho, state, err := e.ad.Begin(context.Background(), adapters.Request{Ref: ref, Option: cc, MinLevel: floor, BaseURL: base, CallbackURL: base + "/login/cb/" + ref})
	if err != nil {
		t.Fatal(err)
	}
	return ho, state, ref
}

var (
	keyRE   = regexp.MustCompile(`name="key" value="([^"]+)"`)
	fieldRE = regexp.MustCompile(`name="(SAMLResponse|RelayState)" value="([^"]*)"`)
	errorRE = regexp.MustCompile(`id="sim-error">([^<]*)<`)
)

// TestMetadata: each country's metadata is served, signed by a key that
// chains to the simulator's trust anchor, and describes a proxy-service
// of that country.
func TestMetadata(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range e.sim.Countries() {
		t.Run(c.Code, func(t *testing.T) {
			w := e.serve(httptest.NewRequest(http.MethodGet, "/"+c.Code+"/metadata", nil))
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/samlmetadata+xml" {
				t.Fatalf("%d %s", w.Code, w.Header().Get("Content-Type"))
			}
			ents, err := eidas.LoadMetadata(w.Body.Bytes(), eidas.VerifyMetadataOptions{Anchors: []*x509.Certificate{e.sim.TrustAnchor()}})
			if err != nil {
				t.Fatalf("metadata does not verify with the trust anchor: %v", err)
			}
			m := ents[0]
			if !m.IDP || m.EntityID != e.sim.EntityID(c.Code) || m.NodeCountry != eidas.EIDASCountryCode(c.Code) ||
				!m.WantAuthnRequestsSigned || len(m.SSO) == 0 || m.ValidUntil.IsZero() || len(m.ProtocolVersions) == 0 {
				t.Errorf("metadata %+v", m)
			}
			// Another simulator's anchor does not verify it.
			otherSim, err := eidassim.New(eidassim.Options{BaseURL: simBase, ConnectorMetadata: func(context.Context) ([]byte, error) { return nil, errors.New("unused") }})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := eidas.LoadMetadata(w.Body.Bytes(), eidas.VerifyMetadataOptions{Anchors: []*x509.Certificate{otherSim.TrustAnchor()}}); !errors.Is(err, eidas.ErrMetadata) {
				t.Errorf("verified with a foreign anchor: %v", err)
			}
		})
	}
	if w := e.serve(httptest.NewRequest(http.MethodGet, "/XX/metadata", nil)); w.Code != http.StatusNotFound {
		t.Errorf("unknown country: %d", w.Code)
	}
}

// decodePost returns the AuthnRequest of a POST handoff.
func decodePost(t *testing.T, ho adapters.Handoff) *etree.Element {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(ho.PostForm.Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xmlsec.Parse(b, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return doc.Root()
}

func encodePost(t *testing.T, ho adapters.Handoff, el *etree.Element) url.Values {
	t.Helper()
	b, err := xmlsec.Serialize(el)
	if err != nil {
		t.Fatal(err)
	}
	f := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(b)}, "RelayState": {ho.PostForm.Get("RelayState")}}
	return f
}

func ssoPath(ho adapters.Handoff) string {
	u := ho.PostURL
	if u == "" {
		u = ho.RedirectURL
	}
	return strings.TrimPrefix(u, simBase)
}

// TestRequestVerificationPOST: a signed request is accepted; an unsigned
// one, one changed after signing and one signed by another key are
// refused.
func TestRequestVerificationPOST(t *testing.T) {
	e := newEnv(t, nil)
	ho, _, _ := e.begin(t, "AT", assurance.Substantial)
	if ho.PostURL == "" {
		t.Fatal("expected the POST binding")
	}
	if w := e.serve(postForm(ssoPath(ho), ho.PostForm)); w.Code != http.StatusOK || !keyRE.MatchString(w.Body.String()) {
		t.Fatalf("signed request refused: %d %s", w.Code, w.Body)
	}
	attacker, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(ar *etree.Element)
		want   string
	}{
		{"unsigned", func(ar *etree.Element) { ar.RemoveChild(ar.SelectElement("Signature")) }, "not signed"},
		{"tampered level", func(ar *etree.Element) {
			ar.FindElement(".//AuthnContextClassRef").SetText(assurance.Low.URI())
		}, "digest mismatch"},
		{"tampered attribute", func(ar *etree.Element) {
			ra := ar.FindElement(".//RequestedAttribute")
			ra.RemoveAttr("isRequired")
			ra.CreateAttr("isRequired", "false")
		}, "digest mismatch"},
		{"signed by another key", func(ar *etree.Element) {
			ar.RemoveChild(ar.SelectElement("Signature"))
			if err := xmlsec.Sign(ar, attacker, nil, xmlsec.SigECDSASHA256); err != nil {
				t.Fatal(err)
			}
		}, "signature value invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ho, _, _ := e.begin(t, "AT", assurance.Substantial)
			ar := decodePost(t, ho)
			tc.mutate(ar)
			w := e.serve(postForm(ssoPath(ho), encodePost(t, ho, ar)))
			m := errorRE.FindStringSubmatch(w.Body.String())
			if w.Code != http.StatusBadRequest || m == nil || !strings.Contains(html.UnescapeString(m[1]), tc.want) {
				t.Fatalf("got %d %q, want a refusal with %q", w.Code, m, tc.want)
			}
		})
	}
}

// TestRequestVerificationRedirect: the HTTP-Redirect signature covers the
// exact query; an unsigned query, a changed request or RelayState and a
// swapped SigAlg are refused.
func TestRequestVerificationRedirect(t *testing.T) {
	e := newEnv(t, func(c *eidas.Config) {
		for i := range c.Countries {
			c.Countries[i].Binding = eidas.BindingNameRedirect
		}
	})
	ho, _, _ := e.begin(t, "SE", assurance.Substantial)
	if ho.RedirectURL == "" {
		t.Fatal("expected the Redirect binding")
	}
	if w := e.serve(httptest.NewRequest(http.MethodGet, ssoPath(ho), nil)); w.Code != http.StatusOK || !keyRE.MatchString(w.Body.String()) {
		t.Fatalf("signed redirect refused: %d %s", w.Code, w.Body)
	}
	u, err := url.Parse(ho.RedirectURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	deflate := func(s string) string {
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestCompression)
		_, _ = fw.Write([]byte(s))
		_ = fw.Close()
		return base64.StdEncoding.EncodeToString(buf.Bytes())
	}
	inflate := func(s string) string {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		x, err := io.ReadAll(flate.NewReader(bytes.NewReader(b)))
		if err != nil {
			t.Fatal(err)
		}
		return string(x)
	}
	tests := []struct {
		name  string
		query func() string
	}{
		{"unsigned", func() string {
			return "SAMLRequest=" + url.QueryEscape(q.Get("SAMLRequest")) + "&RelayState=" + url.QueryEscape(q.Get("RelayState"))
		}},
		{"tampered request", func() string {
			x := strings.Replace(inflate(q.Get("SAMLRequest")), assurance.Substantial.URI(), assurance.Low.URI(), 1)
			return "SAMLRequest=" + url.QueryEscape(deflate(x)) + "&RelayState=" + url.QueryEscape(q.Get("RelayState")) +
				"&SigAlg=" + url.QueryEscape(q.Get("SigAlg")) + "&Signature=" + url.QueryEscape(q.Get("Signature"))
		}},
		{"tampered relay state", func() string {
			return "SAMLRequest=" + url.QueryEscape(q.Get("SAMLRequest")) + "&RelayState=other-reference-0123456789" +
				"&SigAlg=" + url.QueryEscape(q.Get("SigAlg")) + "&Signature=" + url.QueryEscape(q.Get("Signature"))
		}},
		{"SHA-1 SigAlg", func() string {
			return "SAMLRequest=" + url.QueryEscape(q.Get("SAMLRequest")) + "&RelayState=" + url.QueryEscape(q.Get("RelayState")) +
				"&SigAlg=" + url.QueryEscape("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1") + "&Signature=" + url.QueryEscape(q.Get("Signature"))
		}},
		{"duplicate parameter", func() string {
			return u.RawQuery + "&SAMLRequest=" + url.QueryEscape(q.Get("SAMLRequest"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.serve(httptest.NewRequest(http.MethodGet, "/SE/sso?"+tc.query(), nil))
			if w.Code != http.StatusBadRequest || !errorRE.MatchString(w.Body.String()) {
				t.Fatalf("got %d, want a refusal: %s", w.Code, w.Body)
			}
		})
	}
}

// answerPage runs the person's choice on the simulator page and returns
// the auto-POST form it renders.
func (e *env) answerPage(t *testing.T, ho adapters.Handoff, cc string, form url.Values) (*httptest.ResponseRecorder, url.Values) {
	t.Helper()
	w := e.serve(postForm(ssoPath(ho), ho.PostForm))
	m := keyRE.FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("no choice page: %d %s", w.Code, w.Body)
	}
	form.Set("key", m[1])
	w = e.serve(postForm("/"+cc+"/answer", form))
	out := url.Values{}
	for _, f := range fieldRE.FindAllStringSubmatch(w.Body.String(), -1) {
		out.Set(f[1], html.UnescapeString(f[2]))
	}
	return w, out
}

func (e *env) finish(t *testing.T, state []byte, ref string, form url.Values) (adapters.Identity, error) {
	t.Helper()
	return e.ad.Finish(context.Background(), adapters.Request{Ref: ref}, state, postForm(base+"/login/cb/"+ref, form))
}

// TestCancel: the cancel button yields a signed Response with the eIDAS
// cancel status (Responder / RequestDenied) and no assertion, which the
// adapter maps to adapters.ErrCancelled.
func TestCancel(t *testing.T) {
	e := newEnv(t, nil)
	ho, state, ref := e.begin(t, "AT", assurance.Substantial)
	w, form := e.answerPage(t, ho, "AT", url.Values{"action": {"cancel"}})
	if w.Code != http.StatusOK || form.Get("SAMLResponse") == "" || form.Get("RelayState") != ref {
		t.Fatalf("no auto-POST: %d %s", w.Code, w.Body)
	}
	raw, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xmlsec.Parse(raw, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	md, err := eidas.LoadMetadata(must(e.sim.Metadata("AT")), eidas.VerifyMetadataOptions{Anchors: []*x509.Certificate{e.sim.TrustAnchor()}})
	if err != nil {
		t.Fatal(err)
	}
	resp, _, err := xmlsec.Verify(doc.Root(), xmlsec.VerifyOptions{Trusted: md[0].SigningCerts})
	if err != nil {
		t.Fatalf("cancel response not signed by AT: %v", err)
	}
	top := resp.FindElement("./Status/StatusCode")
	if top == nil || top.SelectAttrValue("Value", "") != samlxml.StatusResponder ||
		top.FindElement("./StatusCode").SelectAttrValue("Value", "") != samlxml.StatusRequestDenied {
		t.Fatalf("status %v", top)
	}
	if resp.FindElement(".//EncryptedAssertion") != nil || resp.FindElement(".//Assertion") != nil {
		t.Error("a cancel carries an assertion")
	}
	if _, err := e.finish(t, state, ref, form); !errors.Is(err, adapters.ErrCancelled) {
		t.Errorf("adapter: %v, want ErrCancelled", err)
	}
	// The request is used up: the same choice again is refused.
	m := keyRE.FindStringSubmatch(e.serve(postForm(ssoPath(ho), ho.PostForm)).Body.String())
	if m == nil {
		t.Fatal("no choice page")
	}
	if w := e.serve(postForm("/AT/answer", url.Values{"key": {m[1]}, "action": {"cancel"}})); w.Code != http.StatusOK {
		t.Fatalf("first answer: %d", w.Code)
	}
	if w := e.serve(postForm("/AT/answer", url.Values{"key": {m[1]}, "action": {"cancel"}})); w.Code != http.StatusBadRequest {
		t.Errorf("reused key: %d", w.Code)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestLoginAnswer: a citizen's answer is a signed Response with one
// encrypted assertion the adapter accepts; pages carry a strict CSP and no
// inline script; the script is served as a file.
func TestLoginAnswer(t *testing.T) {
	e := newEnv(t, nil)
	ho, state, ref := e.begin(t, "GR", assurance.Substantial)
	w, form := e.answerPage(t, ho, "GR", url.Values{"action": {"login"}, "citizen": {"eleni"}})
	csp := w.Header().Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self' " + base} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|\son[a-z]+=`).MatchString(w.Body.String()) {
		t.Error("inline script or event handler in the page")
	}
	if !strings.Contains(w.Body.String(), `<script src="`+simBase+`/static/autopost.js">`) {
		t.Error("auto-POST script not referenced as a file")
	}
	js := e.serve(httptest.NewRequest(http.MethodGet, "/static/autopost.js", nil))
	if js.Code != http.StatusOK || !strings.Contains(js.Body.String(), "autopost") {
		t.Errorf("script: %d", js.Code)
	}
	id, err := e.finish(t, state, ref, form)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "EL/DE/GR55512345" || id.Level != assurance.Substantial || id.Claims.Scripts["el"].FamilyName != "Παπαδοπούλου" {
		t.Errorf("identity %q %s %+v", id.Subject, id.Level, id.Claims)
	}
}

// TestLevelNotOffered: a request for more than the country proves is
// answered with the SAML status NoAuthnContext (here the connector's
// configuration overstates Sweden's level, so its own check lets the
// request through).
func TestLevelNotOffered(t *testing.T) {
	e := newEnv(t, func(c *eidas.Config) {
		for i := range c.Countries {
			c.Countries[i].Level = assurance.High
		}
	})
	ho, state, ref := e.begin(t, "SE", assurance.High)
	w := e.serve(postForm(ssoPath(ho), ho.PostForm))
	form := url.Values{}
	for _, f := range fieldRE.FindAllStringSubmatch(w.Body.String(), -1) {
		form.Set(f[1], html.UnescapeString(f[2]))
	}
	if form.Get("SAMLResponse") == "" {
		t.Fatalf("no status answer: %d %s", w.Code, w.Body)
	}
	if _, err := e.finish(t, state, ref, form); !errors.Is(err, eidas.ErrLevelUnreachable) || errors.Is(err, adapters.ErrCancelled) {
		t.Fatalf("got %v, want ErrLevelUnreachable", err)
	}
}

// TestAnswerRefusals: unknown or foreign keys and unknown citizens.
func TestAnswerRefusals(t *testing.T) {
	e := newEnv(t, nil)
	if w := e.serve(postForm("/AT/answer", url.Values{"key": {"_nope"}, "action": {"login"}, "citizen": {"anna"}})); w.Code != http.StatusBadRequest {
		t.Errorf("unknown key: %d", w.Code)
	}
	ho, _, _ := e.begin(t, "AT", assurance.Substantial)
	m := keyRE.FindStringSubmatch(e.serve(postForm(ssoPath(ho), ho.PostForm)).Body.String())
	if m == nil {
		t.Fatal("no choice page")
	}
	if w := e.serve(postForm("/SE/answer", url.Values{"key": {m[1]}, "action": {"login"}, "citizen": {"sven"}})); w.Code != http.StatusBadRequest {
		t.Errorf("key of another country: %d", w.Code)
	}
	ho, _, _ = e.begin(t, "AT", assurance.Substantial)
	m = keyRE.FindStringSubmatch(e.serve(postForm(ssoPath(ho), ho.PostForm)).Body.String())
	if w := e.serve(postForm("/AT/answer", url.Values{"key": {m[1]}, "action": {"login"}, "citizen": {"sven"}})); w.Code != http.StatusBadRequest {
		t.Errorf("citizen of another country: %d", w.Code)
	}
}
