package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/bundid"
	"github.com/ozg-broker/eidas-broker/adapters/bundid/bundidsim"
	"github.com/ozg-broker/eidas-broker/adapters/oidcup/oidcsim"
	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/cmd/broker/demoportal"
)

// Adapter IDs of the account upstreams in the demo.
const (
	demoLandID   = "landeskonto"
	demoBundIDID = "bundid"
)

// demoOnlineServiceIDs are the demo services' OnlineServiceIds (made-up
// values in the shape of BMI-IDs) sent to the BundID simulator.
var demoOnlineServiceIDs = map[string]string{
	"library": "99000000000001", "residence": "99123456760000", "certificate": "99000000000003",
}

// wireAccountUpstreams adds the interoperable-account upstreams to the demo:
// BundID (SAML, simulated IdP under /sim/bundid) and a Land's Servicekonto
// over OIDC (simulated OP under /sim/landeskonto). The returned closer
// stops the BundID adapter's metadata refresh.
func wireAccountUpstreams(issuer string, deps func(string) adapters.Deps, sims chi.Router) ([]broker.AdapterEntry, func(), error) {
	var entries []broker.AdapterEntry
	bund, closeBund, err := wireBundID(issuer, deps, sims)
	if err != nil {
		return nil, nil, err
	}
	entries = append(entries, bund)
	land, err := oidcsim.New(oidcsim.Options{
		Issuer: issuer + "/sim/landeskonto", ClientID: "broker-demo", ClientSecret: rand.Text(),
		RedirectURIs: []string{issuer + "/login/" + demoLandID + "/callback"},
	})
	if err != nil {
		closeBund()
		return nil, nil, fmt.Errorf("Landeskonto simulator: %w", err)
	}
	sims.Mount("/landeskonto", http.StripPrefix("/sim/landeskonto", land.Handler()))
	ad, err := land.AdapterConfig().Open(demoLandID, deps(demoLandID))
	if err != nil {
		closeBund()
		return nil, nil, fmt.Errorf("%s: %w", demoLandID, err)
	}
	entries = append(entries, broker.AdapterEntry{ID: demoLandID, Adapter: ad})
	return entries, closeBund, nil
}

// wireBundID runs the BundID simulator against a bundid adapter with the
// demo portal's per-service display information.
func wireBundID(issuer string, deps func(string) adapters.Deps, sims chi.Router) (broker.AdapterEntry, func(), error) {
	var ad *bundid.Adapter
	sim, err := bundidsim.New(bundidsim.Options{BaseURL: issuer + "/sim/bundid",
		// The simulator reads our SP metadata as BundID does at onboarding.
		SPMetadata: func(context.Context) ([]byte, error) { return ad.SPMetadata() }})
	if err != nil {
		return broker.AdapterEntry{}, nil, fmt.Errorf("BundID simulator: %w", err)
	}
	cfg := bundid.NewConfig()
	cfg.Name = bundid.Names{DE: "BundID (Simulator)", EN: "BundID (simulator)"}
	if cfg.Material, err = sim.Material(); err != nil {
		return broker.AdapterEntry{}, nil, err
	}
	cfg.Display.Default = bundid.DisplayEntry{OrganizationDisplayName: "Demo-Portal Musterstadt"}
	for _, s := range demoportal.Services() {
		cfg.Display.PerService = append(cfg.Display.PerService,
			bundid.DisplayEntry{Client: demoClientID, Service: s.ID, OnlineServiceID: demoOnlineServiceIDs[s.ID]})
	}
	ad, err = cfg.Open(demoBundIDID, deps(demoBundIDID))
	if err != nil {
		return broker.AdapterEntry{}, nil, fmt.Errorf("%s: %w", demoBundIDID, err)
	}
	sims.Mount("/bundid", http.StripPrefix("/sim/bundid", sim.Handler()))
	return broker.AdapterEntry{ID: demoBundIDID, Adapter: ad, Mount: bundid.MountPath(demoBundIDID)},
		func() { _ = ad.Close() }, nil
}
