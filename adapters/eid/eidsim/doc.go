// Package eidsim simulates the two parties the German eID flow needs besides
// the broker: an eID-Server (BSI TR-03130 eID-Interface) and an eID-Client
// (the AusweisApp's role, TR-03124-1). It exists so that the demo and the
// tests run the real wire protocol end to end (SOAP over mutual TLS with
// WS-Security signatures both ways, the TC Token fetched without cookies,
// the refresh redirect with ResultMajor, getResult with RequestCounter)
// without a card, a card reader or an authorisation certificate.
//
// It is never part of a production configuration: only `broker demo` and
// tests wire it.
//
// What is real and what is simulated:
//   - Server speaks the eID-Interface exactly as the adapter expects from a
//     real eID-Server: it verifies the request signature against the
//     trusted eService certificates (unsigned or unknown: no answer; invalid:
//     common#internalError), optionally demands a TLS client certificate,
//     signs every response, and keeps sessions with the real result codes
//     (invalidPSK, tooManyOpenSessions, missingArgument,
//     missingTerminalRights, noResultYet, invalidSession, invalidCounter,
//     deniedDocument, invalidDocument, cancellationByUser).
//   - The card protocol (PAOS, PACE, EAC, passive authentication) is replaced
//     by Server.Connect, Complete and Cancel, which take the TC Token's
//     ServerAddress, SessionIdentifier and PSK just as the TLS-PSK channel
//     would. The chosen test Card supplies the data groups; its restricted
//     identification is derived from a card secret and the eService's
//     certificate, so it is stable per card and differs per eService.
//   - ClientSim is an http.Handler: GET ?tcTokenURL=… fetches the TC Token
//     server-side, shows the requested data (optional items can be
//     unticked) and the test cards; the form completes the session and
//     redirects to the RefreshAddress with ResultMajor=ok, or
//     ResultMajor=error&ResultMinor=cancellationByUser|serverError|
//     communicationError. Authenticate does the same without a page
//     (automatic mode, for tests).
//
// Wiring for the demo and the broker's own tests:
//
//	d, err := eidsim.StartDemo(eidsim.DemoOptions{}) // server sim on https://127.0.0.1:<port>, mutual TLS
//	if err != nil { … }
//	defer d.Close()
//	mux.Handle("/sim/eid-client/", d.Client)             // the eID-Client URL points here
//	cfg := d.AdapterConfig(baseURL + "/sim/eid-client/") // *eid.Config preset, keys in memory
//	a, err := cfg.Open("eid", adapters.Deps{Store: st, BaseURL: baseURL})
//	mux.Handle("/eid/", http.StripPrefix("/eid", a.Routes()))
//
// In a test, d.Client.Authenticate(ctx, tcTokenURL, "erika") plays the
// person and returns the refresh URL to call.
//
// Test cards (TestCards): "erika" (Erika Mustermann, ID card, the BSI test
// data), "partial-date" (year of birth only, no birth name on the chip),
// "residence-permit" (Turkish national, document AR), "cancel" (the person
// cancels), "blocked" (block list: invalidDocument) and "smart-eid"
// (hardware key store, level normal: deniedDocument when high is asked).
//
// Fixtures: NewPKI generates the key material, WritePEM/LoadPKI store it;
// testdata/eid/gen uses them to write the project's test keys.
package eidsim
