package broker

import (
	"errors"
	"fmt"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"
)

// Access tokens are self-contained: the grant a token stands for travels
// inside it, so issuing one writes nothing to the store, and the state a
// login leaves behind is its SSO session alone. The library wraps the
// token ID we return as "ID:subject" and encrypts that under the token key
// (tokenCrypto: AES-256-GCM, authenticated), so the portal holding the
// token can neither read nor change what is inside. The ID is the
// accessGrant as JSON.
//
// What a store record gave for free is checked explicitly instead: the
// expiry (userinfo refuses a token at or after exp), revocation of the one
// token (RFC 7009: a marker until the token's own expiry), of its family
// (code or refresh reuse) and the end of its SSO session (logout); the
// three are read in one round trip.
type accessGrant struct {
	JTI      string         `json:"jti"` // for revocation of this one token
	Family   string         `json:"fam"` // the grant family (grant.ID)
	Client   string         `json:"cid"`
	Session  string         `json:"sid"`
	Expiry   int64          `json:"exp"` // Unix seconds
	Released map[string]any `json:"rel,omitempty"`
}

// newAccessGrant returns the token ID of a new access token for g.
func newAccessGrant(g *grant, exp time.Time) (string, error) {
	b, err := gojson.Marshal(accessGrant{
		JTI: randomID(), Family: g.ID, Client: g.ClientID, Session: g.SessionID,
		Expiry: exp.Unix(), Released: g.Released,
	})
	if err != nil {
		return "", fmt.Errorf("encode access token: %w", err)
	}
	return string(b), nil
}

// isAccessGrant tells a self-contained token ID from the random ID of a
// stored token of an earlier version (base64url, never "{").
func isAccessGrant(id string) bool { return strings.HasPrefix(id, "{") }

func openAccessGrant(id string) (*accessGrant, error) {
	var a accessGrant
	// The ID came out of an authenticated decryption under our own key.
	if err := gojson.Unmarshal([]byte(id), &a); err != nil {
		return nil, err
	}
	if a.JTI == "" || a.Family == "" || a.Client == "" || a.Session == "" || a.Expiry == 0 {
		return nil, errors.New("access token: incomplete grant")
	}
	return &a, nil
}
