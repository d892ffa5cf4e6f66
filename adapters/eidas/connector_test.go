package eidas

import (
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

// TestConnectorMetadata: GET /metadata serves our signed metadata with
// everything eIDAS asks of a connector.
func TestConnectorMetadata(t *testing.T) {
	for _, set := range []string{"rsa", "ec"} {
		t.Run(set, func(t *testing.T) {
			c := fxConfig(t, set, "at-proxy")
			c.Organization = Organization{Name: "Musterstadt", URL: "https://musterstadt.example", SupportEmail: "eid@musterstadt.example", TechnicalEmail: "it@musterstadt.example"}
			a := openFixture(t, c)
			w := httptest.NewRecorder()
			a.Routes().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metadata", nil))
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/samlmetadata+xml" {
				t.Fatalf("%d %s", w.Code, w.Header().Get("Content-Type"))
			}
			body := w.Body.Bytes()
			ents, err := LoadMetadata(body, VerifyMetadataOptions{Anchors: []*x509.Certificate{a.signCert}, Now: fxClock})
			if err != nil {
				t.Fatalf("our metadata does not verify with our signing certificate: %v", err)
			}
			m := ents[0]
			if m.IDP || m.EntityID != fxBase+"/saml/connector/metadata" || !m.AuthnRequestsSigned || m.NodeCountry != "DE" || m.SPType != "public" {
				t.Errorf("metadata %+v", m)
			}
			if want := fxClock().Add(DefaultMetadataValidity); !m.ValidUntil.Equal(want) {
				t.Errorf("validUntil %s, want %s", m.ValidUntil, want)
			}
			if len(m.ACS) != 1 || m.ACS[0] != (Endpoint{Binding: samlxml.BindingPOST, Location: fxBase + "/saml/connector/acs"}) {
				t.Errorf("ACS %+v", m.ACS)
			}
			if len(m.SigningCerts) != 1 || !m.SigningCerts[0].Equal(a.signCert) || len(m.EncryptionCerts) != 1 || !m.EncryptionCerts[0].Equal(a.encCert) {
				t.Error("signing and encryption certificates not published apart")
			}
			if !slices.Contains(m.ProtocolVersions, "1.4") || len(m.ApplicationID) != 1 {
				t.Errorf("entity attributes %v %v", m.ProtocolVersions, m.ApplicationID)
			}
			for _, alg := range []string{xmlsec.SigRSAPSSSHA256, xmlsec.SigECDSASHA256} {
				if !slices.Contains(m.SigningMethods, alg) {
					t.Errorf("signing methods %v lack %s", m.SigningMethods, alg)
				}
			}
			if !slices.Contains(m.DigestMethods, xmlsec.DigestSHA256) || slices.Contains(m.DigestMethods, xmlsec.DigestSHA1) {
				t.Errorf("digest methods %v", m.DigestMethods)
			}
			enc := xmlsec.KeyTransportRSAOAEP
			if set == "ec" {
				enc = xmlsec.KeyAgreementECDHES
			}
			for _, want := range []string{enc, xmlsec.EncAES256GCM, "md:Organization", "mailto:eid@musterstadt.example", `contactType="technical"`} {
				if !strings.Contains(string(body), want) {
					t.Errorf("metadata lacks %s", want)
				}
			}
			// "-cbc" names every CBC algorithm URI; plain "cbc" also
			// turns up by chance inside base64 certificates and signatures.
			for _, bad := range []string{"-cbc", "rsa-1_5", "SingleLogoutService"} {
				if strings.Contains(string(body), bad) {
					t.Errorf("metadata names %s", bad)
				}
			}
			// Cached: the same bytes until half the validity has passed.
			b2, _ := a.Metadata()
			if string(b2) != string(body) {
				t.Error("metadata regenerated on every request")
			}
		})
	}
}

// TestMetadataRenewal: our metadata is re-signed with a new validUntil once
// half of its validity has passed, so a consumer never holds an expired
// copy.
func TestMetadataRenewal(t *testing.T) {
	var clock atomic.Value
	clock.Store(fxClock())
	now := func() time.Time { return clock.Load().(time.Time) }
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	a, err := fxConfig(t, "ec", "at-proxy").Open("eidas", adapters.Deps{BaseURL: fxBase, Store: st, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	first, err := a.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	clock.Store(fxClock().Add(DefaultMetadataValidity/2 + time.Minute))
	second, err := a.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	ents, err := LoadMetadata(second, VerifyMetadataOptions{Anchors: []*x509.Certificate{a.signCert}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if string(first) == string(second) || !ents[0].ValidUntil.Equal(now().Add(DefaultMetadataValidity)) {
		t.Errorf("not renewed: validUntil %s", ents[0].ValidUntil)
	}
}

// TestACS: the ACS only forwards (307, body kept by the browser) to the
// login's callback named by RelayState; a RelayState that is not a
// transaction reference (a URL, script, too long) is refused, so the ACS
// can never be an open redirect (S31).
func TestACS(t *testing.T) {
	a := openFixture(t, fxConfig(t, "rsa", "at-proxy"))
	post := func(form url.Values) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/acs", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		a.Routes().ServeHTTP(w, r)
		return w
	}
	w := post(url.Values{"SAMLResponse": {"PHg+"}, "RelayState": {fxRef}})
	if w.Code != http.StatusTemporaryRedirect || w.Header().Get("Location") != fxBase+"/login/cb/"+fxRef || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %q", w.Code, w.Header().Get("Location"))
	}
	for name, form := range map[string]url.Values{
		"URL relay state":        {"SAMLResponse": {"PHg+"}, "RelayState": {"https://evil.example/steal"}},
		"protocol-relative":      {"SAMLResponse": {"PHg+"}, "RelayState": {"//evil.example/xxxxxxxxxxxxxx"}},
		"script":                 {"SAMLResponse": {"PHg+"}, "RelayState": {"javascript:alert(1)//aaaaaaa"}},
		"path traversal":         {"SAMLResponse": {"PHg+"}, "RelayState": {"../../admin/aaaaaaaaaaaaaaa"}},
		"too long":               {"SAMLResponse": {"PHg+"}, "RelayState": {strings.Repeat("a", 81)}},
		"no relay state":         {"SAMLResponse": {"PHg+"}},
		"two relay states":       {"SAMLResponse": {"PHg+"}, "RelayState": {fxRef, fxRef}},
		"no SAMLResponse":        {"RelayState": {fxRef}},
		"SAMLRequest instead":    {"SAMLRequest": {"PHg+"}, "RelayState": {fxRef}},
		"two SAMLResponse forms": {"SAMLResponse": {"a", "b"}, "RelayState": {fxRef}},
	} {
		if w := post(form); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %q", name, w.Code, w.Header().Get("Location"))
		}
	}
	// Responses arrive by POST only.
	w = httptest.NewRecorder()
	a.Routes().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/acs?SAMLResponse=PHg%2B&RelayState="+fxRef, nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /acs: %d", w.Code)
	}
}
