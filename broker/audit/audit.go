package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Event names.
const (
	LoginCompleted  = "login_completed"  // a code was issued to the portal
	LoginEnded      = "login_ended"      // the portal got an OIDC error (Reason: the error code)
	UpstreamRefused = "upstream_refused" // an upstream answer failed verification (Reason: the cause)
	LevelNotMet     = "level_not_met"    // the proved level was below the floor
	RelayRefused    = "relay_refused"    // an answer was delivered by a browser that did not start the login
	ConsentGiven    = "consent_given"
	ConsentDeclined = "consent_declined"
	Logout          = "logout"
	FamilyRevoked   = "refresh_family_revoked" // refresh token reuse revoked a token family
	ConfigReloaded  = "config_reloaded"
	ConfigRefused   = "config_reload_refused"
)

// Event is one audit record. Its fields are all there is: nothing
// personal can be added by a caller.
type Event struct {
	Time      time.Time `json:"time"`
	Event     string    `json:"event"`
	Client    string    `json:"client,omitempty"`
	Services  []string  `json:"services,omitempty"`
	Adapter   string    `json:"adapter,omitempty"`
	Option    string    `json:"option,omitempty"` // e.g. the eIDAS country
	Requested string    `json:"level_requested,omitempty"`
	Proved    string    `json:"level_proved,omitempty"`
	// Subject is the pairwise subject hashed with the audit key (Log.Subject).
	Subject   string `json:"subject,omitempty"`
	Reason    string `json:"reason,omitempty"` // an error code or refusal reason, never free text from a peer
	RequestID string `json:"request_id,omitempty"`
}

// Log writes events as JSON lines. A nil *Log records nothing, so callers
// need no checks where auditing is off.
type Log struct {
	mu  sync.Mutex
	w   io.Writer
	key []byte
	now func() time.Time
	log *slog.Logger
}

// New writes to w (a separate stream: its own file, or stdout beside the
// logs on stderr). key (≥ 32 bytes) keys the subject hashes.
func New(w io.Writer, key []byte, now func() time.Time, log *slog.Logger) *Log {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Log{w: w, key: key, now: now, log: log}
}

// Subject hashes a pairwise subject for the trail.
func (l *Log) Subject(sub string) string {
	if l == nil || sub == "" {
		return ""
	}
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte("audit-subject\x00"))
	m.Write([]byte(sub))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Record writes e, stamped with the time. A write error is logged (not
// returned): the login it describes has happened either way.
func (l *Log) Record(_ context.Context, e Event) {
	if l == nil {
		return
	}
	e.Time = l.now().UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	b = append(b, '\n')
	l.mu.Lock()
	_, err = l.w.Write(b)
	l.mu.Unlock()
	if err != nil {
		l.log.Error("audit: write failed", "event", e.Event, "err", err)
	}
}
