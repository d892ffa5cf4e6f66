package broker

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// expiryWarnBefore is how long before a login expires its pages warn and
// offer more time (WCAG 2.2.1 Timing Adjustable asks for at least 20
// seconds to react; two minutes leave time to read and decide).
const expiryWarnBefore = 2 * time.Minute

// expiryView is what a page's expiry warning (static/expiry.js) reads: how
// many seconds are left when the page is served, when to warn, where to
// ask for more time, and the way back to the portal once it is too late.
type expiryView struct {
	Seconds  int
	Warn     int
	Minutes  int // the login's full time to live, which extending restores
	Back     string
	BackName string
}

// expiryHook adds the expiry warning to a page of a live login whose
// record was last renewed at renewed. The seconds are relative, so a
// browser with a wrong clock still warns in time. The cached skeletons of
// the method and consent pages (rendered for a placeholder transaction)
// carry the full time to live: those pages are only served right after
// the login was renewed (see Server.loginPage).
func (p *pages) expiryHook(data map[string]any, tx *transaction, renewed time.Time) {
	warn := expiryWarnBefore
	if p.s.expiryWarn > 0 {
		warn = p.s.expiryWarn
	}
	v := expiryView{Seconds: p.secondsLeft(tx, renewed), Warn: int(warn / time.Second), Minutes: int(txTTL / time.Minute)}
	if p.cache != nil && tx.ID == string(p.cache.placeholder) {
		v.Seconds = int(txTTL / time.Second)
	}
	if c := p.s.clients[tx.ClientID]; c != nil && len(c.c.RedirectURIs) > 0 {
		v.Back, v.BackName = origin(c.c.RedirectURIs[0])+"/", c.c.Name
	}
	data["Expiry"] = v
}

func (p *pages) secondsLeft(tx *transaction, renewed time.Time) int {
	if renewed.IsZero() {
		renewed = tx.Created
	}
	left := renewed.Add(txTTL).Sub(p.s.now())
	if left < 0 {
		left = 0
	}
	return int(left / time.Second)
}

// expiryRenewAfter is how old a login's renewal may be when its method
// page is shown again (a reload, the language switch, back from a failed
// attempt) before showing it renews the login: the page's warning counts
// from a full time to live, and the person is acting.
const expiryRenewAfter = 30 * time.Second

// renewStale renews tx when its last renewal is older than
// expiryRenewAfter (see there); false means the answer is written.
func (s *Server) renewStale(w http.ResponseWriter, r *http.Request, tx *transaction) (*transaction, bool) {
	renewed := tx.Renewed
	if renewed.IsZero() {
		renewed = tx.Created
	}
	if s.now().Sub(renewed) <= expiryRenewAfter {
		return tx, true
	}
	renewedTx, err := s.updateLoadedTx(r.Context(), tx, func(*transaction) error { return nil })
	if err != nil {
		s.txError(w, r, err)
		return nil, false
	}
	return renewedTx, true
}

// pagePolicy is what a page needs beyond the strict content security
// policy; each is granted to that page only.
type pagePolicy struct {
	// connect: a script of the page asks the broker's own origin (the
	// expiry warning's extension, an adapter page's status poll).
	connect bool
	// dataImages: the page shows data: images (an adapter's QR code).
	dataImages bool
}

// expiryPolicy is the policy of a page with the expiry warning.
var expiryPolicy = pagePolicy{connect: true}

// policyOf reads a page's needs from its template data: the expiry
// warning, and what an adapter declared for its content (Handoff.Needs).
func policyOf(data map[string]any) pagePolicy {
	needs, _ := data["Needs"].(adapters.ContentNeeds)
	_, warns := data["Expiry"]
	return pagePolicy{connect: warns || needs.Fetch, dataImages: needs.DataImages}
}

func (n pagePolicy) extend(csp string) string {
	if n.connect {
		csp += "; connect-src 'self'"
	}
	if n.dataImages {
		csp = strings.Replace(csp, "img-src 'self'", "img-src 'self' data:", 1)
	}
	return csp
}

// extendLogin gives the person the login's full time again: the
// transaction record, its upstream reference and the binding cookie are
// renewed. Like every later step of a login it demands the binding
// cookie, so a browser that did not start the login can neither extend
// it nor learn whether it exists. The expiry warning calls it with
// fetch; the answer is JSON.
func (s *Server) extendLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	// Fetch Metadata, where the browser sends it: only the broker's own
	// pages ask. (SameSite=Lax already keeps the cookie off a cross-site
	// POST; this says so in the log.)
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		s.log.WarnContext(ctx, "login extension from another site refused", "sec_fetch_site", site)
		extendAnswer(w, http.StatusForbidden, map[string]any{"error": "forbidden"})
		return
	}
	id := chi.URLParam(r, "tx")
	tx, err := s.getTx(ctx, id)
	if err != nil {
		s.extendFailed(w, r, err)
		return
	}
	if !s.holdsBinding(r, tx) {
		s.log.WarnContext(ctx, "login extension from a browser without the binding cookie refused", "tx", logID(id))
		extendAnswer(w, http.StatusForbidden, map[string]any{"error": "not_bound"})
		return
	}
	tx, err = s.updateTx(ctx, id, func(t *transaction) error {
		t.RefRenewed = s.now()
		return nil
	})
	if err != nil {
		s.extendFailed(w, r, err)
		return
	}
	if err := s.renewRef(ctx, tx); err != nil {
		s.extendFailed(w, r, err)
		return
	}
	s.renewBinding(w, r, tx)
	s.log.InfoContext(ctx, "login extended", "tx", logID(id))
	extendAnswer(w, http.StatusOK, map[string]any{"expires_in": int(txTTL / time.Second)})
}

func (s *Server) extendFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		extendAnswer(w, http.StatusNotFound, map[string]any{"error": "expired"})
	case errors.Is(err, store.ErrUnavailable):
		s.log.ErrorContext(r.Context(), "store unavailable", "what", "login extension", "err", err)
		w.Header().Set("Retry-After", "10")
		extendAnswer(w, http.StatusServiceUnavailable, map[string]any{"error": "unavailable"})
	default:
		s.log.ErrorContext(r.Context(), "store failure", "what", "login extension", "err", err)
		extendAnswer(w, http.StatusInternalServerError, map[string]any{"error": "internal"})
	}
}

func extendAnswer(w http.ResponseWriter, status int, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// refTTL is the time to live of a login's upstream reference (the key an
// upstream's answer finds the login by). Every step renews the login, but
// not the reference: that would cost two store operations per step. So
// the reference lives twice as long as a login's step, and is renewed
// only where that could fall short: by the extension, and by a start
// more than txTTL after the reference was last written (keepRef). An
// upstream answer within txTTL of the start then always finds the login.
// The reference holds no personal data, and goes with the login.
const refTTL = 2 * txTTL

// keepRef renews tx's upstream reference at the start of an upstream
// login if it could expire before the login does (see refTTL).
func (s *Server) keepRef(ctx context.Context, tx *transaction) {
	written := tx.Created
	if tx.RefRenewed.After(written) {
		written = tx.RefRenewed
	}
	if s.now().Sub(written) <= txTTL {
		return
	}
	if err := s.renewRef(ctx, tx); err != nil {
		// The upstream's answer may then find the login gone; the person
		// is told so there and can start again.
		s.log.WarnContext(ctx, "login reference not renewed", "tx", logID(tx.ID), "err", err)
	}
}

// renewRef starts the time to live of the transaction's upstream
// reference again (see refTTL).
func (s *Server) renewRef(ctx context.Context, tx *transaction) error {
	key := "ref:" + tx.Ref
	for range 3 {
		e, err := s.raw.Get(ctx, store.KindTransaction, key)
		if err != nil {
			return err
		}
		err = s.raw.Swap(ctx, store.KindTransaction, key, e.Revision, e.Value, refTTL)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return store.ErrConflict
}

// renewBinding starts the binding cookie's lifetime again for a browser
// that holds it (the caller has checked that with holdsBinding).
func (s *Server) renewBinding(w http.ResponseWriter, r *http.Request, tx *transaction) {
	if c, err := r.Cookie(s.txCookieName(tx.ID)); err == nil {
		http.SetCookie(w, s.cookie(s.txCookieName(tx.ID), c.Value, txTTL))
	}
}
