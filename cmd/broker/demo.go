package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/demo"
	"github.com/ozg-broker/eidas-broker/adapters/eid/eidsim"
	"github.com/ozg-broker/eidas-broker/adapters/eidas"
	"github.com/ozg-broker/eidas-broker/adapters/eidas/eidassim"
	"github.com/ozg-broker/eidas-broker/adapters/elster/elstersim"
	"github.com/ozg-broker/eidas-broker/adapters/nezo"
	"github.com/ozg-broker/eidas-broker/adapters/nezo/nezosim"
	"github.com/ozg-broker/eidas-broker/adapters/wallet"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/walletsim"
	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/eidasservice/democonnector"
	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/cmd/broker/demoportal"
	"github.com/ozg-broker/eidas-broker/config"
)

// demoClientID is the demo portal's client ID (fixed, so people can point
// their own relying party at the demo as well).
const demoClientID = "demo-portal"

func cmdDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (the issuer is http://ADDR)")
	testdata := fs.String("testdata", "testdata", "folder with the simulators' test PKI (the repository's testdata/)")
	adminAddr := fs.String("admin-addr", "127.0.0.1:0", "loopback address of the admin listener (metrics, profiling); port 0 picks a free one")
	if !parseFlags(fs, args, stderr) {
		return 2
	}
	if host, _, err := net.SplitHostPort(*adminAddr); err != nil || !config.IsLoopbackHost(host) {
		fmt.Fprintf(stderr, "demo: --admin-addr %q: want a loopback host:port such as 127.0.0.1:9090\n", *adminAddr)
		return 2
	}
	log := newLogger(stderr, "info")
	d, err := newDemo("http://"+*addr, *testdata, log)
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return 1
	}
	defer d.close()
	banner := func(addrs []string) {
		fmt.Fprintf(stdout, "\n  eIDAS identity broker – DEMO MODE (simulators, generated keys, memory store)\n"+
			"  Open the demo portal: http://%s/demo/\n"+
			"  Demo client: id %q, secret %q, redirect http://%s/demo/callback\n"+
			"  Admin listener (loopback only): http://%s/metrics, http://%s/debug/pprof/\n\n",
			*addr, demoClientID, d.secret, *addr, addrs[1], addrs[1])
	}
	if err := serveUntilSignal(log, banner, listener{name: "public", addr: *addr, h: d.handler}, listener{name: "admin", addr: *adminAddr, h: d.admin}); err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return 1
	}
	return 0
}

// demoSetup is a running demo's parts.
type demoSetup struct {
	handler http.Handler
	admin   http.Handler // metrics and profiling, for the loopback admin listener
	secret  string
	close   func()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return b
}

// newDemo wires the whole demo in one process for the given issuer: a
// memory store, keys generated now, the demo portal and the simulators.
// Simulators whose test PKI is not under testdata are left out with a
// warning, so the demo still starts from a bare binary.
func newDemo(issuer, testdata string, log *slog.Logger) (*demoSetup, error) {
	return newDemoWith(issuer, testdata, log, demoOptions{})
}

// demoOptions vary the demo for the load tool.
type demoOptions struct {
	// eidasRSA gives the eIDAS connector RSA-3072 keys (RSASSA-PSS,
	// RSA-OAEP) instead of P-256 (ECDSA, ECDH-ES).
	eidasRSA bool
	// branding is the operator's look, for the eIDAS-Service's pages
	// (the broker's own get it from broker.Config).
	branding broker.Branding
	// clientSecret is the demo portal's client secret; empty: a random
	// one (the demo, a single process).
	clientSecret string
}

func newDemoWith(issuer, testdata string, log *slog.Logger, opts demoOptions) (*demoSetup, error) {
	st := newMemoryStore(config.DefaultMemoryMaxMB<<20, log)
	keys, err := broker.GenerateSigningKeys()
	if err != nil {
		return nil, err
	}
	// The demo operator's legal links point at the demo portal's
	// placeholder pages, so every page shows the footer a real operator
	// configures under branding.links.
	branding := broker.Branding{OperatorName: "Demo-Anmeldedienst (kein echter Dienst)", Links: demoportal.LegalLinks(issuer)}
	opts.branding = branding
	up, err := wireSimulatorsWith(issuer, testdata, st, log, opts)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	closeAll := func() { up.close(); _ = st.Close() }
	b, err := broker.New(broker.Config{
		Issuer: issuer, Store: st, Keys: keys,
		SubjectSecret: randomBytes(32), DataKey: randomBytes(32),
		InsecureCookies: true, Logger: log,
		Branding: branding,
		Clients:  []broker.Client{up.client},
		Adapters: up.entries,
		Routes:   up.routes,
	})
	if err != nil {
		closeAll()
		return nil, err
	}
	return &demoSetup{handler: b.Handler(), admin: b.AdminHandler(), secret: up.secret, close: closeAll}, nil
}

// simulators are the test upstreams of demo and staging: the adapters
// wired to their simulators, the demo portal as a client, and the routes
// of the simulators, the demo portal and the eIDAS-Service demo.
type simulators struct {
	entries []broker.AdapterEntry
	client  broker.Client // the demo portal
	secret  string        // its client secret
	routes  func(chi.Router)
	close   func()
}

// wireSimulators starts every simulator for issuer on store st.
func wireSimulators(issuer, testdata string, st store.Store, log *slog.Logger) (*simulators, error) {
	return wireSimulatorsWith(issuer, testdata, st, log, demoOptions{})
}

func wireSimulatorsWith(issuer, testdata string, st store.Store, log *slog.Logger, opts demoOptions) (*simulators, error) {
	secret := opts.clientSecret
	if secret == "" {
		secret = base64.RawURLEncoding.EncodeToString(randomBytes(24))
	}
	portal := demoportal.New(issuer, demoClientID, secret, log)
	var services []broker.Service
	for _, s := range demoportal.Services() {
		l, err := assurance.ParseName(s.Level)
		if err != nil {
			return nil, err
		}
		services = append(services, broker.Service{ID: s.ID, Name: s.Name, MinLevel: l})
	}
	sims := chi.NewRouter()
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	ok := false
	defer func() {
		if !ok {
			closeAll() // a half-built demo leaves no listener behind
		}
	}()
	var entries []broker.AdapterEntry
	deps := func(id string) adapters.Deps {
		return adapters.Deps{BaseURL: issuer, Store: broker.AdapterStore(st, id), Logger: log.With("adapter", id),
			HTTP: &http.Client{Timeout: 10 * time.Second}, Now: time.Now}
	}
	eidDemo, err := eidsim.StartDemo(eidsim.DemoOptions{ClientBasePath: "/sim/eid-client/"})
	if err != nil {
		return nil, fmt.Errorf("eID simulator: %w", err)
	}
	closers = append(closers, func() { _ = eidDemo.Close() })
	sims.Mount("/eid-client", eidDemo.Client)
	eidAdapter, err := eidDemo.AdapterConfig(issuer+"/sim/eid-client/").Open("eid", deps("eid"))
	if err != nil {
		return nil, fmt.Errorf("eid: %w", err)
	}
	entries = append(entries, broker.AdapterEntry{ID: "eid", Adapter: eidAdapter, Mount: "/eid"})
	// The eIDAS-Service answers foreign connectors with the same eID
	// adapter instance (adapters are stateless); the demo connector page
	// plays a foreign member state's node.
	layout, err := eidasServiceLayout(opts.branding)
	if err != nil {
		return nil, err
	}
	eidasDemo, err := democonnector.Wire(democonnector.WireOptions{
		Issuer: issuer, Adapter: eidAdapter, AdapterID: "eid",
		Store: broker.AdapterStore(st, "eidas-service"), Logger: log, Layout: layout,
	})
	if err != nil {
		return nil, fmt.Errorf("eIDAS service: %w", err)
	}
	portal.AddLink("/demo/connector/", "eIDAS: ausländischer Dienst, Anmeldung mit deutschem Online-Ausweis / foreign service, login with the German eID")
	eidasSim, err := eidassim.New(eidassim.Options{BaseURL: issuer + "/sim/eidas", ConnectorMetadataURL: issuer + eidas.ConnectorPath + "/metadata"})
	if err != nil {
		return nil, fmt.Errorf("eIDAS simulator: %w", err)
	}
	// The connector's own keys: P-256 unless the load tool asks for RSA.
	// (The simulated nodes sign with their own keys: Austria RSA-3072,
	// the others P-256.)
	eidasKeys, err := eidassim.GenerateMaterial(opts.eidasRSA)
	if err != nil {
		return nil, fmt.Errorf("eIDAS keys: %w", err)
	}
	eidasAdapter, err := eidasSim.AdapterConfig(eidasKeys).Open("eidas", deps("eidas"))
	if err != nil {
		return nil, fmt.Errorf("eidas: %w", err)
	}
	closers = append(closers, func() { _ = eidasAdapter.Close() })
	sims.Mount("/eidas", http.StripPrefix("/sim/eidas", eidasSim.Handler()))
	entries = append(entries, broker.AdapterEntry{ID: "eidas", Adapter: eidasAdapter, Mount: eidas.ConnectorPath})
	if esim, err := elstersim.LoadDir(filepath.Join(testdata, "elster")); err != nil {
		log.Warn("demo: ELSTER simulator not available (run from the repository root or pass --testdata)", "err", err)
	} else {
		sims.Mount("/elster", http.StripPrefix("/sim/elster", esim.Handler()))
		ad, err := esim.AdapterConfig(issuer+"/sim/elster").Open("elster", deps("elster"))
		if err != nil {
			return nil, fmt.Errorf("elster: %w", err)
		}
		entries = append(entries, broker.AdapterEntry{ID: "elster", Adapter: ad})
		portal.AddLink("/sim/elster/", "ELSTER-Testzertifikate (.pfx mit PIN) / ELSTER test certificates")
	}
	// ELSTER as portals reach it in the field: the NEZO SAML login, next to
	// the certificate method above.
	nezoAdapter, nezoSim, err := wireNEZO(issuer, deps(demoNEZOID), log)
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() { _ = nezoAdapter.Close() })
	sims.Mount("/nezo", http.StripPrefix("/sim/nezo", nezoSim.Handler()))
	entries = append(entries, broker.AdapterEntry{ID: demoNEZOID, Adapter: nezoAdapter, Mount: nezo.MountPath(demoNEZOID)})
	if err := addWalletDemo(issuer, sims, portal, deps, &entries); err != nil {
		return nil, err
	}
	accounts, closeAccounts, err := wireAccountUpstreams(issuer, deps, sims)
	if err != nil {
		return nil, err
	}
	closers = append(closers, closeAccounts)
	entries = append(entries, accounts...)
	// The demo identities come last: the real methods (with simulators)
	// are what the demo is there to show.
	entries = append(entries, broker.AdapterEntry{ID: "demo", Adapter: demo.New(nil)})
	client := broker.Client{
		ID: demoClientID, Name: "Demo-Portal", RedirectURIs: []string{issuer + "/demo/callback"},
		PostLogoutRedirectURIs: []string{issuer + "/demo/"},
		AuthMethod:             "client_secret_basic", Secret: secret, MinLevel: assurance.Low,
		AllowedClaims: []string{"given_name", "family_name", "birth_family_name", "birth_name", "birthdate", "place_of_birth",
			"nationalities", "title", "address", "legal_entity", "document_type", "issuing_state"},
		Services: services,
	}
	routes := func(r chi.Router) {
		portal.Routes(r)
		r.Mount("/sim", sims)
		r.Mount(eidasservice.PathPrefix, http.StripPrefix(eidasservice.PathPrefix, eidasDemo.Service.Routes()))
		r.Mount("/demo/connector", http.StripPrefix("/demo/connector", eidasDemo.Connector.Handler()))
	}
	ok = true
	return &simulators{entries: entries, client: client, secret: secret, routes: routes, close: closeAll}, nil
}

// addWalletDemo wires the EUDI wallet simulator (PID provider and holder
// wallet, /sim/wallet/) and the eudi-wallet adapter trusting it.
func addWalletDemo(issuer string, sims chi.Router, portal *demoportal.Portal, deps func(string) adapters.Deps, entries *[]broker.AdapterEntry) error {
	wsim, err := walletsim.New(walletsim.Options{BaseURL: issuer + "/sim/wallet"})
	if err != nil {
		return fmt.Errorf("wallet simulator: %w", err)
	}
	sims.Mount("/wallet", http.StripPrefix("/sim/wallet", wsim.Handler()))
	wcfg := wsim.AdapterConfig()
	// The broker asks the wallet on behalf of the demo portal (ARF
	// intermediary): the wallet shows the portal and its intended use.
	wcfg.RelyingParty.Clients = map[string]wallet.IntermediatedRP{demoClientID: {
		Name: "Demo-Portal", Purpose: "Identifizierung für Verwaltungsleistungen / identification for administrative services",
	}}
	ad, err := wcfg.Open("eudi-wallet", deps("eudi-wallet"))
	if err != nil {
		return fmt.Errorf("eudi-wallet: %w", err)
	}
	*entries = append(*entries, broker.AdapterEntry{ID: "eudi-wallet", Adapter: ad})
	portal.AddLink("/sim/wallet/", "EUDI-Wallet-Simulator: Test-PIDs / EUDI wallet simulator: test PIDs")
	return nil
}

// demoNEZOID is the demo's NEZO adapter ID (its SAML paths are
// /saml/elster-nezo/metadata and /acs).
const demoNEZOID = "elster-nezo"

// wireNEZO starts the NEZO simulator and opens the adapter against it. The
// simulator reads the adapter's SP metadata as ELSTER receives it on
// onboarding; test accounts stay refused, as in production, so the demo
// shows the refusal.
func wireNEZO(issuer string, deps adapters.Deps, log *slog.Logger) (*nezo.Adapter, *nezosim.Sim, error) {
	mat, err := nezosim.GenerateMaterial(false)
	if err != nil {
		return nil, nil, fmt.Errorf("NEZO keys: %w", err)
	}
	var ad atomic.Pointer[nezo.Adapter]
	sim, err := nezosim.New(nezosim.Options{
		BaseURL: issuer + "/sim/nezo", Logger: log.With("sim", "nezo"),
		SPMetadata: func(context.Context) ([]byte, error) {
			a := ad.Load()
			if a == nil {
				return nil, errors.New("adapter not open yet")
			}
			return a.Metadata()
		},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("NEZO simulator: %w", err)
	}
	a, err := sim.AdapterConfig(mat).Open(demoNEZOID, deps)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", demoNEZOID, err)
	}
	ad.Store(a)
	return a, sim, nil
}
