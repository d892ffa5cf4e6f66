package eidasservice_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	es "github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/eidasservice/democonnector"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// TestVerifiedRefusedWithErrorResponse: a request validly signed by a
// configured connector but refused before any login starts (stale,
// malformed, an ACS its metadata lacks, a RelayState the binding forbids)
// is answered with a signed SAML error Response to that connector's ACS
// from its metadata, carrying the request's ID and RelayState. The demo
// connector verifies the Response's signature with the service's
// certificate, its Destination and its InResponseTo.
func TestVerifiedRefusedWithErrorResponse(t *testing.T) {
	signed := func(mutate func(*etree.Element)) func(*harness) string {
		return func(h *harness) string {
			el := h.conn.Request(democonnector.RequestOptions{})
			if mutate != nil {
				mutate(el)
			}
			v, err := democonnector.SignPOST(el, pair(h.t, "connector-at-sign"), pss256)
			if err != nil {
				h.t.Fatal(err)
			}
			return v
		}
	}
	at := func(d time.Duration) func(*etree.Element) {
		return func(el *etree.Element) {
			el.CreateAttr("IssueInstant", time.Now().Add(d).UTC().Format(time.RFC3339))
		}
	}
	longRelay := strings.Repeat("r", 81)
	tests := []struct {
		name      string
		value     func(*harness) string
		relay     string
		wantRelay string
		msg       string
		logged    string
	}{
		{name: "issued long ago", value: signed(at(-time.Hour)), relay: "rs-1", wantRelay: "rs-1",
			msg: "time window", logged: "outside its validity window"},
		{name: "issued in the future", value: signed(at(time.Hour)), relay: "rs-2", wantRelay: "rs-2",
			msg: "time window", logged: "IssueInstant in the future"},
		{name: "ACS URL not in metadata", msg: "AssertionConsumerService", logged: "not in the connector's metadata",
			value: signed(func(el *etree.Element) { el.CreateAttr("AssertionConsumerServiceURL", "https://evil.example/acs") })},
		{name: "javascript ACS URL", msg: "AssertionConsumerService", logged: "not in the connector's metadata",
			value: signed(func(el *etree.Element) { el.CreateAttr("AssertionConsumerServiceURL", "javascript:alert(1)") })},
		{name: "ACS index not in metadata", msg: "AssertionConsumerService", logged: "not in the connector's metadata",
			value: signed(func(el *etree.Element) { el.CreateAttr("AssertionConsumerServiceIndex", "7") })},
		{name: "RelayState longer than 80 bytes", value: signed(nil), relay: longRelay, wantRelay: "",
			msg: "RelayState", logged: "RelayState longer than 80 bytes"},
		{name: "IssueInstant not a time", msg: "malformed", logged: "IssueInstant",
			value: signed(func(el *etree.Element) { el.CreateAttr("IssueInstant", "yesterday") })},
		{name: "Issuer with a wrong Format", msg: "malformed", logged: "Issuer Format",
			value: signed(func(el *etree.Element) {
				el.FindElement("Issuer").CreateAttr("Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:transient")
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			p := h.sendPOST(h.browser(), tt.value(h), tt.relay)
			if strings.Contains(p.body, "tcTokenURL") {
				t.Fatal("a refused request started an eID login")
			}
			// result: the form posts to the ACS in the metadata, and the
			// demo connector verifies signature, Destination and
			// InResponseTo (one of its pending requests).
			res, form := h.result(p)
			if res.Status != samlxml.StatusRequester || res.SubStatus != samlxml.StatusRequestDenied || !strings.Contains(res.Message, tt.msg) {
				t.Errorf("status %s / %s %q, want Requester / RequestDenied with %q", res.Status, res.SubStatus, res.Message, tt.msg)
			}
			if got := form.Get("RelayState"); got != tt.wantRelay {
				t.Errorf("RelayState %q, want %q", got, tt.wantRelay)
			}
			if !strings.Contains(h.logs.String(), "request refused") || !strings.Contains(h.logs.String(), tt.logged) {
				t.Errorf("log does not name the reason %q:\n%s", tt.logged, h.logs.String())
			}
		})
	}

	// The HTTP-Redirect binding: same answer, the RelayState of the query.
	t.Run("stale over HTTP-Redirect", func(t *testing.T) {
		h := newHarness(t, harnessOpts{})
		p := h.redirectRequest(h.browser(), democonnector.RequestOptions{IssueInstant: time.Now().Add(-time.Hour)}, pair(t, "connector-at-sign"), pss256)
		res, form := h.result(p)
		if res.Status != samlxml.StatusRequester || res.SubStatus != samlxml.StatusRequestDenied || form.Get("RelayState") != "rs-1" {
			t.Errorf("status %s / %s, RelayState %q", res.Status, res.SubStatus, form.Get("RelayState"))
		}
	})

	// Not authenticated, or not for us: still only the page, however stale.
	for _, tc := range []struct {
		name   string
		mutate func(h *harness, el *etree.Element) string
		logged string
	}{
		{name: "stale and unsigned", logged: "not signed", mutate: func(h *harness, el *etree.Element) string {
			v, _ := democonnector.EncodePOST(el)
			return v
		}},
		{name: "stale and signed by an unknown key", logged: "not trusted", mutate: func(h *harness, el *etree.Element) string {
			v, _ := democonnector.SignPOST(el, pair(h.t, "attacker-sign"), pss256)
			return v
		}},
		{name: "stale and from an unknown issuer", logged: "unknown connector", mutate: func(h *harness, el *etree.Element) string {
			el.FindElement("Issuer").SetText("https://unknown.example/metadata")
			v, _ := democonnector.SignPOST(el, pair(h.t, "connector-at-sign"), pss256)
			return v
		}},
		{name: "stale and addressed elsewhere", logged: "not addressed to this service", mutate: func(h *harness, el *etree.Element) string {
			el.CreateAttr("Destination", "https://other.example"+es.SSOPath)
			v, _ := democonnector.SignPOST(el, pair(h.t, "connector-at-sign"), pss256)
			return v
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			el := h.conn.Request(democonnector.RequestOptions{IssueInstant: time.Now().Add(-time.Hour)})
			h.expectPage(h.sendPOST(h.browser(), tc.mutate(h, el), "rs"), http.StatusBadRequest, tc.logged)
		})
	}
}
