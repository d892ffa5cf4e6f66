package eidas

import (
	"errors"

	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
)

// Sentinel errors. Finish wraps exactly one refusal reason from this list
// (plus, where the XML layer found it, the xmlsec sentinel), so the broker's
// log and any audit trail can name the reason without parsing messages.
// Messages never contain attribute values or other personal data.
//
// The reasons every SAML upstream shares are the SP core's sentinels
// (package sp), re-exported here under their established names, so
// errors.Is works with either.
var (
	// Setup and country selection.
	ErrUnknownCountry     = errors.New("eidas: country not configured")
	ErrCountryUnavailable = errors.New("eidas: country unavailable")
	ErrLevelUnreachable   = errors.New("eidas: country cannot reach the required level")

	// Metadata of a proxy-service.
	ErrMetadata        = sp.ErrMetadata
	ErrMetadataExpired = sp.ErrMetadataExpired
	ErrMetadataFetch   = sp.ErrMetadataFetch

	// Transport and state.
	ErrBinding = sp.ErrBinding
	ErrState   = errors.New("eidas: login state invalid")

	// Message structure and cryptography.
	ErrMalformed      = sp.ErrMalformed
	ErrSignature      = sp.ErrSignature
	ErrDecryption     = sp.ErrDecryption
	ErrAssertionCount = sp.ErrAssertionCount
	ErrPlainAssertion = sp.ErrPlainAssertion

	// Binding of the answer to us and to the pending request.
	ErrIssuer       = sp.ErrIssuer
	ErrDestination  = sp.ErrDestination
	ErrAudience     = sp.ErrAudience
	ErrRecipient    = sp.ErrRecipient
	ErrInResponseTo = sp.ErrInResponseTo
	ErrUnsolicited  = sp.ErrUnsolicited
	ErrExpired      = sp.ErrExpired
	ErrNotYetValid  = sp.ErrNotYetValid
	ErrReplay       = sp.ErrReplay
	ErrReplayCache  = sp.ErrReplayCache

	// Content.
	ErrStatus           = sp.ErrStatus
	ErrAuthnFailed      = sp.ErrAuthnFailed
	ErrLoADowngrade     = errors.New("eidas: level of assurance below the requested one")
	ErrPersonIdentifier = errors.New("eidas: PersonIdentifier not acceptable")
	ErrMissingAttribute = errors.New("eidas: required attribute missing")
	ErrAttribute        = errors.New("eidas: attribute value not acceptable")
	ErrRepresentation   = errors.New("eidas: representation not supported")
)
