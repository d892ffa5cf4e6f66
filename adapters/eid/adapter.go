package eid

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Store kinds this adapter uses inside its confined store.
const (
	kindTCToken = store.KindChallenge
	kindCounter = store.Kind("eid_counter")
)

// Errors of Begin and Finish besides the result-code sentinels.
var (
	// ErrState: the state handed to Finish is not one Begin produced.
	ErrState = errors.New("eid login state invalid")
	// ErrRequiredDenied: the eID-Server did not deliver a REQUIRED data
	// group (the terminal certificate lacks the right).
	ErrRequiredDenied = errors.New("required eid data group not delivered")
	// ErrRequest: the broker's request cannot start a login (reference
	// missing or too short, no callback URL).
	ErrRequest = errors.New("eid login request invalid")
	// ErrRefreshSecret: the request at the refresh address lacks the
	// one-time secret that only the TC Token carried, so it was not sent
	// by the eID-Client of this login (someone who knows the reference
	// from the start page is trying to collect the result).
	ErrRefreshSecret = errors.New("eid refresh address called without the secret of this login's tc token")
)

// refreshSecretParam is the query parameter of the refresh and
// communication-error addresses that carries the one-time secret.
const refreshSecretParam = "eid_rs"

// stateVersion 2 added the refresh secret; states of version 1 (logins
// pending across an upgrade) are refused and the person starts again.
const stateVersion = 2

// Adapter is the German eID card (Online-Ausweis) upstream: it drives an
// eID-Server over the TR-03130 eID-Interface and serves the TC Token.
type Adapter struct {
	id     string
	s      settings
	client *Client
	store  store.Store
	log    *slog.Logger
	now    func() time.Time
	base   string
}

var (
	_ adapters.Adapter       = (*Adapter)(nil)
	_ adapters.Router        = (*Adapter)(nil)
	_ adapters.HealthChecker = (*Adapter)(nil)
)

func newAdapter(id string, s settings, c *Client, deps adapters.Deps) *Adapter {
	a := &Adapter{id: id, s: s, client: c, store: deps.Store, log: deps.Logger, now: deps.Now, base: deps.BaseURL}
	if a.log == nil {
		a.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a
}

// Client returns the eID-Interface client (for diagnostics and tests).
func (a *Adapter) Client() *Client { return a.client }

// Info describes the adapter. The eID card proves level high; the broker
// applies the admin's max_level on top.
func (a *Adapter) Info() adapters.Info {
	return adapters.Info{
		Type:     "eid",
		Name:     adapters.Text{DE: "Online-Ausweis (Personalausweis, eID-Karte, Aufenthaltstitel)", EN: "German eID card (Online-Ausweis)"},
		MaxLevel: assurance.High,
	}
}

// state is what Begin hands to the broker and Finish gets back.
type state struct {
	V         int    `json:"v"`
	SessionID string `json:"sid"`
	// RefreshHash is the SHA-256 (hex) of the secret in the refresh
	// address. The secret is only ever in the TC Token, which only the
	// eID-Client fetches (once); the start page shows the reference but
	// never the secret. Finish asks the eID-Server for nothing without it.
	RefreshHash string   `json:"rh"`
	Requested   []string `json:"req"` // operations asked for (REQUIRED or ALLOWED)
	Required    []string `json:"must"`
	Age         int      `json:"age,omitempty"`
}

// claimOps maps OIDC claim names (and this adapter's Extra keys) to the
// data groups that feed them.
var claimOps = map[string][]string{
	"name":                 {"GivenNames", "FamilyNames"},
	"given_name":           {"GivenNames"},
	"family_name":          {"FamilyNames"},
	"birth_family_name":    {"BirthName"},
	"birthdate":            {"DateOfBirth"},
	"place_of_birth":       {"PlaceOfBirth"},
	"address":              {"PlaceOfResidence"},
	"nationalities":        {"Nationality"},
	"title":                {"AcademicTitle"},
	ExtraDocumentType:      {"DocumentType"},
	ExtraIssuingState:      {"IssuingState"},
	ExtraDateOfExpiry:      {"DateOfExpiry"},
	ExtraArtisticName:      {"ArtisticName"},
	ExtraCommunityID:       {"CommunityID"},
	ExtraResidencePermit:   {"ResidencePermitI"},
	ExtraResidenceNote:     {"PlaceOfResidence"},
	ExtraNationalityICAO:   {"Nationality"},
	ExtraPlaceVerification: {"PlaceVerification"},
	// "age_over_<n>" selects AgeVerification (handled in operations).
}

// operations returns the UseOperations for one login: the configured
// selection, narrowed to what req.Claims needs. A nil Claims list means the
// broker did not narrow the request; the configured selection applies.
func (a *Adapter) operations(claims []string) Operations {
	ops := a.s.ops
	if claims == nil {
		return ops
	}
	need := map[string]bool{"RestrictedID": true}
	if len(a.s.caps) > 0 {
		need["DocumentType"] = true
	}
	for _, c := range claims {
		if strings.HasPrefix(c, "age_over_") {
			need["AgeVerification"] = true
			continue
		}
		for _, op := range claimOps[c] {
			need[op] = true
		}
	}
	for _, name := range operationNames {
		if !need[name] {
			ops.Set(name, Prohibited)
		}
	}
	return ops
}

// Begin calls useID, stores what the TC Token needs under req.Ref and
// returns the page that starts the eID-Client.
func (a *Adapter) Begin(ctx context.Context, req adapters.Request) (adapters.Handoff, []byte, error) {
	if !refPattern.MatchString(req.Ref) {
		return adapters.Handoff{}, nil, fmt.Errorf("begin eid login: %w: reference missing or not 16-256 URL-safe characters", ErrRequest)
	}
	if req.CallbackURL == "" {
		return adapters.Handoff{}, nil, fmt.Errorf("begin eid login: %w: no callback URL", ErrRequest)
	}
	base := strings.TrimSuffix(req.BaseURL, "/")
	if base == "" {
		base = strings.TrimSuffix(a.base, "/")
	}
	if base == "" {
		return adapters.Handoff{}, nil, fmt.Errorf("begin eid login: %w: no base URL", ErrRequest)
	}

	ops := a.operations(req.Claims)
	if !sameOrigin(req.CallbackURL, base) {
		// TR-03124-1 §2.4: the eID-Client accepts a refresh address only
		// of the TC Token URL's origin (both covered by the terminal
		// certificate's subject URL and communication certificates).
		return adapters.Handoff{}, nil, fmt.Errorf("begin eid login: %w: callback URL and TC Token URL differ in origin", ErrRequest)
	}
	secret := rand.Text()
	refresh := addQuery(req.CallbackURL, url.Values{refreshSecretParam: {secret}})

	ureq := &UseIDRequest{UseOperations: ops, TransactionInfo: a.s.transactionInfo}
	st := state{V: stateVersion, RefreshHash: secretHash(secret)}
	if ops.AgeVerification != Prohibited && a.s.age != nil {
		ureq.AgeVerificationRequest = &AgeVerificationRequest{Age: a.s.age.Age}
		st.Age = a.s.age.Age
	} else {
		ureq.UseOperations.AgeVerification = Prohibited
	}
	if ops.PlaceVerification != Prohibited && a.s.place != nil {
		ureq.PlaceVerificationRequest = &PlaceVerificationRequest{CommunityID: a.s.place.CommunityID}
	} else {
		ureq.UseOperations.PlaceVerification = Prohibited
	}
	if a.s.sendLevel {
		lvl := a.s.level
		if req.MinLevel.Notified() {
			lvl = assurance.Max(lvl, req.MinLevel)
		}
		ureq.LevelOfAssuranceRequest = lvl.BSIURI()
	}
	for _, name := range operationNames {
		switch ureq.UseOperations.Get(name) {
		case Required:
			st.Required = append(st.Required, name)
			st.Requested = append(st.Requested, name)
		case Allowed:
			st.Requested = append(st.Requested, name)
		}
	}

	resp, err := a.client.UseID(ctx, ureq)
	if err != nil {
		a.log.WarnContext(ctx, "eid useID failed", "err", err)
		return adapters.Handoff{}, nil, fmt.Errorf("begin eid login: %w", err)
	}
	server := strings.TrimSpace(resp.ECardServerAddress)
	if server == "" {
		server = a.s.serverAddress
	}
	if server == "" {
		return adapters.Handoff{}, nil, fmt.Errorf("begin eid login: %w: eID-Server sent no eCardServerAddress and server_address is not configured", ErrProtocol)
	}
	st.SessionID = strings.TrimSpace(resp.Session.ID)
	tok := &TCToken{
		ServerAddress:             server,
		SessionIdentifier:         strings.TrimSpace(resp.PSK.ID),
		RefreshAddress:            refresh,
		CommunicationErrorAddress: refresh,
		Binding:                   BindingPAOS,
		PathSecurityProtocol:      PathSecurityPSK,
		PathSecurityParameters:    &PathSecurityParameters{PSK: strings.ToUpper(strings.TrimSpace(resp.PSK.Key))},
	}
	sealed, err := sealTCToken(req.Ref, tok)
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("begin eid login: %w", err)
	}
	if err := a.store.Create(ctx, kindTCToken, tcTokenKey(req.Ref), sealed, a.s.tcTokenTTL); err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("begin eid login: store tc token: %w", err)
	}
	stateBytes, err := json.Marshal(st)
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("begin eid login: %w", err)
	}
	tcURL := base + "/eid/tctoken/" + url.PathEscape(req.Ref)
	content, title, err := renderStartPage(req.Locale, clientLink(a.s.clientURL, tcURL), clientLink(a.s.mobileURL, tcURL), cancelLink(req.CallbackURL))
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("begin eid login: %w", err)
	}
	return adapters.Handoff{Content: content, Title: title}, stateBytes, nil
}

// secretHash is how the refresh secret is kept in the state.
func secretHash(secret string) string {
	h := sha256.Sum256([]byte("eid refresh secret\x00" + secret))
	return hex.EncodeToString(h[:])
}

// sameOrigin reports whether two absolute URLs share scheme and host.
func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme != "" && ua.Host != "" &&
		strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host)
}

// clientLink appends tcTokenURL to the eID-Client URL.
func clientLink(clientURL, tcTokenURL string) string {
	u, err := url.Parse(clientURL)
	if err != nil {
		return clientURL
	}
	q := u.Query()
	q.Set("tcTokenURL", tcTokenURL)
	u.RawQuery = q.Encode()
	return u.String()
}

// cancelLink sends the person back to the callback as an eID-Client does
// after a cancellation; Finish still asks the eID-Server.
func cancelLink(callback string) string {
	return addQuery(callback, url.Values{"ResultMajor": {"error"}, "ResultMinor": {"cancellationByUser"}})
}

func addQuery(raw string, v url.Values) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Routes serves the TC Token at /tctoken/{ref} (mounted by the broker at
// /eid/). The eID-Client fetches it without cookies; the reference is the
// only key, and it works once.
func (a *Adapter) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tctoken/{ref}", a.serveTCToken)
	return mux
}

func (a *Adapter) serveTCToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	ref := r.PathValue("ref")
	if !refPattern.MatchString(ref) {
		http.Error(w, "unknown or used TC Token reference", http.StatusNotFound)
		return
	}
	sealed, err := a.store.Take(r.Context(), kindTCToken, tcTokenKey(ref))
	switch {
	case errors.Is(err, store.ErrNotFound):
		http.Error(w, "unknown or used TC Token reference", http.StatusNotFound)
		return
	case err != nil:
		a.log.ErrorContext(r.Context(), "eid tc token store failed", "err", err)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	tok, err := openTCToken(ref, sealed)
	if err != nil {
		a.log.ErrorContext(r.Context(), "eid tc token record unusable", "err", err)
		http.Error(w, "unknown or used TC Token reference", http.StatusNotFound)
		return
	}
	body, err := tok.Marshal()
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(body)
}

// Finish asks the eID-Server for the result. The ResultMajor in the refresh
// URL is never trusted for success; it only explains a failure when the
// eID-Server has no result.
func (a *Adapter) Finish(ctx context.Context, req adapters.Request, stateBytes []byte, r *http.Request) (adapters.Identity, error) {
	id, err := a.finish(ctx, stateBytes, r)
	if err != nil {
		return adapters.Identity{}, adapters.WithReason(reasonFor(err), err)
	}
	return id, nil
}

// reasonFor tells the broker which page explains a refusal to the person.
func reasonFor(err error) adapters.Reason {
	switch {
	case errors.Is(err, ErrInvalidDocument), errors.Is(err, ErrCardOrClientError):
		return adapters.ReasonCardBlocked
	case errors.Is(err, ErrDeniedDocument):
		return adapters.ReasonDocumentNotAccepted
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrCertificate):
		return adapters.ReasonUpstreamUnreachable
	}
	return ""
}

func (a *Adapter) finish(ctx context.Context, stateBytes []byte, r *http.Request) (adapters.Identity, error) {
	var st state
	if err := json.Unmarshal(stateBytes, &st); err != nil || st.V != stateVersion || !validSessionID(st.SessionID) || st.RefreshHash == "" {
		return adapters.Identity{}, fmt.Errorf("finish eid login: %w", ErrState)
	}
	if r == nil {
		return adapters.Identity{}, fmt.Errorf("finish eid login: %w: no request", ErrRefreshSecret)
	}
	q := r.URL.Query()
	clientMajor, clientMinor := q.Get("ResultMajor"), q.Get("ResultMinor")
	if subtle.ConstantTimeCompare([]byte(secretHash(q.Get(refreshSecretParam))), []byte(st.RefreshHash)) != 1 {
		if clientMajor == "error" && clientMinor == "cancellationByUser" && q.Get(refreshSecretParam) == "" {
			// The start page's own cancel link (it cannot carry the
			// secret). It ends the attempt without asking the eID-Server,
			// so it can never collect a result.
			return adapters.Identity{}, fmt.Errorf("finish eid login: cancelled on the start page: %w", adapters.ErrCancelled)
		}
		return adapters.Identity{}, fmt.Errorf("finish eid login: %w", ErrRefreshSecret)
	}
	deadline := a.now().Add(a.s.resultPoll)
	var resp *GetResultResponse
	for {
		counter, err := a.nextCounter(ctx, st.SessionID)
		if err != nil {
			return adapters.Identity{}, fmt.Errorf("finish eid login: request counter: %w", err)
		}
		resp, err = a.client.GetResult(ctx, st.SessionID, counter)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNoResultYet) {
			a.log.InfoContext(ctx, "eid getResult failed", "err", err)
			return adapters.Identity{}, fmt.Errorf("finish eid login: %w", err)
		}
		if clientMajor == "error" {
			// The eID-Client gave up and the server never got a result.
			cause := ErrClient
			if clientMinor == "cancellationByUser" {
				cause = adapters.ErrCancelled
			}
			return adapters.Identity{}, fmt.Errorf("finish eid login: eID-Client reported %q: %w", clientMinor, cause)
		}
		if !a.now().Add(a.s.pollInterval).Before(deadline) {
			return adapters.Identity{}, fmt.Errorf("finish eid login: %w", err)
		}
		t := time.NewTimer(a.s.pollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return adapters.Identity{}, fmt.Errorf("finish eid login: %w", ctx.Err())
		case <-t.C:
		}
	}
	return a.identity(st, resp)
}

func (a *Adapter) identity(st state, resp *GetResultResponse) (adapters.Identity, error) {
	requested := map[string]bool{}
	for _, n := range st.Requested {
		requested[n] = true
	}
	allowed := resp.OperationsAllowedByUser
	for _, n := range st.Required {
		if allowed != nil && allowed.Get(n) == Prohibited {
			return adapters.Identity{}, fmt.Errorf("finish eid login: %w: %s", ErrRequiredDenied, n)
		}
	}
	pd := minimise(resp.PersonalData, requested)
	if pd == nil || pd.RestrictedID == nil {
		return adapters.Identity{}, fmt.Errorf("finish eid login: %w: RestrictedID", ErrRequiredDenied)
	}
	sub, err := restrictedID(pd.RestrictedID)
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("finish eid login: %w", err)
	}
	r2 := *resp
	r2.PersonalData = pd
	if !requested["AgeVerification"] {
		r2.FulfilsAgeVerification = nil
	}
	if !requested["PlaceVerification"] {
		r2.FulfilsPlaceVerification = nil
	}
	claims, err := mapClaims(&r2, st.Age)
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("finish eid login: %w", err)
	}
	level, err := a.level(resp, pd)
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("finish eid login: %w", err)
	}
	return adapters.Identity{Subject: sub, Level: level, AuthTime: a.now(), Claims: claims}, nil
}

// level is what the evidence proves: the card-based eID is high unless the
// eID-Server reports a lower LoA, then capped per document type.
func (a *Adapter) level(resp *GetResultResponse, pd *PersonalData) (assurance.Level, error) {
	level := assurance.High
	if uri := resp.LevelOfAssurance(); uri != "" {
		if uri == "http://bsi.bund.de/eID/LoA/undefined" {
			return assurance.Unspecified, fmt.Errorf("%w: eID-Server reports an undefined level of assurance", ErrDeniedDocument)
		}
		l, err := assurance.Parse(uri)
		if err != nil || !l.Notified() {
			return assurance.Unspecified, fmt.Errorf("%w: level of assurance %q", ErrProtocol, uri)
		}
		if l < level {
			level = l
		}
	}
	if len(a.s.caps) > 0 {
		doc := strings.TrimSpace(pd.DocumentType)
		if doc == "" {
			return assurance.Unspecified, fmt.Errorf("%w: document type missing but level caps are configured", ErrRequiredDenied)
		}
		if c, ok := a.s.caps[doc]; ok && c < level {
			level = c
		}
	}
	return level, nil
}

// minimise drops data groups that were not asked for: whatever the server
// sends beyond the request is never passed on.
func minimise(in *PersonalData, requested map[string]bool) *PersonalData {
	if in == nil {
		return nil
	}
	pd := *in
	drop := func(name string, f func()) {
		if !requested[name] {
			f()
		}
	}
	drop("DocumentType", func() { pd.DocumentType = "" })
	drop("IssuingState", func() { pd.IssuingState = "" })
	drop("DateOfExpiry", func() { pd.DateOfExpiry = "" })
	drop("GivenNames", func() { pd.GivenNames = "" })
	drop("FamilyNames", func() { pd.FamilyNames = "" })
	drop("ArtisticName", func() { pd.ArtisticName = nil })
	drop("AcademicTitle", func() { pd.AcademicTitle = nil })
	drop("DateOfBirth", func() { pd.DateOfBirth = nil })
	drop("PlaceOfBirth", func() { pd.PlaceOfBirth = nil })
	drop("Nationality", func() { pd.Nationality = "" })
	drop("BirthName", func() { pd.BirthName = nil })
	drop("PlaceOfResidence", func() { pd.PlaceOfResidence = nil })
	drop("CommunityID", func() { pd.CommunityID, pd.MunicipalityID = "", "" })
	drop("ResidencePermitI", func() { pd.ResidencePermitI = "" })
	drop("RestrictedID", func() { pd.RestrictedID = nil })
	return &pd
}

// nextCounter returns the next RequestCounter for a session (1, 2, …). It
// lives in the store, so a second Finish or another replica continues the
// sequence instead of replaying a counter the eID-Server has seen.
func (a *Adapter) nextCounter(ctx context.Context, sessionID string) (int, error) {
	h := sha256.Sum256([]byte(sessionID))
	key := hex.EncodeToString(h[:])
	for range 8 {
		e, err := a.store.Get(ctx, kindCounter, key)
		if errors.Is(err, store.ErrNotFound) {
			err = a.store.Create(ctx, kindCounter, key, []byte("1"), a.s.sessionTTL)
			if err == nil {
				return 1, nil
			}
			if errors.Is(err, store.ErrExists) {
				continue
			}
			return 0, err
		}
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(string(e.Value))
		if err != nil || n < 1 {
			return 0, fmt.Errorf("stored counter %q invalid", e.Value)
		}
		n++
		err = a.store.Swap(ctx, kindCounter, key, e.Revision, []byte(strconv.Itoa(n)), a.s.sessionTTL)
		if err == nil {
			return n, nil
		}
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			continue
		}
		return 0, err
	}
	return 0, errors.New("counter update kept conflicting")
}

// CheckHealth calls getServerInfo.
func (a *Adapter) CheckHealth(ctx context.Context) error {
	info, err := a.client.GetServerInfo(ctx)
	if err != nil {
		return fmt.Errorf("eid health: %w", err)
	}
	if info.ServerVersion.Major < 2 {
		return fmt.Errorf("eid health: %w: eID-Interface version %d.%d, want 2.x", ErrProtocol, info.ServerVersion.Major, info.ServerVersion.Minor)
	}
	return nil
}
