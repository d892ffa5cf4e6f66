package eidas

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Size limits of the answer: the form (base64) and the XML inside it. A
// real eIDAS Response is a few tens of KiB.
const (
	maxForm      = 512 << 10
	maxMessage   = 256 << 10
	maxStateAge  = time.Hour
	maxAnswerAge = 10 * time.Minute
)

var responseLimits = xmlsec.Limits{MaxBytes: maxMessage}

// Finish implements adapters.Adapter. The answer must be an HTTP-POST of
// SAMLResponse (and RelayState) to the callback. See the package
// documentation for the checks, in order.
func (a *Adapter) Finish(ctx context.Context, _ adapters.Request, state []byte, r *http.Request) (adapters.Identity, error) {
	st, err := decodeState(state)
	if err != nil {
		return adapters.Identity{}, err
	}
	if r.Method != http.MethodPost {
		return adapters.Identity{}, fmt.Errorf("eidas: finish: %w: method %s (responses only by HTTP-POST)", ErrBinding, r.Method)
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return adapters.Identity{}, fmt.Errorf("eidas: finish: %w: form: %w", ErrBinding, err)
	}
	resp := r.PostForm["SAMLResponse"]
	if len(resp) != 1 {
		return adapters.Identity{}, fmt.Errorf("eidas: finish: %w: need exactly one SAMLResponse", ErrBinding)
	}
	rs := r.PostForm["RelayState"]
	if len(rs) != 1 || subtle.ConstantTimeCompare([]byte(rs[0]), []byte(st.Ref)) != 1 {
		return adapters.Identity{}, fmt.Errorf("eidas: finish: %w: RelayState does not belong to this login", ErrBinding)
	}
	raw, err := decodeBase64(resp[0])
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("eidas: finish: %w: SAMLResponse is not base64", ErrBinding)
	}
	id, err := a.processResponse(ctx, st, raw)
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("eidas: finish: %w", err)
	}
	return id, nil
}

func decodeState(state []byte) (*loginState, error) {
	var st loginState
	if err := json.Unmarshal(state, &st); err != nil {
		return nil, fmt.Errorf("eidas: finish: %w: %w", ErrState, err)
	}
	if st.V != stateVersion || st.ID == "" || st.Country == "" || st.Issued == 0 {
		return nil, fmt.Errorf("eidas: finish: %w: incomplete", ErrState)
	}
	return &st, nil
}

// verifyOptions are the signature rules for a country's messages.
func (a *Adapter) verifyOptions(c *country, md *Metadata) xmlsec.VerifyOptions {
	return xmlsec.VerifyOptions{Trusted: md.SigningCerts, AllowRSAPKCS1v15: c.pkcs1, Limits: responseLimits, Now: a.now}
}

// processResponse checks a decoded SAML Response against the pending
// request in st and maps it to an identity.
func (a *Adapter) processResponse(ctx context.Context, st *loginState, raw []byte) (adapters.Identity, error) {
	// State written before codes were normalised may say "GR".
	c := a.byCode[samlxml.CountryCode(st.Country)]
	if c == nil {
		return adapters.Identity{}, fmt.Errorf("%w: country %q not configured", ErrState, samlxml.Truncate(st.Country, 8))
	}
	now := a.now()
	issued := time.Unix(st.Issued, 0)
	if now.Sub(issued) > maxStateAge {
		return adapters.Identity{}, fmt.Errorf("%w: the request is older than %s", ErrExpired, maxStateAge)
	}
	floor, err := assurance.ParseName(st.Floor)
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("%w: floor: %w", ErrState, err)
	}
	md, _, err := c.usable(now)
	if err != nil {
		return adapters.Identity{}, err
	}

	doc, err := xmlsec.Parse(raw, responseLimits)
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if !samlxml.Is(doc.Root(), samlxml.NSProtocol, "Response") {
		return adapters.Identity{}, fmt.Errorf("%w: not a samlp:Response", ErrMalformed)
	}
	// From here on only the element re-read from the signed bytes is used.
	resp, _, err := xmlsec.Verify(doc.Root(), a.verifyOptions(c, md))
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("%w: response: %w", ErrSignature, err)
	}
	respID, err := a.checkResponse(resp, md, st, now, issued)
	if err != nil {
		return adapters.Identity{}, err
	}

	status, err := mustChild(resp, samlxml.NSProtocol, "Status")
	if err != nil {
		return adapters.Identity{}, err
	}
	if err := statusError(status); err != nil {
		// An error response may carry an assertion (some nodes add one);
		// it is never looked at.
		return adapters.Identity{}, err
	}

	if n := len(samlxml.Descendants(resp, samlxml.NSAssertion, "Assertion")); n > 0 {
		return adapters.Identity{}, fmt.Errorf("%w: %d plain assertion(s) in the response", ErrPlainAssertion, n)
	}
	encs := samlxml.Children(resp, samlxml.NSAssertion, "EncryptedAssertion")
	if len(encs) != 1 || len(samlxml.Descendants(resp, samlxml.NSAssertion, "EncryptedAssertion")) != 1 {
		return adapters.Identity{}, fmt.Errorf("%w: found %d", ErrAssertionCount, len(samlxml.Descendants(resp, samlxml.NSAssertion, "EncryptedAssertion")))
	}
	as, err := xmlsec.Decrypt(encs[0], a.decKey, xmlsec.DecryptOptions{Limits: responseLimits, AllowLegacyKeyTransport: c.legacyKT})
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("%w: %w", ErrDecryption, err)
	}
	if !samlxml.Is(as, samlxml.NSAssertion, "Assertion") {
		return adapters.Identity{}, fmt.Errorf("%w: encrypted content is not a saml:Assertion", ErrMalformed)
	}
	// The Response signature covers the ciphertext and AES-GCM binds the
	// plaintext to it, so an unsigned assertion is authentic. A signed one
	// must still verify: a broken inner signature is never ignored.
	if len(samlxml.Children(as, xmlsec.NamespaceDSig, "Signature")) > 0 {
		if as, _, err = xmlsec.Verify(as, a.verifyOptions(c, md)); err != nil {
			return adapters.Identity{}, fmt.Errorf("%w: assertion: %w", ErrSignature, err)
		}
	}
	if len(samlxml.Descendants(as, samlxml.NSAssertion, "Assertion")) > 0 || len(samlxml.Descendants(as, samlxml.NSAssertion, "EncryptedAssertion")) > 0 {
		return adapters.Identity{}, fmt.Errorf("%w: assertion nested in the assertion", ErrAssertionCount)
	}
	ai, err := a.checkAssertion(as, md, st, now, issued)
	if err != nil {
		return adapters.Identity{}, err
	}
	if err := checkLevel(ai.level, floor, st.Exact); err != nil {
		return adapters.Identity{}, err
	}
	ident, err := a.mapAttributes(ai.attrs, c, st)
	if err != nil {
		return adapters.Identity{}, err
	}
	ident.Level = ai.level
	ident.AuthTime = ai.authnInstant

	// Single use, across replicas: both IDs are recorded until the
	// assertion would expire. A store error refuses the login.
	ttl := ai.notOnOrAfter.Add(a.skew).Sub(now)
	if ttl < time.Second {
		ttl = time.Second
	}
	if err := a.consume(ctx, "response", md.EntityID, respID, ttl); err != nil {
		return adapters.Identity{}, err
	}
	if err := a.consume(ctx, "assertion", md.EntityID, ai.id, ttl); err != nil {
		return adapters.Identity{}, err
	}
	a.log.Info("eidas response accepted", "country", c.code, "loa", ai.level.String())
	return ident, nil
}

func (a *Adapter) consume(ctx context.Context, kind, issuer, id string, ttl time.Duration) error {
	h := sha256.Sum256([]byte(kind + "\x00" + issuer + "\x00" + id))
	err := a.store.Create(ctx, store.KindReplay, "eidas:"+hex.EncodeToString(h[:]), []byte{1}, ttl)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrExists):
		return fmt.Errorf("%w: %s ID seen before", ErrReplay, kind)
	}
	return fmt.Errorf("%w: %w", ErrReplayCache, err)
}

// checkResponse checks the Response element itself; it returns its ID.
func (a *Adapter) checkResponse(resp *etree.Element, md *Metadata, st *loginState, now, issued time.Time) (string, error) {
	if v := samlxml.AttrValue(resp, "Version"); v != samlVersion {
		return "", fmt.Errorf("%w: Version %q", ErrMalformed, samlxml.Truncate(v, 8))
	}
	id := samlxml.AttrValue(resp, "ID")
	if id == "" {
		return "", fmt.Errorf("%w: response without ID", ErrMalformed)
	}
	if err := checkIssuer(resp, md.EntityID); err != nil {
		return "", err
	}
	dest, ok := samlxml.Attr(resp, "Destination")
	if !ok || dest != a.acsURL {
		return "", fmt.Errorf("%w: Destination %q", ErrDestination, samlxml.Truncate(dest, 100))
	}
	irt, ok := samlxml.Attr(resp, "InResponseTo")
	if !ok || irt == "" {
		return "", ErrUnsolicited
	}
	if irt != st.ID {
		return "", fmt.Errorf("%w: InResponseTo does not match", ErrInResponseTo)
	}
	if err := a.checkInstant(resp, now, issued); err != nil {
		return "", err
	}
	return id, nil
}

// checkInstant requires IssueInstant after the request (less skew), not in
// the future (beyond skew) and not older than maxAnswerAge.
func (a *Adapter) checkInstant(e *etree.Element, now, issued time.Time) error {
	t, err := parseTime(samlxml.AttrValue(e, "IssueInstant"))
	if err != nil {
		return fmt.Errorf("%s IssueInstant: %w", e.Tag, err)
	}
	switch {
	case t.After(now.Add(a.skew)):
		return fmt.Errorf("%w: %s issued in the future", ErrNotYetValid, e.Tag)
	case t.Before(issued.Add(-a.skew)):
		return fmt.Errorf("%w: %s issued before the request", ErrExpired, e.Tag)
	case now.Sub(t) > maxAnswerAge+a.skew:
		return fmt.Errorf("%w: %s older than %s", ErrExpired, e.Tag, maxAnswerAge)
	}
	return nil
}

func checkIssuer(e *etree.Element, entityID string) error {
	iss, err := mustChild(e, samlxml.NSAssertion, "Issuer")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrIssuer, err)
	}
	if f, ok := samlxml.Attr(iss, "Format"); ok && f != samlxml.NameIDEntity {
		return fmt.Errorf("%w: Issuer Format %q", ErrIssuer, samlxml.Truncate(f, 80))
	}
	if samlxml.Text(iss) != entityID {
		return fmt.Errorf("%w: %q, expected the metadata entity ID", ErrIssuer, samlxml.Truncate(samlxml.Text(iss), 100))
	}
	return nil
}

// statusError maps a non-success Status to an error; nil for Success.
//
// The mapping, and why:
//   - RequestDenied (second level): the person cancelled or refused
//     consent at the proxy-service (the EU eIDAS-Node answers a cancel
//     with Responder/Requester + RequestDenied). It wraps
//     adapters.ErrCancelled, so the portal gets access_denied.
//   - A third-level code ending in "/cancel" (some national nodes nest a
//     cancel code below AuthnFailed) is a cancel as well.
//   - AuthnFailed otherwise: the authentication itself failed (wrong
//     credentials, aborted device flow). ErrAuthnFailed: the broker offers
//     the person another try instead of ending the portal's request.
//   - NoAuthnContext: the country cannot prove the requested level
//     (ErrLevelUnreachable).
//   - Anything else: ErrStatus with the codes (never the message alone,
//     which is free text from the peer) for the log.
//
// Every mapped error also wraps ErrStatus.
func statusError(status *etree.Element) error {
	sc, err := mustChild(status, samlxml.NSProtocol, "StatusCode")
	if err != nil {
		return err
	}
	top := samlxml.AttrValue(sc, "Value")
	sub, third := "", ""
	if s, ok, err := child(sc, samlxml.NSProtocol, "StatusCode"); err != nil {
		return err
	} else if ok {
		sub = samlxml.AttrValue(s, "Value")
		if t, ok, err := child(s, samlxml.NSProtocol, "StatusCode"); err != nil {
			return err
		} else if ok {
			third = samlxml.AttrValue(t, "Value")
		}
	}
	if top == samlxml.StatusSuccess {
		if sub != "" {
			return fmt.Errorf("%w: Success with second-level code %q", ErrMalformed, samlxml.Truncate(sub, 80))
		}
		return nil
	}
	if top == "" {
		return fmt.Errorf("%w: StatusCode without Value", ErrMalformed)
	}
	msg := ""
	if m, ok, _ := child(status, samlxml.NSProtocol, "StatusMessage"); ok {
		msg = samlxml.Truncate(samlxml.Text(m), maxStatusMessage)
	}
	err = fmt.Errorf("%w: %s / %s: %q", ErrStatus, shortStatus(top), shortStatus(sub), msg)
	switch {
	case sub == samlxml.StatusRequestDenied, strings.HasSuffix(third, "/cancel"):
		return fmt.Errorf("%w: %w", adapters.ErrCancelled, err)
	case sub == samlxml.StatusAuthnFailed:
		return fmt.Errorf("%w: %w", ErrAuthnFailed, err)
	case sub == samlxml.StatusNoAuthnContext:
		return fmt.Errorf("%w: %w", ErrLevelUnreachable, err)
	}
	return err
}

func shortStatus(uri string) string {
	const prefix = "urn:oasis:names:tc:SAML:2.0:status:"
	if len(uri) > len(prefix) && uri[:len(prefix)] == prefix {
		return uri[len(prefix):]
	}
	if uri == "" {
		return "-"
	}
	return samlxml.Truncate(uri, 80)
}

// assertionInfo is what checkAssertion extracts.
type assertionInfo struct {
	id           string
	notOnOrAfter time.Time // the earliest of Conditions and SubjectConfirmationData
	authnInstant time.Time
	level        assurance.Level
	attrs        *etree.Element // the AttributeStatement
}

// checkAssertion applies the SAML and eIDAS rules to the assertion.
func (a *Adapter) checkAssertion(as *etree.Element, md *Metadata, st *loginState, now, issued time.Time) (*assertionInfo, error) {
	ai := &assertionInfo{id: samlxml.AttrValue(as, "ID")}
	if v := samlxml.AttrValue(as, "Version"); v != samlVersion {
		return nil, fmt.Errorf("%w: assertion Version %q", ErrMalformed, samlxml.Truncate(v, 8))
	}
	if ai.id == "" {
		return nil, fmt.Errorf("%w: assertion without ID", ErrMalformed)
	}
	if err := checkIssuer(as, md.EntityID); err != nil {
		return nil, err
	}
	if err := a.checkInstant(as, now, issued); err != nil {
		return nil, err
	}

	subj, err := mustChild(as, samlxml.NSAssertion, "Subject")
	if err != nil {
		return nil, err
	}
	nameID, err := mustChild(subj, samlxml.NSAssertion, "NameID")
	if err != nil {
		return nil, err
	}
	if samlxml.Text(nameID) == "" {
		return nil, fmt.Errorf("%w: empty NameID", ErrMalformed)
	}
	scs := samlxml.Children(subj, samlxml.NSAssertion, "SubjectConfirmation")
	if len(scs) != 1 || samlxml.AttrValue(scs[0], "Method") != samlxml.CMBearer {
		return nil, fmt.Errorf("%w: need exactly one bearer SubjectConfirmation", ErrRecipient)
	}
	scd, err := mustChild(scs[0], samlxml.NSAssertion, "SubjectConfirmationData")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecipient, err)
	}
	if r, ok := samlxml.Attr(scd, "Recipient"); !ok || r != a.acsURL {
		return nil, fmt.Errorf("%w: Recipient %q", ErrRecipient, samlxml.Truncate(r, 100))
	}
	if irt, ok := samlxml.Attr(scd, "InResponseTo"); !ok || irt == "" {
		return nil, fmt.Errorf("%w: SubjectConfirmationData without InResponseTo", ErrUnsolicited)
	} else if irt != st.ID {
		return nil, fmt.Errorf("%w: SubjectConfirmationData InResponseTo does not match", ErrInResponseTo)
	}
	scdEnd, err := a.checkWindow(scd, "SubjectConfirmationData", now, true)
	if err != nil {
		return nil, err
	}
	ai.notOnOrAfter = scdEnd

	cond, err := mustChild(as, samlxml.NSAssertion, "Conditions")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAudience, err)
	}
	condEnd, err := a.checkWindow(cond, "Conditions", now, false)
	if err != nil {
		return nil, err
	}
	if !condEnd.IsZero() && condEnd.Before(ai.notOnOrAfter) {
		ai.notOnOrAfter = condEnd
	}
	audiences := 0
	for _, c := range cond.ChildElements() {
		switch {
		case samlxml.Is(c, samlxml.NSAssertion, "AudienceRestriction"):
			audiences++
			ok := false
			for _, au := range samlxml.Children(c, samlxml.NSAssertion, "Audience") {
				if samlxml.Text(au) == a.entityID {
					ok = true
				}
			}
			if !ok {
				return nil, fmt.Errorf("%w: AudienceRestriction does not name us", ErrAudience)
			}
		case samlxml.Is(c, samlxml.NSAssertion, "OneTimeUse"), samlxml.Is(c, samlxml.NSAssertion, "ProxyRestriction"):
		default:
			// saml-core §2.5.1: an unknown condition makes the assertion
			// indeterminate, which we refuse.
			return nil, fmt.Errorf("%w: unknown condition %s", ErrMalformed, c.Tag)
		}
	}
	if audiences == 0 {
		return nil, fmt.Errorf("%w: no AudienceRestriction", ErrAudience)
	}

	authn := samlxml.Children(as, samlxml.NSAssertion, "AuthnStatement")
	if len(authn) != 1 {
		return nil, fmt.Errorf("%w: need exactly one AuthnStatement, found %d", ErrMalformed, len(authn))
	}
	if ai.authnInstant, err = parseTime(samlxml.AttrValue(authn[0], "AuthnInstant")); err != nil {
		return nil, fmt.Errorf("AuthnInstant: %w", err)
	}
	if ai.authnInstant.After(now.Add(a.skew)) {
		return nil, fmt.Errorf("%w: AuthnInstant in the future", ErrNotYetValid)
	}
	// ForceAuthn="true": the person must have authenticated for this
	// request, not earlier.
	if ai.authnInstant.Before(issued.Add(-a.skew)) {
		return nil, fmt.Errorf("%w: AuthnInstant before the request (ForceAuthn)", ErrExpired)
	}
	ctxEl, err := mustChild(authn[0], samlxml.NSAssertion, "AuthnContext")
	if err != nil {
		return nil, err
	}
	ref, err := mustChild(ctxEl, samlxml.NSAssertion, "AuthnContextClassRef")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLoADowngrade, err)
	}
	if ai.level, err = assurance.ParseURI(samlxml.Text(ref)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLoADowngrade, err)
	}

	stmts := samlxml.Children(as, samlxml.NSAssertion, "AttributeStatement")
	if len(stmts) != 1 {
		return nil, fmt.Errorf("%w: need exactly one AttributeStatement, found %d", ErrMalformed, len(stmts))
	}
	if len(samlxml.Children(stmts[0], samlxml.NSAssertion, "EncryptedAttribute")) > 0 {
		return nil, fmt.Errorf("%w: EncryptedAttribute is not allowed in eIDAS", ErrMalformed)
	}
	ai.attrs = stmts[0]
	return ai, nil
}

// checkWindow applies NotBefore/NotOnOrAfter with skew; needEnd makes
// NotOnOrAfter mandatory. It returns NotOnOrAfter (zero if absent).
func (a *Adapter) checkWindow(e *etree.Element, what string, now time.Time, needEnd bool) (time.Time, error) {
	if v, ok := samlxml.Attr(e, "NotBefore"); ok {
		t, err := parseTime(v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s NotBefore: %w", what, err)
		}
		if now.Add(a.skew).Before(t) {
			return time.Time{}, fmt.Errorf("%w: %s NotBefore", ErrNotYetValid, what)
		}
	}
	v, ok := samlxml.Attr(e, "NotOnOrAfter")
	if !ok {
		if needEnd {
			return time.Time{}, fmt.Errorf("%w: %s without NotOnOrAfter", ErrMalformed, what)
		}
		return time.Time{}, nil
	}
	t, err := parseTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s NotOnOrAfter: %w", what, err)
	}
	if !now.Add(-a.skew).Before(t) {
		return time.Time{}, fmt.Errorf("%w: %s NotOnOrAfter passed", ErrExpired, what)
	}
	return t, nil
}

// checkLevel refuses a level below the requested minimum (a downgrade).
// Non-notified levels are compared exactly.
func checkLevel(got, floor assurance.Level, exact bool) error {
	if exact || !floor.Notified() {
		if got != floor {
			return fmt.Errorf("%w: %s answered, exactly %s requested", ErrLoADowngrade, got, floor)
		}
		return nil
	}
	if !got.Notified() || got < floor {
		return fmt.Errorf("%w: %s answered, at least %s requested", ErrLoADowngrade, got, floor)
	}
	return nil
}
