package bundid_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/bundid"
	"github.com/ozg-broker/eidas-broker/adapters/bundid/bundidsim"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

// TestGenericProfile: a Land's Servicekonto with its own level URIs and
// attribute names, mapped by the YAML tables; no AKDB extension; the
// persistent NameID is the subject.
func TestGenericProfile(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var ad *bundid.Adapter
	sim, err := bundidsim.New(bundidsim.Options{BaseURL: srv.URL + "/sim/land", Generic: true,
		SPMetadata: func(context.Context) ([]byte, error) { return ad.SPMetadata() }})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/sim/land/", http.StripPrefix("/sim/land", sim.Handler()))
	cfg := bundid.NewServicekontoConfig()
	if cfg.Material, err = sim.Material(); err != nil {
		t.Fatal(err)
	}
	cfg.Levels = []bundid.LevelEntry{
		{Value: bundidsim.LandLevels[bundid.STORK2], Level: assurance.Low},
		{Value: bundidsim.LandLevels[bundid.STORK3], Level: assurance.Substantial},
		{Value: bundidsim.LandLevels[bundid.STORK4], Level: assurance.High},
	}
	cfg.Attributes = []bundid.AttributeEntry{
		{Name: bundid.AttrGivenName, Claim: "given_name", Required: true},
		{Name: bundid.AttrSurname, Claim: "family_name", Required: true},
		{Name: bundid.AttrLocality, Claim: "address.locality"},
	}
	ad, err = cfg.Open("land", adapters.Deps{BaseURL: srv.URL, Store: memory.New(), HTTP: srv.Client(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer ad.Close()
	mux.Handle("/saml/land/", http.StripPrefix("/saml/land", ad.Routes()))
	if ad.Info().Type != bundid.TypeServicekonto || ad.Info().MaxLevel != assurance.High {
		t.Fatalf("info %+v", ad.Info())
	}
	h := &harness{t: t, srv: srv, sim: sim, ad: ad, browser: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	for _, c := range []struct {
		key  string
		want assurance.Level
		err  error
	}{{"4", assurance.High, nil}, {"3", assurance.Substantial, nil}, {"2", assurance.Low, nil}, {"1", 0, bundid.ErrLevel}} {
		req := request(assurance.Low, "address")
		a, state := h.runAt(req, c.key, "/sim/land/answer")
		id, err := h.finish(req, state, a)
		if !errors.Is(err, c.err) {
			t.Fatalf("STORK %s: err = %v", c.key, err)
		}
		if err != nil {
			continue
		}
		if id.Level != c.want || id.Subject != sim.BPK2("erika", ad.EntityID()) || id.Claims.GivenName != "Erika" ||
			id.Claims.Address == nil || id.Claims.Address.Locality != "Köln" || id.Claims.Birthdate != "" {
			t.Fatalf("STORK %s: %+v", c.key, id)
		}
		if r := sim.LastRequest(); r.HasAKDB || r.Level != bundidsim.LandLevels[bundid.STORK2] {
			t.Fatalf("request %+v", r)
		}
	}
}
