package elster

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// challengePrefix starts every challenge string. It names the purpose and
// the format version, so a signature made for this login can never be
// mistaken for one over any other document the same key signs.
const challengePrefix = "elster-login-v1"

// nonceBytes of randomness make a challenge unguessable and unique.
const nonceBytes = 32

// challenge is what the browser signs. Its string form is the exact byte
// sequence signed: one line of space-separated fields (no newline, which
// HTML form submission would rewrite to CRLF).
type challenge struct {
	Origin  string    // broker base URL
	TxHash  string    // base64url(SHA-256("elster-tx\x00" + TxID))
	Nonce   string    // base64url, nonceBytes random bytes
	Expires time.Time // second precision
}

func (c challenge) String() string {
	return challengePrefix +
		" origin=" + c.Origin +
		" tx=" + c.TxHash +
		" nonce=" + c.Nonce +
		" exp=" + strconv.FormatInt(c.Expires.Unix(), 10)
}

// txHash binds a challenge to a transaction without putting the transaction
// ID itself into the page or the signed text.
func txHash(txID string) string {
	sum := sha256.Sum256([]byte("elster-tx\x00" + txID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func newChallenge(origin, txID string, expires time.Time) (challenge, error) {
	if txID == "" {
		return challenge{}, errors.New("empty transaction id")
	}
	b := make([]byte, nonceBytes)
	if _, err := rand.Read(b); err != nil {
		return challenge{}, fmt.Errorf("read random nonce: %w", err)
	}
	return challenge{
		Origin:  origin,
		TxHash:  txHash(txID),
		Nonce:   base64.RawURLEncoding.EncodeToString(b),
		Expires: time.Unix(expires.Unix(), 0).UTC(),
	}, nil
}

// parseChallenge reads the string form strictly: the fields in order, each
// once, nothing else.
func parseChallenge(s string) (challenge, error) {
	parts := strings.Split(s, " ")
	if len(parts) != 5 || parts[0] != challengePrefix {
		return challenge{}, errors.New("not an elster-login-v1 challenge")
	}
	var c challenge
	want := []string{"origin=", "tx=", "nonce=", "exp="}
	vals := make([]string, len(want))
	for i, p := range want {
		v, ok := strings.CutPrefix(parts[i+1], p)
		if !ok || v == "" {
			return challenge{}, fmt.Errorf("challenge field %d: want %s", i+1, p)
		}
		vals[i] = v
	}
	c.Origin, c.TxHash, c.Nonce = vals[0], vals[1], vals[2]
	if n, err := base64.RawURLEncoding.DecodeString(c.Nonce); err != nil || len(n) != nonceBytes {
		return challenge{}, errors.New("challenge nonce malformed")
	}
	if h, err := base64.RawURLEncoding.DecodeString(c.TxHash); err != nil || len(h) != sha256.Size {
		return challenge{}, errors.New("challenge transaction binding malformed")
	}
	exp, err := strconv.ParseInt(vals[3], 10, 64)
	if err != nil || exp <= 0 || strconv.FormatInt(exp, 10) != vals[3] {
		return challenge{}, errors.New("challenge expiry malformed")
	}
	c.Expires = time.Unix(exp, 0).UTC()
	return c, nil
}

// state is what Begin hands the broker to keep with the transaction.
type state struct {
	V         int    `json:"v"`
	Challenge string `json:"challenge"`
}

const stateVersion = 1

func encodeState(c challenge) ([]byte, error) {
	b, err := json.Marshal(state{V: stateVersion, Challenge: c.String()})
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return b, nil
}

// decodeState returns the challenge string and its parsed form.
func decodeState(b []byte) (string, challenge, error) {
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return "", challenge{}, fmt.Errorf("decode state: %w", err)
	}
	if s.V != stateVersion {
		return "", challenge{}, fmt.Errorf("decode state: version %d, want %d", s.V, stateVersion)
	}
	c, err := parseChallenge(s.Challenge)
	if err != nil {
		return "", challenge{}, fmt.Errorf("decode state: %w", err)
	}
	return s.Challenge, c, nil
}

// checkBinding makes sure the challenge from the state belongs to this
// transaction, this broker and the present. The broker's state is trusted,
// but checking costs nothing and catches a state handed to the wrong
// transaction.
func (a *Adapter) checkBinding(c challenge, txID string, now time.Time) error {
	if subtle.ConstantTimeCompare([]byte(c.TxHash), []byte(txHash(txID))) != 1 {
		return fmt.Errorf("%w: issued for another transaction", ErrChallenge)
	}
	if c.Origin != a.origin {
		return fmt.Errorf("%w: issued for another origin", ErrChallenge)
	}
	if !now.Before(c.Expires) {
		return fmt.Errorf("%w: expired", ErrChallenge)
	}
	return nil
}
