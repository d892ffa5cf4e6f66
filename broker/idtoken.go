package broker

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	jose "github.com/go-jose/go-jose/v4"
	gojson "github.com/goccy/go-json"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The token endpoint issues its tokens itself instead of through the OIDC
// library's CreateTokenResponse. The library builds a new JOSE signer for
// every ID token and marshals its claims three times (struct, map, merged
// map); at the token endpoint that was about a fifth of the cost besides
// the signature itself. The tokens are the same: the access token and the
// refresh token come from the same storage methods, the ID token carries
// the same claims (OIDC Core §2, §3.1.3.6 at_hash, c_hash) signed with the
// client's algorithm under the same key, with typ JWT and kid in the
// header, whose encoding is done once per key.

// idTokenClaims is an ID token's registered claims, in a fixed order. The
// claims the client asked for in the ID token (the claims parameter) are
// appended after them (appendClaims).
type idTokenClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience []string `json:"aud"`
	Expiry   int64    `json:"exp"`
	IssuedAt int64    `json:"iat"`
	AuthTime int64    `json:"auth_time,omitempty"`
	Nonce    string   `json:"nonce,omitempty"`
	ACR      string   `json:"acr,omitempty"`
	AMR      []string `json:"amr,omitempty"`
	AZP      string   `json:"azp"`
	ClientID string   `json:"client_id"`
	ATHash   string   `json:"at_hash,omitempty"`
	CHash    string   `json:"c_hash,omitempty"`
}

// registeredIDTokenClaims are idTokenClaims' names: a released claim of
// the same name never replaces one of them.
var registeredIDTokenClaims = []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce",
	"acr", "amr", "azp", "client_id", "at_hash", "c_hash", "nbf", "jti", "sid"}

// idTokenLifetime is how long an ID token is valid (it is consumed once,
// right after the token response).
const idTokenLifetime = 5 * time.Minute

// tokenResponse issues the tokens for g: an access token, a refresh token
// when the grant asked for offline_access (or is itself a refresh), and an
// ID token with c_hash when code is the code being redeemed. alg is the
// client's ID-token algorithm.
func (o *opServer) tokenResponse(ctx context.Context, g *grant, alg jose.SignatureAlgorithm, code string, refresh bool) (*oidc.AccessTokenResponse, error) {
	st := &opStorage{o.s}
	var (
		id, refreshToken string
		exp              time.Time
		err              error
	)
	if refresh || slices.Contains(g.Scopes, oidc.ScopeOfflineAccess) {
		id, refreshToken, exp, err = st.CreateAccessAndRefreshTokens(ctx, g, "")
	} else {
		id, exp, err = st.CreateAccessToken(ctx, g)
	}
	if err != nil {
		return nil, err
	}
	accessToken, err := op.CreateBearerToken(id, g.Subject, o.s.tokens)
	if err != nil {
		return nil, err
	}
	idToken, err := o.s.keys.signIDToken(alg, o.s.idTokenPayload(g, alg, accessToken, code))
	if err != nil {
		return nil, err
	}
	validity := exp.Sub(o.s.now())
	return &oidc.AccessTokenResponse{
		AccessToken:  accessToken,
		IDToken:      idToken,
		RefreshToken: refreshToken,
		TokenType:    oidc.BearerToken,
		ExpiresIn:    uint64(max(validity, 0).Seconds()),
		Scope:        g.Scopes,
	}, nil
}

// idTokenPayload returns the ID token's claims as JSON.
func (s *Server) idTokenPayload(g *grant, alg jose.SignatureAlgorithm, accessToken, code string) []byte {
	now := s.now()
	c := idTokenClaims{
		Issuer:   s.issuer,
		Subject:  g.Subject,
		Audience: []string{g.ClientID},
		Expiry:   now.Add(idTokenLifetime).Unix(),
		IssuedAt: now.Unix(),
		Nonce:    g.Nonce,
		ACR:      g.ACR,
		AMR:      g.AMR,
		AZP:      g.ClientID,
		ClientID: g.ClientID,
	}
	if !g.AuthTime.IsZero() {
		c.AuthTime = g.AuthTime.Unix()
	}
	if accessToken != "" {
		c.ATHash, _ = oidc.ClaimHash(accessToken, alg)
	}
	if code != "" {
		c.CHash, _ = oidc.ClaimHash(code, alg)
	}
	// Marshalling a struct of strings, ints and string slices cannot fail.
	b, _ := gojson.Marshal(&c)
	return appendClaims(b, g)
}

// appendClaims adds to the ID token's JSON object b the released claims
// the client asked for in the ID token (OIDC Core §5.5; everything
// released is always available at userinfo), in name order.
func appendClaims(b []byte, g *grant) []byte {
	var names []string
	for name := range g.Released {
		if askedFor(g.Claims.IDToken, name) && !slices.Contains(registeredIDTokenClaims, name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return b
	}
	slices.Sort(names)
	b = b[:len(b)-1] // the closing brace
	for _, name := range names {
		v, err := gojson.Marshal(g.Released[name])
		if err != nil {
			continue // a value that cannot be JSON is not released
		}
		k, _ := gojson.Marshal(name)
		b = append(b, ',')
		b = append(b, k...)
		b = append(b, ':')
		b = append(b, v...)
	}
	return append(b, '}')
}

// signIDToken signs payload as a compact JWS (RFC 7515 §7.1) with the
// active key for alg. Only the encoding is ours: the signature is the
// key's own crypto.Signer (ECDSA with the standard library's hedged
// nonces, RSA PKCS #1 v1.5 or PSS).
func (ks *keySet) signIDToken(alg jose.SignatureAlgorithm, payload []byte) (string, error) {
	if alg == "" {
		alg = jose.ES256
	}
	j := ks.signers[alg]
	if j == nil {
		return "", fmt.Errorf("no signing key for %s", alg)
	}
	return j.sign(payload)
}

// jwsSigner signs compact JWS with one key; its protected header (alg,
// kid, typ JWT) is encoded once.
type jwsSigner struct {
	key    *SigningKey
	header string // base64url of the protected header, with the dot
	opts   crypto.SignerOpts
	sigLen int // bytes of a signature: 64 for ES256, the modulus for RSA
}

func newJWSSigner(k *SigningKey) (*jwsSigner, error) {
	var opts crypto.SignerOpts = crypto.SHA256
	sigLen := 64
	switch k.Alg {
	case jose.ES256:
	case jose.RS256, jose.PS256:
		pub, ok := k.Signer.Public().(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("signing key %q: %s needs an RSA key", k.ID, k.Alg)
		}
		sigLen = pub.Size()
		if k.Alg == jose.PS256 {
			opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
		}
	default:
		return nil, fmt.Errorf("signing key %q: unsupported algorithm %s", k.ID, k.Alg)
	}
	h, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{string(k.Alg), k.ID, "JWT"})
	if err != nil {
		return nil, fmt.Errorf("signing key %q: %w", k.ID, err)
	}
	return &jwsSigner{key: k, header: base64.RawURLEncoding.EncodeToString(h) + ".", opts: opts, sigLen: sigLen}, nil
}

func (j *jwsSigner) sign(payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	// header.payload.signature
	b := make([]byte, 0, len(j.header)+enc.EncodedLen(len(payload))+1+enc.EncodedLen(j.sigLen))
	b = append(b, j.header...)
	b = enc.AppendEncode(b, payload)
	digest := sha256.Sum256(b)
	sig, err := j.key.Signer.Sign(rand.Reader, digest[:], j.opts)
	if err != nil {
		return "", fmt.Errorf("sign ID token: %w", err)
	}
	if j.key.Alg == jose.ES256 {
		// crypto.Signer gives ECDSA as ASN.1; JWS wants R || S, each
		// 32 bytes big-endian (RFC 7518 §3.4).
		if sig, err = rawECDSA(sig, 32); err != nil {
			return "", fmt.Errorf("sign ID token: %w", err)
		}
	}
	b = append(b, '.')
	return string(enc.AppendEncode(b, sig)), nil
}

// rawECDSA converts an ASN.1 ECDSA signature to the fixed-size R || S form.
func rawECDSA(der []byte, size int) ([]byte, error) {
	var r, s []byte
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) || !seq.Empty() ||
		len(r) > size || len(s) > size {
		return nil, errors.New("malformed ECDSA signature")
	}
	out := make([]byte, 2*size)
	copy(out[size-len(r):size], r)
	copy(out[2*size-len(s):], s)
	return out, nil
}
