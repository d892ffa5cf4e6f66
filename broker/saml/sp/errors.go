package sp

import "errors"

// Sentinel errors. Every refusal of this package wraps exactly one of them
// (plus, where the XML layer found it, the xmlsec sentinel), so adapters
// and audit logs can name the reason with errors.Is. Adapters may re-export
// them under their own names; messages never carry personal data.
var (
	// Metadata of a peer.
	ErrMetadata        = errors.New("saml: metadata refused")
	ErrMetadataExpired = errors.New("saml: metadata expired")
	ErrMetadataFetch   = errors.New("saml: metadata could not be fetched")
	ErrPeerUnavailable = errors.New("saml: peer metadata unusable")

	// Transport.
	ErrBinding = errors.New("saml: bad HTTP binding")

	// Message structure and cryptography.
	ErrMalformed      = errors.New("saml: malformed SAML message")
	ErrSignature      = errors.New("saml: signature not acceptable")
	ErrDecryption     = errors.New("saml: assertion could not be decrypted")
	ErrAssertionCount = errors.New("saml: need exactly one assertion")
	ErrPlainAssertion = errors.New("saml: unencrypted assertion refused")

	// Binding of the answer to us and to the pending request.
	ErrIssuer       = errors.New("saml: wrong issuer")
	ErrDestination  = errors.New("saml: wrong destination")
	ErrAudience     = errors.New("saml: wrong audience")
	ErrRecipient    = errors.New("saml: wrong subject confirmation")
	ErrInResponseTo = errors.New("saml: answer to another request")
	ErrUnsolicited  = errors.New("saml: unsolicited response refused")
	ErrExpired      = errors.New("saml: message expired")
	ErrNotYetValid  = errors.New("saml: message not yet valid")
	ErrReplay       = errors.New("saml: response replayed")
	ErrReplayCache  = errors.New("saml: replay cache unavailable")

	// Status.
	ErrStatus         = errors.New("saml: identity provider reported a failure")
	ErrAuthnFailed    = errors.New("saml: authentication failed at the identity provider")
	ErrNoAuthnContext = errors.New("saml: identity provider cannot satisfy the requested authentication context")
)
