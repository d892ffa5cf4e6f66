package eidasservice

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// handleSSO receives an AuthnRequest. Until the signature is verified and
// the request is known to be meant for us, refusals are error pages (never
// a Response a forged or misdirected request could trigger); afterwards
// they are SAML error Responses to the connector's ACS from its metadata.
func (s *Service) handleSSO(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pickLang(r)
	p, err := s.acceptRequest(ctx, w, r)
	if err != nil {
		s.refusePage(w, r, lang, err)
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
	s.handoff(w, lang, handoff)
}

// acceptRequest runs every check whose failure is answered with a page:
// binding, parsing, connector, metadata, signature, destination, freshness,
// ACS, algorithms, and the replay cache.
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
	req, err := readRequest(el)
	if err != nil {
		return nil, err
	}
	req.Issuer = strings.TrimSpace(req.Issuer)
	p, err := s.checkTransport(in, req, c, md, now)
	if err != nil {
		return nil, err
	}
	// Single use: the ID is remembered for as long as the request could be
	// accepted at all. Fail closed when the store cannot answer.
	ttl := req.IssueInstant.Add(s.cfg.RequestMaxAge + 2*s.cfg.ClockSkew).Sub(now)
	if ttl < time.Second {
		ttl = time.Second
	}
	switch err := s.cfg.Store.Create(ctx, store.KindReplay, hashHex("authnrequest", c.entityID, req.ID), []byte{1}, ttl); {
	case errors.Is(err, store.ErrExists):
		return nil, errorf(ErrReplay, "connector %s", c.entityID)
	case err != nil:
		return nil, errorf(ErrStore, "replay cache: %v", err)
	}
	return p, nil
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
func (s *Service) handoff(w http.ResponseWriter, lang string, h adapters.Handoff) {
	switch {
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
// no cookie (the eID-Client may open another browser): the reference names
// the transaction and the adapter's state binds the result to it.
func (s *Service) handleCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pickLang(r)
	ref := r.PathValue("ref")
	if !refPattern.MatchString(ref) {
		s.pages.errorPage(w, lang, http.StatusNotFound, msgExpired)
		return
	}
	var state []byte
	rec, err := s.updateTx(ctx, ref, func(t *txRecord) error {
		if t.Stage != stageAuth || t.AdapterState == nil {
			return ErrTransaction
		}
		state, t.AdapterState = t.AdapterState, nil // one Finish at a time
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrTransaction) {
			if cur, _, gerr := s.getTx(ctx, ref); gerr == nil && cur.Stage == stageConsent {
				// A reload after the card was read: show the decision again.
				http.Redirect(w, r, s.consentURL(ref), http.StatusSeeOther)
				return
			}
		}
		s.txFailure(w, r, lang, err)
		return
	}
	lang = rec.Locale
	log := s.log.With("connector", rec.Answer.Connector, "tx", rec.LogID)
	ident, err := s.cfg.Adapter.Finish(ctx, s.adapterRequest(ref, rec), state, r)
	if retryable(err) {
		if _, rerr := s.updateTx(ctx, ref, func(t *txRecord) error {
			if t.AdapterState == nil {
				t.AdapterState = state
			}
			return nil
		}); rerr != nil {
			s.txFailure(w, r, lang, rerr)
			return
		}
		log.InfoContext(ctx, "eidas service: eID result not ready yet")
		s.pages.render(w, http.StatusAccepted, "wait.html", map[string]any{"Lang": lang, "Continue": s.cfg.cbBase + ref})
		return
	}
	if err != nil {
		st := status{Top: samlxml.StatusResponder, Sub: samlxml.StatusAuthnFailed, Message: "authentication failed"}
		if errors.Is(err, adapters.ErrCancelled) {
			st = status{Top: samlxml.StatusResponder, Sub: samlxml.StatusRequestDenied, Message: MessageCancelled}
			log.InfoContext(ctx, "eidas service: person cancelled in the eID-Client")
		} else {
			log.WarnContext(ctx, "eidas service: eID login failed", "err", err)
		}
		s.finishWithError(w, r, ref, lang, st)
		return
	}
	a, st := s.release(rec, ident)
	if st != nil {
		log.InfoContext(ctx, "eidas service: identity cannot answer the request", "reason", st.Message, "level", ident.Level.String())
		s.finishWithError(w, r, ref, lang, *st)
		return
	}
	if _, err := s.updateTx(ctx, ref, func(t *txRecord) error {
		if t.Stage != stageAuth {
			return ErrTransaction
		}
		t.Stage, t.Answer = stageConsent, *a
		return nil
	}); err != nil {
		s.txFailure(w, r, lang, err)
		return
	}
	log.InfoContext(ctx, "eidas service: eID login verified", "level", ident.Level.String())
	http.Redirect(w, r, s.consentURL(ref), http.StatusSeeOther)
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
	if err == nil && rec.Stage != stageConsent {
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
	log.InfoContext(ctx, "eidas service: response sent", "attributes", len(rec.Answer.Attrs), "level", rec.Answer.Proved)
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
