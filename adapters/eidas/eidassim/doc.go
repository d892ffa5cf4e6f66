// Package eidassim simulates eIDAS proxy-services of other member states
// for the demo and the tests. It speaks the real protocol: it publishes
// signed metadata per country, receives the connector's signed
// AuthnRequests by HTTP-POST and HTTP-Redirect, verifies them against the
// connector's metadata, lets a person pick an invented test citizen (or
// cancel) and answers with a signed Response holding one assertion
// encrypted with AES-256-GCM to the connector's encryption certificate
// (RSA-OAEP or ECDH-ES, by its key type), auto-POSTed to the connector's
// assertion consumer service.
//
// It is never part of a production configuration: its trust anchor is
// generated at start (or taken from test fixtures) and imitates no real
// member state's keys. Several countries share one handler, each under
// its own path with its own entity ID and keys.
//
// Wiring in the demo (issuer is the broker's external base URL; the
// simulator fetches the connector's metadata from the broker itself):
//
//	eidasSim, err := eidassim.New(eidassim.Options{BaseURL: issuer + "/sim/eidas",
//		ConnectorMetadataURL: issuer + "/saml/connector/metadata"})
//	eidasKeys, err := eidassim.GenerateMaterial(false) // connector keys, EC P-256
//	eidasAdapter, err := eidasSim.AdapterConfig(eidasKeys).Open("eidas", deps("eidas"))
//	closers = append(closers, func() { _ = eidasAdapter.Close() })
//	sims.Mount("/eidas", http.StripPrefix("/sim/eidas", eidasSim.Handler()))
//	entries = append(entries, broker.AdapterEntry{ID: "eidas", Adapter: eidasAdapter, Mount: eidas.ConnectorPath})
package eidassim
