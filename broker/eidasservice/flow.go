package eidasservice

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// handleSSO receives an AuthnRequest. Until the signature is verified,
// refusals are error pages (never a Response a forged request could
// trigger); afterwards they are SAML error Responses to the connector's ACS
// from its metadata, except for a request addressed to another endpoint
// (discarded with a page, SAML core §3.2.1).
func (s *Service) handleSSO(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pickLang(r)
	p, err := s.acceptRequest(ctx, w, r)
	if err != nil {
		s.refuse(w, r, lang, err)
		return
	}
	log := s.log.With("connector", p.conn.entityID, "request", samlxml.Truncate(p.req.ID, 64))
	if err := s.checkContent(p); err != nil {
		se, _ := asSAMLError(err)
		log.InfoContext(ctx, "eidas service: request refused", "err", err)
		s.respondError(w, lang, s.planAnswer(p), status{Top: se.Top, Sub: se.Sub, Message: se.Message})
		return
	}

	ref := randomToken()
	bind := randomToken()
	rec := &txRecord{
		V: txVersion, Stage: stageAuth, Created: s.cfg.Now().Unix(), Bind: hashHex("bind", bind),
		Locale: lang, LogID: samlxml.NewID()[1:17],
		Country: p.conn.cfg.Country, ConnName: orDefault(p.conn.cfg.Name, p.conn.cfg.Country),
		Attrs: p.attrs, Claims: claimsFor(p.attrs), Answer: *s.planAnswer(p),
	}
	if len(p.req.RequesterIDs) > 0 {
		rec.Requester = samlxml.Truncate(p.req.RequesterIDs[0], 200)
	} else if p.req.ProviderName != "" {
		rec.Requester = samlxml.Truncate(p.req.ProviderName, 200)
	}
	areq := s.adapterRequest(ref, rec)
	handoff, state, err := s.cfg.Adapter.Begin(ctx, areq)
	if err != nil {
		log.WarnContext(ctx, "eidas service: eID login could not start", "tx", rec.LogID, "err", err)
		s.respondError(w, lang, &rec.Answer, status{Top: samlxml.StatusResponder, Sub: samlxml.StatusAuthnFailed, Message: "authentication could not be started"})
		return
	}
	if state == nil {
		state = []byte{}
	}
	rec.AdapterState = state
	if err := s.createTx(ctx, ref, rec); err != nil {
		log.ErrorContext(ctx, "eidas service: store transaction", "tx", rec.LogID, "err", err)
		s.pages.errorPage(w, lang, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName(ref), Value: bind, Path: s.cfg.path, MaxAge: int(s.cfg.TransactionTTL / time.Second),
		HttpOnly: true, Secure: s.cfg.secure, SameSite: http.SameSiteLaxMode,
	})
	log.InfoContext(ctx, "eidas service: request accepted, eID login started", "tx", rec.LogID,
		"binding", shortBinding(p), "attributes", len(p.attrs), "sptype", p.spType)
	s.handoff(w, lang, rec.ConnName, handoff)
}

// acceptRequest runs every check before the flow starts: binding,
// parsing, connector, metadata and signature (refused with a page), then
// destination, freshness, ACS, algorithms and the replay cache (refused
// with an error Response where the connector may be told, see
// acceptVerified).
func (s *Service) acceptRequest(ctx context.Context, w http.ResponseWriter, r *http.Request) (*plan, error) {
	in, err := decodeBinding(w, r, s.cfg.MaxMessageBytes)
	if err != nil {
		return nil, err
	}
	root, issuer, err := peekIssuer(in.XML, s.cfg.MaxMessageBytes)
	if err != nil {
		return nil, err
	}
	c := s.byEntity[issuer]
	if c == nil {
		return nil, errorf(ErrConnectorUnknown, "issuer %q", samlxml.Truncate(issuer, 120))
	}
	md, err := s.metadata(ctx, c)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	el, err := verifyRequest(in, root, md, now, s.cfg.MaxMessageBytes)
	if err != nil {
		return nil, errorf(err, "connector %s", c.entityID)
	}
	// The sender is established: refusals from here on may go back to it
	// as error Responses (errorresponse.go).
	return s.acceptVerified(ctx, in, el, c, md, now)
}

// refusePage answers a request that cannot be answered with a Response.
func (s *Service) refusePage(w http.ResponseWriter, r *http.Request, lang string, err error) {
	code, msg := http.StatusBadRequest, msgBadRequest
	switch {
	case errors.Is(err, ErrStore), errors.Is(err, ErrMetadataFetch), errors.Is(err, ErrMetadataExpired):
		code, msg = http.StatusServiceUnavailable, msgUnavailable
	case errors.Is(err, ErrConnectorUnknown):
		msg = msgUnknown
	case errors.Is(err, ErrStale), errors.Is(err, ErrReplay):
		msg = msgOutdated
	case errors.Is(err, ErrNoAlgorithm):
		code, msg = http.StatusInternalServerError, msgInternal
	}
	s.log.WarnContext(r.Context(), "eidas service: request refused without response", "status", code, "err", err)
	s.pages.errorPage(w, lang, code, msg)
}

// planAnswer is the part of an answer known once the request is accepted.
func (s *Service) planAnswer(p *plan) *answer {
	a := &answer{
		RequestID: p.req.ID, Connector: p.conn.entityID, ACS: p.acs, RelayState: p.relayState,
		SigAlg: p.sigAlg, NameIDFmt: p.nameID, Level: p.level,
	}
	if p.enc.Cert != nil {
		a.EncCert = p.enc.Cert.Raw
		a.DataAlg = dataAlgorithm(p.enc)
	}
	return a
}

func (s *Service) adapterRequest(ref string, rec *txRecord) adapters.Request {
	return adapters.Request{
		TxID: rec.LogID, Ref: ref, MinLevel: rec.Answer.Level.floor(), CallbackURL: s.cfg.cbBase + ref,
		BaseURL: s.cfg.BaseURL, Claims: rec.Claims, Locale: rec.Locale,
	}
}

// handoff sends the browser to the eID flow as the adapter asked.
func (s *Service) handoff(w http.ResponseWriter, lang, connector string, h adapters.Handoff) {
	switch {
	case h.Content != nil:
		// The eID adapter's start page content, in this service's layout.
		s.pages.render(w, http.StatusOK, "adapter.html", map[string]any{"Lang": lang, "Title": h.Title, "Connector": connector, "Content": template.HTML(h.Content)})
	case h.Page != nil:
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("Content-Type", "text/html; charset=utf-8")
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(h.Page)
	case h.RedirectURL != "":
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Location", h.RedirectURL)
		w.WriteHeader(http.StatusSeeOther)
	default:
		// The eID adapter hands over with a page; anything else would be
		// a programming error in the wiring.
		s.pages.errorPage(w, lang, http.StatusInternalServerError, msgInternal)
	}
}

// handleCallback is where the eID-Client sends the browser back. It needs
// no cookie to be reached (the eID-Client may open another browser), and
// it hands the verified identity on only by a one-time handle in the
// redirect to the consent page, which also demands the binding cookie: a
// login that a connector's user started and a victim authenticated (the
// eID relay) reaches neither browser (DESIGN §5).
func (s *Service) handleCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pickLang(r)
	ref := r.PathValue("ref")
	if !refPattern.MatchString(ref) {
		s.pages.errorPage(w, lang, http.StatusNotFound, msgExpired)
		return
	}
	rec, _, err := s.getTx(ctx, ref)
	if err == nil && (rec.Stage != stageAuth || rec.AdapterState == nil) {
		if rec.Stage == stageConsent || rec.Stage == stageDelivered {
			// A reload after the card was read: the consent page decides
			// whether this browser may see the decision.
			http.Redirect(w, r, s.consentURL(ref), http.StatusSeeOther)
			return
		}
		err = ErrTransaction
	}
	if err != nil {
		s.txFailure(w, r, lang, err)
		return
	}
	lang = rec.Locale
	log := s.log.With("connector", rec.Answer.Connector, "tx", rec.LogID)
	state := rec.AdapterState
	_, bound := s.boundBrowser(r, ref, rec)
	ident, err := s.cfg.Adapter.Finish(ctx, s.adapterRequest(ref, rec), state, r)
	if retryable(err) {
		log.InfoContext(ctx, "eidas service: eID result not ready yet")
		cont := s.cfg.cbBase + ref
		if r.Method == http.MethodGet && r.URL.RawQuery != "" {
			cont += "?" + r.URL.RawQuery // this browser's own URL, with the refresh secret it already has
		}
		s.pages.render(w, http.StatusAccepted, "wait.html", map[string]any{"Lang": lang, "Connector": rec.ConnName, "Continue": cont})
		return
	}
	if errors.Is(err, store.ErrUnavailable) {
		s.txFailure(w, r, lang, errorf(ErrStore, "%v", err))
		return
	}
	var fail *status
	switch {
	case errors.Is(err, adapters.ErrCancelled):
		fail = &status{Top: samlxml.StatusResponder, Sub: samlxml.StatusRequestDenied, Message: MessageCancelled}
		log.InfoContext(ctx, "eidas service: person cancelled in the eID-Client")
	case err != nil && !bound:
		// Not from the browser that holds the binding: keep the attempt
		// (a junk request must not end a genuine login), up to a bound.
		s.refuseUnbound(w, r, ref, rec, state, err)
		return
	case err != nil:
		log.WarnContext(ctx, "eidas service: eID login failed", "err", err)
		fail = &status{Top: samlxml.StatusResponder, Sub: samlxml.StatusAuthnFailed, Message: "authentication failed"}
	}
	var a *answer
	if fail == nil {
		if a, fail = s.release(rec, ident); fail != nil {
			log.InfoContext(ctx, "eidas service: identity cannot answer the request", "reason", fail.Message, "loa", ident.Level.String())
		}
	}
	if fail != nil {
		if !bound {
			s.endRelayed(w, r, ref, rec, "error outcome delivered by a browser without the binding cookie")
			return
		}
		s.finishWithError(w, r, ref, lang, *fail)
		return
	}
	handle := randomToken()
	if _, err := s.updateTx(ctx, ref, func(t *txRecord) error {
		if t.Stage != stageAuth || !bytes.Equal(t.AdapterState, state) {
			return ErrTransaction // a concurrent delivery of the same answer won
		}
		t.Stage, t.Answer, t.AdapterState, t.Failures = stageDelivered, *a, nil, 0
		t.Deliver = hashHex("deliver", handle)
		return nil
	}); err != nil {
		s.txFailure(w, r, lang, err)
		return
	}
	log.InfoContext(ctx, "eidas service: eID login verified", "loa", ident.Level.String())
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.consentURL(ref)+"?"+url.Values{"h": {handle}}.Encode(), http.StatusSeeOther)
}

// refuseUnbound counts a refused answer from a browser without the
// binding cookie; the state stays until maxCallbackFailures.
func (s *Service) refuseUnbound(w http.ResponseWriter, r *http.Request, ref string, rec *txRecord, state []byte, ferr error) {
	ctx := r.Context()
	_, err := s.updateTx(ctx, ref, func(t *txRecord) error {
		if t.Stage != stageAuth || !bytes.Equal(t.AdapterState, state) {
			return ErrTransaction
		}
		t.Failures++
		return nil
	})
	if err != nil {
		s.txFailure(w, r, rec.Locale, err)
		return
	}
	s.log.WarnContext(ctx, "eidas service: answer refused (browser without binding cookie)", "tx", rec.LogID, "failures", rec.Failures+1, "err", ferr)
	if rec.Failures+1 >= maxCallbackFailures {
		s.endRelayed(w, r, ref, rec, "too many refused answers")
		return
	}
	s.pages.errorPage(w, rec.Locale, http.StatusBadRequest, msgExpired)
}

// endRelayed drops a transaction whose outcome arrived in a browser that
// did not start it; nothing is sent to the connector through this browser.
func (s *Service) endRelayed(w http.ResponseWriter, r *http.Request, ref string, rec *txRecord, why string) {
	s.log.WarnContext(r.Context(), "eidas service: login relay refused: outcome delivered by a browser that did not start the login",
		"connector", rec.Answer.Connector, "tx", rec.LogID, "reason", why)
	if _, err := s.takeTx(r.Context(), ref); err != nil && errors.Is(err, ErrStore) {
		s.txFailure(w, r, rec.Locale, err)
		return
	}
	s.pages.errorPage(w, rec.Locale, http.StatusForbidden, msgRelayed)
}

// release checks the proved identity against the request and maps the
// requested attributes. A status means the request cannot be answered with
// success.
func (s *Service) release(rec *txRecord, id adapters.Identity) (*answer, *status) {
	a := rec.Answer
	if !id.Level.Notified() || !a.Level.satisfiedBy(id.Level) {
		return nil, &status{Top: samlxml.StatusResponder, Sub: samlxml.StatusNoAuthnContext, Message: "requested level of assurance not reached"}
	}
	if id.Subject == "" {
		return nil, &status{Top: samlxml.StatusResponder, Sub: samlxml.StatusAuthnFailed, Message: "authentication failed"}
	}
	a.PersonID = personIdentifier(s.cfg.NodeCountry, rec.Country, pseudonym(s.cfg.PseudonymSecret, a.Connector, id.Subject))
	a.Proved = id.Level.String()
	a.AuthTime = id.AuthTime.Unix()
	if id.AuthTime.IsZero() {
		a.AuthTime = s.cfg.Now().Unix()
	}
	a.Attrs = nil
	var missing []string
	for _, ra := range rec.Attrs {
		d, _ := lookupAttr(ra.Name)
		v, err := mapAttribute(d, id, a.PersonID)
		if err != nil || len(v.Values) == 0 {
			if ra.Required {
				missing = append(missing, d.FriendlyName)
			}
			continue
		}
		a.Attrs = append(a.Attrs, v)
	}
	if len(missing) > 0 {
		return nil, &status{Top: samlxml.StatusResponder, Sub: samlxml.StatusInvalidAttrName, Message: "required attribute not available: " + strings.Join(missing, " ")}
	}
	if len(a.Attrs) == 0 {
		return nil, &status{Top: samlxml.StatusResponder, Sub: samlxml.StatusInvalidAttrName, Message: "no requested attribute available"}
	}
	return &a, nil
}

// finishWithError ends a transaction with an error Response.
func (s *Service) finishWithError(w http.ResponseWriter, r *http.Request, ref, lang string, st status) {
	rec, err := s.takeTx(r.Context(), ref)
	if err != nil {
		s.txFailure(w, r, lang, err)
		return
	}
	s.respondError(w, lang, &rec.Answer, st)
}

func (s *Service) consentURL(ref string) string {
	return s.cfg.BaseURL + ConsentPath + ref
}

// handleConsentPage shows what will be released, in the browser that
// started the login.
func (s *Service) handleConsentPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ref := r.PathValue("ref")
	lang := pickLang(r)
	if !refPattern.MatchString(ref) {
		s.pages.errorPage(w, lang, http.StatusNotFound, msgExpired)
		return
	}
	rec, _, err := s.getTx(ctx, ref)
	if err == nil && rec.Stage != stageConsent && rec.Stage != stageDelivered {
		err = ErrTransaction
	}
	if err != nil {
		s.txFailure(w, r, lang, err)
		return
	}
	if r.URL.Query().Get("lang") == "" {
		lang = rec.Locale
	}
	bind, ok := s.boundBrowser(r, ref, rec)
	if rec.Stage == stageDelivered {
		// Both halves of the binding: the handle that only the
		// delivering browser got, and the cookie of the starting one.
		h := r.URL.Query().Get("h")
		handleOK := h != "" && subtle.ConstantTimeCompare([]byte(hashHex("deliver", h)), []byte(rec.Deliver)) == 1
		switch {
		case !ok && handleOK:
			s.endRelayed(w, r, ref, rec, "delivering browser has no binding cookie")
			return
		case ok && !handleOK:
			s.log.WarnContext(ctx, "eidas service: consent page opened without the delivery handle", "tx", rec.LogID, "handle_present", h != "")
			s.pages.errorPage(w, lang, http.StatusForbidden, msgNotDelivered)
			return
		case ok:
			deliver := rec.Deliver
			rec, err = s.updateTx(ctx, ref, func(t *txRecord) error {
				if t.Stage != stageDelivered || t.Deliver != deliver {
					return ErrTransaction
				}
				t.Stage, t.Deliver = stageConsent, ""
				return nil
			})
			if err != nil {
				s.txFailure(w, r, lang, err)
				return
			}
		}
	}
	if !ok {
		s.log.WarnContext(ctx, "eidas service: consent page opened without the binding cookie", "tx", rec.LogID)
		s.pages.errorPage(w, lang, http.StatusForbidden, msgBrowser)
		return
	}
	type item struct {
		Label adapters.Text
		Value string
	}
	var items []item
	for _, v := range rec.Answer.Attrs {
		d, _ := lookupAttr(v.Name)
		items = append(items, item{Label: d.Label, Value: v.Display})
	}
	lvl, _ := assurance.ParseName(rec.Answer.Proved)
	lt, _ := adapters.LevelName(lvl)
	level := lt.In(lang)
	s.pages.render(w, http.StatusOK, "consent.html", map[string]any{
		"Lang": lang, "Connector": rec.ConnName, "Country": rec.Country, "Requester": rec.Requester,
		"Items": items, "Level": level, "Action": s.consentURL(ref), "Self": s.consentURL(ref),
		"Token": formToken(bind, ref),
	})
}

// handleConsent takes the decision and delivers the Response.
func (s *Service) handleConsent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ref := r.PathValue("ref")
	lang := pickLang(r)
	if !refPattern.MatchString(ref) {
		s.pages.errorPage(w, lang, http.StatusNotFound, msgExpired)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		s.pages.errorPage(w, lang, http.StatusBadRequest, msgBadRequest)
		return
	}
	rec, _, err := s.getTx(ctx, ref)
	if err == nil && rec.Stage != stageConsent {
		err = ErrTransaction
	}
	if err != nil {
		s.txFailure(w, r, lang, err)
		return
	}
	lang = rec.Locale
	bind, ok := s.boundBrowser(r, ref, rec)
	if !ok || subtle.ConstantTimeCompare([]byte(r.PostFormValue("token")), []byte(formToken(bind, ref))) != 1 {
		s.log.WarnContext(ctx, "eidas service: consent decision without binding cookie or token", "tx", rec.LogID)
		s.pages.errorPage(w, lang, http.StatusForbidden, msgBrowser)
		return
	}
	decision := r.PostFormValue("decision")
	if decision != "approve" && decision != "deny" {
		s.pages.errorPage(w, lang, http.StatusBadRequest, msgBadRequest)
		return
	}
	// Single use: whoever takes the record answers; a second POST finds
	// nothing.
	rec, err = s.takeTx(ctx, ref)
	if err == nil && rec.Stage != stageConsent {
		err = ErrTransaction
	}
	if err != nil {
		s.txFailure(w, r, lang, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName(ref), Value: "", Path: s.cfg.path, MaxAge: -1, HttpOnly: true, Secure: s.cfg.secure, SameSite: http.SameSiteLaxMode})
	log := s.log.With("connector", rec.Answer.Connector, "tx", rec.LogID)
	if decision == "deny" {
		log.InfoContext(ctx, "eidas service: person declined the release")
		s.respondError(w, lang, &rec.Answer, status{Top: samlxml.StatusResponder, Sub: samlxml.StatusRequestDenied, Message: MessageCancelled})
		return
	}
	xml, err := s.buildResponse(&rec.Answer, nil, s.cfg.Now())
	if err != nil {
		log.ErrorContext(ctx, "eidas service: build response", "err", err)
		s.respondError(w, lang, &rec.Answer, status{Top: samlxml.StatusResponder, Message: "internal error"})
		return
	}
	log.InfoContext(ctx, "eidas service: response sent", "attributes", len(rec.Answer.Attrs), "loa", rec.Answer.Proved)
	s.pages.post(w, lang, rec.Answer.ACS, encodeResponse(xml), rec.Answer.RelayState)
}

// respondError delivers an error Response to the connector's ACS.
func (s *Service) respondError(w http.ResponseWriter, lang string, a *answer, st status) {
	xml, err := s.buildResponse(a, &st, s.cfg.Now())
	if err != nil {
		s.log.Error("eidas service: build error response", "err", err)
		s.pages.errorPage(w, lang, http.StatusInternalServerError, msgInternal)
		return
	}
	s.pages.post(w, lang, a.ACS, encodeResponse(xml), a.RelayState)
}

// txFailure maps transaction errors to pages.
func (s *Service) txFailure(w http.ResponseWriter, r *http.Request, lang string, err error) {
	if errors.Is(err, ErrStore) {
		s.log.ErrorContext(r.Context(), "eidas service: store", "err", err)
		s.pages.errorPage(w, lang, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	s.log.InfoContext(r.Context(), "eidas service: transaction not usable", "err", err)
	s.pages.errorPage(w, lang, http.StatusBadRequest, msgExpired)
}

// boundBrowser checks the binding cookie against the transaction.
func (s *Service) boundBrowser(r *http.Request, ref string, rec *txRecord) (string, bool) {
	c, err := r.Cookie(cookieName(ref))
	if err != nil || c.Value == "" {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(hashHex("bind", c.Value)), []byte(rec.Bind)) != 1 {
		return "", false
	}
	return c.Value, true
}

// cookieName is per transaction, so parallel logins in one browser do not
// overwrite each other's binding.
func cookieName(ref string) string { return "eidas_svc_" + hashHex("cookie", ref)[:16] }

func formToken(bind, ref string) string { return hashHex("form", bind, ref)[:32] }

func shortBinding(p *plan) string {
	if p.binding == samlxml.BindingRedirect {
		return "redirect"
	}
	return "post"
}

// retryable reports whether an adapter error says "not yet, ask again".
func retryable(err error) bool {
	var r interface{ Retryable() bool }
	return err != nil && errors.As(err, &r) && r.Retryable()
}

// errorf wraps a sentinel (or any error) with context.
func errorf(err error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", err, fmt.Sprintf(format, args...))
}
