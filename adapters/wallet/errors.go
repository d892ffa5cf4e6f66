package wallet

import "errors"

// Errors Finish wraps; the log line names the specific reason, the person
// sees the broker's generic page.
var (
	// ErrRequest: the browser's callback or the stored state does not fit
	// (no or wrong response code, expired, replayed).
	ErrRequest = errors.New("wallet request")
	// ErrResponse: the wallet's response is malformed, not encrypted as
	// asked, for another request, or lacks the asked credential.
	ErrResponse = errors.New("wallet response")
	// ErrCredential: the presented PID does not verify (issuer signature,
	// trust, disclosures, digests, validity, device or key binding).
	ErrCredential = errors.New("pid credential")
	// ErrRevoked: the PID's status list says it is not valid.
	ErrRevoked = errors.New("pid revoked or suspended")
	// ErrStatus: the status could not be established.
	ErrStatus = errors.New("pid status")
	// ErrStore: the store failed; the login fails closed.
	ErrStore = errors.New("wallet store")
)
