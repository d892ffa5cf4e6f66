package elster_test

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/elster"
	"github.com/ozg-broker/eidas-broker/config"
)

// TestCrossSiteCallbackRefused: a form on another site that posts a
// challenge to the callback (the attacker obtained it by starting a login
// himself) completes no login, in either mode; the login page's own POST
// does, with every header combination browsers send for it.
func TestCrossSiteCallbackRefused(t *testing.T) {
	const proxy = "192.0.2.10:41000"
	e := newEnv(t, func(e *env, c *elster.Config) {
		c.MTLS = elster.MTLS{Enabled: true, TrustedProxies: []string{"192.0.2.0/24"}}
		c.TrustAnchors = append(c.TrustAnchors, config.Path(e.sim.Dir()+"/issuing.pem"))
	})
	h := e.open12("person.pfx")
	leafPEM := url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.leaf.Raw})))
	modes := []struct {
		name string
		form func(ch string) url.Values
		// terminator adds what the TLS terminator adds in front of the broker.
		terminator func(r *http.Request)
	}{
		{"signature", func(ch string) url.Values { return h.form(t, ch, elster.AlgRS256) }, func(*http.Request) {}},
		{"mutual TLS", func(ch string) url.Values { return url.Values{"challenge": {ch}, "mode": {"tls"}} },
			func(r *http.Request) { r.RemoteAddr = proxy; r.Header.Set(elster.DefaultMTLSHeader, leafPEM) }},
		{"cancel", func(string) url.Values { return url.Values{"cancel": {"1"}} }, func(*http.Request) {}},
	}
	headers := []struct {
		name   string
		origin []string
		site   []string
		ok     bool
	}{
		{"same origin", []string{testBaseURL}, []string{"same-origin"}, true},
		{"same origin, Origin null (referrer policy no-referrer)", []string{"null"}, []string{"same-origin"}, true},
		{"same origin, no Origin", nil, []string{"same-origin"}, true},
		{"old browser, own Origin", []string{testBaseURL}, nil, true},
		{"cross-site form", []string{"https://evil.example"}, []string{"cross-site"}, false},
		{"cross-site, Origin null", []string{"null"}, []string{"cross-site"}, false},
		{"same-site, other host", []string{"https://shop.broker.example"}, []string{"same-site"}, false},
		{"typed into the address bar", nil, []string{"none"}, false},
		{"same-origin claim with foreign Origin", []string{"https://evil.example"}, []string{"same-origin"}, false},
		{"old browser, foreign Origin", []string{"https://evil.example"}, nil, false},
		{"old browser, Origin null", []string{"null"}, nil, false},
		{"old browser, other port", []string{"https://broker.example:8443"}, nil, false},
		{"old browser, http", []string{"http://broker.example"}, nil, false},
		{"neither header", nil, nil, false},
		{"Origin repeated", []string{testBaseURL, "https://evil.example"}, []string{"same-origin"}, false},
		{"Sec-Fetch-Site repeated", []string{testBaseURL}, []string{"same-origin", "cross-site"}, false},
	}
	for _, m := range modes {
		for _, hd := range headers {
			t.Run(m.name+"/"+hd.name, func(t *testing.T) {
				req, st, ch := e.begin("tx-origin-" + m.name + "-" + hd.name)
				r := post(m.form(ch))
				r.Header.Del("Origin")
				r.Header.Del("Sec-Fetch-Site")
				for _, v := range hd.origin {
					r.Header.Add("Origin", v)
				}
				for _, v := range hd.site {
					r.Header.Add("Sec-Fetch-Site", v)
				}
				m.terminator(r)
				id, err := e.adapter.Finish(context.Background(), req, st, r)
				switch {
				case !hd.ok && !errors.Is(err, elster.ErrCrossSite):
					t.Fatalf("err = %v, want ErrCrossSite", err)
				case hd.ok && m.name == "cancel" && !errors.Is(err, adapters.ErrCancelled):
					t.Fatalf("err = %v, want ErrCancelled", err)
				case hd.ok && m.name != "cancel" && (err != nil || id.Subject == ""):
					t.Fatalf("err = %v, identity %+v: want a login", err, id)
				}
			})
		}
	}
	// Browsers without Fetch Metadata send the page's origin only if its
	// referrer policy allows it (no-referrer would make it "null").
	t.Run("page referrer policy", func(t *testing.T) {
		h, _, err := e.adapter.Begin(context.Background(), request("tx-origin-page"))
		if err != nil {
			t.Fatal(err)
		}
		if !h.Needs.SameOriginReferrer {
			t.Fatal("the login page does not ask for referrer policy same-origin")
		}
	})
	// A refused cross-site POST did not burn the challenge: the person's own
	// page can still complete the login it belongs to.
	t.Run("refusal leaves the challenge usable", func(t *testing.T) {
		req, st, ch := e.begin("tx-origin-retry")
		evil := post(url.Values{"challenge": {ch}, "mode": {"tls"}})
		evil.Header.Set("Origin", "https://evil.example")
		evil.Header.Set("Sec-Fetch-Site", "cross-site")
		modes[1].terminator(evil)
		if _, err := e.adapter.Finish(context.Background(), req, st, evil); !errors.Is(err, elster.ErrCrossSite) {
			t.Fatalf("err = %v, want ErrCrossSite", err)
		}
		if _, err := e.adapter.Finish(context.Background(), req, st, post(h.form(t, ch, elster.AlgRS256))); err != nil {
			t.Fatalf("own page after refusal: %v", err)
		}
	})
	// The challenge is bound to its login in mutual-TLS mode too: the
	// challenge of one login cannot answer another, and an answered
	// challenge cannot answer again.
	t.Run("mutual TLS challenge bound to its login", func(t *testing.T) {
		tls := func(ch string) *http.Request {
			r := post(url.Values{"challenge": {ch}, "mode": {"tls"}})
			modes[1].terminator(r)
			return r
		}
		reqA, stA, chA := e.begin("tx-origin-bind-a")
		_, _, chB := e.begin("tx-origin-bind-b")
		if _, err := e.adapter.Finish(context.Background(), reqA, stA, tls(chB)); !errors.Is(err, elster.ErrChallenge) {
			t.Fatalf("other login's challenge: err = %v, want ErrChallenge", err)
		}
		if _, err := e.adapter.Finish(context.Background(), request("tx-origin-bind-b"), stA, tls(chA)); !errors.Is(err, elster.ErrChallenge) {
			t.Fatalf("state under another login: err = %v, want ErrChallenge", err)
		}
		if _, err := e.adapter.Finish(context.Background(), reqA, stA, tls(chA)); err != nil {
			t.Fatalf("own login: %v", err)
		}
		if _, err := e.adapter.Finish(context.Background(), reqA, stA, tls(chA)); !errors.Is(err, elster.ErrReplay) {
			t.Fatalf("second use: err = %v, want ErrReplay", err)
		}
	})
}
