package wallet

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// maxResponseBytes bounds the wallet's POST (a PID with all attributes and
// a portrait stays far below).
const maxResponseBytes = 512 << 10

// authResponse is the decrypted authorization response.
type authResponse struct {
	VPToken          map[string][]json.RawMessage `json:"vp_token"`
	State            string                       `json:"state"`
	Error            string                       `json:"error"`
	ErrorDescription string                       `json:"error_description"`
}

// decryptResponse opens the JWE with the login's ephemeral key. Only
// ECDH-ES with A128GCM/A256GCM and our key ID are accepted.
func (a *Adapter) decryptResponse(compact string, st loginState) (*authResponse, error) {
	jwe, err := jose.ParseEncryptedCompact(compact, responseKeyAlgs, responseEncs)
	if err != nil {
		return nil, fmt.Errorf("%w: not an ECDH-ES/AES-GCM JWE: %w", ErrResponse, err)
	}
	if jwe.Header.KeyID != st.Kid {
		return nil, fmt.Errorf("%w: encrypted to another request's key", ErrResponse)
	}
	priv, err := responseKey(st.Key)
	if err != nil {
		return nil, err
	}
	plain, err := jwe.Decrypt(priv)
	if err != nil {
		return nil, fmt.Errorf("%w: decrypt: %w", ErrResponse, err)
	}
	var resp authResponse
	dec := json.NewDecoder(bytes.NewReader(plain))
	if err := dec.Decode(&resp); err != nil {
		return nil, fmt.Errorf("%w: response json: %w", ErrResponse, err)
	}
	return &resp, nil
}

// verifyResponse checks the decrypted response belongs to this login and
// verifies the one presentation in it.
func (a *Adapter) verifyResponse(ctx context.Context, resp *authResponse, st loginState, now time.Time) (adapters.Identity, error) {
	if subtle.ConstantTimeCompare([]byte(resp.State), []byte(st.State)) != 1 {
		return adapters.Identity{}, fmt.Errorf("%w: state is not this request's", ErrResponse)
	}
	if resp.Error != "" {
		if resp.Error == "access_denied" {
			return adapters.Identity{}, adapters.ErrCancelled
		}
		return adapters.Identity{}, fmt.Errorf("%w: wallet answered with error %q", ErrResponse, truncate(resp.Error, 40))
	}
	if len(resp.VPToken) != 1 {
		return adapters.Identity{}, fmt.Errorf("%w: vp_token must answer exactly one credential query, has %d", ErrResponse, len(resp.VPToken))
	}
	var p *pid
	var err error
	for id, list := range resp.VPToken {
		if len(list) != 1 {
			return adapters.Identity{}, fmt.Errorf("%w: want one presentation, got %d", ErrResponse, len(list))
		}
		var pres string
		if err := json.Unmarshal(list[0], &pres); err != nil {
			return adapters.Identity{}, fmt.Errorf("%w: presentation is not a string", ErrResponse)
		}
		switch {
		case id == querySDJWT && a.sdjwt:
			p, err = a.verifySDJWT(ctx, pres, st, now)
		case id == queryMDoc && a.mdoc:
			p, err = a.verifyMDoc(ctx, pres, st, now)
		default:
			return adapters.Identity{}, fmt.Errorf("%w: vp_token answers a query we did not ask (%q)", ErrResponse, truncate(id, 40))
		}
	}
	if err != nil {
		return adapters.Identity{}, err
	}
	if p.FamilyName == "" && p.GivenName == "" || p.Birthdate == "" {
		return adapters.Identity{}, fmt.Errorf("%w: names or birth date missing", ErrCredential)
	}
	return adapters.Identity{
		Subject:  p.subject(),
		Level:    assurance.High,
		AuthTime: now,
		Claims:   p.claims(st.Claims),
	}, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
