package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/redis/go-redis/v9"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/eid"
	"github.com/ozg-broker/eidas-broker/adapters/eidas"
	"github.com/ozg-broker/eidas-broker/adapters/elster"
	"github.com/ozg-broker/eidas-broker/adapters/nezo"
	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	redisstore "github.com/ozg-broker/eidas-broker/broker/store/redis"
	"github.com/ozg-broker/eidas-broker/config"
)

// adapterType is one production adapter type: how its config block is
// decoded and how it is opened. Demo identities and simulators are
// deliberately absent from productionAdapters, so no production config can
// enable them.
type adapterType struct {
	spec func() config.AdapterSpec
	open func(spec config.AdapterSpec, id string, deps adapters.Deps) (adapters.Adapter, error)
	// mount is the adapter's extra route prefix (its mandated paths);
	// "{id}" in it stands for the adapter's ID.
	mount string
}

func productionAdapters() map[string]adapterType {
	return map[string]adapterType{
		"eid": {
			spec: func() config.AdapterSpec { return eid.NewConfig() },
			open: func(spec config.AdapterSpec, id string, deps adapters.Deps) (adapters.Adapter, error) {
				return spec.(*eid.Config).Open(id, deps)
			},
			mount: "/eid", // TC Token endpoint, fetched by the eID-Client without cookies
		},
		"eidas": {
			spec: func() config.AdapterSpec { return eidas.NewConfig() },
			open: func(spec config.AdapterSpec, id string, deps adapters.Deps) (adapters.Adapter, error) {
				return spec.(*eidas.Config).Open(id, deps)
			},
			mount: eidas.ConnectorPath, // connector metadata and the fixed ACS
		},
		nezo.Type: {
			spec: func() config.AdapterSpec { return nezo.NewConfig() },
			open: func(spec config.AdapterSpec, id string, deps adapters.Deps) (adapters.Adapter, error) {
				return spec.(*nezo.Config).Open(id, deps)
			},
			// SP metadata and the fixed ACS at /saml/<id>/; the mount is
			// per adapter ID (mountFor).
			mount: nezo.PathPrefix + "/{id}",
		},
		elster.Type: {
			spec: func() config.AdapterSpec { return elster.NewConfig() },
			open: func(spec config.AdapterSpec, id string, deps adapters.Deps) (adapters.Adapter, error) {
				return spec.(*elster.Config).Open(id, deps)
			},
		},
	}
}

func serveRegistry() config.Registry {
	reg := config.Registry{}
	for name, t := range productionAdapters() {
		reg[name] = t.spec
	}
	return reg
}

func checkConfig(path string, stdout io.Writer) int {
	return config.Check(path, serveRegistry(), stdout)
}

func cmdServe(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	path := fs.String("config", "broker.yaml", "config file")
	if !parseFlags(fs, args, stderr) {
		return 2
	}
	cfg, err := config.Load(*path, serveRegistry())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	log := newLogger(stderr, cfg.Log)
	st, err := openStore(cfg.Store)
	if err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return 1
	}
	defer st.Close()
	b, err := buildBroker(cfg, st, log)
	if err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return 1
	}
	var current atomic.Pointer[broker.Server]
	current.Store(b)
	defer func() { _ = current.Load().Close() }()
	stopReload := reloadOnSIGHUP(func() {
		next, err := config.Load(*path, serveRegistry())
		if err != nil {
			log.Error("reload refused: config invalid; keeping the running config", "err", err)
			return
		}
		if !reflect.DeepEqual(next.Store, cfg.Store) || next.Listen != cfg.Listen {
			log.Error("reload refused: store and listen address can only change with a restart")
			return
		}
		nb, err := buildBroker(next, st, log)
		if err != nil {
			log.Error("reload refused", "err", err)
			return
		}
		old := current.Swap(nb)
		// Requests already inside the old instance finish first; logins in
		// flight continue on the new one (their state is in the store).
		time.AfterFunc(time.Minute, func() { _ = old.Close() })
		log.Info("config reloaded")
	})
	defer stopReload()
	log.Info("broker listening", "addr", cfg.Listen, "issuer", cfg.Issuer)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.Load().Handler().ServeHTTP(w, r) })
	if err := listenAndServe(cfg.Listen, h, log); err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return 1
	}
	return 0
}

// reloadOnSIGHUP calls reload for every SIGHUP until the returned stop runs.
func reloadOnSIGHUP(reload func()) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				reload()
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

func buildBroker(cfg *config.Config, st store.Store, log *slog.Logger) (*broker.Server, error) {
	bcfg, err := runtimeConfig(cfg, st)
	if err != nil {
		return nil, err
	}
	bcfg.Logger = log
	return broker.New(bcfg)
}

// runtimeConfig turns the validated file into live dependencies.
func runtimeConfig(cfg *config.Config, st store.Store) (broker.Config, error) {
	var out broker.Config
	var err error
	fail := func(err error) (broker.Config, error) { return out, err }

	out.Issuer, out.Store = cfg.Issuer, st
	out.InsecureCookies = cfg.SecureCookies != nil && !*cfg.SecureCookies
	if len(cfg.Keys.Signing) == 0 {
		if cfg.Store.Type != "memory" {
			return fail(errors.New("keys.signing: required with a shared store (every replica must sign with the same keys)"))
		}
		if out.Keys, err = broker.GenerateSigningKeys(); err != nil {
			return fail(err)
		}
	}
	for _, k := range cfg.Keys.Signing {
		signer, err := k.Load()
		if err != nil {
			return fail(err)
		}
		alg := k.Alg
		if alg == "" {
			alg = config.AlgES256
		}
		out.Keys = append(out.Keys, broker.SigningKey{ID: k.ID, Alg: jose.SignatureAlgorithm(alg), Signer: signer, Active: k.Active})
	}
	if cfg.Keys.SubjectSecret.IsSet() {
		out.SubjectSecret = []byte(cfg.Keys.SubjectSecret.Value())
	} else {
		out.SubjectSecret = randomBytes(32)
	}
	if cfg.Keys.DataKey.IsSet() {
		if out.DataKey, err = cfg.Keys.DataKeyBytes(); err != nil {
			return fail(err)
		}
	} else {
		out.DataKey = randomBytes(32)
	}
	out.Branding = brandingFrom(cfg.Branding)
	out.SessionLifetimes = map[assurance.Level]time.Duration{}
	for _, l := range assurance.NotifiedLevels() {
		out.SessionLifetimes[l] = cfg.Sessions.Lifetime(l)
	}
	for _, c := range cfg.Clients {
		bc := broker.Client{
			ID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
			AuthMethod: oidc.AuthMethod(c.AuthMethod), Secret: c.Secret.Value(), IDTokenAlg: jose.SignatureAlgorithm(c.IDTokenAlg),
			MinLevel: c.MinLevel, Sector: c.Sector, AllowedClaims: c.AllowedClaims, ImplicitConsent: c.Consent == "implicit",
			Logo: c.LogoData, LogoType: c.LogoType,
		}
		for _, s := range c.Services {
			bc.Services = append(bc.Services, broker.Service{ID: s.ID, Name: s.Name, MinLevel: s.MinLevel})
		}
		if c.JWKS != nil {
			bc.Keys = c.JWKS.Keys // parsed and checked (public keys only) by config
		}
		out.Clients = append(out.Clients, bc)
	}
	types := productionAdapters()
	for _, a := range cfg.Adapters {
		t, ok := types[a.Type]
		if !ok {
			return fail(fmt.Errorf("adapter %s: unknown type %q", a.ID, a.Type))
		}
		deps := adapters.Deps{BaseURL: strings.TrimSuffix(cfg.Issuer, "/"), Store: broker.AdapterStore(st, a.ID),
			Logger: slog.Default().With("adapter", a.ID), HTTP: &http.Client{Timeout: 15 * time.Second}, Now: time.Now}
		spec, _ := a.Spec.(config.AdapterSpec)
		ad, err := t.open(spec, a.ID, deps)
		if err != nil {
			return fail(fmt.Errorf("adapter %s: %w", a.ID, err))
		}
		out.Adapters = append(out.Adapters, broker.AdapterEntry{ID: a.ID, Adapter: ad, MaxLevel: a.MaxLevel, Mount: strings.ReplaceAll(t.mount, "{id}", a.ID)})
	}
	if ec := cfg.EIDASService; ec != nil {
		svc, err := openEIDASService(cfg, ec, out, st)
		if err != nil {
			return fail(err)
		}
		out.Routes = func(r chi.Router) {
			r.Mount(eidasservice.PathPrefix, http.StripPrefix(eidasservice.PathPrefix, svc.Routes()))
		}
	}
	return out, nil
}

func openStore(s config.Store) (store.Store, error) {
	switch s.Type {
	case "memory", "":
		return memory.New(), nil
	case "redis":
		r := s.Redis
		opts := &redis.UniversalOptions{Addrs: r.Addrs, MasterName: r.MasterName, Username: r.Username,
			Password: r.Password.Value(), DB: r.DB,
			// Request deadlines bound socket reads and writes, so a hung Redis
			// answers 503 in time instead of holding the login.
			ContextTimeoutEnabled: true}
		if r.TLS {
			opts.TLSConfig = tlsConfig()
		}
		return redisstore.NewFromOptions(opts, r.KeyPrefix)
	}
	return nil, fmt.Errorf("store: unknown type %q", s.Type)
}

// openEIDASService builds the eIDAS-Service (foreign connectors → German
// eID) on the configured eID adapter instance. Its connectors' health is
// not a readiness condition: one foreign connector's metadata outage must
// not take every replica out.
func openEIDASService(cfg *config.Config, ec *config.EIDASService, out broker.Config, st store.Store) (*eidasservice.Service, error) {
	var eidAdapter adapters.Adapter
	for _, e := range out.Adapters {
		if e.ID == ec.Adapter {
			eidAdapter = e.Adapter
		}
	}
	// The service scopes its own lines (component=eidas-service and its
	// adapter); a logger scoped here as well would write every key twice.
	sc, err := eidasservice.ConfigFromFile(ec, cfg.Issuer, eidAdapter, broker.AdapterStore(st, "eidas-service"), out.DataKey, slog.Default())
	if err != nil {
		return nil, err
	}
	svc, err := eidasservice.New(sc)
	if err != nil {
		return nil, fmt.Errorf("eidas_service: %w", err)
	}
	go func() { // warm the connectors' metadata; requests would fetch it anyway
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := svc.Refresh(ctx); err != nil {
			slog.Default().Warn("eidas service: connector metadata", "component", "eidas-service", "err", err)
		}
	}()
	return svc, nil
}

// brandingFrom turns the validated branding section into the broker's.
func brandingFrom(b config.Branding) broker.Branding {
	out := broker.Branding{
		OperatorName: b.OperatorName, Logo: b.LogoData, LogoType: b.LogoType,
		Primary: b.Colors.Primary, OnPrimary: b.Colors.OnPrimary, Text: b.Colors.Text, Background: b.Colors.Background,
	}
	for _, kv := range b.Links.Kinds() {
		if kv[1] != "" {
			out.Links = append(out.Links, broker.BrandLink{Kind: kv[0], URL: kv[1]})
		}
	}
	return out
}
