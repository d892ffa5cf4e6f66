package broker

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/audit"
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
// is the one that started it. Transactions are bound when created, in the
// answer to /authorize (authorizeInline); one without a binding (created
// by a replica of an older version, which redirected to this page) is
// bound by its first visit, as then: the ID reached that browser by our
// own redirect. Any other browser is refused. This is what makes a leaked
// login URL useless to an attacker.
func (s *Server) loadBoundTx(w http.ResponseWriter, r *http.Request) (*transaction, bool) {
	id := chi.URLParam(r, "tx")
	tx, err := s.getTx(r.Context(), id)
	if err != nil {
		s.storeFailure(w, r, err, "login transaction")
		return nil, false
	}
	if tx.Binding == "" && r.Method == http.MethodGet {
		value := randomID()
		tx, err = s.updateLoadedTx(r.Context(), tx, func(t *transaction) error {
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
		s.setClientHint(w, tx.ClientID)
		return tx, true
	}
	name := s.txCookieName(id)
	c, cerr := r.Cookie(name)
	if !boundBy(tx, c, cerr) {
		s.log.WarnContext(r.Context(), "login used from another browser", "tx", logID(id))
		msg := msgOtherBrowser
		if cerr != nil {
			// No cookie at all: most likely it expired while the person
			// was away, not another browser.
			msg = msgCookieLost
		}
		s.pages.errorPage(w, r, http.StatusForbidden, msg)
		return nil, false
	}
	// Renew the binding while the person acts, so a slow person is not
	// cut off after the first 15 minutes; the store record is renewed by
	// every update.
	http.SetCookie(w, s.cookie(name, c.Value, txTTL))
	s.setClientHint(w, tx.ClientID)
	return tx, true
}

var errBoundElsewhere = errors.New("transaction bound to another browser")

// clientHintCookie remembers which portal the browser's last login was
// for (a client ID, no personal data), so that a page for an expired or
// unknown login can still offer the way back to that portal.
const clientHintCookie = "broker_portal"

func (s *Server) setClientHint(w http.ResponseWriter, clientID string) {
	c := s.cookie(clientHintCookie, clientID, 24*time.Hour)
	http.SetCookie(w, c)
}

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
	if tx, ok = s.renewStale(w, r, tx); !ok {
		return
	}
	s.showLogin(w, r, tx)
}

// showLogin continues a bound login: with the SSO session when it
// suffices, else with the method page.
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, tx *transaction) {
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
	var note adapters.Text
	// The query is the whole authorization request when the page is the
	// answer to /authorize: parsed again only if it can hold the flag.
	if strings.Contains(r.URL.RawQuery, "cancelled=") && r.URL.Query().Get("cancelled") == "1" {
		note = msgCancelledUpstream
	}
	ms := s.offeredMethods(tx.Floor)
	s.pages.methodPage(w, r, tx, ms, note, s.methodGroups)
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
	out := make([]method, 0, len(s.adapters))
	for i := range s.adapters {
		a := &s.adapters[i]
		info := a.Adapter.Info()
		m := method{ID: a.ID, Name: info.Name, Level: a.effectiveMaxIn(info, "")}
		if len(info.Options) > 0 {
			for _, o := range info.Options {
				l := a.effectiveMaxIn(info, o.ID)
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

func (s *Server) adapterRequest(r *http.Request, tx *transaction, option string) adapters.Request {
	client := s.clients[tx.ClientID]
	var claims []string // nil when nothing is asked for: adapters tell nil from empty
	for name, ok := range client.allowed {
		if ok && claimRequested(tx.Scopes, tx.Claims, name) {
			claims = append(claims, name)
		}
	}
	slices.Sort(claims)
	return withLoginContext(adapters.Request{
		TxID: tx.ID, Ref: tx.Ref, MinLevel: tx.Floor, Option: option,
		CallbackURL: s.issuer + "/login/cb/" + tx.Ref, BaseURL: s.issuer,
		Claims: claims, Locale: langOf(r, tx),
	}, tx)
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
	req := s.adapterRequest(r, tx, option)
	began := time.Now()
	handoff, state, err := a.Adapter.Begin(r.Context(), req)
	s.metrics.observeUpstream(a.ID, "begin", began, err)
	if errors.Is(err, store.ErrUnavailable) {
		s.storeFailure(w, r, err, "adapter begin")
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "adapter begin failed", "tx", logID(tx.ID), "adapter", a.ID, "err", err)
		s.pages.retryPage(w, r, tx, http.StatusBadGateway, msgUpstream)
		return
	}
	if state == nil {
		state = []byte{}
	}
	_, err = s.updateLoadedTx(r.Context(), tx, func(t *transaction) error {
		t.AdapterID, t.Option, t.AdapterState, t.Identity = a.ID, option, state, nil
		// A new attempt: whatever an earlier one left undelivered or
		// counted is void.
		t.Delivered, t.DeliveryHash, t.DeliveredACR, t.Failures, t.Failure = nil, "", "", 0, ""
		return nil
	})
	if err != nil {
		s.txError(w, r, err)
		return
	}
	s.keepRef(r.Context(), tx)
	// Debug: a completed login is logged at info ("login completed"), a
	// refused answer too; one info line less per login.
	s.log.DebugContext(r.Context(), "upstream login started", "tx", logID(tx.ID), "adapter", a.ID, "option", option)
	s.pages.handoff(w, r, tx, handoff)
}

// maxCallbackFailures is how many refused upstream answers one attempt
// survives. A refused answer leaves the adapter state in place, so a junk
// request by someone who knows the reference cannot end a genuine login;
// the bound keeps a broken or hostile upstream from being retried forever.
const maxCallbackFailures = 3

// callback receives the upstream's answer. It needs no cookie (a SAML POST
// from a foreign node is cross-site, so SameSite cookies are absent): the
// answer is bound to the transaction by the adapter's state.
//
// Browser binding (DESIGN §5): the identity the answer proves is not put
// into the transaction. It waits under a fresh one-time handle, and only
// the browser that delivered the answer learns the handle (by our
// redirect to /done). /done then also demands the transaction's binding
// cookie. So a login started by an attacker and authenticated by a victim
// (the relay of BSI TR-03124's eID flow, or of a forwarded SAML
// AuthnRequest) reaches neither browser: the victim has the handle but
// not the cookie, the attacker the cookie but not the handle.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ref := chi.URLParam(r, "ref")
	id, err := s.raw.Get(ctx, store.KindTransaction, "ref:"+ref)
	if err != nil {
		s.storeFailure(w, r, err, "login reference")
		return
	}
	tx, err := s.getTx(ctx, string(id.Value))
	if err != nil {
		s.storeFailure(w, r, err, "login transaction")
		return
	}
	if tx.AdapterState == nil {
		if r.Method == http.MethodGet && tx.Identity != nil && s.holdsBinding(r, tx) {
			// The browser that finished this login reloads the callback
			// (the eID refresh address): it continues where the login is.
			// The answer is not processed again.
			http.Redirect(w, r, s.issuer+"/login/"+tx.ID, http.StatusSeeOther)
			return
		}
		s.log.WarnContext(ctx, "upstream answer without a pending login (replay?)", "tx", logID(tx.ID))
		s.pages.errorPage(w, r, http.StatusBadRequest, msgReplay)
		return
	}
	a := s.byID[tx.AdapterID]
	if a == nil {
		s.pages.errorPage(w, r, http.StatusBadRequest, msgExpired)
		return
	}
	state := tx.AdapterState
	began := time.Now()
	ident, err := a.Adapter.Finish(ctx, s.adapterRequest(r, tx, tx.Option), state, r)
	s.metrics.observeUpstream(a.ID, "finish", began, err)
	switch {
	case retryable(err):
		// The upstream has no result yet (the eID-Server before the card
		// is read): the state stays, and the same request (with whatever
		// one-time secret its URL carries) asks again.
		s.log.InfoContext(ctx, "upstream has no result yet", "tx", logID(tx.ID), "adapter", a.ID)
		s.pages.wait(w, r, tx, s.callbackRetryURL(r, tx))
		return
	case errors.Is(err, adapters.ErrCancelled):
		s.log.InfoContext(ctx, "person cancelled upstream", "tx", logID(tx.ID), "adapter", a.ID)
		s.metrics.inc("broker_upstream_total", "adapter", a.ID, "result", "cancelled")
		taken, err := s.takeAdapterState(ctx, tx, state, nil)
		if err != nil {
			s.callbackStateLost(w, r, tx, err)
			return
		}
		tx = taken
		if !s.holdsBinding(r, tx) {
			s.endRelayed(w, r, tx, "cancellation delivered by a browser without the binding cookie")
			return
		}
		// Back to the method page, not straight to the portal: the person
		// may pick another method; "cancel" there answers access_denied.
		http.Redirect(w, r, s.issuer+"/login/"+tx.ID+"?cancelled=1", http.StatusSeeOther)
		return
	case errors.Is(err, store.ErrUnavailable):
		s.storeFailure(w, r, err, "adapter finish")
		return
	case err != nil:
		s.callbackRefused(w, r, tx, a.ID, state, err)
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
		s.auditTx(ctx, audit.LevelNotMet, tx, proved.String())
		taken, err := s.takeAdapterState(ctx, tx, state, nil)
		if err != nil {
			s.callbackStateLost(w, r, tx, err)
			return
		}
		s.pages.unmet(w, r, taken, proved)
		return
	}
	ident.Level = proved
	if ident.AuthTime.IsZero() {
		ident.AuthTime = s.now()
	}
	// Debug: "login completed" (info) carries the adapter and the proved
	// level too, so one info line per login says what this one said.
	s.log.DebugContext(ctx, "upstream login verified", "tx", logID(tx.ID), "adapter", a.ID, "loa", proved.String())
	s.metrics.inc("broker_upstream_total", "adapter", a.ID, "result", "verified")
	if s.holdsBinding(r, tx) {
		// The browser that delivered the answer also started the login
		// (a same-site callback sends the binding cookie): both halves of
		// the binding are in this request, so the login goes on here,
		// without the detour through /done.
		s.openSession(w, r, tx, ident, acr, func(t *transaction) error {
			if t.AdapterState == nil || !bytes.Equal(t.AdapterState, state) {
				return errNoPendingLogin
			}
			return nil
		})
		return
	}
	handle := randomID()
	// On an error tx stays the one read: callbackStateLost names it.
	taken, err := s.takeAdapterState(ctx, tx, state, func(t *transaction) {
		t.Delivered, t.DeliveryHash, t.DeliveredACR = &ident, hashKey(handle), acr
	})
	if err != nil {
		s.callbackStateLost(w, r, tx, err)
		return
	}
	tx = taken
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.issuer+"/login/"+tx.ID+"/done?"+url.Values{"h": {handle}}.Encode(), http.StatusSeeOther)
}

// takeAdapterState consumes the adapter state of this attempt once Finish
// has decided, and applies f in the same compare-and-swap. It fails with
// errNoPendingLogin when another request consumed it first (two deliveries
// of one answer: only one wins) or a new attempt replaced it.
func (s *Server) takeAdapterState(ctx context.Context, tx *transaction, state []byte, f func(*transaction)) (*transaction, error) {
	return s.updateLoadedTx(ctx, tx, func(t *transaction) error {
		if t.AdapterState == nil || !bytes.Equal(t.AdapterState, state) {
			return errNoPendingLogin
		}
		t.AdapterState, t.Failures = nil, 0
		t.Failure = ""
		if f != nil {
			f(t)
		}
		return nil
	})
}

// callbackRefused counts an answer Finish refused. The attempt goes on
// (state kept) until maxCallbackFailures; then it is dropped and the
// person must pick a method again. Only the browser holding the binding
// sees the explanation with the way back; any other gets a plain page.
func (s *Server) callbackRefused(w http.ResponseWriter, r *http.Request, tx *transaction, adapterID string, state []byte, ferr error) {
	ctx := r.Context()
	s.metrics.inc("broker_upstream_total", "adapter", adapterID, "result", "failed")
	var dropped bool
	tx2, err := s.updateLoadedTx(ctx, tx, func(t *transaction) error {
		if t.AdapterState == nil || !bytes.Equal(t.AdapterState, state) {
			return errNoPendingLogin
		}
		t.Failures++
		t.Failure = failureUpstream
		if dropped = t.Failures >= maxCallbackFailures; dropped {
			t.AdapterState, t.Failures = nil, 0
		}
		return nil
	})
	if err != nil {
		s.callbackStateLost(w, r, tx, err)
		return
	}
	s.log.WarnContext(ctx, "upstream answer refused", "tx", logID(tx.ID), "adapter", adapterID,
		"attempt_dropped", dropped, "err", ferr)
	reason := string(adapters.ReasonOf(ferr))
	if reason == "" {
		reason = "not_verified"
	}
	s.auditTx(ctx, audit.UpstreamRefused, tx2, reason)
	if !s.holdsBinding(r, tx2) {
		s.pages.errorPage(w, r, http.StatusBadRequest, msgUpstreamFailed)
		return
	}
	s.pages.retryPage(w, r, tx2, http.StatusBadRequest, failureMessage(adapters.ReasonOf(ferr)))
}

// callbackStateLost answers a callback whose attempt was consumed or
// replaced meanwhile (a concurrent delivery of the same answer).
func (s *Server) callbackStateLost(w http.ResponseWriter, r *http.Request, tx *transaction, err error) {
	if errors.Is(err, errNoPendingLogin) {
		s.log.WarnContext(r.Context(), "upstream answer for an attempt already decided (replay?)", "tx", logID(tx.ID))
		s.pages.errorPage(w, r, http.StatusBadRequest, msgReplay)
		return
	}
	s.txError(w, r, err)
}

// callbackRetryURL is where the wait page lets the person ask again: the
// callback exactly as this browser reached it (its query may carry the
// one-time secret of the eID refresh address, which this browser already
// has), never a URL built from the reference alone.
func (s *Server) callbackRetryURL(r *http.Request, tx *transaction) string {
	u := s.issuer + "/login/cb/" + tx.Ref
	if r.Method == http.MethodGet && r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	return u
}

// Failure codes remembered in a transaction, so that "back to the portal"
// after a failed upstream answer is not reported as the person's cancel.
const failureUpstream = "upstream_failed"

var errNoPendingLogin = errors.New("no pending upstream login")

// retryable reports whether an adapter error says "not yet, ask again"
// (an error with Retryable() true anywhere in its chain).
func retryable(err error) bool {
	var r interface{ Retryable() bool }
	return err != nil && errors.As(err, &r) && r.Retryable()
}

// holdsBinding reports whether this browser holds the binding cookie of
// tx. Unlike loadBoundTx it never binds: it is for steps after the start.
func (s *Server) holdsBinding(r *http.Request, tx *transaction) bool {
	if tx.Binding == "" {
		return false
	}
	c, err := r.Cookie(s.txCookieName(tx.ID))
	return boundBy(tx, c, err)
}

// boundBy reports whether the binding cookie c (as r.Cookie returned it,
// with its error) holds the binding of tx.
func boundBy(tx *transaction, c *http.Cookie, err error) bool {
	return tx.Binding != "" && err == nil && subtle.ConstantTimeCompare([]byte(hashKey(c.Value)), []byte(tx.Binding)) == 1
}

// endRelayed ends a transaction whose upstream answer was delivered by a
// browser that did not start it: the person in front of this browser
// authenticated for a login someone else began. Nothing is passed on, and
// the starting browser finds the transaction gone.
func (s *Server) endRelayed(w http.ResponseWriter, r *http.Request, tx *transaction, why string) {
	s.log.WarnContext(r.Context(), "login relay refused: upstream answer delivered by a browser that did not start the login",
		"tx", logID(tx.ID), "client", tx.ClientID, "reason", why)
	s.metrics.inc("broker_logins_total", "client", tx.ClientID, "result", "relay_refused")
	s.auditTx(r.Context(), audit.RelayRefused, tx, why)
	s.deleteTx(r.Context(), tx)
	s.pages.errorPage(w, r, http.StatusForbidden, msgRelayed)
}

// done starts the SSO session for a fresh upstream login. It needs both
// halves of the binding: the one-time handle that only the browser which
// delivered the upstream answer received, and the cookie that only the
// browser which started the login holds.
func (s *Server) done(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := chi.URLParam(r, "tx")
	tx, err := s.getTx(ctx, id)
	if err != nil {
		s.storeFailure(w, r, err, "login transaction")
		return
	}
	handle := r.URL.Query().Get("h")
	handleOK := handle != "" && tx.DeliveryHash != "" &&
		subtle.ConstantTimeCompare([]byte(hashKey(handle)), []byte(tx.DeliveryHash)) == 1
	if !s.holdsBinding(r, tx) {
		if handleOK {
			s.endRelayed(w, r, tx, "delivering browser has no binding cookie")
			return
		}
		s.log.WarnContext(ctx, "login used from another browser", "tx", logID(id))
		s.pages.errorPage(w, r, http.StatusForbidden, msgOtherBrowser)
		return
	}
	if tx.Identity != nil || tx.Delivered == nil {
		// Already finished here (a reload), or nothing delivered yet.
		http.Redirect(w, r, s.issuer+"/login/"+tx.ID, http.StatusSeeOther)
		return
	}
	if !handleOK {
		// The starting browser, without the answer: an attacker polling
		// for a victim's identity, or a person who opened this address by
		// hand. Either way the identity stays where it is.
		s.log.WarnContext(ctx, "login completion without the delivery handle refused", "tx", logID(id), "handle_present", handle != "")
		s.pages.errorPage(w, r, http.StatusForbidden, msgNotDelivered)
		return
	}
	hash := tx.DeliveryHash
	s.openSession(w, r, tx, *tx.Delivered, tx.DeliveredACR, func(t *transaction) error {
		if t.Delivered == nil || t.DeliveryHash != hash {
			return errNoPendingLogin // the handle was used by a concurrent request
		}
		return nil
	})
}

// openSession records an identity the upstream proved in tx, under one
// compare-and-swap whose precondition is pending (the answer or the handle
// this request brings is still the open one: of two requests with one
// answer, only one gets past it), opens the SSO session and goes on to
// consent.
func (s *Server) openSession(w http.ResponseWriter, r *http.Request, tx *transaction, ident adapters.Identity, acr string, pending func(*transaction) error) {
	ctx := r.Context()
	// Both callers checked the binding cookie. The consent page comes
	// next: the binding lasts as long as the transaction renewed here.
	s.renewBinding(w, r, tx)
	// The session's lifetime follows the proved level; checked before
	// anything is consumed.
	expiry := ident.AuthTime.Add(s.lifetimes[ident.Level])
	ttl := expiry.Sub(s.now())
	if ttl <= 0 {
		s.pages.retryPage(w, r, tx, http.StatusBadRequest, msgUpstreamFailed)
		return
	}
	client := s.clients[tx.ClientID]
	cookieValue := randomID()
	sid := hashKey(cookieValue)
	id := tx.ID
	// The session (under a fresh random key) is created in the same round
	// trip as the compare-and-swap; if that fails, it is removed again,
	// its cookie never sent.
	sess := &session{AdapterID: tx.AdapterID, Identity: ident, Expiry: expiry, Consents: map[string][]string{}}
	sealedSess, err := s.data.seal(store.KindSession, sid, sess)
	if err != nil {
		s.storeFailure(w, r, err, "session")
		return
	}
	tx, err = s.updateLoadedTxWith(ctx, tx, func(t *transaction) error {
		if err := pending(t); err != nil {
			return err
		}
		t.AdapterState, t.Failures, t.Failure = nil, 0, ""
		t.Delivered, t.DeliveryHash, t.DeliveredACR = nil, "", ""
		proved := ident
		t.Identity, t.AuthTime, t.ACR, t.SessionID = &proved, proved.AuthTime, acr, sid
		t.Subject = s.pairwiseSubject(client.c.Sector, t.AdapterID, proved.Subject)
		if a := s.byID[t.AdapterID]; a != nil {
			t.AMR = amrFor(a.Adapter.Info().Type, proved)
		}
		return nil
	}, store.Op{Verb: store.OpCreate, Kind: store.KindSession, Key: sid, Value: sealedSess, TTL: ttl})
	if tx == nil {
		_ = s.raw.Delete(ctx, store.KindSession, sid)
		s.callbackStateLost(w, r, &transaction{ID: id}, err)
		return
	}
	if err != nil {
		s.storeFailure(w, r, err, "session")
		return
	}
	if old, oldID, _ := s.currentSession(r); old != nil {
		_ = s.raw.Delete(ctx, store.KindSession, oldID) // step-up replaces it
	}
	s.metrics.sessions.Inc()
	http.SetCookie(w, s.cookie(s.sessionCookieName(), cookieValue, ttl))
	s.askConsent(w, r, tx, sess)
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
	tx, err := s.updateLoadedTx(r.Context(), tx, func(t *transaction) error {
		ident := sess.Identity
		t.Identity, t.SessionID, t.AuthTime, t.ACR = &ident, sid, authTime, acr
		t.Subject = s.pairwiseSubject(client.c.Sector, sess.AdapterID, sess.Identity.Subject)
		if a := s.byID[sess.AdapterID]; a != nil {
			t.AMR = amrFor(a.Adapter.Info().Type, sess.Identity)
		}
		return nil
	})
	if err != nil {
		s.txError(w, r, err)
		return
	}
	s.askConsent(w, r, tx, sess)
}

// askConsent shows the consent page unless the client is implicit or the
// person already agreed in this session.
func (s *Server) askConsent(w http.ResponseWriter, r *http.Request, tx *transaction, sess *session) {
	client := s.clients[tx.ClientID]
	released := releasedClaims(tx.Identity.Claims, tx.Scopes, tx.Claims, client.allowed)
	if client.c.ImplicitConsent || consented(sess, tx.ClientID, released) {
		s.complete(w, r, tx, sess.Expiry)
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
		s.auditTx(r.Context(), audit.ConsentDeclined, tx, "")
		s.errorToClient(w, r, tx, oidc.ErrAccessDenied().WithDescription("the person declined to release the data"))
		return
	}
	client := s.clients[tx.ClientID]
	released := releasedClaims(tx.Identity.Claims, tx.Scopes, tx.Claims, client.allowed)
	var sess session
	// The consent is written with the code, in one round trip (complete).
	consentWrite, err := s.prepareUpdate(r.Context(), store.KindSession, tx.SessionID, &sess, func() (time.Duration, error) {
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
	s.auditTx(r.Context(), audit.ConsentGiven, tx, "")
	s.complete(w, r, tx, sess.Expiry, consentWrite)
}

// complete issues the code (issueCode: stored with the companion writes,
// then the transaction consumed, in two round trips) and sends it to the
// portal.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, tx *transaction, sessionExpiry time.Time, with ...companionWrite) {
	ctx := r.Context()
	if tx.sealed == nil {
		// Written by the re-reading updateTx: read what is stored now.
		fresh, err := s.getTx(ctx, tx.ID)
		if err != nil {
			s.txError(w, r, err)
			return
		}
		tx = fresh
	}
	code, err := s.issueCode(ctx, tx, sessionExpiry, with...)
	if err != nil {
		s.txError(w, r, err)
		return
	}
	// The one info line of a completed login: with the adapter and the
	// proved level, which "upstream login verified" (debug) also names.
	// The adapter is empty when an SSO session answered the login.
	loa := ""
	if tx.Identity != nil {
		loa = tx.Identity.Level.String()
	}
	s.log.InfoContext(ctx, "login completed", "tx", logID(tx.ID), "client", tx.ClientID, "acr", tx.ACR,
		"adapter", tx.AdapterID, "loa", loa)
	s.auditTx(ctx, audit.LoginCompleted, tx, "")
	s.metrics.inc("broker_logins_total", "client", tx.ClientID, "result", "completed", "acr", tx.ACR)
	http.SetCookie(w, s.expiredCookie(s.txCookieName(tx.ID)))
	s.redirectToClient(w, r, tx, url.Values{"code": {code}})
}

// redirectToClient answers the portal at its validated redirect URI with
// state and iss (RFC 9207, against mix-up attacks), keeping any query the
// registered URI has.
func (s *Server) redirectToClient(w http.ResponseWriter, r *http.Request, tx *transaction, params url.Values) {
	if s.redirects[tx.RedirectURI].plain {
		// The common case, a registered URI without query or fragment:
		// the parameters are its query, exactly as the general path below
		// would write it, without parsing and re-serialising the URI.
		if tx.State != "" {
			params.Set("state", tx.State)
		}
		params.Set("iss", s.issuer)
		w.Header()["Cache-Control"] = hdrNoStore
		http.Redirect(w, r, tx.RedirectURI+"?"+params.Encode(), http.StatusFound)
		return
	}
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
	switch {
	case r.PostFormValue("reason") == "unmet":
		s.errorToClient(w, r, tx, errUnmet("the required level of assurance could not be reached"))
	case tx.Failure == failureUpstream:
		// OIDC Core §3.1.2.6: access_denied would tell the portal the
		// person refused; after a failed upstream authentication (an
		// answer that failed verification, AuthnFailed at a foreign node)
		// the truthful code is login_required: nobody was authenticated.
		s.errorToClient(w, r, tx, oidc.ErrLoginRequired().WithDescription("the upstream authentication failed or could not be verified"))
	default:
		s.errorToClient(w, r, tx, oidc.ErrAccessDenied().WithDescription("the person cancelled the login"))
	}
}

// errorToClient ends the transaction and redirects the error to the
// portal's validated redirect URI with its state.
func (s *Server) errorToClient(w http.ResponseWriter, r *http.Request, tx *transaction, e *oidc.Error) {
	s.metrics.inc("broker_logins_total", "client", tx.ClientID, "result", string(e.ErrorType))
	s.deleteTx(r.Context(), tx)
	s.auditTx(r.Context(), audit.LoginEnded, tx, string(e.ErrorType))
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
	s.pages.render(w, http.StatusOK, "logout.html", s.pages.view(r, nil, titleLogout, nil))
}

func (s *Server) logoutConfirmed(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.sessionCookieName()); err == nil && c.Value != "" {
		if err := s.raw.Delete(r.Context(), store.KindSession, hashKey(c.Value)); err != nil {
			s.storeFailure(w, r, err, "session")
			return
		}
		s.auditEvent(r.Context(), audit.Event{Event: audit.Logout, Reason: "confirmed_without_hint"})
	}
	s.loggedOut(w, r)
}

func (s *Server) loggedOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, s.expiredCookie(s.sessionCookieName()))
	s.pages.loggedOut(w, r)
}
