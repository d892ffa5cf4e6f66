package sp

import (
	"crypto"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// DefaultMaxAnswerAge is how old an IssueInstant may be when Expect does
// not say otherwise.
const DefaultMaxAnswerAge = 10 * time.Minute

// Expect is what a Response must match: the pending request, the peer's
// verified metadata, our own endpoint, the clock and the peer's algorithm
// policy.
type Expect struct {
	// Peer is the identity provider's verified metadata: its entity ID is
	// the only acceptable Issuer, its signing certificates the only keys.
	Peer *Metadata
	// EntityID is ours (the Audience); ACSURL is ours (Destination and
	// Recipient).
	EntityID string
	ACSURL   string
	// RequestID is the ID of our AuthnRequest (InResponseTo); Issued is
	// when we sent it.
	RequestID string
	Issued    time.Time
	// Now is the time of the check; Skew the tolerated clock difference.
	Now  time.Time
	Skew time.Duration
	// MaxAnswerAge bounds IssueInstant (default DefaultMaxAnswerAge).
	MaxAnswerAge time.Duration
	// Policy is the peer's algorithm policy.
	Policy Policy
	// DecryptionKey opens EncryptedAssertion and EncryptedID.
	DecryptionKey crypto.PrivateKey
	// ForceAuthn: AuthnInstant must not precede the request (we asked for
	// a fresh authentication).
	ForceAuthn bool
	// AuthnContext, when set, judges the AuthnContextClassRef (present is
	// false when the element is missing); its error is returned as is.
	// Without it the element is required but not judged.
	AuthnContext func(classRef string, present bool) error
}

// Assertion is what ValidateResponse extracts from an accepted Response.
// Data is read only from the verified (and decrypted) elements.
type Assertion struct {
	ResponseID string
	ID         string
	// NameID is the subject's name identifier, from NameID or the decrypted
	// EncryptedID; NameIDFormat its Format attribute.
	NameID       string
	NameIDFormat string
	// NotOnOrAfter is the earliest of Conditions and SubjectConfirmationData.
	NotOnOrAfter time.Time
	AuthnInstant time.Time
	// AuthnContextClassRef is the text of the AuthnStatement's class ref.
	AuthnContextClassRef string
	// Attributes is the single AttributeStatement.
	Attributes *etree.Element
}

// ValidateResponse checks a decoded SAML Response against exp, in this
// order (the core's security rules; see the package documentation):
// safe parse, the Response's enveloped signature by a key of the peer's
// metadata, Version/ID/Issuer/Destination/InResponseTo/IssueInstant,
// Status (an error status ends here, wrapping ErrStatus), no plain
// assertion anywhere and exactly one EncryptedAssertion, decryption under
// the policy, an inner signature (if any) that verifies, no nested
// assertion, then the assertion's Issuer, IssueInstant, Subject (NameID or
// EncryptedID), one bearer SubjectConfirmation with our ACS and this
// request, time windows, audience, conditions, one AuthnStatement and one
// AttributeStatement. Replay is the caller's last step (Consume), after
// its own checks, so a refused answer does not burn its IDs.
func ValidateResponse(raw []byte, exp Expect) (*Assertion, error) {
	if exp.Peer == nil {
		return nil, fmt.Errorf("%w: no peer metadata", ErrMetadata)
	}
	if exp.MaxAnswerAge == 0 {
		exp.MaxAnswerAge = DefaultMaxAnswerAge
	}
	doc, err := xmlsec.Parse(raw, ResponseLimits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if !samlxml.Is(doc.Root(), samlxml.NSProtocol, "Response") {
		return nil, fmt.Errorf("%w: not a samlp:Response", ErrMalformed)
	}
	vopts := exp.Policy.verify(xmlsec.VerifyOptions{Trusted: exp.Peer.SigningCerts, Limits: ResponseLimits, Now: func() time.Time { return exp.Now }})
	// From here on only the element re-read from the signed bytes is used.
	resp, _, err := xmlsec.Verify(doc.Root(), vopts)
	if err != nil {
		return nil, fmt.Errorf("%w: response: %w", ErrSignature, err)
	}
	respID, err := exp.checkResponse(resp)
	if err != nil {
		return nil, err
	}
	status, err := MustChild(resp, samlxml.NSProtocol, "Status")
	if err != nil {
		return nil, err
	}
	if err := StatusError(status); err != nil {
		// An error response may carry an assertion (some nodes add one);
		// it is never looked at.
		return nil, err
	}

	if n := len(samlxml.Descendants(resp, samlxml.NSAssertion, "Assertion")); n > 0 {
		return nil, fmt.Errorf("%w: %d plain assertion(s) in the response", ErrPlainAssertion, n)
	}
	encs := samlxml.Children(resp, samlxml.NSAssertion, "EncryptedAssertion")
	if len(encs) != 1 || len(samlxml.Descendants(resp, samlxml.NSAssertion, "EncryptedAssertion")) != 1 {
		return nil, fmt.Errorf("%w: found %d encrypted", ErrAssertionCount, len(samlxml.Descendants(resp, samlxml.NSAssertion, "EncryptedAssertion")))
	}
	as, err := xmlsec.Decrypt(encs[0], exp.DecryptionKey, exp.Policy.decrypt(ResponseLimits))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecryption, err)
	}
	if !samlxml.Is(as, samlxml.NSAssertion, "Assertion") {
		return nil, fmt.Errorf("%w: encrypted content is not a saml:Assertion", ErrMalformed)
	}
	// The Response signature covers the ciphertext, so an unsigned
	// assertion is authentic. A signed one must still verify: a broken
	// inner signature is never ignored.
	if len(samlxml.Children(as, xmlsec.NamespaceDSig, "Signature")) > 0 {
		if as, _, err = xmlsec.Verify(as, vopts); err != nil {
			return nil, fmt.Errorf("%w: assertion: %w", ErrSignature, err)
		}
	}
	if len(samlxml.Descendants(as, samlxml.NSAssertion, "Assertion")) > 0 || len(samlxml.Descendants(as, samlxml.NSAssertion, "EncryptedAssertion")) > 0 {
		return nil, fmt.Errorf("%w: assertion nested in the assertion", ErrAssertionCount)
	}
	ai, err := exp.CheckAssertion(as)
	if err != nil {
		return nil, err
	}
	ai.ResponseID = respID
	return ai, nil
}

// checkResponse checks the Response element itself; it returns its ID.
func (exp *Expect) checkResponse(resp *etree.Element) (string, error) {
	if v := samlxml.AttrValue(resp, "Version"); v != samlVersion {
		return "", fmt.Errorf("%w: Version %q", ErrMalformed, samlxml.Truncate(v, 8))
	}
	id := samlxml.AttrValue(resp, "ID")
	if id == "" {
		return "", fmt.Errorf("%w: response without ID", ErrMalformed)
	}
	if err := checkIssuer(resp, exp.Peer.EntityID); err != nil {
		return "", err
	}
	dest, ok := samlxml.Attr(resp, "Destination")
	if !ok || dest != exp.ACSURL {
		return "", fmt.Errorf("%w: Destination %q", ErrDestination, samlxml.Truncate(dest, 100))
	}
	irt, ok := samlxml.Attr(resp, "InResponseTo")
	if !ok || irt == "" {
		return "", ErrUnsolicited
	}
	if irt != exp.RequestID {
		return "", fmt.Errorf("%w: InResponseTo does not match", ErrInResponseTo)
	}
	if err := exp.checkInstant(resp); err != nil {
		return "", err
	}
	return id, nil
}

// checkInstant requires IssueInstant after the request (less skew), not in
// the future (beyond skew) and not older than MaxAnswerAge.
func (exp *Expect) checkInstant(e *etree.Element) error {
	t, err := parseTime(samlxml.AttrValue(e, "IssueInstant"))
	if err != nil {
		return fmt.Errorf("%s IssueInstant: %w", e.Tag, err)
	}
	switch {
	case t.After(exp.Now.Add(exp.Skew)):
		return fmt.Errorf("%w: %s issued in the future", ErrNotYetValid, e.Tag)
	case t.Before(exp.Issued.Add(-exp.Skew)):
		return fmt.Errorf("%w: %s issued before the request", ErrExpired, e.Tag)
	case exp.Now.Sub(t) > exp.MaxAnswerAge+exp.Skew:
		return fmt.Errorf("%w: %s older than %s", ErrExpired, e.Tag, exp.MaxAnswerAge)
	}
	return nil
}

func checkIssuer(e *etree.Element, entityID string) error {
	iss, err := MustChild(e, samlxml.NSAssertion, "Issuer")
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

// StatusError maps a non-success Status to an error; nil for Success.
//
// The mapping, and why:
//   - RequestDenied (second level): the person cancelled or refused
//     consent at the identity provider (the EU eIDAS-Node answers a cancel
//     with Responder/Requester + RequestDenied). It wraps
//     adapters.ErrCancelled, so the portal gets access_denied.
//   - A third-level code ending in "/cancel" (some national nodes nest a
//     cancel code below AuthnFailed) is a cancel as well.
//   - AuthnFailed otherwise: the authentication itself failed (wrong
//     credentials, aborted device flow): ErrAuthnFailed, so the broker can
//     offer another try instead of ending the portal's request.
//   - NoAuthnContext: the peer cannot prove the requested level
//     (ErrNoAuthnContext).
//   - Anything else: ErrStatus with the codes (never the message alone,
//     which is free text from the peer) for the log.
//
// Every mapped error also wraps ErrStatus.
func StatusError(status *etree.Element) error {
	sc, err := MustChild(status, samlxml.NSProtocol, "StatusCode")
	if err != nil {
		return err
	}
	top := samlxml.AttrValue(sc, "Value")
	sub, third := "", ""
	if s, ok, err := Child(sc, samlxml.NSProtocol, "StatusCode"); err != nil {
		return err
	} else if ok {
		sub = samlxml.AttrValue(s, "Value")
		if t, ok, err := Child(s, samlxml.NSProtocol, "StatusCode"); err != nil {
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
	if m, ok, _ := Child(status, samlxml.NSProtocol, "StatusMessage"); ok {
		msg = samlxml.Truncate(samlxml.Text(m), maxStatusMessage)
	}
	err = fmt.Errorf("%w: %s / %s: %q", ErrStatus, shortStatus(top), shortStatus(sub), msg)
	switch {
	case sub == samlxml.StatusRequestDenied, strings.HasSuffix(third, "/cancel"):
		return fmt.Errorf("%w: %w", adapters.ErrCancelled, err)
	case sub == samlxml.StatusAuthnFailed:
		return fmt.Errorf("%w: %w", ErrAuthnFailed, err)
	case sub == samlxml.StatusNoAuthnContext:
		return fmt.Errorf("%w: %w", ErrNoAuthnContext, err)
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

// checkAssertion applies the SAML Web SSO profile rules to the assertion.
// CheckAssertion applies the assertion rules of ValidateResponse to an
// already decrypted (and, if signed, verified) assertion. ValidateResponse
// calls it; it is exported for fuzzing and for adapters with their own
// envelope handling.
func (exp *Expect) CheckAssertion(as *etree.Element) (*Assertion, error) {
	if exp.MaxAnswerAge == 0 {
		exp.MaxAnswerAge = DefaultMaxAnswerAge
	}
	ai := &Assertion{ID: samlxml.AttrValue(as, "ID")}
	if v := samlxml.AttrValue(as, "Version"); v != samlVersion {
		return nil, fmt.Errorf("%w: assertion Version %q", ErrMalformed, samlxml.Truncate(v, 8))
	}
	if ai.ID == "" {
		return nil, fmt.Errorf("%w: assertion without ID", ErrMalformed)
	}
	if err := checkIssuer(as, exp.Peer.EntityID); err != nil {
		return nil, err
	}
	if err := exp.checkInstant(as); err != nil {
		return nil, err
	}

	subj, err := MustChild(as, samlxml.NSAssertion, "Subject")
	if err != nil {
		return nil, err
	}
	if err := exp.subjectName(subj, ai); err != nil {
		return nil, err
	}
	scs := samlxml.Children(subj, samlxml.NSAssertion, "SubjectConfirmation")
	if len(scs) != 1 || samlxml.AttrValue(scs[0], "Method") != samlxml.CMBearer {
		return nil, fmt.Errorf("%w: need exactly one bearer SubjectConfirmation", ErrRecipient)
	}
	scd, err := MustChild(scs[0], samlxml.NSAssertion, "SubjectConfirmationData")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecipient, err)
	}
	if r, ok := samlxml.Attr(scd, "Recipient"); !ok || r != exp.ACSURL {
		return nil, fmt.Errorf("%w: Recipient %q", ErrRecipient, samlxml.Truncate(r, 100))
	}
	if irt, ok := samlxml.Attr(scd, "InResponseTo"); !ok || irt == "" {
		return nil, fmt.Errorf("%w: SubjectConfirmationData without InResponseTo", ErrUnsolicited)
	} else if irt != exp.RequestID {
		return nil, fmt.Errorf("%w: SubjectConfirmationData InResponseTo does not match", ErrInResponseTo)
	}
	scdEnd, err := exp.checkWindow(scd, "SubjectConfirmationData", true)
	if err != nil {
		return nil, err
	}
	ai.NotOnOrAfter = scdEnd

	cond, err := MustChild(as, samlxml.NSAssertion, "Conditions")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAudience, err)
	}
	condEnd, err := exp.checkWindow(cond, "Conditions", false)
	if err != nil {
		return nil, err
	}
	if !condEnd.IsZero() && condEnd.Before(ai.NotOnOrAfter) {
		ai.NotOnOrAfter = condEnd
	}
	audiences := 0
	for _, c := range cond.ChildElements() {
		switch {
		case samlxml.Is(c, samlxml.NSAssertion, "AudienceRestriction"):
			audiences++
			ok := false
			for _, au := range samlxml.Children(c, samlxml.NSAssertion, "Audience") {
				if samlxml.Text(au) == exp.EntityID {
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
	if ai.AuthnInstant, err = parseTime(samlxml.AttrValue(authn[0], "AuthnInstant")); err != nil {
		return nil, fmt.Errorf("AuthnInstant: %w", err)
	}
	if ai.AuthnInstant.After(exp.Now.Add(exp.Skew)) {
		return nil, fmt.Errorf("%w: AuthnInstant in the future", ErrNotYetValid)
	}
	if exp.ForceAuthn && ai.AuthnInstant.Before(exp.Issued.Add(-exp.Skew)) {
		return nil, fmt.Errorf("%w: AuthnInstant before the request (ForceAuthn)", ErrExpired)
	}
	ctxEl, err := MustChild(authn[0], samlxml.NSAssertion, "AuthnContext")
	if err != nil {
		return nil, err
	}
	ref, found, err := Child(ctxEl, samlxml.NSAssertion, "AuthnContextClassRef")
	if err == nil && found {
		ai.AuthnContextClassRef = samlxml.Text(ref)
	}
	switch {
	case exp.AuthnContext != nil && err == nil:
		if err := exp.AuthnContext(ai.AuthnContextClassRef, found); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case !found:
		return nil, fmt.Errorf("%w: AuthnContextClassRef missing", ErrMalformed)
	}

	stmts := samlxml.Children(as, samlxml.NSAssertion, "AttributeStatement")
	if len(stmts) != 1 {
		return nil, fmt.Errorf("%w: need exactly one AttributeStatement, found %d", ErrMalformed, len(stmts))
	}
	if len(samlxml.Children(stmts[0], samlxml.NSAssertion, "EncryptedAttribute")) > 0 {
		return nil, fmt.Errorf("%w: EncryptedAttribute is not supported", ErrMalformed)
	}
	ai.Attributes = stmts[0]
	return ai, nil
}

// subjectName reads the subject's NameID, or decrypts its EncryptedID
// (under the same key and policy as the assertion). Exactly one of the two.
func (exp *Expect) subjectName(subj *etree.Element, ai *Assertion) error {
	ids := samlxml.Children(subj, samlxml.NSAssertion, "NameID")
	encs := samlxml.Children(subj, samlxml.NSAssertion, "EncryptedID")
	if len(samlxml.Children(subj, samlxml.NSAssertion, "BaseID")) > 0 || len(ids)+len(encs) != 1 {
		if len(ids)+len(encs) == 0 {
			return fmt.Errorf("%w: NameID missing", ErrMalformed)
		}
		return fmt.Errorf("%w: need exactly one NameID or EncryptedID", ErrMalformed)
	}
	nameID := (*etree.Element)(nil)
	if len(ids) == 1 {
		nameID = ids[0]
	} else {
		dec, err := xmlsec.Decrypt(encs[0], exp.DecryptionKey, exp.Policy.decrypt(ResponseLimits))
		if err != nil {
			return fmt.Errorf("%w: EncryptedID: %w", ErrDecryption, err)
		}
		if !samlxml.Is(dec, samlxml.NSAssertion, "NameID") || len(dec.ChildElements()) > 0 {
			return fmt.Errorf("%w: EncryptedID does not hold a saml:NameID", ErrMalformed)
		}
		nameID = dec
	}
	ai.NameID = samlxml.Text(nameID)
	ai.NameIDFormat = samlxml.AttrValue(nameID, "Format")
	if ai.NameID == "" {
		return fmt.Errorf("%w: empty NameID", ErrMalformed)
	}
	return nil
}

// checkWindow applies NotBefore/NotOnOrAfter with skew; needEnd makes
// NotOnOrAfter mandatory. It returns NotOnOrAfter (zero if absent).
func (exp *Expect) checkWindow(e *etree.Element, what string, needEnd bool) (time.Time, error) {
	if v, ok := samlxml.Attr(e, "NotBefore"); ok {
		t, err := parseTime(v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s NotBefore: %w", what, err)
		}
		if exp.Now.Add(exp.Skew).Before(t) {
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
	if !exp.Now.Add(-exp.Skew).Before(t) {
		return time.Time{}, fmt.Errorf("%w: %s NotOnOrAfter passed", ErrExpired, what)
	}
	return t, nil
}
