package eidasservice_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	es "github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/eidasservice/democonnector"
	"github.com/ozg-broker/eidas-broker/broker/logtest"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

// The generated fixtures (testdata/eidasservice, see its README) use these
// names and a fixed time.
const (
	fixtureBase = "https://broker.test.example"
	atEntity    = "https://connector-at.test.example/metadata"
	seEntity    = "https://connector-se.test.example/metadata"
	frEntity    = "https://connector-fr.test.example/metadata"
)

var fixtureNow = time.Date(2030, 6, 1, 12, 1, 0, 0, time.UTC)

// startAdapter stands in for the eID adapter where only request handling is
// under test: Begin records the request and returns a page, Finish is
// never reached.
type startAdapter struct {
	begun []adapters.Request
}

func (a *startAdapter) Info() adapters.Info {
	return adapters.Info{Type: "eid", MaxLevel: assurance.High}
}

func (a *startAdapter) Begin(_ context.Context, req adapters.Request) (adapters.Handoff, []byte, error) {
	a.begun = append(a.begun, req)
	return adapters.Handoff{Page: []byte("<!doctype html><p>eID start</p>")}, []byte("state"), nil
}

func (a *startAdapter) Finish(context.Context, adapters.Request, []byte, *http.Request) (adapters.Identity, error) {
	return adapters.Identity{}, errors.New("not used in this test")
}

var _ adapters.Adapter = (*startAdapter)(nil)

func fixtureConnectors(t testing.TB) []es.Connector {
	return []es.Connector{
		{Metadata: readFixture(t, "metadata", "connector-at.xml"), TrustAnchors: []*x509.Certificate{pair(t, "connector-at-sign").Cert}, Country: "AT"},
		{Metadata: readFixture(t, "metadata", "connector-se.xml"), TrustAnchors: []*x509.Certificate{pair(t, "connector-se-sign").Cert}, Country: "SE", SPType: "public"},
		{Metadata: readFixture(t, "metadata", "connector-fr-ca.xml"), TrustAnchors: []*x509.Certificate{pair(t, "connector-fr-ca").Cert}, Country: "FR"},
	}
}

func fixtureService(t testing.TB, serviceKey string, mutate func(*es.Config)) (*es.Service, *startAdapter, *logtest.Buffer) {
	t.Helper()
	sk := pair(t, serviceKey)
	ad := &startAdapter{}
	logs := &logtest.Buffer{}
	cfg := es.Config{
		BaseURL: fixtureBase, SigningKey: sk.Key, SigningCert: sk.Cert, Adapter: ad, Store: memory.New(),
		PseudonymSecret: []byte(strings.Repeat("p", 32)), DataKey: []byte(strings.Repeat("d", 32)),
		Connectors: fixtureConnectors(t), Now: func() time.Time { return fixtureNow }, Logger: newTestLogger(logs),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	svc, err := es.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc, ad, logs
}

// TestFixtureRequests runs every generated request through the service at
// the fixtures' fixed time: each algorithm the service accepts, and each
// attack it must refuse.
func TestFixtureRequests(t *testing.T) {
	type outcome struct {
		started bool   // eID login started
		status  int    // error page status
		samlSub string // SAML error second-level status
		logged  string
	}
	tests := map[string]outcome{
		"request-at-pss-sha256.xml":           {started: true},
		"request-at-pss-sha512.xml":           {started: true},
		"request-se-ecdsa-sha256.xml":         {started: true},
		"request-se-ecdsa-sha384.xml":         {started: true},
		"request-fr-private.xml":              {started: true},
		"request-at-rsa-sha256.xml":           {status: 400, logged: "algorithm not allowed"},
		"request-at-unsigned.xml":             {status: 400, logged: "element is not signed"},
		"request-at-attacker.xml":             {status: 400, logged: "KeyInfo certificate is not trusted"},
		"request-at-wrong-destination.xml":    {status: 400, logged: "not addressed to this service"},
		"request-at-doctype.xml":              {status: 400, logged: "DOCTYPE"},
		"request-at-foreign-acs.xml":          {samlSub: samlxml.StatusRequestDenied}, // to the default ACS
		"request-at-ispassive.xml":            {samlSub: samlxml.StatusNoPassive},
		"request-at-unsupported-required.xml": {samlSub: samlxml.StatusInvalidAttrName},
		"request-at-exact-substantial.xml":    {samlSub: samlxml.StatusNoAuthnContext},
	}
	for file, want := range tests {
		for _, key := range []string{"service-sign-ec", "service-sign-rsa"} {
			want := want
			if strings.Contains(file, "-se-") && key == "service-sign-rsa" {
				// connector-se.xml lists only ECDSA signing methods.
				want = outcome{status: 500, logged: "no signature or encryption algorithm in common"}
			}
			t.Run(file+"/"+key, func(t *testing.T) {
				svc, ad, logs := fixtureService(t, key, nil)
				xml := readFixture(t, "requests", file)
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodPost, "/sso", strings.NewReader(url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(xml)}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				svc.Routes().ServeHTTP(rec, req)
				body := rec.Body.String()
				switch {
				case want.started:
					if rec.Code != http.StatusOK || len(ad.begun) != 1 || !strings.Contains(body, "eID start") {
						t.Fatalf("status %d, begun %d, log:\n%s", rec.Code, len(ad.begun), logs.String())
					}
					if r := ad.begun[0]; r.MinLevel != assurance.High || !strings.HasPrefix(r.CallbackURL, fixtureBase+es.CallbackPath) || len(r.Claims) == 0 {
						t.Errorf("adapter request %+v", r)
					}
					if c := rec.Result().Cookies(); len(c) != 1 || !c[0].HttpOnly || !c[0].Secure || c[0].SameSite != http.SameSiteLaxMode || c[0].Path != es.PathPrefix+"/" {
						t.Errorf("binding cookie %+v", c)
					}
				case want.status != 0:
					if rec.Code != want.status || strings.Contains(body, "SAMLResponse") || len(ad.begun) != 0 {
						t.Errorf("status %d, begun %d", rec.Code, len(ad.begun))
					}
					if !strings.Contains(logs.String(), want.logged) {
						t.Errorf("log does not name %q:\n%s", want.logged, logs.String())
					}
				default:
					res := readErrorResponse(t, body, pair(t, key).Cert)
					if res.sub != want.samlSub || len(ad.begun) != 0 {
						t.Errorf("status %s/%s, want sub %s", res.top, res.sub, want.samlSub)
					}
					if res.destination != "https://connector-at.test.example/acs" || res.inResponseTo != "_"+strings.TrimSuffix(file, ".xml") {
						t.Errorf("Destination %q InResponseTo %q", res.destination, res.inResponseTo)
					}
				}
				if ct := rec.Header().Get("Content-Security-Policy"); !strings.Contains(ct, "default-src 'none'") {
					t.Errorf("CSP %q", ct)
				}
			})
		}
	}
}

type errorResponse struct {
	top, sub, message, destination, inResponseTo string
}

// readErrorResponse verifies an error Response off the auto-submit page.
func readErrorResponse(t testing.TB, body string, cert *x509.Certificate) errorResponse {
	t.Helper()
	p := page{status: 200, body: body}
	_, form := p.form(t)
	raw, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xmlsec.Parse(raw, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	el, _, err := xmlsec.Verify(doc.Root(), xmlsec.VerifyOptions{Trusted: []*x509.Certificate{cert}, Now: func() time.Time { return fixtureNow }})
	if err != nil {
		t.Fatalf("error Response signature: %v", err)
	}
	if el.FindElement("./EncryptedAssertion") != nil || el.FindElement("./Assertion") != nil {
		t.Errorf("error Response carries an assertion")
	}
	sc := el.FindElement("./Status/StatusCode")
	sub := sc.FindElement("./StatusCode")
	r := errorResponse{top: sc.SelectAttrValue("Value", ""), destination: el.SelectAttrValue("Destination", ""), inResponseTo: el.SelectAttrValue("InResponseTo", "")}
	if sub != nil {
		r.sub = sub.SelectAttrValue("Value", "")
	}
	if m := el.FindElement("./Status/StatusMessage"); m != nil {
		r.message = m.Text()
	}
	return r
}

// TestFixtureMetadata: connector metadata must be signed by the trust
// anchor (directly or through a chain), unexpired and well-formed, or the
// service does not start.
func TestFixtureMetadata(t *testing.T) {
	at := pair(t, "connector-at-sign").Cert
	tests := []struct {
		name    string
		file    string
		anchor  *x509.Certificate
		country string
		entity  string
		want    error
	}{
		{name: "valid, self-signed anchor", file: "connector-at.xml", anchor: at, country: "AT"},
		{name: "valid, CA anchor", file: "connector-fr-ca.xml", anchor: pair(t, "connector-fr-ca").Cert, country: "FR"},
		{name: "expired validUntil", file: "connector-at-expired.xml", anchor: at, country: "AT", want: es.ErrMetadataExpired},
		{name: "unsigned", file: "connector-at-unsigned.xml", anchor: at, country: "AT", want: xmlsec.ErrNotSigned},
		{name: "signed by another key", file: "connector-at-attacker.xml", anchor: at, country: "AT", want: xmlsec.ErrUntrustedCertificate},
		{name: "wrong trust anchor", file: "connector-at.xml", anchor: pair(t, "connector-se-sign").Cert, country: "AT", want: xmlsec.ErrUntrustedCertificate},
		{name: "country differs from NodeCountry", file: "connector-at.xml", anchor: at, country: "DK", want: es.ErrMetadata},
		{name: "entity ID differs", file: "connector-at.xml", anchor: at, country: "AT", entity: "https://other.example/metadata", want: es.ErrMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _ = fixtureService(t, "service-sign-ec", nil) // the fixtures themselves load
			sk := pair(t, "service-sign-ec")
			_, err := es.New(es.Config{
				BaseURL: fixtureBase, SigningKey: sk.Key, SigningCert: sk.Cert, Adapter: &startAdapter{}, Store: memory.New(),
				PseudonymSecret: make([]byte, 32), DataKey: make([]byte, 32), Now: func() time.Time { return fixtureNow },
				Connectors: []es.Connector{{EntityID: tt.entity, Metadata: readFixture(t, "metadata", tt.file), TrustAnchors: []*x509.Certificate{tt.anchor}, Country: tt.country}},
			})
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestAlgorithmNegotiation: the Response signature uses a method the
// connector lists; with none in common the request cannot be answered.
func TestAlgorithmNegotiation(t *testing.T) {
	// connector-se.xml lists only ECDSA methods.
	svc, _, logs := fixtureService(t, "service-sign-rsa", nil)
	xml := readFixture(t, "requests", "request-se-ecdsa-sha256.xml")
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/sso", strings.NewReader(url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(xml)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	svc.Routes().ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(logs.String(), "no signature or encryption algorithm in common") {
		t.Errorf("status %d, log:\n%s", rec.Code, logs.String())
	}
	// The same connector with an EC service key is answered with ECDSA.
	svc, _, _ = fixtureService(t, "service-sign-ec", nil)
	xml = readFixture(t, "requests", "request-se-ecdsa-sha384.xml")
	rec = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodPost, "/sso", strings.NewReader(url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(xml)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	svc.Routes().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("status %d", rec.Code)
	}
}

// TestMetadataDocument checks our metadata: signed, verifiable with our
// certificate, with the elements eIDAS requires.
func TestMetadataDocument(t *testing.T) {
	for _, key := range []string{"service-sign-ec", "service-sign-rsa"} {
		t.Run(key, func(t *testing.T) {
			svc, _, _ := fixtureService(t, key, func(c *es.Config) {
				c.EncryptionCert = pair(t, "service-enc-rsa").Cert
				c.Organization = &es.Organization{Name: "Test", URL: "https://broker.test.example", SupportEmail: "support@test.example"}
			})
			rec := httptest.NewRecorder()
			svc.Routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metadata", nil))
			if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/samlmetadata+xml" {
				t.Fatalf("status %d %s", rec.Code, rec.Header().Get("Content-Type"))
			}
			doc, err := xmlsec.Parse(rec.Body.Bytes(), xmlsec.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			ed, _, err := xmlsec.Verify(doc.Root(), xmlsec.VerifyOptions{Trusted: []*x509.Certificate{pair(t, key).Cert}, Now: func() time.Time { return fixtureNow }})
			if err != nil {
				t.Fatalf("metadata signature: %v", err)
			}
			checks := map[string]string{
				"entityID":    ed.SelectAttrValue("entityID", ""),
				"validUntil":  ed.SelectAttrValue("validUntil", ""),
				"NodeCountry": ed.FindElement("./IDPSSODescriptor/Extensions/NodeCountry").Text(),
				"wantSigned":  ed.FindElement("./IDPSSODescriptor").SelectAttrValue("WantAuthnRequestsSigned", ""),
			}
			want := map[string]string{"entityID": fixtureBase + es.MetadataPath, "validUntil": "2030-06-08T12:01:00.000Z", "NodeCountry": "DE", "wantSigned": "true"}
			for k, v := range want {
				if checks[k] != v {
					t.Errorf("%s = %q, want %q", k, checks[k], v)
				}
			}
			var loa, bindings, attrs, sigs, uses []string
			for _, a := range ed.FindElements("./Extensions/EntityAttributes/Attribute") {
				if a.SelectAttrValue("Name", "") == samlxml.EntityAttrAssuranceCert {
					loa = append(loa, a.FindElement("./AttributeValue").Text())
				}
			}
			for _, s := range ed.FindElements("./IDPSSODescriptor/SingleSignOnService") {
				bindings = append(bindings, s.SelectAttrValue("Binding", "")+" "+s.SelectAttrValue("Location", ""))
			}
			for _, a := range ed.FindElements("./IDPSSODescriptor/Attribute") {
				attrs = append(attrs, a.SelectAttrValue("FriendlyName", ""))
			}
			for _, s := range ed.FindElements("./Extensions/SigningMethod") {
				sigs = append(sigs, s.SelectAttrValue("Algorithm", ""))
			}
			for _, k := range ed.FindElements("./IDPSSODescriptor/KeyDescriptor") {
				uses = append(uses, k.SelectAttrValue("use", ""))
			}
			if strings.Join(loa, ",") != "http://eidas.europa.eu/LoA/high" {
				t.Errorf("assurance-certification %q", loa)
			}
			if strings.Join(bindings, ",") != samlxml.BindingPOST+" "+fixtureBase+es.SSOPath+","+samlxml.BindingRedirect+" "+fixtureBase+es.SSOPath {
				t.Errorf("SSO %q", bindings)
			}
			if strings.Join(attrs, ",") != "PersonIdentifier,FamilyName,FirstName,DateOfBirth,BirthName,PlaceOfBirth,CurrentAddress,Nationality" {
				t.Errorf("attributes %q", attrs)
			}
			if len(sigs) != 6 || strings.Contains(strings.Join(sigs, ","), "#rsa-sha") {
				t.Errorf("signing methods %q", sigs)
			}
			if strings.Join(uses, ",") != "signing,encryption" {
				t.Errorf("key descriptors %q", uses)
			}
			if ed.FindElement("./Organization/OrganizationName") == nil || ed.FindElement("./ContactPerson/EmailAddress").Text() != "mailto:support@test.example" {
				t.Errorf("organisation or contact missing")
			}
			// Cached: the same document until half the validity is over.
			again, _ := svc.Metadata()
			if string(again) != rec.Body.String() {
				t.Errorf("metadata rebuilt without need")
			}
		})
	}
}

// TestMetadataByURL: connector metadata fetched from a URL is verified,
// re-fetched after the refresh interval, and an outage keeps metadata that
// is still valid.
func TestMetadataByURL(t *testing.T) {
	var served []byte
	fails := false
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if fails {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write(served)
	}))
	defer srv.Close()
	now := fixtureNow
	kp := pair(t, "connector-at-sign")
	keys := &democonnector.Keys{Signing: kp, Encryption: pair(t, "connector-at-enc")}
	build := func(until time.Time) []byte {
		b, err := democonnector.BuildMetadata(democonnector.MetadataOptions{EntityID: srv.URL, ACS: "https://connector-at.test.example/acs",
			Country: "AT", SPType: "public", Keys: keys, ValidUntil: until})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	served = build(now.Add(2 * time.Hour))
	sk := pair(t, "service-sign-ec")
	svc, err := es.New(es.Config{BaseURL: fixtureBase, SigningKey: sk.Key, SigningCert: sk.Cert, Adapter: &startAdapter{}, Store: memory.New(),
		PseudonymSecret: make([]byte, 32), DataKey: make([]byte, 32), Now: func() time.Time { return now },
		Connectors: []es.Connector{{MetadataURL: srv.URL, TrustAnchors: []*x509.Certificate{kp.Cert}, Country: "AT"}}})
	if err != nil {
		t.Fatal(err)
	}
	if hits != 0 {
		t.Errorf("fetched during New")
	}
	if err := svc.CheckHealth(context.Background()); err != nil || hits != 1 {
		t.Fatalf("first fetch: %v (hits %d)", err, hits)
	}
	now = now.Add(30 * time.Minute)
	if err := svc.CheckHealth(context.Background()); err != nil || hits != 1 {
		t.Fatalf("within the refresh interval: %v (hits %d)", err, hits)
	}
	now = now.Add(31 * time.Minute)
	fails = true
	if err := svc.CheckHealth(context.Background()); err != nil || hits != 2 {
		t.Fatalf("outage with valid metadata: %v (hits %d)", err, hits)
	}
	now = now.Add(time.Hour)
	if err := svc.CheckHealth(context.Background()); !errors.Is(err, es.ErrMetadataExpired) {
		t.Fatalf("expired metadata during an outage: %v", err)
	}
	fails = false
	served = build(now.Add(24 * time.Hour))
	if err := svc.Refresh(context.Background()); err != nil {
		t.Fatalf("refresh after the outage: %v", err)
	}
	served = []byte("<md:EntityDescriptor")
	now = now.Add(2 * time.Hour)
	if err := svc.Refresh(context.Background()); err != nil {
		t.Fatalf("a broken document must not replace valid metadata: %v", err)
	}
}
