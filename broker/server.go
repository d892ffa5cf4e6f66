package broker

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/audit"
	"github.com/ozg-broker/eidas-broker/broker/ratelimit"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Config is the broker's runtime configuration: live dependencies, no file
// format (cmd/broker turns the YAML file into this).
type Config struct {
	// Issuer is the external base URL, e.g. https://login.example.de.
	Issuer   string
	Store    store.Store
	Clients  []Client
	Adapters []AdapterEntry
	Keys     []SigningKey
	// SubjectSecret keys the pairwise subject HMAC (≥ 32 bytes).
	SubjectSecret []byte
	// DataKeys seal everything in the store (AES-256-GCM): the Active one
	// seals, the others only open (see DataKey, the type). DataKey is the
	// shorthand for a single key (ID DefaultDataKeyID); set one of them.
	DataKeys []DataKey
	DataKey  []byte
	// SessionLifetimes caps SSO sessions per proved level; missing levels
	// get the TR-03160-1 maxima.
	SessionLifetimes map[assurance.Level]time.Duration
	// InsecureCookies drops the Secure flag (plain-http demo only).
	InsecureCookies bool
	Logger          *slog.Logger
	Now             func() time.Time
	// Routes mounts extra handlers (demo portal, simulators) on the router.
	Routes func(chi.Router)
	// Ready are extra readiness checks (adapter upstreams).
	Ready []func(context.Context) error
	// Branding is the operator's name, logo, colours and legal links.
	Branding Branding
	// Metrics receives the counters; nil: the server starts its own. Pass
	// the same one to every Server of a process that reloads its config.
	Metrics *Metrics
	// Audit receives the audit trail; nil records nothing.
	Audit *audit.Log
	// OnClose runs when the Server closes (simulators of a staging setup).
	OnClose func()
	// Limits turns on the overload protection (rate limits per source
	// address and per client, in-flight cap); nil: none. See limits.go.
	Limits *ratelimit.Config
}

// AdapterEntry is one configured, opened adapter.
type AdapterEntry struct {
	ID      string
	Adapter adapters.Adapter
	// MaxLevel is the admin's cap; the effective maximum is the lower of
	// this and what the adapter itself reports.
	MaxLevel assurance.Level
	// Mount is an extra path prefix for the adapter's own routes, beside
	// /login/{id}/ (e.g. "/eid" for the TC Token endpoint). Both are
	// mounted with the prefix stripped.
	Mount string
}

// DefaultSessionLifetimes are the TR-03160-1 maxima.
var DefaultSessionLifetimes = map[assurance.Level]time.Duration{
	assurance.Low:         12 * time.Hour,
	assurance.Substantial: 2 * time.Hour,
	assurance.High:        30 * time.Minute,
}

// Server is the broker. Create it with New and serve Handler().
type Server struct {
	issuer    string
	raw       store.Store
	data      *sealedStore
	keys      *keySet
	clients   map[string]*opClient
	adapters  []AdapterEntry
	byID      map[string]*AdapterEntry
	subSecret []byte
	lifetimes map[assurance.Level]time.Duration
	secure    bool
	log       *slog.Logger
	now       func() time.Time
	op        *opServer // the OIDC endpoints (the token endpoint's code grant: codeTokenRequest)
	provider  *op.Provider
	handler   http.Handler
	pages     *pages
	branding  Branding
	audit     *audit.Log
	onClose   func()
	ready     []func(context.Context) error
	tokens    *tokenCrypto
	metrics   *Metrics
	admin     http.Handler
	limiter   *ratelimit.Limiter
	// trustedProxies send the X-Forwarded-For and X-Request-Id believed.
	trustedProxies []ratelimit.Prefix
	// redirects holds what each registered redirect URI's parse says,
	// parsed once: its origin (the form-action of every login page) and
	// whether parameters can simply follow it (redirectToClient).
	redirects map[string]redirectURI

	// expiryWarn overrides expiryWarnBefore (tests; zero: the default).
	expiryWarn time.Duration
}

// New validates cfg and builds the broker.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("broker: a store is required")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("broker: issuer %q is not an absolute URL", cfg.Issuer)
	}
	if len(cfg.SubjectSecret) < 32 {
		return nil, errors.New("broker: subject secret must be at least 32 bytes")
	}
	s := &Server{
		issuer: strings.TrimSuffix(cfg.Issuer, "/"), raw: cfg.Store, subSecret: cfg.SubjectSecret,
		secure: !cfg.InsecureCookies, log: cfg.Logger, now: cfg.Now, clients: map[string]*opClient{},
		byID: map[string]*AdapterEntry{}, adapters: cfg.Adapters, ready: cfg.Ready,
		lifetimes: map[assurance.Level]time.Duration{}, metrics: cfg.Metrics, branding: cfg.Branding, audit: cfg.Audit, onClose: cfg.OnClose,
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	if cfg.Store != nil {
		// Every store operation of the broker is timed (adapters' stores
		// are their own).
		s.raw = timedStore{Store: cfg.Store, m: s.metrics}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	for l, d := range DefaultSessionLifetimes {
		s.lifetimes[l] = d
		if v, ok := cfg.SessionLifetimes[l]; ok && v > 0 && v < d {
			s.lifetimes[l] = v
		}
	}
	dataKeys, err := cfg.dataKeys()
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if s.data, err = newSealedStore(s.raw, dataKeys, s.log); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	s.tokens = newTokenCrypto(dataKeys)
	if s.keys, err = newKeySet(cfg.Keys); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	for i := range cfg.Clients {
		c := cfg.Clients[i]
		if c.IDTokenAlg == "" {
			c.IDTokenAlg = "ES256"
		}
		oc, err := newOPClient(&c, func(id string) string { return s.issuer + "/login/" + id })
		if err != nil {
			return nil, fmt.Errorf("broker: %w", err)
		}
		if s.keys.active[c.IDTokenAlg] == nil {
			return nil, fmt.Errorf("broker: client %q wants %s ID tokens but no such key is configured", c.ID, c.IDTokenAlg)
		}
		if _, dup := s.clients[c.ID]; dup {
			return nil, fmt.Errorf("broker: duplicate client %q", c.ID)
		}
		s.clients[c.ID] = oc
	}
	s.redirects = map[string]redirectURI{}
	for _, c := range s.clients {
		for _, u := range c.c.RedirectURIs {
			s.redirects[u] = parseRedirectURI(u)
		}
	}
	for i := range s.adapters {
		a := &s.adapters[i]
		if a.ID == "" || a.Adapter == nil {
			return nil, errors.New("broker: adapter entries need an id and an adapter")
		}
		if _, dup := s.byID[a.ID]; dup {
			return nil, fmt.Errorf("broker: duplicate adapter %q", a.ID)
		}
		if a.ID == "cb" {
			// Adapter routes live at /login/{id}/; /login/cb/ is the callback.
			return nil, errors.New(`broker: adapter id "cb" is reserved`)
		}
		s.byID[a.ID] = a
	}
	if cfg.Limits != nil {
		s.trustedProxies = cfg.Limits.TrustedProxies
	}
	if s.limiter, err = s.newLimiter(cfg.Limits, cfg.DataKey); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if s.pages, err = newPages(s); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if err := s.buildHandler(cfg.Routes); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler is the broker's whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

// Close releases what the adapters hold (background metadata refreshers,
// connections). The store belongs to the caller and stays open.
func (s *Server) Close() error {
	var errs []error
	if s.onClose != nil {
		defer s.onClose()
	}
	for i := range s.adapters {
		if c, ok := s.adapters[i].Adapter.(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("adapter %s: %w", s.adapters[i].ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Server) buildHandler(extra func(chi.Router)) error {
	opCfg := &op.Config{
		DefaultLogoutRedirectURI: s.issuer + "/logout/done",
		CodeMethodS256:           true,
		AuthMethodPrivateKeyJWT:  true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.German, language.English},
		SupportedClaims:          SupportedClaims(),
	}
	// Access tokens are sealed with keys derived from the data keys, so
	// every replica can open what another issued, across rotations.
	opts := []op.Option{op.WithCrypto(s.tokens)}
	if strings.HasPrefix(s.issuer, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	provider, err := op.NewProvider(opCfg, &opStorage{s}, op.StaticIssuer(s.issuer), opts...)
	if err != nil {
		return fmt.Errorf("broker: oidc provider: %w", err)
	}
	s.provider = provider
	endpoints := op.Endpoints{
		Authorization: op.NewEndpoint("authorize"),
		Token:         op.NewEndpoint("token"),
		Userinfo:      op.NewEndpoint("userinfo"),
		Revocation:    op.NewEndpoint("revoke"),
		EndSession:    op.NewEndpoint("end_session"),
		JwksURI:       op.NewEndpoint("jwks"),
	}
	srv := &opServer{LegacyServer: op.NewLegacyServer(provider, endpoints), s: s}
	s.op = srv
	opHandler := op.RegisterLegacyServer(srv, func(w http.ResponseWriter, r *http.Request) {
		// Codes are issued by the consent step, bound to the browser;
		// the library's unbound callback is not offered.
		http.NotFound(w, r)
	}, op.WithFallbackLogger(s.log), op.WithServerCORSOptions(s.corsOptions()), op.WithDecoder(newFormDecoder()))

	r := chi.NewRouter()
	// The request ID comes with the routing context (requestContext).
	r.Use(s.metrics.instrument, securityHeaders, rememberLang)
	if s.limiter != nil {
		r.Use(s.limiter.Handler)
	}
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	r.Get("/readyz", s.readyz)
	r.Get("/static/*", s.pages.static)
	r.Handle("/branding/*", s.brandingRoutes())
	r.Get("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/branding/favicon.svg", http.StatusMovedPermanently)
	})
	r.Route("/login", func(r chi.Router) {
		r.HandleFunc("/cb/{ref}", s.callback)
		r.Get("/{tx}", s.loginPage)
		r.Post("/{tx}/start", s.start)
		r.Get("/{tx}/done", s.done)
		r.Post("/{tx}/cancel", s.cancel)
		r.Post("/{tx}/extend", s.extendLogin)
	})
	r.With(s.withSessionPrefetch).Post("/consent/{tx}", s.consent)
	r.Get("/logout/done", s.loggedOut)
	r.Get("/logout/confirm", s.logoutConfirm)
	r.Post("/logout/confirm", s.logoutConfirmed)
	for i := range s.adapters {
		a := &s.adapters[i]
		if rt, ok := a.Adapter.(adapters.Router); ok {
			h := rt.Routes()
			r.Mount("/login/"+a.ID, http.StripPrefix("/login/"+a.ID, h))
			if a.Mount != "" {
				r.Mount(a.Mount, http.StripPrefix(a.Mount, h))
			}
		}
	}
	if extra != nil {
		extra(r)
	}
	r.Mount("/", s.opHTTPRules(opHandler))
	s.handler = newRequestContext(r, s.trustedProxies)
	s.admin = adminHandler(s.metrics)
	return nil
}

// readyz answers 503 only when this replica cannot serve at all (the store,
// or an extra check the wiring registered, fails). An upstream that is down
// (one foreign eIDAS node, the eID-Server) does not take every replica out
// of the load balancer: it is reported as degraded, with 200, and the login
// page shows the affected method or country as unavailable.
// corsOptions lets only the portals' own origins (those of their
// registered redirect URIs) call the OP endpoints from a browser, and never
// with credentials: the library's default reflects every origin with
// credentials allowed.
func (s *Server) corsOptions() *cors.Options {
	allowed := map[string]bool{}
	for _, c := range s.clients {
		for _, u := range c.c.RedirectURIs {
			if o := origin(u); o != "" {
				allowed[o] = true
			}
		}
	}
	return &cors.Options{
		AllowedMethods:   []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "Accept"},
		AllowCredentials: false,
		AllowOriginFunc:  func(o string) bool { return allowed[o] },
	}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	for _, c := range append([]func(context.Context) error{s.raw.Ping}, s.ready...) {
		if err := c(ctx); err != nil {
			s.log.WarnContext(ctx, "not ready", "err", err)
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
	}
	var degraded []string
	for i := range s.adapters {
		if hc, ok := s.adapters[i].Adapter.(adapters.HealthChecker); ok {
			if err := hc.CheckHealth(ctx); err != nil {
				s.log.WarnContext(ctx, "upstream degraded", "adapter", s.adapters[i].ID, "err", err)
				degraded = append(degraded, s.adapters[i].ID+": "+err.Error())
			}
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(degraded) > 0 {
		_, _ = w.Write([]byte("ready, degraded:\n" + strings.Join(degraded, "\n") + "\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// securityHeaders applies to every response; pages of adapters get the
// same strict policy (no inline script, no framing).
//
// The values are shared, read-only slices (headerValue) rather than a new
// one per header and request, as Header.Set would make.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = hdrNosniff
		h["Referrer-Policy"] = hdrNoReferrer
		h["X-Frame-Options"] = hdrDeny
		next.ServeHTTP(w, r)
	})
}

var (
	hdrNosniff    = headerValue("nosniff")
	hdrNoReferrer = headerValue("no-referrer")
	hdrDeny       = headerValue("DENY")
	hdrHTML       = headerValue("text/html; charset=utf-8")
	hdrNoStore    = headerValue("no-store")
)

// headerValue is a header value to assign to a canonical key of an
// http.Header directly. Its slice is full (capacity 1), so Header.Add
// appends to a copy; net/http copies the header before it writes it, and
// Set, Del and the broker's own code replace a value rather than write
// into it, so the one slice serves every response.
func headerValue(v string) []string {
	return []string{v}[:1:1]
}

func (s *Server) createTx(ctx context.Context, tx *transaction) error {
	b, err := s.data.seal(store.KindTransaction, tx.ID, tx)
	if err != nil {
		return err
	}
	// Both IDs are fresh and random, so the two writes are independent: one
	// round trip. A failure of either fails the request; a half that was
	// written expires with its TTL.
	res := store.Batch(ctx, s.raw, []store.Op{
		{Verb: store.OpCreate, Kind: store.KindTransaction, Key: tx.ID, Value: b, TTL: txTTL},
		{Verb: store.OpCreate, Kind: store.KindTransaction, Key: "ref:" + tx.Ref, Value: []byte(tx.ID), TTL: refTTL},
	})
	return errors.Join(res[0].Err, res[1].Err)
}

func (s *Server) getTx(ctx context.Context, id string) (*transaction, error) {
	var tx transaction
	e, err := s.getTxEntry(ctx, id, &tx)
	if err != nil {
		return nil, err
	}
	tx.loaded, tx.rev, tx.sealed = true, e.Revision, e.Value
	return &tx, nil
}

// updateTx applies fn with compare-and-swap; fn may run more than once.
func (s *Server) updateTx(ctx context.Context, id string, fn func(*transaction) error) (*transaction, error) {
	var tx transaction
	err := s.data.update(ctx, store.KindTransaction, id, &tx, func() (time.Duration, error) {
		tx.Renewed = s.now()
		return txTTL, fn(&tx)
	})
	if err != nil {
		return nil, err
	}
	return &tx, nil
}

// updateLoadedTx is updateTx for a transaction this request has just read
// with getTx: fn runs on a copy of it, and the result is written with
// compare-and-swap against the revision that was read, so the common case
// costs one write instead of a second read and decode. Only when another
// request changed the record meanwhile does it fall back to updateTx,
// which reads the current record and runs fn on that (fn may therefore
// run twice, as with updateTx). The result remembers the sealed bytes it
// wrote (for complete's check), not a revision: a second update of it
// goes through updateTx.
func (s *Server) updateLoadedTx(ctx context.Context, tx *transaction, fn func(*transaction) error) (*transaction, error) {
	if !tx.loaded {
		return s.updateTx(ctx, tx.ID, fn)
	}
	t := *tx
	t.loaded, t.rev, t.sealed = false, 0, nil
	t.Renewed = s.now()
	if err := fn(&t); err != nil {
		return nil, err
	}
	b, err := s.data.seal(store.KindTransaction, t.ID, &t)
	if err != nil {
		return nil, err
	}
	switch err := s.raw.Swap(ctx, store.KindTransaction, t.ID, tx.rev, b, txTTL); {
	case errors.Is(err, store.ErrConflict):
		return s.updateTx(ctx, tx.ID, fn)
	case err != nil:
		return nil, err
	}
	t.sealed = b
	return &t, nil
}

// grantFor freezes what a code stands for: the released identity of a
// finished login, capped by the SSO session's expiry.
func (s *Server) grantFor(tx *transaction, sessionExpiry time.Time) *grant {
	c := s.clients[tx.ClientID]
	return &grant{
		ID: tx.ID, ClientID: tx.ClientID, Subject: tx.Subject, Scopes: tx.Scopes, Nonce: tx.Nonce,
		AuthTime: tx.AuthTime, ACR: tx.ACR, AMR: tx.AMR, Claims: tx.Claims,
		Released:  releasedClaims(tx.Identity.Claims, tx.Scopes, tx.Claims, c.allowed),
		SessionID: tx.SessionID, SessionExpiry: sessionExpiry, RedirectURI: tx.RedirectURI,
		CodeChallenge: tx.CodeChallenge, Services: tx.Services,
	}
}

// pairwiseSubject is DESIGN §3: base64url(HMAC-SHA256(secret, sector ‖
// adapter ‖ upstream subject)), with NUL separators so no two different
// triples can produce the same input.
func (s *Server) pairwiseSubject(sector, adapterID, upstream string) string {
	m := hmac.New(sha256.New, s.subSecret)
	m.Write([]byte(sector))
	m.Write([]byte{0})
	m.Write([]byte(adapterID))
	m.Write([]byte{0})
	m.Write([]byte(upstream))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// effectiveMax is the highest level an adapter (or one of its options) can
// reach after the admin's cap.
func (a *AdapterEntry) effectiveMax(option string) assurance.Level {
	return a.effectiveMaxIn(a.Adapter.Info(), option)
}

// effectiveMaxIn is effectiveMax for an Info already fetched (Info may
// build its option list afresh on every call).
func (a *AdapterEntry) effectiveMaxIn(info adapters.Info, option string) assurance.Level {
	max := info.MaxLevel
	if option != "" {
		max = assurance.Unspecified
		for _, o := range info.Options {
			if o.ID == option && o.Unavailable == "" {
				max = o.Level
			}
		}
	}
	if a.MaxLevel.Notified() && max.Notified() && a.MaxLevel < max {
		max = a.MaxLevel
	}
	return max
}

// redirectURI is what the broker needs of a registered redirect URI.
type redirectURI struct {
	origin string
	// plain: no query, no fragment, and the URI is as net/url writes it
	// back, so "?" and the encoded parameters can be appended to it.
	plain bool
}

func parseRedirectURI(raw string) redirectURI {
	u, err := url.Parse(raw)
	if err != nil {
		return redirectURI{}
	}
	return redirectURI{origin: origin(raw), plain: u.RawQuery == "" && !u.ForceQuery && u.Fragment == "" && u.String() == raw}
}

// redirectOrigin is origin(u), from the table of registered redirect
// URIs when u is one of them (a transaction's always is).
func (s *Server) redirectOrigin(u string) string {
	if r, ok := s.redirects[u]; ok {
		return r.origin
	}
	return origin(u)
}

// logID shortens an identifier for logs: enough to correlate lines, too
// little to use the transaction.
func logID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
