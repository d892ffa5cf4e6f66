package oidcup

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// Adapter is a relying party towards one upstream OP.
type Adapter struct {
	id, issuer, clientID, secret string
	scopes                       []string
	name                         adapters.Text
	levels                       map[string]assurance.Level
	levelOrder                   []LevelEntry // by level, lowest first
	maxLevel                     assurance.Level
	claims                       map[string]string
	userinfo                     bool
	redirectURI, base            string
	http                         *http.Client
	now                          func() time.Time
	log                          *slog.Logger

	mu       sync.Mutex
	provider *upstream
	failedAt time.Time
	lastErr  error
}

// upstream is what discovery yields.
type upstream struct {
	p              *oidc.Provider
	verifier       *oidc.IDTokenVerifier
	oauth          oauth2.Config
	issParamNeeded bool
}

var (
	_ adapters.Adapter       = (*Adapter)(nil)
	_ adapters.Router        = (*Adapter)(nil)
	_ adapters.HealthChecker = (*Adapter)(nil)
)

// Errors Finish wraps; tests and logs tell them apart.
var (
	ErrState        = errors.New("state does not match the login")
	ErrIssuer       = errors.New("authorization response from another issuer")
	ErrUpstream     = errors.New("upstream refused the login")
	ErrToken        = errors.New("ID token invalid")
	ErrNonce        = errors.New("ID token nonce does not match the login")
	ErrLevel        = errors.New("upstream acr not in the level table")
	ErrSubject      = errors.New("upstream subject missing or inconsistent")
	ErrDiscovery    = errors.New("upstream discovery failed")
	errRetryBackoff = 5 * time.Second
)

// Info implements adapters.Adapter.
func (a *Adapter) Info() adapters.Info {
	return adapters.Info{Type: Type, Name: a.name, MaxLevel: a.maxLevel}
}

// RedirectURI is the fixed redirect URI to register at the upstream.
func (a *Adapter) RedirectURI() string { return a.redirectURI }

// state is what Begin leaves for Finish.
type state struct {
	State    string          `json:"state"`
	Nonce    string          `json:"nonce"`
	Verifier string          `json:"verifier"`
	Floor    assurance.Level `json:"floor"`
}

// discover returns the upstream's metadata, fetching it once. A failure is
// remembered for a few seconds so a down upstream is not hammered by every
// login page.
func (a *Adapter) discover(ctx context.Context) (*upstream, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.provider != nil {
		return a.provider, nil
	}
	if a.lastErr != nil && a.now().Sub(a.failedAt) < errRetryBackoff {
		return nil, a.lastErr
	}
	u, err := a.fetchProvider(ctx)
	if err != nil {
		a.lastErr, a.failedAt = fmt.Errorf("%w: %w", ErrDiscovery, err), a.now()
		return nil, a.lastErr
	}
	a.provider, a.lastErr = u, nil
	return u, nil
}

func (a *Adapter) fetchProvider(ctx context.Context) (*upstream, error) {
	// go-oidc keeps this context (without its cancellation) for later JWKS
	// fetches, so it carries our client.
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, a.http), a.issuer)
	if err != nil {
		return nil, err
	}
	var meta struct {
		PKCE     []string `json:"code_challenge_methods_supported"`
		IssParam bool     `json:"authorization_response_iss_parameter_supported"`
		ACRs     []string `json:"acr_values_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("discovery document: %w", err)
	}
	// An OP that lists its PKCE methods without S256 would ignore our
	// challenge; one that lists none may still support it (many do not
	// announce), and the code exchange then proves it.
	if len(meta.PKCE) > 0 && !slices.Contains(meta.PKCE, "S256") {
		return nil, errors.New("upstream does not support PKCE S256")
	}
	return &upstream{
		p:        p,
		verifier: p.Verifier(&oidc.Config{ClientID: a.clientID, Now: a.now}),
		oauth: oauth2.Config{ClientID: a.clientID, ClientSecret: a.secret, Endpoint: p.Endpoint(),
			RedirectURL: a.redirectURI, Scopes: a.scopes},
		issParamNeeded: meta.IssParam,
	}, nil
}

// CheckHealth implements adapters.HealthChecker: discovery must work.
func (a *Adapter) CheckHealth(ctx context.Context) error {
	_, err := a.discover(ctx)
	return err
}

// acrValues lists the upstream acr values whose level meets floor, lowest
// level first.
func (a *Adapter) acrValues(floor assurance.Level) []string {
	var out []string
	for _, l := range a.levelOrder {
		if floor == assurance.Unspecified || l.Level.Satisfies(floor) {
			out = append(out, l.ACR)
		}
	}
	return out
}

// MapACR maps an upstream acr value through the level table.
func (a *Adapter) MapACR(acr string) (assurance.Level, error) {
	l, ok := a.levels[acr]
	if !ok || acr == "" {
		return assurance.Unspecified, ErrLevel
	}
	return l, nil
}

// refPattern is what the broker's references look like (base64url).
var refPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)

// Begin implements adapters.Adapter.
func (a *Adapter) Begin(ctx context.Context, req adapters.Request) (adapters.Handoff, []byte, error) {
	if !refPattern.MatchString(req.Ref) {
		return adapters.Handoff{}, nil, errors.New("oidc: transaction reference unusable in state")
	}
	up, err := a.discover(ctx)
	if err != nil {
		return adapters.Handoff{}, nil, err
	}
	acrs := a.acrValues(req.MinLevel)
	if len(acrs) == 0 {
		// The login page offers this method only when it can reach the
		// floor; a forged start ends here.
		return adapters.Handoff{}, nil, fmt.Errorf("oidc: no upstream acr reaches %s", req.MinLevel)
	}
	st := state{
		State: req.Ref + "." + rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(),
		Floor: req.MinLevel,
	}
	opts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce),
		oauth2.SetAuthURLParam("acr_values", strings.Join(acrs, " ")),
	}
	if req.Locale != "" {
		opts = append(opts, oauth2.SetAuthURLParam("ui_locales", req.Locale))
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return adapters.Handoff{}, nil, err
	}
	return adapters.Handoff{RedirectURL: up.oauth.AuthCodeURL(st.State, opts...)}, raw, nil
}

// Routes implements adapters.Router: the fixed redirect URI forwards the
// browser, with the upstream's parameters, to the transaction's callback.
func (a *Adapter) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		ref, _, ok := strings.Cut(r.URL.Query().Get("state"), ".")
		if !ok || !refPattern.MatchString(ref) {
			a.log.WarnContext(r.Context(), "oidc callback without a usable state")
			http.Error(w, "Die Anmeldung ist ungültig oder abgelaufen. / The login is invalid or has expired.", http.StatusBadRequest)
			return
		}
		w.Header().Set("Referrer-Policy", "no-referrer")
		http.Redirect(w, r, a.base+"/login/cb/"+ref+"?"+r.URL.RawQuery, http.StatusSeeOther)
	})
	return mux
}

// Finish implements adapters.Adapter.
func (a *Adapter) Finish(ctx context.Context, _ adapters.Request, raw []byte, r *http.Request) (adapters.Identity, error) {
	var st state
	if err := json.Unmarshal(raw, &st); err != nil || st.State == "" || st.Nonce == "" || st.Verifier == "" {
		return adapters.Identity{}, errors.New("oidc: unreadable adapter state")
	}
	q := r.URL.Query()
	got := q.Get("state")
	if subtle.ConstantTimeCompare([]byte(got), []byte(st.State)) != 1 {
		return adapters.Identity{}, ErrState
	}
	up, err := a.discover(ctx)
	if err != nil {
		return adapters.Identity{}, err
	}
	if iss, present := q["iss"]; present || up.issParamNeeded {
		if len(iss) != 1 || iss[0] != a.issuer {
			return adapters.Identity{}, ErrIssuer
		}
	}
	if e := q.Get("error"); e != "" {
		if e == "access_denied" {
			return adapters.Identity{}, fmt.Errorf("oidc: %w", adapters.ErrCancelled)
		}
		// Only the error code goes into logs: it is a registered token,
		// the description is free text.
		return adapters.Identity{}, fmt.Errorf("%w: %s", ErrUpstream, safeToken(e))
	}
	code := q.Get("code")
	if code == "" {
		return adapters.Identity{}, fmt.Errorf("%w: no code", ErrUpstream)
	}
	cctx := oidc.ClientContext(ctx, a.http)
	tok, err := up.oauth.Exchange(cctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("%w: code exchange: %s", ErrUpstream, exchangeError(err))
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return adapters.Identity{}, fmt.Errorf("%w: no id_token in the token response", ErrToken)
	}
	idt, err := up.verifier.Verify(cctx, rawID)
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("%w: %w", ErrToken, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return adapters.Identity{}, ErrNonce
	}
	var std struct {
		ACR      string `json:"acr"`
		AZP      string `json:"azp"`
		AuthTime *int64 `json:"auth_time"`
	}
	if err := idt.Claims(&std); err != nil {
		return adapters.Identity{}, fmt.Errorf("%w: claims: %w", ErrToken, err)
	}
	if len(idt.Audience) > 1 && std.AZP != a.clientID || std.AZP != "" && std.AZP != a.clientID {
		return adapters.Identity{}, fmt.Errorf("%w: azp is not this client", ErrToken)
	}
	if idt.Subject == "" {
		return adapters.Identity{}, ErrSubject
	}
	level, err := a.MapACR(std.ACR)
	if err != nil {
		a.log.WarnContext(ctx, "upstream acr not mapped", "acr", safeToken(std.ACR))
		return adapters.Identity{}, err
	}
	var all map[string]any
	if err := idt.Claims(&all); err != nil {
		return adapters.Identity{}, fmt.Errorf("%w: claims: %w", ErrToken, err)
	}
	if a.userinfo {
		ui, err := up.p.UserInfo(cctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return adapters.Identity{}, fmt.Errorf("%w: userinfo: %w", ErrUpstream, err)
		}
		if subtle.ConstantTimeCompare([]byte(ui.Subject), []byte(idt.Subject)) != 1 {
			return adapters.Identity{}, fmt.Errorf("%w: userinfo sub differs from the ID token's", ErrSubject)
		}
		var extra map[string]any
		if err := ui.Claims(&extra); err != nil {
			return adapters.Identity{}, fmt.Errorf("%w: userinfo: %w", ErrUpstream, err)
		}
		for k, v := range extra {
			if _, ok := all[k]; !ok {
				all[k] = v
			}
		}
	}
	authTime := a.now()
	if std.AuthTime != nil && *std.AuthTime > 0 {
		authTime = time.Unix(*std.AuthTime, 0)
	}
	if level.Notified() && !level.Satisfies(st.Floor) {
		// Reported, not hidden: the broker refuses it with the unmet page.
		a.log.InfoContext(ctx, "upstream proved less than the floor", "level", level.String(), "floor", st.Floor.String())
	}
	return adapters.Identity{
		Subject:  idt.Issuer + " " + idt.Subject,
		Level:    level,
		AuthTime: authTime,
		Claims:   mapClaims(a.claims, all, a.log.With("adapter_type", Type)),
	}, nil
}

// safeToken keeps a protocol token for a log line: printable ASCII, short.
func safeToken(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// exchangeError names the OAuth error code of a failed exchange, never the
// response body.
func exchangeError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			return safeToken(re.ErrorCode)
		}
		if re.Response != nil {
			return re.Response.Status
		}
	}
	var ue interface{ Timeout() bool }
	if errors.As(err, &ue) && ue.Timeout() {
		return "timeout"
	}
	return "request failed"
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
