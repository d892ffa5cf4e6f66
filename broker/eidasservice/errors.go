package eidasservice

import "errors"

// Sentinel errors. Every refusal wraps exactly one of them (test with
// errors.Is) so logs and tests can name the reason without parsing messages.
// Messages never contain personal data or message content beyond short,
// truncated identifiers.
var (
	// Configuration.
	ErrConfig = errors.New("eidas service: invalid configuration")

	// Connector metadata.
	ErrMetadata         = errors.New("eidas service: connector metadata refused")
	ErrMetadataExpired  = errors.New("eidas service: connector metadata expired")
	ErrMetadataFetch    = errors.New("eidas service: connector metadata could not be fetched")
	ErrConnectorUnknown = errors.New("eidas service: request from an unknown connector")

	// Transport and message level. Before the signature is verified, or
	// when the message is meant for another endpoint, they are answered
	// with an error page, never with a SAML response. Once a configured
	// connector is established as the sender, ErrMalformed, ErrStale,
	// ErrReplay, ErrACS, ErrBinding (RelayState) and ErrNoAlgorithm
	// (encryption) are answered with a signed error Response to it
	// (errorresponse.go).
	ErrBinding     = errors.New("eidas service: bad HTTP binding")
	ErrMalformed   = errors.New("eidas service: malformed AuthnRequest")
	ErrSignature   = errors.New("eidas service: AuthnRequest signature not acceptable")
	ErrDestination = errors.New("eidas service: AuthnRequest not addressed to this service")
	ErrStale       = errors.New("eidas service: AuthnRequest outside its validity window")
	ErrReplay      = errors.New("eidas service: AuthnRequest replayed")
	ErrACS         = errors.New("eidas service: assertion consumer service not in the connector's metadata")
	ErrNoAlgorithm = errors.New("eidas service: no signature or encryption algorithm in common with the connector")

	// Content (answered with a SAML error Response).
	ErrIsPassive      = errors.New("eidas service: passive authentication requested")
	ErrForceAuthn     = errors.New("eidas service: ForceAuthn must be true")
	ErrLevel          = errors.New("eidas service: requested level of assurance cannot be met")
	ErrAttributes     = errors.New("eidas service: requested attributes cannot be served")
	ErrNameIDPolicy   = errors.New("eidas service: NameIDPolicy format not supported")
	ErrSPType         = errors.New("eidas service: SPType missing, invalid or conflicting")
	ErrRequesterID    = errors.New("eidas service: RequesterID required for a private-sector relying party")
	ErrProtocolBind   = errors.New("eidas service: response binding not supported")
	ErrVersion        = errors.New("eidas service: SAML version not supported")
	ErrAuthentication = errors.New("eidas service: authentication failed")
	ErrCancelled      = errors.New("eidas service: authentication cancelled by the person")

	// Flow.
	ErrTransaction = errors.New("eidas service: transaction unknown, expired or already answered")
	ErrBrowser     = errors.New("eidas service: transaction belongs to another browser")
	ErrStore       = errors.New("eidas service: store unavailable")
)
