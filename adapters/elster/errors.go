package elster

import "errors"

// Errors Finish wraps, so the broker and tests can tell the causes apart
// with errors.Is. Their texts name no person: the broker may log them.
var (
	// ErrRequest: the POST is malformed (missing or repeated fields, bad
	// encoding, too large, mutual TLS used while disabled).
	ErrRequest = errors.New("elster: malformed login request")
	// ErrChallenge: the challenge differs from the one issued, belongs to
	// another transaction or origin, or has expired.
	ErrChallenge = errors.New("elster: challenge invalid")
	// ErrReplay: a valid answer for this challenge was seen before.
	ErrReplay = errors.New("elster: challenge already used")
	// ErrSignature: the signature does not verify with the certificate key.
	ErrSignature = errors.New("elster: signature invalid")
	// ErrUntrusted: no chain to a configured ELSTER trust anchor.
	ErrUntrusted = errors.New("elster: certificate not issued by a trusted ELSTER CA")
	// ErrExpired: a certificate of the chain is outside its validity period.
	ErrExpired = errors.New("elster: certificate expired or not yet valid")
	// ErrKeyUsage: the certificate is not meant for authentication (key
	// usage, extended key usage, CA certificate, unsupported or weak key).
	ErrKeyUsage = errors.New("elster: certificate not usable for login")
	// ErrRevoked: OCSP or a CRL says a certificate of the chain is revoked.
	ErrRevoked = errors.New("elster: certificate revoked")
	// ErrRevocationUnavailable: no revocation source answered and the
	// policy is refuse, or the answer said "unknown".
	ErrRevocationUnavailable = errors.New("elster: revocation status unavailable")
	// ErrRevocationInvalid: a revocation answer failed verification (bad
	// signature, wrong issuer, unusable responder certificate). Always
	// refused, whatever the unreachable policy says.
	ErrRevocationInvalid = errors.New("elster: revocation answer invalid")
	// ErrProxy: a client certificate header arrived from an address that is
	// not a trusted TLS terminator, or without one.
	ErrProxy = errors.New("elster: client certificate not forwarded by a trusted proxy")
	// ErrCrossSite: the callback POST did not come from the broker's own
	// login page: Sec-Fetch-Site says another site (or is missing while the
	// Origin is not the broker's). A page elsewhere that auto-submits a form
	// to the callback (in mutual-TLS mode the browser adds the person's
	// certificate by itself) must never complete a login.
	ErrCrossSite = errors.New("elster: login answer sent from another site")
	// ErrStore: the replay record could not be written; the login fails
	// closed (the broker answers 503).
	ErrStore = errors.New("elster: replay store unavailable")
)
