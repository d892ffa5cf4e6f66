package nezo

import (
	"errors"

	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
)

// Sentinel errors of the adapter. Finish wraps exactly one refusal reason:
// one of these, or one of the SP core's (package sp) for the SAML rules.
var (
	ErrUnavailable      = errors.New("nezo: ELSTER metadata unusable")
	ErrState            = errors.New("nezo: login state invalid")
	ErrLevelUnreachable = errors.New("nezo: ELSTER cannot reach the required level")
	// ErrLevel: the level attribute is missing or not in the table.
	ErrLevel = errors.New("nezo: ELSTER level missing or unknown")
	// ErrTestAccount: an ELSTER test account where none are allowed.
	ErrTestAccount = errors.New("nezo: ELSTER test account refused")
	// ErrSubject: no DatenuebermittlerPseudonymId.
	ErrSubject = errors.New("nezo: pseudonym missing")
	// ErrAttribute: an attribute value the adapter cannot accept.
	ErrAttribute = errors.New("nezo: attribute value not acceptable")
	// ErrReplay re-exports the core's replay refusal.
	ErrReplay = sp.ErrReplay
)
