package eidasservice_test

import (
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters/eid"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"

	es "github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/eidasservice/democonnector"
)

func TestLoginSuccess(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	b := h.browser()
	el := h.conn.Request(democonnector.RequestOptions{})
	v, err := h.conn.SignPOST(el)
	if err != nil {
		t.Fatal(err)
	}
	start := h.sendPOST(b, v, "relay-123")
	cb := h.eidLogin(b, start, "erika")
	if !strings.Contains(cb.body, "MUSTERMANN") {
		t.Fatalf("consent page does not show the data:\n%s", truncateBody(cb.body))
	}
	out := h.consent(b, cb, "approve")
	res, form := h.result(out)
	if form.Get("RelayState") != "relay-123" {
		t.Errorf("RelayState = %q", form.Get("RelayState"))
	}
	if !res.Success() {
		t.Fatalf("status %s %s %q", res.Status, res.SubStatus, res.Message)
	}
	if res.Level != "http://eidas.europa.eu/LoA/high" {
		t.Errorf("level %q", res.Level)
	}
	pid := res.Attr(es.AttrPersonIdentifier)
	if len(pid) != 1 || !strings.HasPrefix(pid[0], "DE/AT/") || len(pid[0]) != 6+64 {
		t.Errorf("PersonIdentifier %q", pid)
	}
	if res.NameID != pid[0] || res.NameIDFormat != samlxml.NameIDPersistent {
		t.Errorf("NameID %q (%s)", res.NameID, res.NameIDFormat)
	}
	if got := res.Attr(es.AttrFamilyName); len(got) != 1 || got[0] != "MUSTERMANN" {
		t.Errorf("FamilyName %q", got)
	}
	if got := res.Attr(es.AttrFirstName); len(got) != 1 || got[0] != "ERIKA" {
		t.Errorf("FirstName %q", got)
	}
	if got := res.Attr(es.AttrDateOfBirth); len(got) != 1 || got[0] != "1964-08-12" {
		t.Errorf("DateOfBirth %q", got)
	}
	addr := res.Attr(es.AttrCurrentAddress)
	if len(addr) != 1 {
		t.Fatalf("CurrentAddress %q", addr)
	}
	dec, _ := base64.StdEncoding.DecodeString(addr[0])
	if !strings.Contains(string(dec), "<eidas-natural:PostName>KÖLN</eidas-natural:PostName>") {
		t.Errorf("CurrentAddress XML %s", dec)
	}
	t.Logf("attributes: %+v, %s %s", res.Attributes, res.DataAlgorithm, res.KeyAlgorithm)
	if out.status != http.StatusOK {
		t.Errorf("status %d", out.status)
	}
}

func TestLoginVariants(t *testing.T) {
	ecKeys := func(t testing.TB) *democonnector.Keys {
		return &democonnector.Keys{Signing: pair(t, "connector-se-sign"), Encryption: pair(t, "connector-se-enc")}
	}
	tests := []struct {
		name       string
		serviceKey string
		connKeys   func(testing.TB) *democonnector.Keys
		redirect   bool
		opts       democonnector.RequestOptions
		card       string
		deselect   []string
		check      func(t *testing.T, res *democonnector.Result)
	}{
		{name: "redirect binding, ECDSA service key", redirect: true, card: "erika",
			check: func(t *testing.T, res *democonnector.Result) {
				if res.KeyAlgorithm != "http://www.w3.org/2009/xmlenc11#rsa-oaep" {
					t.Errorf("key transport %s", res.KeyAlgorithm)
				}
			}},
		{name: "EC connector gets ECDH-ES, RSA-PSS service key", serviceKey: "service-sign-rsa", connKeys: ecKeys, card: "erika",
			check: func(t *testing.T, res *democonnector.Result) {
				if res.KeyAlgorithm != "http://www.w3.org/2009/xmlenc11#ECDH-ES" || res.DataAlgorithm != "http://www.w3.org/2009/xmlenc11#aes256-gcm" {
					t.Errorf("encryption %s / %s", res.DataAlgorithm, res.KeyAlgorithm)
				}
			}},
		{name: "redirect binding with an EC connector", redirect: true, connKeys: ecKeys, card: "erika"},
		{name: "partial date of birth and birth name fallback", card: "partial-date",
			opts: democonnector.RequestOptions{Attributes: append(democonnector.MinimumDataSet(),
				democonnector.RequestedAttribute{Name: es.AttrBirthName}, democonnector.RequestedAttribute{Name: es.AttrPlaceOfBirth})},
			check: func(t *testing.T, res *democonnector.Result) {
				if got := res.Attr(es.AttrDateOfBirth); len(got) != 1 || got[0] != "1957-00-00" {
					t.Errorf("DateOfBirth %q", got)
				}
				if got := res.Attr(es.AttrBirthName); len(got) != 1 || got[0] != "ANSGAR MUSTER" {
					t.Errorf("BirthName %q", got)
				}
				if got := res.Attr(es.AttrPlaceOfBirth); len(got) != 1 || got[0] != "HAMBURG" {
					t.Errorf("PlaceOfBirth %q", got)
				}
			}},
		{name: "birth name from the chip, nationality", card: "erika",
			opts: democonnector.RequestOptions{Attributes: []democonnector.RequestedAttribute{
				{Name: es.AttrPersonIdentifier, Required: true}, {Name: es.AttrBirthName}, {Name: es.AttrNationality}}},
			check: func(t *testing.T, res *democonnector.Result) {
				if got := res.Attr(es.AttrBirthName); len(got) != 1 || got[0] != "ERIKA GABLER" {
					t.Errorf("BirthName %q", got)
				}
				if got := res.Attr(es.AttrNationality); len(got) != 1 || got[0] != "DE" {
					t.Errorf("Nationality %q", got)
				}
				if res.Attr(es.AttrFamilyName) != nil || res.Attr(es.AttrCurrentAddress) != nil {
					t.Errorf("unrequested attributes released: %+v", res.Attributes)
				}
			}},
		{name: "optional address deselected in the eID-Client", card: "erika", deselect: []string{"PlaceOfResidence"},
			check: func(t *testing.T, res *democonnector.Result) {
				if res.Attr(es.AttrCurrentAddress) != nil {
					t.Errorf("deselected address released")
				}
			}},
		{name: "transient NameID", card: "erika", opts: democonnector.RequestOptions{NameIDFormat: samlxml.NameIDTransient},
			check: func(t *testing.T, res *democonnector.Result) {
				if res.NameIDFormat != samlxml.NameIDTransient || strings.HasPrefix(res.NameID, "DE/") {
					t.Errorf("NameID %q (%s)", res.NameID, res.NameIDFormat)
				}
			}},
		{name: "no NameIDPolicy means unspecified", card: "erika", opts: democonnector.RequestOptions{NameIDFormat: "-"},
			check: func(t *testing.T, res *democonnector.Result) {
				if res.NameIDFormat != samlxml.NameIDUnspecified || !strings.HasPrefix(res.NameID, "DE/AT/") {
					t.Errorf("NameID %q (%s)", res.NameID, res.NameIDFormat)
				}
			}},
		{name: "minimum substantial is met by high", card: "erika",
			opts: democonnector.RequestOptions{Level: []string{"http://eidas.europa.eu/LoA/substantial"}},
			check: func(t *testing.T, res *democonnector.Result) {
				if res.Level != "http://eidas.europa.eu/LoA/high" {
					t.Errorf("level %s", res.Level)
				}
			}},
		{name: "exact list with high and a not-notified level", card: "erika",
			opts: democonnector.RequestOptions{Comparison: "exact", Level: []string{"http://eidas.europa.eu/NotNotified/LoA/high", "http://eidas.europa.eu/LoA/high"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := harnessOpts{serviceKey: tt.serviceKey}
			if tt.connKeys != nil {
				o.connKeys = tt.connKeys(t)
			}
			h := newHarness(t, o)
			b := h.browser()
			var start page
			if tt.redirect {
				kp := o.connKeys
				if kp == nil {
					kp = &democonnector.Keys{Signing: pair(t, "connector-at-sign")}
				}
				alg := "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
				if tt.connKeys != nil {
					alg = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
				}
				start = h.redirectRequest(b, tt.opts, kp.Signing, alg)
			} else {
				start = h.postRequest(b, tt.opts)
			}
			res, form := h.result(h.consent(b, h.eidLogin(b, start, tt.card, tt.deselect...), "approve"))
			if !res.Success() {
				t.Fatalf("status %s %s %q", res.Status, res.SubStatus, res.Message)
			}
			if tt.redirect && form.Get("RelayState") != "rs-1" {
				t.Errorf("RelayState %q", form.Get("RelayState"))
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

// TestPseudonymPerConnector: the same card gives the same PersonIdentifier
// to one connector every time, and a different one to another connector.
func TestPseudonymPerConnector(t *testing.T) {
	login := func(h *harness) string {
		b := h.browser()
		res, _ := h.result(h.consent(b, h.eidLogin(b, h.postRequest(b, democonnector.RequestOptions{}), "erika"), "approve"))
		return res.Attr(es.AttrPersonIdentifier)[0]
	}
	h := newHarness(t, harnessOpts{})
	first, second := login(h), login(h)
	if first != second {
		t.Errorf("PersonIdentifier not stable: %s vs %s", first, second)
	}
	other := newHarness(t, harnessOpts{connCfg: func(c *democonnector.Config) { c.BaseURL += "-other" }})
	if third := login(other); third == first || !strings.HasPrefix(third, "DE/AT/") {
		t.Errorf("another connector got %s (first %s)", third, first)
	}
}

func TestLoginFailures(t *testing.T) {
	tests := []struct {
		name     string
		eidCfg   func(*eid.Config)
		opts     democonnector.RequestOptions
		card     string
		decision string
		top, sub string
		msg      string
	}{
		{name: "person cancels in the eID-Client", card: "cancel", top: samlxml.StatusResponder, sub: samlxml.StatusRequestDenied, msg: es.MessageCancelled},
		{name: "person declines on the consent page", card: "erika", decision: "deny", top: samlxml.StatusResponder, sub: samlxml.StatusRequestDenied, msg: es.MessageCancelled},
		{name: "blocked card", card: "blocked", top: samlxml.StatusResponder, sub: samlxml.StatusAuthnFailed},
		{name: "Smart-eID below high", card: "smart-eid", top: samlxml.StatusResponder, sub: samlxml.StatusAuthnFailed},
		{name: "proved level below the requested minimum", card: "erika",
			eidCfg: func(c *eid.Config) { c.LevelCaps = map[string]assurance.Level{"ID": assurance.Substantial} },
			top:    samlxml.StatusResponder, sub: samlxml.StatusNoAuthnContext},
		{name: "required BirthName not available (given names not read)", card: "partial-date",
			opts: democonnector.RequestOptions{Attributes: []democonnector.RequestedAttribute{{Name: es.AttrPersonIdentifier, Required: true}, {Name: es.AttrBirthName, Required: true}},
				Level: []string{"http://eidas.europa.eu/LoA/substantial"}},
			eidCfg: func(c *eid.Config) { c.Attributes.GivenNames = eid.Prohibited },
			top:    samlxml.StatusResponder, sub: samlxml.StatusInvalidAttrName, msg: "BirthName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{eidCfg: tt.eidCfg})
			b := h.browser()
			p := h.eidLogin(b, h.postRequest(b, tt.opts), tt.card)
			if tt.decision != "" {
				p = h.consent(b, p, tt.decision)
			}
			h.expectStatus(p, tt.top, tt.sub, tt.msg)
		})
	}
}

func TestLevelCapStillMeetsSubstantial(t *testing.T) {
	h := newHarness(t, harnessOpts{eidCfg: func(c *eid.Config) { c.LevelCaps = map[string]assurance.Level{"ID": assurance.Substantial} }})
	b := h.browser()
	start := h.postRequest(b, democonnector.RequestOptions{Level: []string{"http://eidas.europa.eu/LoA/substantial"}})
	res, _ := h.result(h.consent(b, h.eidLogin(b, start, "erika"), "approve"))
	if !res.Success() || res.Level != "http://eidas.europa.eu/LoA/substantial" {
		t.Fatalf("status %s, level %s: the assertion must carry the proved level", res.Status, res.Level)
	}
}

// TestConsentBinding: the consent page and decision belong to the browser
// that sent the request; the decision is single use.
func TestConsentBinding(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	b := h.browser()
	consent := h.eidLogin(b, h.postRequest(b, democonnector.RequestOptions{}), "erika")
	action, form := consent.form(t)
	form.Set("decision", "approve")

	other := h.browser()
	if p := other.get(action); p.status != http.StatusForbidden {
		t.Errorf("consent page in another browser: status %d", p.status)
	}
	if p := other.post(action, form); p.status != http.StatusForbidden || strings.Contains(p.body, "SAMLResponse") {
		t.Errorf("decision from another browser: status %d", p.status)
	}
	bad := url.Values{"decision": {"approve"}, "token": {"x"}}
	if p := b.post(action, bad); p.status != http.StatusForbidden {
		t.Errorf("decision with a wrong token: status %d", p.status)
	}
	first := b.post(action, form)
	if res, _ := h.result(first); !res.Success() {
		t.Fatalf("status %s", res.Status)
	}
	if p := b.post(action, form); p.status != http.StatusBadRequest || strings.Contains(p.body, "SAMLResponse") {
		t.Errorf("second decision: status %d", p.status)
	}
}

// TestCallbackBeforeResult: the eID-Client sends the browser back before
// the eID-Server has a result; the state is kept and a later callback
// succeeds.
func TestCallbackBeforeResult(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	b := h.browser()
	start := h.postRequest(b, democonnector.RequestOptions{})
	tc := start.tcTokenURL(t)
	ref := tc[strings.LastIndex(tc, "/")+1:]
	// The eID-Client has fetched the TC Token and sends the browser back
	// before the card was read.
	tok := fetchTCToken(t, tc)
	wait := b.get(tok.RefreshAddress + "&ResultMajor=ok")
	if wait.status != http.StatusAccepted {
		t.Fatalf("early callback: status %d:\n%s", wait.status, truncateBody(wait.body))
	}
	completeCard(t, h, tok, "erika")
	consent := b.get(tok.RefreshAddress + "&ResultMajor=ok")
	if again := b.get(h.base + es.CallbackPath + ref); again.status != http.StatusOK || !strings.Contains(again.body, `name="decision"`) {
		t.Errorf("reloading the callback after success should show the consent page again, status %d", again.status)
	}
	res, _ := h.result(h.consent(b, consent, "approve"))
	if !res.Success() {
		t.Fatalf("status %s", res.Status)
	}
	if p := b.get(h.base + es.CallbackPath + ref); p.status != http.StatusBadRequest {
		t.Errorf("callback after the answer: status %d", p.status)
	}
}

// fetchTCToken fetches a TC Token as the eID-Client does (it works once).
func fetchTCToken(t *testing.T, tcURL string) *eid.TCToken {
	t.Helper()
	resp, err := http.Get(tcURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	tok, err := eid.ParseTCToken(body)
	if err != nil {
		t.Fatalf("tc token (status %d): %v", resp.StatusCode, err)
	}
	return tok
}

// completeCard plays the eID-Client's part at the eID-Server for tok.
func completeCard(t *testing.T, h *harness, tok *eid.TCToken, cardID string) {
	t.Helper()
	psk, err := hex.DecodeString(tok.PathSecurityParameters.PSK)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.eid.Server.Connect(tok.ServerAddress, tok.SessionIdentifier, psk); err != nil {
		t.Fatal(err)
	}
	card, _ := h.eid.Client.Card(cardID)
	if err := h.eid.Server.Complete(tok.ServerAddress, tok.SessionIdentifier, psk, card, nil); err != nil {
		t.Fatal(err)
	}
}

// TestRelayRefused is the eIDAS-Service case of the login-relay issue: a
// connector's user starts a login and forwards the eID-Client link; a
// victim authenticates with the card. Neither browser gets the identity,
// and no Response reaches the connector.
func TestRelayRefused(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	attacker, victim := h.browser(), h.browser()
	start := h.postRequest(attacker, democonnector.RequestOptions{})
	tc := start.tcTokenURL(t)
	ref := tc[strings.LastIndex(tc, "/")+1:]

	landed := h.eidLogin(victim, start, "erika")
	if landed.status != http.StatusForbidden || !strings.Contains(landed.body, "keine Daten weitergegeben") || strings.Contains(landed.body, "SAMLResponse") {
		t.Fatalf("victim: want the relay page, got %d:\n%s", landed.status, truncateBody(landed.body))
	}
	for _, u := range []string{h.base + es.ConsentPath + ref, h.base + es.CallbackPath + ref} {
		if p := attacker.get(u); p.status != http.StatusBadRequest || strings.Contains(p.body, "ERIKA") || strings.Contains(p.body, "SAMLResponse") {
			t.Errorf("attacker %s: status %d", u, p.status)
		}
	}
}

// TestRelayCookieWithoutHandle: the starting browser cannot collect the
// identity that another browser delivered, and the reference alone does
// not let anyone fetch the eID result.
func TestRelayCookieWithoutHandle(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	b := h.browser()
	start := h.postRequest(b, democonnector.RequestOptions{})
	tc := start.tcTokenURL(t)
	ref := tc[strings.LastIndex(tc, "/")+1:]
	tok := fetchTCToken(t, tc)
	completeCard(t, h, tok, "erika")

	// Someone who knows the reference (it is on the start page) calls the
	// callback without the TC Token's secret: refused, nothing ended.
	for range 2 {
		if p := h.browser().get(h.base + es.CallbackPath + ref + "?ResultMajor=ok"); p.status != http.StatusBadRequest || strings.Contains(p.body, "SAMLResponse") {
			t.Fatalf("callback without the secret: status %d", p.status)
		}
	}
	// The genuine refresh, delivered by a browser that stops at the
	// redirect (as if it were another one): the handle is in the Location.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(tok.RefreshAddress + "&ResultMajor=ok")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("h") == "" {
		t.Fatalf("delivery: %d %v", resp.StatusCode, loc)
	}
	if p := b.get(h.base + es.ConsentPath + ref); p.status != http.StatusForbidden || strings.Contains(p.body, `name="decision"`) {
		t.Fatalf("cookie without handle: status %d", p.status)
	}
	if p := b.get(h.base + es.ConsentPath + ref + "?h=forged"); p.status != http.StatusForbidden {
		t.Fatalf("cookie with a forged handle: status %d", p.status)
	}
	// Cookie and handle together: the ordinary one-browser login.
	res, _ := h.result(h.consent(b, b.get(loc.String()), "approve"))
	if !res.Success() {
		t.Fatalf("status %s", res.Status)
	}
}
