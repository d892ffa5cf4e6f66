package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	"github.com/ozg-broker/eidas-broker/adapters/bundid"
	"github.com/ozg-broker/eidas-broker/adapters/eid"
	"github.com/ozg-broker/eidas-broker/adapters/eidas"
	"github.com/ozg-broker/eidas-broker/adapters/elster"
	"github.com/ozg-broker/eidas-broker/adapters/nezo"
	"github.com/ozg-broker/eidas-broker/adapters/oidcup"
	"github.com/ozg-broker/eidas-broker/adapters/wallet"
	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/audit"
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
		wallet.Type: {
			spec: func() config.AdapterSpec { return wallet.NewConfig() },
			open: func(spec config.AdapterSpec, id string, deps adapters.Deps) (adapters.Adapter, error) {
				return spec.(*wallet.Config).Open(id, deps)
			},
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
		bundid.Type: {
			spec: func() config.AdapterSpec { return bundid.NewConfig() },
			open: func(spec config.AdapterSpec, id string, deps adapters.Deps) (adapters.Adapter, error) {
				return spec.(*bundid.Config).Open(id, deps)
			},
			mount: "/saml/{id}", // SP metadata and ACS (bundid.MountPath)
		},
		bundid.TypeServicekonto: {
			spec: func() config.AdapterSpec { return bundid.NewServicekontoConfig() },
			open: func(spec config.AdapterSpec, id string, deps adapters.Deps) (adapters.Adapter, error) {
				return spec.(*bundid.Config).Open(id, deps)
			},
			mount: "/saml/{id}",
		},
		oidcup.Type: {
			spec: func() config.AdapterSpec { return oidcup.NewConfig() },
			open: func(spec config.AdapterSpec, id string, deps adapters.Deps) (adapters.Adapter, error) {
				return spec.(*oidcup.Config).Open(id, deps)
			},
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
	code := config.Check(path, serveRegistry(), stdout)
	if code == 0 {
		if cfg, err := config.Load(path, serveRegistry()); err == nil && cfg.Staging() {
			fmt.Fprintf(stdout, "WARNING: %s: environment staging: serve offers the SIMULATORS of every upstream and the DEMO IDENTITIES (pages say TEST); never point real people or real portals at it\n", path)
		}
	}
	return code
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
	// go-redis logs through a package-wide logger; serve owns the process,
	// so this is the one place that sets it (see redisstore.Logger).
	redis.SetLogger(redisstore.NewLogger(log))
	st, err := openStoreLogged(cfg.Store, log)
	if err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return 1
	}
	defer st.Close()
	if err := checkStoreAtStart(st, cfg.Store, log); err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return 1
	}
	// One set of counters and one audit trail for the process, carried
	// across reloads.
	metrics := broker.NewMetrics()
	trail, closeTrail, err := openAudit(cfg, os.Stdout, stderr, log)
	if err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return 1
	}
	defer closeTrail()
	b, err := buildBroker(cfg, st, log, metrics, trail)
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
			trail.Record(context.Background(), audit.Event{Event: audit.ConfigRefused, Reason: "invalid"})
			return
		}
		if !reflect.DeepEqual(next.Store, cfg.Store) || next.Listen != cfg.Listen ||
			next.AdminListen != cfg.AdminListen || next.AdminListenAllowRemote != cfg.AdminListenAllowRemote {
			log.Error("reload refused: store and listen addresses can only change with a restart")
			return
		}
		nb, err := buildBroker(next, st, log, metrics, trail)
		if err != nil {
			log.Error("reload refused", "err", err)
			return
		}
		old := current.Swap(nb)
		// Requests already inside the old instance finish first; logins in
		// flight continue on the new one (their state is in the store).
		time.AfterFunc(time.Minute, func() { _ = old.Close() })
		log.Info("config reloaded")
		trail.Record(context.Background(), audit.Event{Event: audit.ConfigReloaded})
	})
	defer stopReload()
	if err := serveUntilSignal(log, func(addrs []string) { logListening(log, cfg, addrs) }, listeners(cfg, &current)...); err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return 1
	}
	return 0
}

// listeners are the public listener and, when admin_listen is set, the
// admin listener (metrics, profiling). Both follow the current broker
// across reloads.
func listeners(cfg *config.Config, current *atomic.Pointer[broker.Server]) []listener {
	ls := []listener{{name: "public", addr: cfg.Listen,
		h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.Load().Handler().ServeHTTP(w, r) })}}
	if cfg.AdminListen != "" {
		ls = append(ls, listener{name: "admin", addr: cfg.AdminListen,
			h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.Load().AdminHandler().ServeHTTP(w, r) })})
	}
	return ls
}

func logListening(log *slog.Logger, cfg *config.Config, addrs []string) {
	log.Info("broker listening", "addr", addrs[0], "issuer", cfg.Issuer)
	if len(addrs) < 2 {
		log.Info("admin listener off (metrics and profiling); set admin_listen to enable it")
		return
	}
	if host, _, _ := net.SplitHostPort(cfg.AdminListen); !config.IsLoopbackHost(host) {
		log.Warn("admin listener (metrics, profiling, no authentication) on a non-loopback address, as admin_listen_allow_remote permits; restrict access in the network", "addr", addrs[1])
		return
	}
	log.Info("admin listener (metrics, profiling)", "addr", addrs[1])
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

// buildBroker opens a broker for cfg; metrics (nil: its own) carries the
// counters across reloads.
func buildBroker(cfg *config.Config, st store.Store, log *slog.Logger, metrics *broker.Metrics, trail *audit.Log) (*broker.Server, error) {
	bcfg, err := runtimeConfig(cfg, st)
	if err != nil {
		return nil, err
	}
	bcfg.Logger = log
	bcfg.Metrics = metrics
	bcfg.Audit = trail
	if cfg.Staging() {
		// The simulators of every upstream and the demo identities join
		// the configured adapters, on the configured store; every page
		// says TEST. Config validation allowed this only for a loopback
		// issuer or a host marked in test_host.
		bcfg.Branding.TestBanner = true
		secret := stagingClientSecret(bcfg.SubjectSecret)
		sims, err := wireSimulatorsWith(strings.TrimSuffix(cfg.Issuer, "/"), stagingTestdata, st, log, demoOptions{branding: bcfg.Branding, clientSecret: secret})
		if err != nil {
			return nil, fmt.Errorf("staging simulators: %w", err)
		}
		bcfg.Adapters = append(bcfg.Adapters, sims.entries...)
		bcfg.Clients = append(bcfg.Clients, sims.client)
		bcfg.Routes, bcfg.OnClose = sims.routes, sims.close
		log.Warn("STAGING: simulators and demo identities are enabled; never use this for real people",
			"demo_client", demoClientID, "demo_client_secret", secret)
		b, err := broker.New(bcfg)
		if err != nil {
			sims.close()
		}
		return b, err
	}
	return broker.New(bcfg)
}

// stagingClientSecret is the staging demo portal's client secret. It is
// derived from the subject secret, so that every replica of one staging
// setup has the same (a token request may reach another replica than the
// login did), and printed at start, so that testers can drive the staging
// broker from outside (broker load --issuer). It opens nothing but the
// demo portal's client, which only staging has.
func stagingClientSecret(subjectSecret []byte) string {
	m := hmac.New(sha256.New, subjectSecret)
	m.Write([]byte("eidas-broker staging demo-portal client secret"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// stagingTestdata is where staging finds the simulators' test PKI (the
// repository's testdata/, as for the demo; without it the ELSTER
// certificate simulator is left out with a warning).
const stagingTestdata = "testdata"

// runtimeConfig turns the validated file into live dependencies.
func runtimeConfig(cfg *config.Config, st store.Store) (broker.Config, error) {
	var out broker.Config
	var err error
	fail := func(err error) (broker.Config, error) { return out, err }

	out.Issuer, out.Store = cfg.Issuer, st
	out.InsecureCookies = cfg.SecureCookies != nil && !*cfg.SecureCookies
	out.Limits = limitsConfig(cfg.Limits, st)
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
	dataKeys, err := cfg.Keys.DataKeyList()
	if err != nil {
		return fail(err)
	}
	for _, k := range dataKeys {
		out.DataKeys = append(out.DataKeys, broker.DataKey{ID: k.ID, Key: k.Key, Active: k.Active})
	}
	if len(dataKeys) == 0 {
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

func openStore(s config.Store) (store.Store, error) { return openStoreLogged(s, nil) }

func openStoreLogged(s config.Store, log *slog.Logger) (store.Store, error) {
	switch s.Type {
	case "memory", "":
		return newMemoryStore(s.MaxBytes(), log), nil
	case "redis":
		r := s.Redis
		opts := &redis.UniversalOptions{Addrs: r.Addrs, MasterName: r.MasterName, Username: r.Username,
			Password: r.Password.Value(), DB: r.DB,
			// Request deadlines bound socket reads and writes, so a hung Redis
			// answers 503 in time instead of holding the login. Zero
			// timeouts get the store's defaults (NewFromOptions).
			ContextTimeoutEnabled: true,
			DialTimeout:           r.DialTimeout.D(), ReadTimeout: r.ReadTimeout.D(), WriteTimeout: r.WriteTimeout.D()}
		if r.TLS {
			opts.TLSConfig = tlsConfig()
		}
		return redisstore.NewFromOptions(opts, r.KeyPrefix)
	}
	return nil, fmt.Errorf("store: unknown type %q", s.Type)
}

// checkStoreAtStart asks the store once before serving. A Redis that
// answers but refuses the configured credentials or database (WRONGPASS,
// NOAUTH, NOPERM, a bad db) is a config error like any other: serve stops
// with it. A Redis that cannot be reached yet is not: replicas may start
// before their Redis; serve starts, readiness answers 503 until it answers,
// and this is logged once, here.
func checkStoreAtStart(st store.Store, cfg config.Store, log *slog.Logger) error {
	if cfg.Type != config.StoreRedis {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := st.Ping(ctx)
	if err == nil {
		return nil
	}
	if reply, ok := redisstore.Refusal(err); ok {
		return fmt.Errorf("store.redis: %s", reply)
	}
	log.Error("store.redis: Redis is unreachable at start; serving anyway, /readyz answers 503 until it answers",
		"addrs", strings.Join(cfg.Redis.Addrs, ","), "err", err)
	return nil
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
	sc, err := eidasservice.ConfigFromFile(ec, cfg.Issuer, eidAdapter, broker.AdapterStore(st, "eidas-service"), activeDataKey(out), slog.Default())
	if err != nil {
		return nil, err
	}
	branding := out.Branding
	branding.TestBanner = cfg.Staging() // as serve sets it for the broker's pages
	if sc.Layout, err = eidasServiceLayout(branding); err != nil {
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

// eidasServiceLayout puts the eIDAS-Service's pages into the broker's
// layout with the operator's branding.
func eidasServiceLayout(b broker.Branding) (func(eidasservice.Page) ([]byte, error), error) {
	l, err := broker.NewLayout(b)
	if err != nil {
		return nil, err
	}
	return func(p eidasservice.Page) ([]byte, error) {
		return l.Render(broker.LayoutPage{Lang: p.Lang, Title: p.Title, For: p.For, LangBase: p.LangBase, Content: p.Content})
	}, nil
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

// activeDataKey is the key that seals. The eIDAS-Service seals its
// short-lived pending logins (transaction_ttl) with it alone, so a rotation
// ends the foreign logins in progress at that moment, no sessions.
func activeDataKey(c broker.Config) []byte {
	for _, k := range c.DataKeys {
		if k.Active {
			return k.Key
		}
	}
	return c.DataKey
}

// openAudit opens the audit trail the config names (nil when off). The
// subject hashes use audit.key, or a key derived from the subject secret,
// so the trail stays linkable across restarts and replicas.
func openAudit(cfg *config.Config, stdout, stderr io.Writer, log *slog.Logger) (*audit.Log, func(), error) {
	nothing := func() {}
	var w io.Writer
	switch cfg.Audit.Output {
	case "":
		return nil, nothing, nil
	case "stdout":
		w = stdout
	case "stderr":
		w = stderr
	default:
		f, err := os.OpenFile(cfg.Audit.Output, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, nothing, fmt.Errorf("audit.output: %w", err)
		}
		w, nothing = f, func() { _ = f.Close() }
	}
	key := []byte(cfg.Audit.Key.Value())
	if len(key) == 0 {
		m := hmac.New(sha256.New, []byte(cfg.Keys.SubjectSecret.Value()))
		m.Write([]byte("audit-key"))
		key = m.Sum(nil)
	}
	return audit.New(w, key, time.Now, log), nothing, nil
}

// newMemoryStore bounds the memory store (store.memory.max_mb): over its
// limit, the SSO sessions used longest ago make room, which the operator
// hears of once per process (and then in the store's size, not per
// eviction: under a flood that would be a log line per login).
func newMemoryStore(maxBytes int64, log *slog.Logger) *memory.Store {
	var warned atomic.Bool
	onEvict := func(store.Kind) {
		if log != nil && warned.CompareAndSwap(false, true) {
			// Called with the store's lock held: the line is written by a
			// goroutine of its own.
			go log.Warn("memory store full: the least recently used SSO sessions are being dropped (those people log in again); raise store.memory.max_mb or use Redis",
				"max_mb", maxBytes>>20)
		}
	}
	return memory.New(memory.WithLimit(maxBytes, onEvict, store.KindSession))
}
