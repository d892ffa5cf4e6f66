package broker_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// countryAdapter offers countries as options, like the eIDAS connector,
// and (wrongly, on purpose) always claims high: the broker must cap the
// proved level by what the chosen country can reach.
type countryAdapter struct{}

func (countryAdapter) Info() adapters.Info {
	return adapters.Info{Type: "eidas", Name: adapters.Text{DE: "EU-eID", EN: "EU eID"}, MaxLevel: assurance.High,
		Options: []adapters.Option{
			{ID: "AT", Name: adapters.Text{DE: "Österreich", EN: "Austria"}, Level: assurance.High},
			{ID: "SE", Name: adapters.Text{DE: "Schweden", EN: "Sweden"}, Level: assurance.Substantial},
			{ID: "XX", Name: adapters.Text{DE: "Nirgendwo", EN: "Nowhere"}, Level: assurance.High, Unavailable: "metadata expired"},
		}}
}

func (countryAdapter) Begin(_ context.Context, req adapters.Request) (adapters.Handoff, []byte, error) {
	return adapters.Handoff{RedirectURL: req.CallbackURL}, []byte(req.Option), nil
}

func (countryAdapter) Finish(_ context.Context, req adapters.Request, state []byte, _ *http.Request) (adapters.Identity, error) {
	return adapters.Identity{Subject: req.Option + "/DE/1", Level: assurance.High, AuthTime: time.Now()}, nil
}

func TestCountryOptionsFilteredAndCapped(t *testing.T) {
	e := newEnv(t, func(c *broker.Config) {
		c.Adapters = []broker.AdapterEntry{{ID: "eu", Adapter: countryAdapter{}}}
	})
	r := e.rp("other", "other-secret", rp2Redirect)

	_, p := r.authorize(oauth2.SetAuthURLParam("acr_values", assurance.URIHigh))
	if !strings.Contains(p.body, `value="AT"`) || strings.Contains(p.body, `value="SE"`) {
		t.Fatalf("high floor: want AT offered and SE hidden:\n%s", p.body)
	}
	if !strings.Contains(p.body, `value="XX" disabled`) {
		t.Fatalf("an unavailable country is shown disabled:\n%s", p.body)
	}
	m := txPath.FindStringSubmatch(p.body)
	for _, forged := range []string{"SE", "XX", ""} {
		if got := r.post("/login/"+m[1]+"/start", url.Values{"method": {"eu"}, "option": {forged}}); got.status != http.StatusBadRequest {
			t.Fatalf("forged option %q for a high floor: %d", forged, got.status)
		}
	}

	// A substantial floor offers SE; the proved level is capped to SE's.
	r.browser = e.newBrowser()
	f, p := r.authorize(oauth2.SetAuthURLParam("acr_values", assurance.URISubstantial))
	m = txPath.FindStringSubmatch(p.body)
	q := r.callbackParams(r.post("/login/"+m[1]+"/start", url.Values{"method": {"eu"}, "option": {"SE"}}), f)
	tk, err := r.exchange(f, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if tk.claims["acr"] != assurance.URISubstantial {
		t.Fatalf("acr = %v, want SE's substantial (the adapter claimed high)", tk.claims["acr"])
	}
}
