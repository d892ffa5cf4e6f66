package eidasservice_test

import (
	"bytes"
	"compress/flate"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"

	es "github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/eidasservice/democonnector"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

const (
	pss256   = xmlsec.SigRSAPSSSHA256
	rsaSHA   = xmlsec.SigRSASHA256
	ecdsa256 = xmlsec.SigECDSASHA256
)

// TestRefusedWithoutResponse covers requests that must never produce a
// SAML Response: the sender is not established or the request is not for
// us (a Destination elsewhere is discarded, SAML core §3.2.1). Each gets an
// error page and a log line naming the reason. Authenticated requests
// refused for other reasons are in TestVerifiedRefusedWithErrorResponse.
func TestRefusedWithoutResponse(t *testing.T) {
	at := func(t testing.TB) democonnector.KeyPair { return pair(t, "connector-at-sign") }
	signWith := func(kp func(testing.TB) democonnector.KeyPair, alg string, mutate func(*etree.Element)) func(*harness) string {
		return func(h *harness) string {
			el := h.conn.Request(democonnector.RequestOptions{})
			if mutate != nil {
				mutate(el)
			}
			v, err := democonnector.SignPOST(el, kp(h.t), alg)
			if err != nil {
				h.t.Fatal(err)
			}
			return v
		}
	}
	tests := []struct {
		name   string
		value  func(h *harness) string // SAMLRequest form value
		status int
		logged string
	}{
		{name: "unsigned request", status: http.StatusBadRequest, logged: "element is not signed",
			value: func(h *harness) string {
				v, _ := democonnector.EncodePOST(h.conn.Request(democonnector.RequestOptions{}))
				return v
			}},
		{name: "signed with rsa-sha256 (PKCS#1 v1.5)", status: http.StatusBadRequest, logged: "algorithm not allowed",
			value: signWith(at, rsaSHA, nil)},
		{name: "signed by a key not in the metadata", status: http.StatusBadRequest, logged: "signature value invalid|KeyInfo certificate is not trusted",
			value: signWith(func(t testing.TB) democonnector.KeyPair { return pair(t, "attacker-sign") }, pss256, nil)},
		{name: "wrong Destination", status: http.StatusBadRequest, logged: "not addressed to this service",
			value: signWith(at, pss256, func(el *etree.Element) { el.CreateAttr("Destination", "https://other.example/sso") })},
		{name: "missing Destination", status: http.StatusBadRequest, logged: "not addressed to this service",
			value: signWith(at, pss256, func(el *etree.Element) { el.RemoveAttr("Destination") })},
		{name: "unknown issuer", status: http.StatusBadRequest, logged: "unknown connector",
			value: signWith(at, pss256, func(el *etree.Element) { el.FindElement("Issuer").SetText("https://unknown.example/metadata") })},
		{name: "XXE DOCTYPE", status: http.StatusBadRequest, logged: "DOCTYPE",
			value: func(h *harness) string {
				return base64.StdEncoding.EncodeToString(readFixture(h.t, "requests", "request-at-doctype.xml"))
			}},
		{name: "oversized", status: http.StatusBadRequest, logged: "too large",
			value: func(h *harness) string {
				return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("<a>"), 40000))
			}},
		{name: "not base64", status: http.StatusBadRequest, logged: "not base64",
			value: func(*harness) string { return "%%%" }},
		{name: "malformed XML", status: http.StatusBadRequest, logged: "malformed",
			value: func(*harness) string { return base64.StdEncoding.EncodeToString([]byte("<saml2p:AuthnRequest")) }},
		{name: "not an AuthnRequest", status: http.StatusBadRequest, logged: "root is not samlp:AuthnRequest",
			value: func(*harness) string {
				return base64.StdEncoding.EncodeToString([]byte(`<Response xmlns="urn:oasis:names:tc:SAML:2.0:protocol"/>`))
			}},
		{name: "signature wrapping: evil request around the signed one", status: http.StatusBadRequest, logged: "reference does not point",
			value: func(h *harness) string {
				el := h.conn.Request(democonnector.RequestOptions{})
				if _, err := democonnector.SignPOST(el, at(h.t), pss256); err != nil {
					h.t.Fatal(err)
				}
				evil := el.Copy()
				evil.CreateAttr("ID", "_evil")
				evil.CreateAttr("AssertionConsumerServiceURL", "https://evil.example/acs")
				ext := evil.FindElement("Extensions")
				ext.AddChild(el)
				v, _ := democonnector.EncodePOST(evil)
				return v
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			p := h.sendPOST(h.browser(), tt.value(h), "")
			alts := strings.Split(tt.logged, "|")
			found := false
			for _, a := range alts {
				found = found || strings.Contains(h.logs.String(), a)
			}
			if !found {
				t.Errorf("log does not name the reason %q:\n%s", tt.logged, h.logs.String())
			}
			h.expectPage(p, tt.status, "")
		})
	}
}

// TestReplayedRequest: a request seen before starts no second login; its
// sender is established, so it is told with a signed error Response.
func TestReplayedRequest(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	b := h.browser()
	v, err := h.conn.SignPOST(h.conn.Request(democonnector.RequestOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if p := h.sendPOST(b, v, ""); p.status != http.StatusOK || !strings.Contains(p.body, "tcTokenURL") {
		t.Fatalf("first request: status %d", p.status)
	}
	replayed := h.sendPOST(h.browser(), v, "")
	if strings.Contains(replayed.body, "tcTokenURL") {
		t.Fatal("a replayed request started an eID login")
	}
	h.expectStatus(replayed, samlxml.StatusRequester, samlxml.StatusRequestDenied, "already received")
	if !strings.Contains(h.logs.String(), "replayed") {
		t.Errorf("replay not logged:\n%s", h.logs.String())
	}
	// Also across bindings: the same ID sent again with HTTP-Redirect.
	el := h.conn.Request(democonnector.RequestOptions{ID: "_same-id-twice"})
	q, _ := democonnector.RedirectQuery(el, "", pair(t, "connector-at-sign"), pss256)
	if p := b.get(h.base + es.SSOPath + "?" + q); p.status != http.StatusOK {
		t.Fatalf("redirect request: status %d", p.status)
	}
	v2, _ := h.conn.SignPOST(h.conn.Request(democonnector.RequestOptions{ID: "_same-id-twice"}))
	h.expectStatus(h.sendPOST(b, v2, ""), samlxml.StatusRequester, samlxml.StatusRequestDenied, "already received")
}

// TestRedirectBindingAttacks: the query signature must cover exactly what
// was sent, with an allowed algorithm, and the payload is size-bounded.
func TestRedirectBindingAttacks(t *testing.T) {
	tests := []struct {
		name   string
		query  func(h *harness) string
		logged string
	}{
		{name: "rsa-sha256 SigAlg", logged: "algorithm not allowed", query: func(h *harness) string {
			q, _ := democonnector.RedirectQuery(h.conn.Request(democonnector.RequestOptions{}), "rs", pair(h.t, "connector-at-sign"), rsaSHA)
			return q
		}},
		{name: "no Signature", logged: "without Signature", query: func(h *harness) string {
			q, _ := democonnector.RedirectQuery(h.conn.Request(democonnector.RequestOptions{}), "rs", pair(h.t, "connector-at-sign"), pss256)
			return q[:strings.Index(q, "&Signature=")]
		}},
		{name: "RelayState changed after signing", logged: "signature value invalid", query: func(h *harness) string {
			q, _ := democonnector.RedirectQuery(h.conn.Request(democonnector.RequestOptions{}), "rs", pair(h.t, "connector-at-sign"), pss256)
			return strings.Replace(q, "RelayState=rs", "RelayState=evil", 1)
		}},
		{name: "SigAlg swapped to another allowed method", logged: "signature value invalid", query: func(h *harness) string {
			q, _ := democonnector.RedirectQuery(h.conn.Request(democonnector.RequestOptions{}), "rs", pair(h.t, "connector-at-sign"), pss256)
			return strings.Replace(q, url.QueryEscape(pss256), url.QueryEscape(xmlsec.SigRSAPSSSHA512), 1)
		}},
		{name: "signed by another key", logged: "signature value invalid", query: func(h *harness) string {
			q, _ := democonnector.RedirectQuery(h.conn.Request(democonnector.RequestOptions{}), "rs", pair(h.t, "attacker-sign"), pss256)
			return q
		}},
		{name: "DEFLATE bomb", logged: "too large", query: func(h *harness) string {
			var buf bytes.Buffer
			w, _ := flate.NewWriter(&buf, flate.BestCompression)
			_, _ = w.Write(bytes.Repeat([]byte(" "), 8<<20))
			_ = w.Close()
			return "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes())) + "&SigAlg=x&Signature=AAAA"
		}},
		{name: "embedded XML signature in a Redirect message", logged: "inside an HTTP-Redirect message", query: func(h *harness) string {
			el := h.conn.Request(democonnector.RequestOptions{})
			kp := pair(h.t, "connector-at-sign")
			if err := xmlsec.Sign(el, kp.Key, []*x509.Certificate{kp.Cert}, pss256); err != nil {
				h.t.Fatal(err)
			}
			q, _ := democonnector.RedirectQuery(el, "rs", kp, pss256)
			return q
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			p := h.browser().get(h.base + es.SSOPath + "?" + tt.query(h))
			h.expectPage(p, http.StatusBadRequest, tt.logged)
		})
	}
}

// TestRefusedWithErrorResponse covers verified requests the service cannot
// serve: they are answered with a signed SAML error Response.
func TestRefusedWithErrorResponse(t *testing.T) {
	tests := []struct {
		name     string
		opts     democonnector.RequestOptions
		connCfg  func(*democonnector.Config)
		top, sub string
		msg      string
	}{
		{name: "IsPassive true", opts: democonnector.RequestOptions{IsPassive: "true"}, top: samlxml.StatusResponder, sub: samlxml.StatusNoPassive},
		{name: "ForceAuthn false", opts: democonnector.RequestOptions{ForceAuthn: "false"}, top: samlxml.StatusRequester, sub: samlxml.StatusRequestDenied, msg: "ForceAuthn"},
		{name: "ForceAuthn missing", opts: democonnector.RequestOptions{ForceAuthn: "-"}, top: samlxml.StatusRequester, sub: samlxml.StatusRequestDenied, msg: "ForceAuthn"},
		{name: "unsupported required attribute", top: samlxml.StatusRequester, sub: samlxml.StatusInvalidAttrName, msg: "LegalName",
			opts: democonnector.RequestOptions{Attributes: append(democonnector.MinimumDataSet(),
				democonnector.RequestedAttribute{Name: "http://eidas.europa.eu/attributes/legalperson/LegalName", Required: true})}},
		{name: "only unsupported optional attributes", top: samlxml.StatusRequester, sub: samlxml.StatusInvalidAttrName,
			opts: democonnector.RequestOptions{Attributes: []democonnector.RequestedAttribute{{Name: "http://example.org/unknown"}}}},
		{name: "required Gender (no sex data on the eID card)", top: samlxml.StatusRequester, sub: samlxml.StatusInvalidAttrName, msg: "Gender",
			opts: democonnector.RequestOptions{Attributes: append(democonnector.MinimumDataSet(), democonnector.RequestedAttribute{Name: es.AttrGender, Required: true})}},
		{name: "exact substantial", top: samlxml.StatusResponder, sub: samlxml.StatusNoAuthnContext,
			opts: democonnector.RequestOptions{Comparison: "exact", Level: []string{"http://eidas.europa.eu/LoA/substantial"}}},
		{name: "not-notified only", top: samlxml.StatusResponder, sub: samlxml.StatusNoAuthnContext,
			opts: democonnector.RequestOptions{Comparison: "exact", Level: []string{"http://eidas.europa.eu/NotNotified/LoA/high"}}},
		{name: "minimum with a not-notified level", top: samlxml.StatusRequester, sub: samlxml.StatusNoAuthnContext,
			opts: democonnector.RequestOptions{Level: []string{"http://eidas.europa.eu/NotNotified/LoA/low"}}},
		{name: "no RequestedAuthnContext", top: samlxml.StatusRequester, sub: samlxml.StatusNoAuthnContext,
			opts: democonnector.RequestOptions{NoAuthnContext: true}},
		{name: "comparison better", top: samlxml.StatusRequester, sub: samlxml.StatusNoAuthnContext,
			opts: democonnector.RequestOptions{Comparison: "better"}},
		{name: "unsupported NameIDPolicy", top: samlxml.StatusRequester, sub: samlxml.StatusInvalidNameIDPolicy,
			opts: democonnector.RequestOptions{NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"}},
		{name: "SPType in metadata and request", top: samlxml.StatusRequester, sub: samlxml.StatusRequestDenied, msg: "SPType",
			opts: democonnector.RequestOptions{SPType: "public"}},
		{name: "SPType contradicts the agreement", top: samlxml.StatusRequester, sub: samlxml.StatusRequestDenied, msg: "SPType",
			connCfg: func(c *democonnector.Config) { c.SPTypeInRequest = true },
			opts:    democonnector.RequestOptions{SPType: "private", RequesterID: "rp"}},
		{name: "private SP without RequesterID", top: samlxml.StatusRequester, sub: samlxml.StatusRequestDenied, msg: "RequesterID",
			connCfg: func(c *democonnector.Config) { c.SPType = "private" }},
		{name: "response binding other than POST", top: samlxml.StatusRequester, sub: samlxml.StatusUnsupportedBinding,
			opts: democonnector.RequestOptions{ProtocolBinding: samlxml.BindingRedirect}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{connCfg: tt.connCfg})
			p := h.postRequest(h.browser(), tt.opts)
			h.expectStatus(p, tt.top, tt.sub, tt.msg)
			if !strings.Contains(h.logs.String(), "request refused") {
				t.Errorf("refusal not logged:\n%s", h.logs.String())
			}
		})
	}
}

// TestPrivateWithRequesterID: a private-sector request naming its relying
// party is served.
func TestPrivateWithRequesterID(t *testing.T) {
	h := newHarness(t, harnessOpts{connCfg: func(c *democonnector.Config) { c.SPType = "private" }})
	b := h.browser()
	consent := h.eidLogin(b, h.postRequest(b, democonnector.RequestOptions{RequesterID: "https://rp.example.at/portal"}), "erika")
	if !strings.Contains(consent.body, "https://rp.example.at/portal") {
		t.Errorf("consent page does not name the requester")
	}
	if res, _ := h.result(h.consent(b, consent, "approve")); !res.Success() {
		t.Fatalf("status %s %s", res.Status, res.SubStatus)
	}
}

// TestACSFromMetadataOnly: an ACS URL or index in the request that matches
// the metadata is honoured; the Response always goes to that location.
func TestACSFromMetadataOnly(t *testing.T) {
	for _, o := range []democonnector.RequestOptions{{ACSIndex: "0"}, {}} {
		h := newHarness(t, harnessOpts{})
		if o.ACSIndex == "" {
			o.ACSURL = h.conn.ACSURL()
		}
		b := h.browser()
		p := h.postRequest(b, o)
		res, _ := h.result(h.consent(b, h.eidLogin(b, p, "erika"), "approve"))
		if !res.Success() {
			t.Fatalf("status %s", res.Status)
		}
	}
}
