package eid

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// Result codes (TR-03130-1 §3.4, TR-03112-1 §4.1.2 and §4.2).
const (
	MajorOK    = "http://www.bsi.bund.de/ecard/api/1.1/resultmajor#ok"
	MajorError = "http://www.bsi.bund.de/ecard/api/1.1/resultmajor#error"

	minorPrefix = "http://www.bsi.bund.de/eid/server/2.0/resultminor"

	MinorInternalError         = minorPrefix + "/common#internalError"
	MinorSchemaViolation       = minorPrefix + "/common#schemaViolation"
	MinorInvalidPSK            = minorPrefix + "/useID#invalidPSK"
	MinorTooManyOpenSessions   = minorPrefix + "/useID#tooManyOpenSessions"
	MinorMissingArgument       = minorPrefix + "/useID#missingArgument"
	MinorMissingTerminalRights = minorPrefix + "/useID#missingTerminalRights"
	MinorNoResultYet           = minorPrefix + "/getResult#noResultYet"
	MinorInvalidSession        = minorPrefix + "/getResult#invalidSession"
	MinorInvalidCounter        = minorPrefix + "/getResult#invalidCounter"
	MinorDeniedDocument        = minorPrefix + "/getResult#deniedDocument"
	MinorInvalidDocument       = minorPrefix + "/getResult#invalidDocument"

	// MinorCancellationByUser is the eCard-API code an eID-Server reports
	// when the person aborted in the eID-Client (TR-03112-1 §4.2).
	MinorCancellationByUser = "http://www.bsi.bund.de/ecard/api/1.1/resultminor/sal#cancellationByUser"
)

// Sentinel errors, one per result code. Errors returned by this package wrap
// them (test with errors.Is); ResultError carries the raw code.
var (
	ErrInternal              = errors.New("eid-server reported an internal error")
	ErrSchemaViolation       = errors.New("eid-server rejected the request as schema-invalid")
	ErrInvalidPSK            = errors.New("eid-server rejected the pre-shared key")
	ErrTooManyOpenSessions   = errors.New("eid-server has too many open sessions")
	ErrMissingArgument       = errors.New("eid-server misses the age or place verification argument")
	ErrMissingTerminalRights = errors.New("terminal authorisation certificate lacks a requested right")
	// ErrNoResultYet is retryable: the eID-Client has not finished yet. Poll
	// again (the next getResult uses the next RequestCounter).
	ErrNoResultYet       = errors.New("eid-server has no result yet")
	ErrInvalidSession    = errors.New("eid-server session unknown, expired or already answered")
	ErrInvalidCounter    = errors.New("eid-server rejected the request counter")
	ErrDeniedDocument    = errors.New("eid document type denied or below the requested level of assurance")
	ErrInvalidDocument   = errors.New("eid document invalid (not genuine, expired or revoked)")
	ErrCardOrClientError = errors.New("eid-client or card reported an error")
	ErrUnknownResult     = errors.New("eid-server answered with an unknown result")

	// ErrSignature: a response's WS-Security signature is missing, invalid,
	// stale or from an untrusted key. Nothing in such a response is used.
	ErrSignature = errors.New("eid-server response signature not valid")
	// ErrProtocol: a response violates the interface (wrong element, missing
	// session or PSK, HTTP error, SOAP fault).
	ErrProtocol = errors.New("eid-server response violates the eID-Interface")
	// ErrClient: the eID-Client reported a failure on the refresh address
	// (communicationError, trustedChannelEstablishmentFailed, serverError,
	// clientError) and the eID-Server has no result. This is only a hint:
	// the refresh URL is unauthenticated and never decides success.
	ErrClient = errors.New("eid-client reported a failure")
	// ErrCertificate: our WS-Security certificate or the eID-Server's
	// pinned signature certificate is expired or not yet valid; no request
	// is sent until the configuration is renewed.
	ErrCertificate = errors.New("eid certificate not valid now")
)

var minorErrors = map[string]error{
	MinorInternalError:         ErrInternal,
	MinorSchemaViolation:       ErrSchemaViolation,
	MinorInvalidPSK:            ErrInvalidPSK,
	MinorTooManyOpenSessions:   ErrTooManyOpenSessions,
	MinorMissingArgument:       ErrMissingArgument,
	MinorMissingTerminalRights: ErrMissingTerminalRights,
	MinorNoResultYet:           ErrNoResultYet,
	MinorInvalidSession:        ErrInvalidSession,
	MinorInvalidCounter:        ErrInvalidCounter,
	MinorDeniedDocument:        ErrDeniedDocument,
	MinorInvalidDocument:       ErrInvalidDocument,
	MinorCancellationByUser:    adapters.ErrCancelled,
}

// ResultError is an error result of the eID-Server. It unwraps to the
// sentinel of its minor code, and to adapters.ErrCancelled when the person
// cancelled. The server's free-text ResultMessage is kept out of Error() so
// that logs stay predictable; read the field if needed.
type ResultError struct {
	Op      string // useID, getResult, getServerInfo
	Major   string
	Minor   string
	Message string
	err     error
}

func (e *ResultError) Error() string {
	name := e.Minor
	if i := strings.LastIndexAny(name, "#/"); i >= 0 {
		name = name[i+1:]
	}
	if name == "" {
		name = "no minor code"
	}
	return fmt.Sprintf("%s: %s: %v", e.Op, name, e.err)
}

// Unwrap returns the sentinel error of the minor code.
func (e *ResultError) Unwrap() error { return e.err }

// Retryable reports whether polling again may succeed (noResultYet only).
func (e *ResultError) Retryable() bool { return errors.Is(e.err, ErrNoResultYet) }

// resultError maps a dss:Result; nil for a successful one.
func resultError(op string, r Result) error {
	major := strings.TrimSpace(r.ResultMajor)
	minor := strings.TrimSpace(r.ResultMinor)
	msg := ""
	if r.ResultMessage != nil {
		msg = strings.TrimSpace(r.ResultMessage.Text)
	}
	switch major {
	case MajorOK:
		if minor != "" {
			// A minor code with major ok is a warning in TR-03112; the
			// eID-Interface defines none, so treat it as unknown.
			return &ResultError{Op: op, Major: major, Minor: minor, Message: msg, err: ErrUnknownResult}
		}
		return nil
	case MajorError:
	default:
		return &ResultError{Op: op, Major: major, Minor: minor, Message: msg, err: ErrUnknownResult}
	}
	err, ok := minorErrors[minor]
	if !ok {
		err = ErrUnknownResult
		if strings.HasPrefix(minor, "http://www.bsi.bund.de/ecard/api/1.1/resultminor/") {
			err = ErrCardOrClientError
		}
	}
	return &ResultError{Op: op, Major: major, Minor: minor, Message: msg, err: err}
}
