package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/redis/go-redis/v9"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	redisstore "github.com/ozg-broker/eidas-broker/broker/store/redis"
	"github.com/ozg-broker/eidas-broker/config"
)

// openable is what every production adapter's config block implements.
type openable interface {
	config.AdapterSpec
	Open(id string, deps adapters.Deps) (adapters.Adapter, error)
}

// serveRegistry lists the adapter types a production config may name.
// Demo identities and simulators are deliberately absent.
func serveRegistry() config.Registry {
	return config.Registry{}
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
	bcfg, closeStore, err := runtimeConfig(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return 1
	}
	defer closeStore()
	bcfg.Logger = log
	b, err := broker.New(bcfg)
	if err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return 1
	}
	log.Info("broker listening", "addr", cfg.Listen, "issuer", cfg.Issuer)
	if err := listenAndServe(cfg.Listen, b.Handler(), log); err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return 1
	}
	return 0
}

// runtimeConfig turns the validated file into live dependencies.
func runtimeConfig(cfg *config.Config) (broker.Config, func(), error) {
	var out broker.Config
	st, err := openStore(cfg.Store)
	if err != nil {
		return out, nil, err
	}
	closeStore := func() { _ = st.Close() }
	fail := func(err error) (broker.Config, func(), error) { closeStore(); return out, nil, err }

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
	out.SessionLifetimes = map[assurance.Level]time.Duration{}
	for _, l := range assurance.NotifiedLevels() {
		out.SessionLifetimes[l] = cfg.Sessions.Lifetime(l)
	}
	for _, c := range cfg.Clients {
		bc := broker.Client{
			ID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
			AuthMethod: oidc.AuthMethod(c.AuthMethod), Secret: c.Secret.Value(), IDTokenAlg: jose.SignatureAlgorithm(c.IDTokenAlg),
			MinLevel: c.MinLevel, Sector: c.Sector, AllowedClaims: c.AllowedClaims, ImplicitConsent: c.Consent == "implicit",
		}
		for _, s := range c.Services {
			bc.Services = append(bc.Services, broker.Service{ID: s.ID, Name: s.Name, MinLevel: s.MinLevel})
		}
		if c.JWKS != nil {
			bc.Keys = c.JWKS.Keys // parsed and checked (public keys only) by config
		}
		out.Clients = append(out.Clients, bc)
	}
	for _, a := range cfg.Adapters {
		spec, ok := a.Spec.(openable)
		if !ok {
			return fail(fmt.Errorf("adapter %s: type %q cannot be opened", a.ID, a.Type))
		}
		ad, err := spec.Open(a.ID, adapters.Deps{BaseURL: strings.TrimSuffix(cfg.Issuer, "/"), Store: broker.AdapterStore(st, a.ID)})
		if err != nil {
			return fail(fmt.Errorf("adapter %s: %w", a.ID, err))
		}
		out.Adapters = append(out.Adapters, broker.AdapterEntry{ID: a.ID, Adapter: ad, MaxLevel: a.MaxLevel})
	}
	return out, closeStore, nil
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
