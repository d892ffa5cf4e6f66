package broker_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"github.com/go-chi/chi/v5"
	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/bundid"
	"github.com/ozg-broker/eidas-broker/adapters/bundid/bundidsim"
	"github.com/ozg-broker/eidas-broker/broker"
)

// bundidEnv is the broker with the BundID adapter against its simulator,
// served by the same test server; the portal client may receive the
// postbox handle, the other client may not.
func bundidEnv(t *testing.T) (*env, *bundidsim.Sim) {
	t.Helper()
	var sim *bundidsim.Sim
	e := newEnv(t, func(c *broker.Config) {
		var ad *bundid.Adapter
		var err error
		sim, err = bundidsim.New(bundidsim.Options{BaseURL: c.Issuer + "/sim/bundid",
			SPMetadata: func(context.Context) ([]byte, error) { return ad.SPMetadata() }})
		if err != nil {
			t.Fatal(err)
		}
		cfg := bundid.NewConfig()
		if cfg.Material, err = sim.Material(); err != nil {
			t.Fatal(err)
		}
		cfg.Display.Default.OrganizationDisplayName = "Test"
		ad, err = cfg.Open("bundid", adapters.Deps{BaseURL: c.Issuer, Store: broker.AdapterStore(c.Store, "bundid")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ad.Close() })
		c.Adapters = append(c.Adapters, broker.AdapterEntry{ID: "bundid", Adapter: ad, Mount: bundid.MountPath("bundid")})
		c.Clients[0].AllowedClaims = append(c.Clients[0].AllowedClaims, bundid.ClaimPostbox)
		c.Routes = func(r chi.Router) { r.Mount("/sim/bundid", http.StripPrefix("/sim/bundid", sim.Handler())) }
	})
	return e, sim
}

// bundidLogin runs a whole login through BundID at STORK 4.
func (r *rp) bundidLogin(extra ...oauth2.AuthCodeOption) *tokens {
	r.e.t.Helper()
	f, methods := r.authorize(extra...)
	m := txPath.FindStringSubmatch(methods.body)
	if m == nil {
		r.e.t.Fatalf("no method form: %s", methods.body)
	}
	handoff := r.post("/login/"+m[1]+"/start", url.Values{"method": {"bundid"}})
	simPage := r.post(handoff.formAction(), url.Values{"SAMLRequest": {handoff.field("SAMLRequest")}, "RelayState": {handoff.field("RelayState")}})
	answer := r.post(r.e.srv.URL+"/sim/bundid/answer", url.Values{"request": {simPage.field("request")}, "person": {"erika"}, "level": {"4"}})
	acs := regexpFormAction(answer.body)
	done := r.consent(r.post(acs, url.Values{"SAMLResponse": {answer.field("SAMLResponse")}, "RelayState": {answer.field("RelayState")}}))
	q := r.callbackParams(done, f)
	if q.Get("error") != "" {
		r.e.t.Fatalf("login failed: %s: %s", q.Get("error"), q.Get("error_description"))
	}
	tk, err := r.exchange(f, q.Get("code"))
	if err != nil {
		r.e.t.Fatalf("exchange: %v", err)
	}
	return tk
}

var anyFormAction = regexp.MustCompile(`<form[^>]* action="([^"]+)"`)

func regexpFormAction(body string) string {
	m := anyFormAction.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// TestBundIDPostboxOnlyWhereAllowed: the postbox handle reaches a portal
// only when its client may receive it and asks for it; otherwise it is not
// even requested from BundID.
func TestBundIDPostboxOnlyWhereAllowed(t *testing.T) {
	e, sim := bundidEnv(t)
	ask := oauth2.SetAuthURLParam("claims", `{"id_token":{"postbox_reference":null}}`)
	cases := []struct {
		name     string
		client   *rp
		opts     []oauth2.AuthCodeOption
		released bool
	}{
		{"allowed and asked", e.rp("portal", "portal-secret", rpRedirect), []oauth2.AuthCodeOption{ask}, true},
		{"allowed, not asked", e.rp("portal", "portal-secret", rpRedirect), nil, false},
		{"asked, not allowed", e.rp("other", "other-secret", rp2Redirect), []oauth2.AuthCodeOption{ask}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk := c.client.bundidLogin(c.opts...)
			got, _ := tk.claims[bundid.ClaimPostbox].(string)
			if c.released != (got == bundidsim.PostboxHandle("erika")) || !c.released && got != "" {
				t.Fatalf("postbox_reference = %q", got)
			}
			if asked := slices.Contains(sim.LastRequest().Attributes, bundid.AttrPostboxHandle); asked != c.released {
				t.Fatalf("postbox handle requested from BundID: %v", asked)
			}
			if tk.claims["acr"] != "http://eidas.europa.eu/LoA/high" {
				t.Fatalf("acr = %v", tk.claims["acr"])
			}
		})
	}
}

// TestBundIDStablePairwiseSubject: bPK2 gives the same sub on every login
// for one portal, and different subs for portals of different sectors.
func TestBundIDStablePairwiseSubject(t *testing.T) {
	e, _ := bundidEnv(t)
	portal := e.rp("portal", "portal-secret", rpRedirect)
	a := portal.bundidLogin().idToken.Subject
	b := e.rp("portal", "portal-secret", rpRedirect).bundidLogin().idToken.Subject
	other := e.rp("other", "other-secret", rp2Redirect).bundidLogin().idToken.Subject
	if a == "" || a != b {
		t.Fatalf("sub changed between logins: %q %q", a, b)
	}
	if other == a {
		t.Fatal("two sectors share a sub")
	}
}
