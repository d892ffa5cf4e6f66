package eidas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
)

// Size limits of the answer: the form (base64) and the XML inside it. A
// real eIDAS Response is a few tens of KiB.
const (
	maxForm      = sp.MaxForm
	maxMessage   = sp.MaxMessage
	maxStateAge  = time.Hour
	maxAnswerAge = 10 * time.Minute
)

var responseLimits = sp.ResponseLimits

// Finish implements adapters.Adapter. The answer must be an HTTP-POST of
// SAMLResponse (and RelayState) to the callback. See the package
// documentation for the checks, in order.
func (a *Adapter) Finish(ctx context.Context, req adapters.Request, state []byte, r *http.Request) (adapters.Identity, error) {
	id, err := a.finish(ctx, req, state, r)
	if err != nil {
		return adapters.Identity{}, adapters.WithReason(reasonFor(err), err)
	}
	return id, nil
}

// reasonFor tells the broker which page explains a refusal to the person.
func reasonFor(err error) adapters.Reason {
	switch {
	case errors.Is(err, ErrAuthnFailed):
		return adapters.ReasonAuthnFailed
	case errors.Is(err, ErrMetadataFetch), errors.Is(err, ErrMetadataExpired):
		return adapters.ReasonUpstreamUnreachable
	}
	return ""
}

func (a *Adapter) finish(ctx context.Context, _ adapters.Request, state []byte, r *http.Request) (adapters.Identity, error) {
	st, err := decodeState(state)
	if err != nil {
		return adapters.Identity{}, err
	}
	raw, err := sp.ReadPOSTResponse(r, st.Ref)
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("eidas: finish: %w", err)
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

// policy is a country's algorithm policy: eIDAS strict, relaxed only where
// the admin allowed it for that country.
func (c *country) policy() sp.Policy {
	return sp.Policy{AllowRSAPKCS1v15: c.pkcs1, AllowLegacyKeyTransport: c.legacyKT}
}

// expect is what a Response to the request in st must match.
func (a *Adapter) expect(c *country, md *Metadata, st *loginState, now, issued time.Time, level *assurance.Level) sp.Expect {
	return sp.Expect{
		Peer: md, EntityID: a.entityID, ACSURL: a.acsURL,
		RequestID: st.ID, Issued: issued, Now: now, Skew: a.skew, MaxAnswerAge: maxAnswerAge,
		Policy: c.policy(), DecryptionKey: a.openKey,
		// ForceAuthn="true": the person must have authenticated for this
		// request, not earlier.
		ForceAuthn: true,
		AuthnContext: func(ref string, present bool) error {
			if !present {
				return fmt.Errorf("%w: %w: AuthnContextClassRef missing", ErrLoADowngrade, ErrMalformed)
			}
			l, err := assurance.ParseURI(ref)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrLoADowngrade, err)
			}
			*level = l
			return nil
		},
	}
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
	var level assurance.Level
	ai, err := sp.ValidateResponse(raw, a.expect(c, md, st, now, issued, &level))
	if err != nil {
		if errors.Is(err, sp.ErrNoAuthnContext) {
			// The country cannot prove the requested level.
			return adapters.Identity{}, fmt.Errorf("%w: %w", ErrLevelUnreachable, err)
		}
		return adapters.Identity{}, err
	}
	if err := checkLevel(level, floor, st.Exact); err != nil {
		return adapters.Identity{}, err
	}
	ident, err := a.mapAttributes(ai.Attributes, c, st)
	if err != nil {
		return adapters.Identity{}, err
	}
	ident.Level = level
	ident.AuthTime = ai.AuthnInstant

	// Single use, across replicas: both IDs are recorded until the
	// assertion would expire. A store error refuses the login.
	if err := sp.Consume(ctx, a.store, "eidas:", md.EntityID, ai, now, a.skew); err != nil {
		return adapters.Identity{}, err
	}
	a.log.Info("eidas response accepted", "country", c.code, "loa", level.String())
	return ident, nil
}

// statusError maps a non-success Status to an error; nil for Success. It
// is the SP core's mapping (sp.StatusError), with NoAuthnContext reported
// as ErrLevelUnreachable: the country cannot prove the requested level.
func statusError(status *etree.Element) error {
	err := sp.StatusError(status)
	if errors.Is(err, sp.ErrNoAuthnContext) {
		return fmt.Errorf("%w: %w", ErrLevelUnreachable, err)
	}
	return err
}

// assertionInfo is what checkAssertion extracts.
type assertionInfo struct {
	*sp.Assertion
	level assurance.Level
	attrs *etree.Element // the AttributeStatement
}

// checkAssertion applies the SAML and eIDAS rules to a decrypted assertion
// (the SP core's, with the eIDAS level from AuthnContextClassRef).
func (a *Adapter) checkAssertion(as *etree.Element, md *Metadata, st *loginState, now, issued time.Time) (*assertionInfo, error) {
	c := a.byCode[samlxml.CountryCode(st.Country)]
	if c == nil {
		return nil, fmt.Errorf("%w: country not configured", ErrState)
	}
	ai := &assertionInfo{}
	exp := a.expect(c, md, st, now, issued, &ai.level)
	sa, err := exp.CheckAssertion(as)
	if err != nil {
		return nil, err
	}
	ai.Assertion, ai.attrs = sa, sa.Attributes
	return ai, nil
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
