// Package elstersim is a simulated ELSTER certification authority for the
// demo and the tests: it loads the test PKI in testdata/elster (root and
// issuing CA with their keys, a delegated OCSP responder, a foreign CA, and
// PKCS#12 certificate files with known PINs) and publishes its revocation
// state over the real wire protocols, as DER CRLs signed by the CA and OCSP
// responses (RFC 6960) signed by the CA or its delegated responder.
//
// It exists so that a person can try the ELSTER login of `broker demo`
// without a real ELSTER certificate, and so that the adapter's tests run
// against real signed revocation data. It is never part of a production
// configuration: nothing here is, or imitates the keys of, the real ELSTER CA.
//
// Wiring in the demo (base is where the handler is mounted):
//
//	sim, err := elstersim.LoadDir("testdata/elster")
//	mux.Handle("/sim/elster/", http.StripPrefix("/sim/elster", sim.Handler()))
//	cfg := sim.AdapterConfig(baseURL + "/sim/elster")
//	adapter, err := cfg.Open("elster", deps)
package elstersim
