package eidas

import "errors"

// Sentinel errors. Finish wraps exactly one refusal reason from this list
// (plus, where the XML layer found it, the xmlsec sentinel), so the broker's
// log and any audit trail can name the reason without parsing messages.
// Messages never contain attribute values or other personal data.
var (
	// Setup and country selection.
	ErrUnknownCountry     = errors.New("eidas: country not configured")
	ErrCountryUnavailable = errors.New("eidas: country unavailable")
	ErrLevelUnreachable   = errors.New("eidas: country cannot reach the required level")

	// Metadata of a proxy-service.
	ErrMetadata        = errors.New("eidas: metadata refused")
	ErrMetadataExpired = errors.New("eidas: metadata expired")
	ErrMetadataFetch   = errors.New("eidas: metadata could not be fetched")

	// Transport and state.
	ErrBinding = errors.New("eidas: bad HTTP binding")
	ErrState   = errors.New("eidas: login state invalid")

	// Message structure and cryptography.
	ErrMalformed      = errors.New("eidas: malformed SAML message")
	ErrSignature      = errors.New("eidas: signature not acceptable")
	ErrDecryption     = errors.New("eidas: assertion could not be decrypted")
	ErrAssertionCount = errors.New("eidas: need exactly one encrypted assertion")
	ErrPlainAssertion = errors.New("eidas: unencrypted assertion refused")

	// Binding of the answer to us and to the pending request.
	ErrIssuer       = errors.New("eidas: wrong issuer")
	ErrDestination  = errors.New("eidas: wrong destination")
	ErrAudience     = errors.New("eidas: wrong audience")
	ErrRecipient    = errors.New("eidas: wrong subject confirmation")
	ErrInResponseTo = errors.New("eidas: answer to another request")
	ErrUnsolicited  = errors.New("eidas: unsolicited response refused")
	ErrExpired      = errors.New("eidas: message expired")
	ErrNotYetValid  = errors.New("eidas: message not yet valid")
	ErrReplay       = errors.New("eidas: response replayed")
	ErrReplayCache  = errors.New("eidas: replay cache unavailable")

	// Content.
	ErrStatus           = errors.New("eidas: proxy-service reported a failure")
	ErrAuthnFailed      = errors.New("eidas: authentication failed at the proxy-service")
	ErrLoADowngrade     = errors.New("eidas: level of assurance below the requested one")
	ErrPersonIdentifier = errors.New("eidas: PersonIdentifier not acceptable")
	ErrMissingAttribute = errors.New("eidas: required attribute missing")
	ErrAttribute        = errors.New("eidas: attribute value not acceptable")
	ErrRepresentation   = errors.New("eidas: representation not supported")
)
