package broker

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Cookie names. With Secure cookies the __Host- prefix makes the browser
// refuse them unless set by this exact host over https with Path=/, so a
// sibling subdomain cannot plant a session or transaction binding.
func (s *Server) sessionCookieName() string { return s.cookiePrefix() + "broker_session" }

func (s *Server) txCookieName(id string) string { return s.cookiePrefix() + "broker_tx_" + logID(id) }

func (s *Server) cookiePrefix() string {
	if s.secure {
		return "__Host-"
	}
	return ""
}

func (s *Server) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	}
}

func (s *Server) expiredCookie(name string) *http.Cookie {
	c := s.cookie(name, "", 0)
	c.MaxAge = -1
	return c
}

// loadBoundTx loads the transaction of the URL and checks that this browser
// is the one that started it. The first visit binds it (the ID reached the
// browser by our own redirect); any other browser is refused. This is what
// makes a leaked login URL useless to an attacker.
func (s *Server) loadBoundTx(w http.ResponseWriter, r *http.Request) (*transaction, bool) {
	id := chi.URLParam(r, "tx")
	tx, err := s.getTx(r.Context(), id)
	if err != nil {
		s.storeFailure(w, r, err, "login transaction")
		return nil, false
	}
	c, cerr := r.Cookie(s.txCookieName(id))
	if tx.Binding == "" && r.Method == http.MethodGet {
		value := randomID()
		tx, err = s.updateTx(r.Context(), id, func(t *transaction) error {
			if t.Binding != "" {
				return errBoundElsewhere
			}
			t.Binding = hashKey(value)
			return nil
		})
		if err != nil {
			s.txError(w, r, err)
			return nil, false
		}
		http.SetCookie(w, s.cookie(s.txCookieName(id), value, txTTL))
		return tx, true
	}
	if cerr != nil || subtle.ConstantTimeCompare([]byte(hashKey(c.Value)), []byte(tx.Binding)) != 1 {
		s.log.WarnContext(r.Context(), "login used from another browser", "tx", logID(id))
		s.pages.errorPage(w, r, http.StatusForbidden, msgOtherBrowser)
		return nil, false
	}
	return tx, true
}

var errBoundElsewhere = errors.New("transaction bound to another browser")

func (s *Server) txError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errBoundElsewhere) {
		s.pages.errorPage(w, r, http.StatusForbidden, msgOtherBrowser)
		return
	}
	s.storeFailure(w, r, err, "login transaction")
}

// storeFailure answers a store error: unknown/expired is the person's
// problem (start again), unavailable is ours (503).
func (s *Server) storeFailure(w http.ResponseWriter, r *http.Request, err error, what string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.pages.errorPage(w, r, http.StatusBadRequest, msgExpired)
	case errors.Is(err, store.ErrUnavailable):
		s.log.ErrorContext(r.Context(), "store unavailable", "what", what, "err", err)
		s.pages.errorPage(w, r, http.StatusServiceUnavailable, msgUnavailable)
	default:
		s.log.ErrorContext(r.Context(), "store failure", "what", what, "err", err)
		s.pages.errorPage(w, r, http.StatusInternalServerError, msgInternal)
	}
}

// currentSession returns the browser's SSO session if it is still valid.
// Only a store outage is an error: no cookie, an unknown or an expired
// session all mean "no session".
func (s *Server) currentSession(r *http.Request) (*session, string, error) {
	c, err := r.Cookie(s.sessionCookieName())
	if err != nil || c.Value == "" {
		return nil, "", nil
	}
	sid := hashKey(c.Value)
	var sess session
	if _, err := s.data.get(r.Context(), store.KindSession, sid, &sess); err != nil {
		if errors.Is(err, store.ErrUnavailable) {
			return nil, "", err
		}
		return nil, "", nil
	}
	if !s.now().Before(sess.Expiry) {
		return nil, "", nil
	}
	return &sess, sid, nil
}

// loginPage is where the library sends the browser after /authorize.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	tx, ok := s.loadBoundTx(w, r)
	if !ok {
		return
	}
	client := s.clients[tx.ClientID]
	sess, sid, err := s.currentSession(r)
	if err != nil {
		s.storeFailure(w, r, err, "session")
		return
	}
	if sess != nil && s.sessionUsable(tx, sess, client) {
		s.finishWithSession(w, r, tx, sess, sid)
		return
	}
	if slices.Contains(tx.Prompt, oidc.PromptNone) {
		s.errorToClient(w, r, tx, oidc.ErrLoginRequired().WithDescription("no session that meets the request"))
		return
	}
	s.pages.methods(w, r, tx, client, s.offeredMethods(tx.Floor))
}

// sessionUsable decides SSO reuse: not for prompt=login, not past max_age,
// not below the floor (that is step-up), not for another person than the
// id_token_hint names.
func (s *Server) sessionUsable(tx *transaction, sess *session, client *opClient) bool {
	if slices.Contains(tx.Prompt, oidc.PromptLogin) {
		return false
	}
	if tx.MaxAge != nil && s.now().Sub(sess.Identity.AuthTime) > time.Duration(*tx.MaxAge)*time.Second {
		return false
	}
	if !sess.Identity.Level.Satisfies(tx.Floor) {
		return false
	}
	if _, ok := acrFor(sess.Identity.Level, tx.EssentialACR); !ok {
		return false
	}
	if tx.HintSubject != "" && tx.HintSubject != s.pairwiseSubject(client.c.Sector, sess.AdapterID, sess.Identity.Subject) {
		return false
	}
	return true
}

// method is one entry of the method-selection page.
type method struct {
	ID      string
	Name    adapters.Text
	Level   assurance.Level
	Options []adapters.Option
	// Below lists options that cannot reach the floor; they are shown
	// without a way to choose them, with the level they do reach, so the
	// person sees why (a country that only reaches substantial).
	Below []adapters.Option
	// Insufficient marks a whole method that cannot reach the floor.
	Insufficient bool
}

// offeredMethods lists what can reach the floor as choices and what
// cannot as explained, unselectable entries: the page never lets the
// person start a login that would end in a refusal.
func (s *Server) offeredMethods(floor assurance.Level) []method {
	var out []method
	for i := range s.adapters {
		a := &s.adapters[i]
		info := a.Adapter.Info()
		m := method{ID: a.ID, Name: info.Name, Level: a.effectiveMax("")}
		if len(info.Options) > 0 {
			for _, o := range info.Options {
				l := a.effectiveMax(o.ID)
				switch {
				case l.Satisfies(floor):
					o.Level = l
					m.Options = append(m.Options, o)
				case o.Unavailable != "" && o.Level.Satisfies(floor):
					// Unavailable right now but able in principle: listed
					// disabled with its configured level.
					m.Options = append(m.Options, o)
				default:
					if o.Unavailable == "" {
						o.Level = l
					}
					m.Below = append(m.Below, o)
				}
			}
			m.Insufficient = len(m.Options) == 0
		} else {
			m.Insufficient = !m.Level.Satisfies(floor)
		}
		out = append(out, m)
	}
	return out
}

// anyUsable reports whether at least one method can reach the floor.
func anyUsable(ms []method) bool {
	for _, m := range ms {
		if !m.Insufficient {
			return true
		}
	}
	return false
}

func (s *Server) adapterRequest(tx *transaction, option string) adapters.Request {
	client := s.clients[tx.ClientID]
	var claims []string
	for name := range requestedClaimNames(tx.Scopes, tx.Claims) {
		if client.allowed[name] {
			claims = append(claims, name)
		}
	}
	slices.Sort(claims)
	return adapters.Request{
		TxID: tx.ID, Ref: tx.Ref, MinLevel: tx.Floor, Option: option,
		CallbackURL: s.issuer + "/login/cb/" + tx.Ref, BaseURL: s.issuer,
		Claims: claims, Locale: pickLang(tx.UILocales, nil),
	}
}

// start runs the chosen adapter's Begin.
func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	tx, ok := s.loadBoundTx(w, r)
	if !ok {
		return
	}
	a := s.byID[r.PostFormValue("method")]
	option := r.PostFormValue("option")
	if a == nil || len(a.Adapter.Info().Options) > 0 && option == "" || !a.effectiveMax(option).Satisfies(tx.Floor) {
		// The page only offers what reaches the floor; anything else is a
		// forged or stale form.
		s.pages.errorPage(w, r, http.StatusBadRequest, msgBadChoice)
		return
	}
	req := s.adapterRequest(tx, option)
	handoff, state, err := a.Adapter.Begin(r.Context(), req)
	if errors.Is(err, store.ErrUnavailable) {
		s.storeFailure(w, r, err, "adapter begin")
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "adapter begin failed", "tx", logID(tx.ID), "adapter", a.ID, "err", err)
		s.pages.errorPage(w, r, http.StatusBadGateway, msgUpstream)
		return
	}
	if state == nil {
		state = []byte{}
	}
	_, err = s.updateTx(r.Context(), tx.ID, func(t *transaction) error {
		t.AdapterID, t.Option, t.AdapterState, t.Identity = a.ID, option, state, nil
		return nil
	})
	if err != nil {
		s.txError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "upstream login started", "tx", logID(tx.ID), "adapter", a.ID, "option", option)
	s.pages.handoff(w, r, handoff)
}

// callback receives the upstream's answer. It needs no cookie (a SAML POST
// from a foreign node is cross-site, so SameSite cookies are absent): the
// answer is bound to the transaction by the adapter's state. The browser
// is then sent to /done, which is cookie-bound again.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := s.raw.Get(ctx, store.KindTransaction, "ref:"+chi.URLParam(r, "ref"))
	if err != nil {
		s.storeFailure(w, r, err, "login reference")
		return
	}
	var state []byte
	tx, err := s.updateTx(ctx, string(id.Value), func(t *transaction) error {
		if t.AdapterState == nil {
			return errNoPendingLogin
		}
		state, t.AdapterState = t.AdapterState, nil // single use: a replayed answer finds nothing
		return nil
	})
	if errors.Is(err, errNoPendingLogin) {
		s.log.WarnContext(ctx, "upstream answer without a pending login (replay?)", "tx", logID(string(id.Value)))
		s.pages.errorPage(w, r, http.StatusBadRequest, msgReplay)
		return
	}
	if err != nil {
		s.txError(w, r, err)
		return
	}
	a := s.byID[tx.AdapterID]
	if a == nil {
		s.pages.errorPage(w, r, http.StatusBadRequest, msgExpired)
		return
	}
	ident, err := a.Adapter.Finish(ctx, s.adapterRequest(tx, tx.Option), state, r)
	if errors.Is(err, adapters.ErrCancelled) {
		s.log.InfoContext(ctx, "person cancelled upstream", "tx", logID(tx.ID), "adapter", a.ID)
		s.metrics.inc("broker_upstream_total", "adapter", a.ID, "result", "cancelled")
		s.errorToClient(w, r, tx, oidc.ErrAccessDenied().WithDescription("the person cancelled the login"))
		return
	}
	if retryable(err) {
		// The upstream has no result yet (the eID-Server before the card
		// is read): put the state back so the same answer can be fetched
		// again, and let the person continue when the upstream is done.
		if _, rerr := s.updateTx(ctx, tx.ID, func(t *transaction) error {
			if t.AdapterState == nil {
				t.AdapterState = state
			}
			return nil
		}); rerr != nil {
			s.txError(w, r, rerr)
			return
		}
		s.log.InfoContext(ctx, "upstream has no result yet", "tx", logID(tx.ID), "adapter", a.ID)
		s.pages.wait(w, r, tx, s.issuer+"/login/cb/"+tx.Ref)
		return
	}
	if errors.Is(err, store.ErrUnavailable) {
		s.storeFailure(w, r, err, "adapter finish")
		return
	}
	if err != nil {
		s.log.WarnContext(ctx, "upstream login failed", "tx", logID(tx.ID), "adapter", a.ID, "err", err)
		s.metrics.inc("broker_upstream_total", "adapter", a.ID, "result", "failed")
		s.pages.retryPage(w, r, tx, http.StatusBadRequest, msgUpstreamFailed)
		return
	}
	// Adapters report, the broker enforces: cap by what the admin allows
	// for this adapter/option, then check the floor.
	proved := ident.Level
	if max := a.effectiveMax(tx.Option); proved.Notified() && max.Notified() && max < proved {
		proved = max
	}
	acr, ok := acrFor(proved, tx.EssentialACR)
	if !proved.Satisfies(tx.Floor) || !ok {
		s.log.InfoContext(ctx, "proved level below the floor", "tx", logID(tx.ID), "adapter", a.ID,
			"proved", proved.String(), "floor", tx.Floor.String())
		s.metrics.inc("broker_upstream_total", "adapter", a.ID, "result", "below_floor")
		s.pages.unmet(w, r, tx, proved)
		return
	}
	ident.Level = proved
	if ident.AuthTime.IsZero() {
		ident.AuthTime = s.now()
	}
	_, err = s.updateTx(ctx, tx.ID, func(t *transaction) error {
		t.Identity, t.AuthTime, t.ACR = &ident, ident.AuthTime, acr
		t.AMR = []string{a.Adapter.Info().Type}
		return nil
	})
	if err != nil {
		s.txError(w, r, err)
		return
	}
	s.log.InfoContext(ctx, "upstream login verified", "tx", logID(tx.ID), "adapter", a.ID, "level", proved.String())
	s.metrics.inc("broker_upstream_total", "adapter", a.ID, "result", "verified")
	http.Redirect(w, r, s.issuer+"/login/"+tx.ID+"/done", http.StatusSeeOther)
}

var errNoPendingLogin = errors.New("no pending upstream login")

// retryable reports whether an adapter error says "not yet, ask again"
// (an error with Retryable() true anywhere in its chain).
func retryable(err error) bool {
	var r interface{ Retryable() bool }
	return err != nil && errors.As(err, &r) && r.Retryable()
}

// done starts the SSO session for a fresh upstream login, in the browser
// that began the transaction.
func (s *Server) done(w http.ResponseWriter, r *http.Request) {
	tx, ok := s.loadBoundTx(w, r)
	if !ok {
		return
	}
	if tx.Identity == nil || tx.SessionID != "" {
		http.Redirect(w, r, s.issuer+"/login/"+tx.ID, http.StatusSeeOther)
		return
	}
	if old, oldID, _ := s.currentSession(r); old != nil {
		_ = s.raw.Delete(r.Context(), store.KindSession, oldID) // step-up replaces it
	}
	lifetime := s.lifetimes[tx.Identity.Level]
	sess := &session{
		AdapterID: tx.AdapterID, Identity: *tx.Identity,
		Expiry: tx.Identity.AuthTime.Add(lifetime), Consents: map[string][]string{},
	}
	ttl := sess.Expiry.Sub(s.now())
	if ttl <= 0 {
		s.pages.retryPage(w, r, tx, http.StatusBadRequest, msgUpstreamFailed)
		return
	}
	cookieValue := randomID()
	sid := hashKey(cookieValue)
	if err := s.data.create(r.Context(), store.KindSession, sid, sess, ttl); err != nil {
		s.storeFailure(w, r, err, "session")
		return
	}
	http.SetCookie(w, s.cookie(s.sessionCookieName(), cookieValue, ttl))
	s.finishWithSession(w, r, tx, sess, sid)
}

// finishWithSession derives what the portal gets and asks for consent
// unless the client is implicit or the person already agreed in this session.
func (s *Server) finishWithSession(w http.ResponseWriter, r *http.Request, tx *transaction, sess *session, sid string) {
	client := s.clients[tx.ClientID]
	acr, ok := acrFor(sess.Identity.Level, tx.EssentialACR)
	if !ok {
		s.pages.unmet(w, r, tx, sess.Identity.Level)
		return
	}
	authTime := sess.Identity.AuthTime
	tx, err := s.updateTx(r.Context(), tx.ID, func(t *transaction) error {
		ident := sess.Identity
		t.Identity, t.SessionID, t.AuthTime, t.ACR = &ident, sid, authTime, acr
		t.Subject = s.pairwiseSubject(client.c.Sector, sess.AdapterID, sess.Identity.Subject)
		if a := s.byID[sess.AdapterID]; a != nil {
			t.AMR = []string{a.Adapter.Info().Type}
		}
		return nil
	})
	if err != nil {
		s.txError(w, r, err)
		return
	}
	released := releasedClaims(tx.Identity.Claims, tx.Scopes, tx.Claims, client.allowed)
	if client.c.ImplicitConsent || consented(sess, tx.ClientID, released) {
		s.complete(w, r, tx)
		return
	}
	if slices.Contains(tx.Prompt, oidc.PromptNone) {
		s.errorToClient(w, r, tx, &oidc.Error{ErrorType: "consent_required", Description: "consent is required"})
		return
	}
	s.pages.consent(w, r, tx, client, released, s.servicesOf(tx, client))
}

func consented(sess *session, clientID string, released map[string]any) bool {
	given, ok := sess.Consents[clientID]
	if !ok {
		return false
	}
	for name := range released {
		if !slices.Contains(given, name) {
			return false
		}
	}
	return true
}

func (s *Server) servicesOf(tx *transaction, client *opClient) []Service {
	var out []Service
	for _, id := range tx.Services {
		if svc, ok := client.service(id); ok {
			out = append(out, svc)
		}
	}
	return out
}

// consent takes the person's decision.
func (s *Server) consent(w http.ResponseWriter, r *http.Request) {
	tx, ok := s.loadBoundTx(w, r)
	if !ok {
		return
	}
	if tx.Identity == nil || tx.SessionID == "" {
		http.Redirect(w, r, s.issuer+"/login/"+tx.ID, http.StatusSeeOther)
		return
	}
	if r.PostFormValue("action") != "allow" {
		s.errorToClient(w, r, tx, oidc.ErrAccessDenied().WithDescription("the person declined to release the data"))
		return
	}
	client := s.clients[tx.ClientID]
	released := releasedClaims(tx.Identity.Claims, tx.Scopes, tx.Claims, client.allowed)
	var sess session
	err := s.data.update(r.Context(), store.KindSession, tx.SessionID, &sess, func() (time.Duration, error) {
		if sess.Consents == nil {
			sess.Consents = map[string][]string{}
		}
		sess.Consents[tx.ClientID] = sortedKeys(released)
		return sess.Expiry.Sub(s.now()), nil
	})
	if err != nil {
		s.storeFailure(w, r, err, "session")
		return
	}
	s.complete(w, r, tx)
}

// complete marks the transaction done and lets the library issue the code.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, tx *transaction) {
	tx, err := s.updateTx(r.Context(), tx.ID, func(t *transaction) error {
		t.Completed = true
		return nil
	})
	if err != nil {
		s.txError(w, r, err)
		return
	}
	code, err := op.CreateAuthRequestCode(r.Context(), tx, s.provider.Storage(), s.provider.Crypto())
	if err != nil {
		var se op.StatusError
		if errors.As(err, &se) {
			s.storeFailure(w, r, store.ErrUnavailable, "code")
			return
		}
		s.log.ErrorContext(r.Context(), "issue code failed", "tx", logID(tx.ID), "err", err)
		s.pages.errorPage(w, r, http.StatusInternalServerError, msgInternal)
		return
	}
	s.log.InfoContext(r.Context(), "login completed", "tx", logID(tx.ID), "client", tx.ClientID, "acr", tx.ACR)
	s.metrics.inc("broker_logins_total", "client", tx.ClientID, "result", "completed", "acr", tx.ACR)
	http.SetCookie(w, s.expiredCookie(s.txCookieName(tx.ID)))
	s.redirectToClient(w, r, tx, url.Values{"code": {code}})
}

// redirectToClient answers the portal at its validated redirect URI with
// state and iss (RFC 9207, against mix-up attacks), keeping any query the
// registered URI has.
func (s *Server) redirectToClient(w http.ResponseWriter, r *http.Request, tx *transaction, params url.Values) {
	u, err := url.Parse(tx.RedirectURI)
	if err != nil {
		s.pages.errorPage(w, r, http.StatusInternalServerError, msgInternal)
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if tx.State != "" {
		q.Set("state", tx.State)
	}
	q.Set("iss", s.issuer)
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// cancel returns the person to the portal with an error: access_denied, or
// unmet_authentication_requirements when no method could reach the floor.
func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	tx, ok := s.loadBoundTx(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("reason") == "unmet" {
		s.errorToClient(w, r, tx, errUnmet("the required level of assurance could not be reached"))
		return
	}
	s.errorToClient(w, r, tx, oidc.ErrAccessDenied().WithDescription("the person cancelled the login"))
}

// errorToClient ends the transaction and redirects the error to the
// portal's validated redirect URI with its state.
func (s *Server) errorToClient(w http.ResponseWriter, r *http.Request, tx *transaction, e *oidc.Error) {
	s.metrics.inc("broker_logins_total", "client", tx.ClientID, "result", string(e.ErrorType))
	s.deleteTx(r.Context(), tx)
	http.SetCookie(w, s.expiredCookie(s.txCookieName(tx.ID)))
	s.log.InfoContext(r.Context(), "login ended with an error to the portal", "tx", logID(tx.ID), "client", tx.ClientID, "error", string(e.ErrorType))
	params := url.Values{"error": {string(e.ErrorType)}}
	if e.Description != "" {
		params.Set("error_description", e.Description)
	}
	s.redirectToClient(w, r, tx, params)
}

func (s *Server) deleteTx(ctx context.Context, tx *transaction) {
	_ = s.raw.Delete(ctx, store.KindTransaction, tx.ID)
	_ = s.raw.Delete(ctx, store.KindTransaction, "ref:"+tx.Ref)
}

// logoutConfirm asks the person before an RP-initiated logout that came
// without an id_token_hint; the POST (same-site, so the Lax session
// cookie is sent) does it.
func (s *Server) logoutConfirm(w http.ResponseWriter, r *http.Request) {
	s.pages.render(w, http.StatusOK, "logout.html", map[string]any{"Lang": langOf(r, nil)})
}

func (s *Server) logoutConfirmed(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.sessionCookieName()); err == nil && c.Value != "" {
		if err := s.raw.Delete(r.Context(), store.KindSession, hashKey(c.Value)); err != nil {
			s.storeFailure(w, r, err, "session")
			return
		}
	}
	s.loggedOut(w, r)
}

func (s *Server) loggedOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, s.expiredCookie(s.sessionCookieName()))
	s.pages.loggedOut(w, r)
}
