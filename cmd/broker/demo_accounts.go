package main

import (
	"crypto/rand"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/oidcup/oidcsim"
	"github.com/ozg-broker/eidas-broker/broker"
)

// Adapter IDs of the account upstreams in the demo.
const (
	demoLandID = "landeskonto"
)

// wireAccountUpstreams adds the interoperable-account upstreams to the demo:
// a Land's Servicekonto over OIDC (simulated OP under /sim/landeskonto).
func wireAccountUpstreams(issuer string, deps func(string) adapters.Deps, sims chi.Router) ([]broker.AdapterEntry, error) {
	var entries []broker.AdapterEntry
	land, err := oidcsim.New(oidcsim.Options{
		Issuer: issuer + "/sim/landeskonto", ClientID: "broker-demo", ClientSecret: rand.Text(),
		RedirectURIs: []string{issuer + "/login/" + demoLandID + "/callback"},
	})
	if err != nil {
		return nil, fmt.Errorf("Landeskonto simulator: %w", err)
	}
	sims.Mount("/landeskonto", http.StripPrefix("/sim/landeskonto", land.Handler()))
	ad, err := land.AdapterConfig().Open(demoLandID, deps(demoLandID))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", demoLandID, err)
	}
	entries = append(entries, broker.AdapterEntry{ID: demoLandID, Adapter: ad})
	return entries, nil
}
