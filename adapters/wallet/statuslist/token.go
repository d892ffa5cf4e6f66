package statuslist

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ozg-broker/eidas-broker/adapters/wallet/internal/x5cjwt"
)

// Sign makes a Status List Token for l published at uri, signed with key
// whose certificate chain (leaf first, without the anchor) is chain.
func Sign(key crypto.Signer, chain []*x509.Certificate, uri string, l *List, iat time.Time, exp time.Time, ttl time.Duration) (string, error) {
	sl, err := l.Encode()
	if err != nil {
		return "", err
	}
	x5c := make([]string, len(chain))
	for i, c := range chain {
		x5c[i] = b64std(c.Raw)
	}
	opts := (&jose.SignerOptions{}).WithType(TokenType).WithHeader("x5c", x5c)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
	if err != nil {
		return "", err
	}
	claims := map[string]any{"sub": uri, "iat": iat.Unix(), "exp": exp.Unix(), "status_list": sl}
	if ttl > 0 {
		claims["ttl"] = int64(ttl / time.Second)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// Token is a verified Status List Token.
type Token struct {
	List *List
	// Expires is when the token must no longer be used: the earliest of
	// exp and iat+ttl (zero when it states neither).
	Expires time.Time
}

// Verify checks a Status List Token fetched from uri: typ, signature by a
// certificate chaining to roots, sub equal to uri, not expired.
func Verify(s, uri string, roots *x509.CertPool, now time.Time) (*Token, error) {
	res, err := x5cjwt.Verify(s, []string{TokenType}, roots, now)
	if err != nil {
		return nil, fmt.Errorf("status list token: %w", err)
	}
	var c struct {
		Sub        string           `json:"sub"`
		IAT        *int64           `json:"iat"`
		Exp        *int64           `json:"exp"`
		TTL        *int64           `json:"ttl"`
		StatusList *json.RawMessage `json:"status_list"`
	}
	if err := json.Unmarshal(res.Payload, &c); err != nil {
		return nil, fmt.Errorf("status list token claims: %w", err)
	}
	if c.Sub != uri {
		return nil, errors.New("status list token: sub is not the uri it was fetched from")
	}
	if c.IAT == nil || c.StatusList == nil {
		return nil, errors.New("status list token: iat or status_list missing")
	}
	var exp time.Time
	if c.Exp != nil {
		exp = time.Unix(*c.Exp, 0)
		if !now.Before(exp) {
			return nil, errors.New("status list token: expired")
		}
	}
	if c.TTL != nil && *c.TTL > 0 {
		t := time.Unix(*c.IAT, 0).Add(time.Duration(*c.TTL) * time.Second)
		if exp.IsZero() || t.Before(exp) {
			exp = t
		}
	}
	var sl struct {
		Bits int    `json:"bits"`
		Lst  string `json:"lst"`
	}
	if err := json.Unmarshal(*c.StatusList, &sl); err != nil {
		return nil, fmt.Errorf("status list token: status_list: %w", err)
	}
	l, err := Decode(sl.Bits, sl.Lst)
	if err != nil {
		return nil, err
	}
	return &Token{List: l, Expires: exp}, nil
}
