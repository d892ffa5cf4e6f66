package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/ozg-broker/eidas-broker/broker/audit"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Token lifetimes. Access tokens only serve userinfo, so they are short.
const (
	accessTokenTTL = 5 * time.Minute
	codeTTL        = time.Minute
	txTTL          = 15 * time.Minute
)

// opStorage implements op.Storage over the sealed store. It is the only
// place the library reads or writes state, so every single-use rule
// (codes, refresh tokens) lives here.
type opStorage struct {
	s *Server
}

var (
	_ op.Storage                        = (*opStorage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*opStorage)(nil)
	_ op.CanTerminateSessionFromRequest = (*opStorage)(nil)
)

// storeError turns a store failure into a protocol error: an unreachable
// store is a 503 with temporarily_unavailable, never a guess.
func storeError(err error, notFound *oidc.Error) error {
	switch {
	case errors.Is(err, store.ErrUnavailable):
		return op.NewStatusError(&oidc.Error{ErrorType: "temporarily_unavailable",
			Description: "the service is temporarily unavailable", Parent: err}, http.StatusServiceUnavailable)
	case errors.Is(err, store.ErrNotFound) && notFound != nil:
		return notFound.WithParent(err)
	}
	return oidc.ErrServerError().WithParent(err)
}

func (o *opStorage) CreateAuthRequest(context.Context, *oidc.AuthRequest, string) (op.AuthRequest, error) {
	// Transactions are created by Server.Authorize, which needs the floor.
	return nil, errors.New("create auth request: not used")
}

func (o *opStorage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	tx, err := o.s.getTx(ctx, id)
	if err != nil {
		return nil, storeError(err, oidc.ErrInvalidRequest().WithDescription("unknown or expired login"))
	}
	return tx, nil
}

// SaveAuthCode is part of the library's storage contract but not a way
// to a code here: the library would call it from its own authorize
// callback, and Server.complete issues every code itself (from the
// transaction and session it has just checked, consuming the transaction
// in the same step). Transactions report Done() false, so the library
// never gets this far; should it, the answer is a refusal.
func (o *opStorage) SaveAuthCode(context.Context, string, string) error {
	return oidc.ErrInteractionRequired()
}

// AuthRequestByCode looks a code up without consuming it: redemption is
// opServer.CodeExchange, which takes the code only once the tokens exist.
func (o *opStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	return o.peekGrant(ctx, store.KindCode, hashKey(code), "code invalid, expired or already used")
}

// peekGrant reads the grant behind a code or refresh token. A key that is
// gone but was redeemed before means the code or token leaked: every token
// of its family is revoked (RFC 9700 §4.5 and §4.14.2, OIDC conformance
// "codereuse").
func (o *opStorage) peekGrant(ctx context.Context, kind store.Kind, key, desc string) (*grant, error) {
	var g grant
	if _, err := o.s.data.get(ctx, kind, key, &g); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			o.revokeFamilyOfUsed(ctx, kind, key)
		}
		return nil, storeError(err, oidc.ErrInvalidGrant().WithDescription("%s", desc))
	}
	return &g, nil
}

// markUsed leaves the reuse marker before a code or refresh token is taken,
// so that the marker exists whenever the key is gone. An existing marker is
// one written by an earlier attempt of the same redemption.
func (o *opStorage) markUsed(ctx context.Context, kind store.Kind, key, family string, ttl time.Duration) error {
	err := o.s.raw.Create(ctx, kind, usedPrefix+key, []byte(family), ttl)
	if err != nil && !errors.Is(err, store.ErrExists) {
		return storeError(err, nil)
	}
	return nil
}

// grantAlive refuses a refresh once its family was revoked or its SSO
// session ended.
func (o *opStorage) grantAlive(ctx context.Context, g *grant) error {
	if err := o.familyRevoked(ctx, g.ID); err != nil {
		return err
	}
	if _, err := o.s.raw.Get(ctx, store.KindSession, g.SessionID); err != nil {
		return storeError(err, oidc.ErrInvalidGrant().WithDescription("session ended"))
	}
	return nil
}

// Reuse detection: a rotated refresh token leaves a marker naming its
// grant family, and a code names its family itself (codefamily.go); a
// later attempt with either revokes the family. Codes of earlier versions
// left markers too, which peekGrant still reads while they live.
const (
	usedPrefix    = "used:"
	revokedPrefix = "revoked:"
	// revokedTokenPrefix marks one self-contained access token revoked
	// (RFC 7009), until it would have expired anyway.
	revokedTokenPrefix = "revoked-token:"
	usedMarkerTTL      = 12 * time.Hour // the longest any token of a family can live (familyLifetime)
	familyRevocTTL     = 12 * time.Hour
)

func (o *opStorage) revokeFamilyOfUsed(ctx context.Context, kind store.Kind, key string) {
	e, err := o.s.raw.Get(ctx, kind, usedPrefix+key)
	if err != nil {
		return
	}
	o.revokeFamily(ctx, kind, string(e.Value))
}

// revokeFamily ends every token of a grant family: the marker is checked
// by userinfo and refresh. An empty family (a code whose tag did not
// verify) revokes nothing.
func (o *opStorage) revokeFamily(ctx context.Context, kind store.Kind, family string) {
	if family == "" {
		return
	}
	if err := o.s.raw.Create(ctx, store.KindAccess, revokedPrefix+family, []byte{1}, familyRevocTTL); err != nil && !errors.Is(err, store.ErrExists) {
		o.s.log.ErrorContext(ctx, "could not revoke token family", "family", logID(family), "err", err)
		return
	}
	o.s.log.WarnContext(ctx, "reuse of a redeemed code or rotated refresh token: token family revoked", "family", logID(family))
	o.s.auditEvent(ctx, audit.Event{Event: audit.FamilyRevoked, Reason: string(kind)})
}

// familyRevoked fails closed: if the store cannot say, the token is refused.
func (o *opStorage) familyRevoked(ctx context.Context, family string) error {
	_, err := o.s.raw.Get(ctx, store.KindAccess, revokedPrefix+family)
	switch {
	case err == nil:
		return oidc.ErrInvalidGrant().WithDescription("token revoked")
	case errors.Is(err, store.ErrNotFound):
		return nil
	}
	return storeError(err, nil)
}

func (o *opStorage) DeleteAuthRequest(context.Context, string) error { return nil }

func (o *opStorage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, ok := req.(*grant)
	if !ok {
		return "", time.Time{}, fmt.Errorf("create access token: unexpected request %T", req)
	}
	exp := o.s.now().Add(accessTokenTTL)
	// Nothing to store for the token itself; the pending reuse marker of
	// a refresh still goes out here (createTokens).
	id, err := newAccessGrant(g, exp)
	if err != nil {
		return "", time.Time{}, err
	}
	if err := o.createTokens(ctx, g, nil); err != nil {
		return "", time.Time{}, err
	}
	return id, exp, nil
}

// CreateAccessAndRefreshTokens issues a rotated refresh token. Its lifetime
// ends with the SSO session's level lifetime, never later.
func (o *opStorage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, _ string) (string, string, time.Time, error) {
	g, ok := req.(*grant)
	if !ok {
		return "", "", time.Time{}, fmt.Errorf("create refresh token: unexpected request %T", req)
	}
	ttl := g.SessionExpiry.Sub(o.s.now())
	if ttl <= 0 {
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("session expired")
	}
	refresh := randomID()
	exp := o.s.now().Add(accessTokenTTL)
	accessID, err := newAccessGrant(g, exp)
	if err != nil {
		return "", "", time.Time{}, err
	}
	if err := o.createTokens(ctx, g, []store.Op{{Kind: store.KindRefresh, Key: hashKey(refresh), TTL: ttl}}); err != nil {
		return "", "", time.Time{}, err
	}
	return accessID, refresh, exp, nil
}

// TokenRequestByRefreshToken looks a refresh token up without consuming
// it; rotation is opServer.RefreshToken, which takes the old token only
// once the request passed every check and the successor exists.
func (o *opStorage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	g, err := o.peekGrant(ctx, store.KindRefresh, hashKey(token), "refresh token invalid, expired or already used")
	if err != nil {
		return nil, err
	}
	if err := o.grantAlive(ctx, g); err != nil {
		return nil, err
	}
	return g, nil
}

func (o *opStorage) TerminateSession(context.Context, string, string) error { return nil }

// TerminateSessionFromRequest ends the SSO session named by the cookie the
// server put into the context, and with it every refresh token of it.
func (o *opStorage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if sid, _ := ctx.Value(sessionCtxKey{}).(string); sid != "" {
		if err := o.s.raw.Delete(ctx, store.KindSession, sid); err != nil {
			return "", storeError(err, nil)
		}
		o.s.auditEvent(ctx, audit.Event{Event: audit.Logout, Client: req.ClientID, Reason: "end_session"})
	}
	if req.RedirectURI == "" {
		return o.s.issuer + "/logout/done", nil
	}
	return req.RedirectURI, nil
}

// RevokeToken is not reached: opServer.Revocation implements RFC 7009
// with store errors as 503, which this interface (returning *oidc.Error)
// cannot express.
func (o *opStorage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return oidc.ErrServerError().WithDescription("revocation is handled by the server")
}

func (o *opStorage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	var g grant
	if _, err := o.s.data.get(ctx, store.KindRefresh, hashKey(token), &g); err != nil || g.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return g.Subject, token, nil
}

func (o *opStorage) SigningKey(context.Context) (op.SigningKey, error) {
	return o.s.keys.signingKey()
}

func (o *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return o.s.keys.algorithms(), nil
}

func (o *opStorage) KeySet(context.Context) ([]op.Key, error) { return o.s.keys.public(), nil }

func (o *opStorage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := o.s.clients[id]
	if !ok {
		// A request error, not a server error: the library turns a plain
		// error here into 500 server_error (and logs it as ERROR).
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown client_id")
	}
	return c, nil
}

func (o *opStorage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := o.s.clients[id]
	if !ok || !c.checkSecret(secret) {
		return errors.New("client authentication failed")
	}
	return nil
}

func (o *opStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token: acr/amr/auth_time come from the
// library; claims go in only when the claims parameter asked for them in
// the ID token (everything released is always available at userinfo).
func (o *opStorage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, _ []string) error {
	g, ok := req.(*grant)
	if !ok {
		return nil
	}
	// The library copies the whole UserInfo into the ID token claims,
	// subject included: it must be set here or the token has no sub.
	ui.Subject = g.Subject
	for name, v := range g.Released {
		if askedFor(g.Claims.IDToken, name) {
			ui.AppendClaims(name, v)
		}
	}
	return nil
}

// SetUserinfoFromToken answers with RFC 6750 §3.1 semantics: an unknown,
// expired or revoked access token, or one whose SSO session has ended
// (logout ends the access tokens with the session), is 401 invalid_token;
// a store outage is 503.
func (o *opStorage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	if !isAccessGrant(tokenID) {
		return o.userinfoFromStoredToken(ctx, ui, tokenID, subject)
	}
	a, err := openAccessGrant(tokenID)
	if err != nil {
		return errInvalidToken("access token invalid")
	}
	if !o.s.now().Before(time.Unix(a.Expiry, 0)) {
		return errInvalidToken("access token expired")
	}
	// The three facts that can end a valid token, in one round trip.
	res := store.Batch(ctx, o.s.raw, []store.Op{
		{Verb: store.OpGet, Kind: store.KindAccess, Key: revokedPrefix + a.Family},
		{Verb: store.OpGet, Kind: store.KindAccess, Key: revokedTokenPrefix + a.JTI},
		{Verb: store.OpGet, Kind: store.KindSession, Key: a.Session},
	})
	for i, r := range res {
		switch {
		case errors.Is(r.Err, store.ErrNotFound) && i < 2:
		case r.Err == nil && i < 2:
			return errInvalidToken("access token revoked")
		case errors.Is(r.Err, store.ErrNotFound):
			return errInvalidToken("the session of this access token has ended")
		case r.Err != nil:
			return storeError(r.Err, nil)
		}
	}
	ui.Subject = subject
	for name, v := range a.Released {
		ui.AppendClaims(name, v)
	}
	return nil
}

// userinfoFromStoredToken serves the access tokens of earlier versions,
// whose grant was a store record (they live accessTokenTTL at most).
func (o *opStorage) userinfoFromStoredToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject string) error {
	var g grant
	if _, err := o.s.data.get(ctx, store.KindAccess, tokenID, &g); err != nil {
		if errors.Is(err, store.ErrUnavailable) {
			return storeError(err, nil)
		}
		return errInvalidToken("access token invalid or expired")
	}
	if g.Subject != subject {
		return errInvalidToken("access token invalid")
	}
	_, err := o.s.raw.Get(ctx, store.KindAccess, revokedPrefix+g.ID)
	switch {
	case err == nil:
		return errInvalidToken("access token revoked")
	case !errors.Is(err, store.ErrNotFound):
		return storeError(err, nil)
	}
	if _, err := o.s.raw.Get(ctx, store.KindSession, g.SessionID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errInvalidToken("the session of this access token has ended")
		}
		return storeError(err, nil)
	}
	ui.Subject = g.Subject
	for name, v := range g.Released {
		ui.AppendClaims(name, v)
	}
	return nil
}

func (o *opStorage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("introspection is not offered")
}

func (o *opStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (o *opStorage) GetKeyByIDAndClientID(_ context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	c, ok := o.s.clients[clientID]
	if !ok {
		return nil, fmt.Errorf("unknown client %q", clientID)
	}
	for i := range c.c.Keys {
		if k := &c.c.Keys[i]; k.KeyID == keyID || keyID == "" && len(c.c.Keys) == 1 {
			return k, nil
		}
	}
	return nil, fmt.Errorf("client %q has no key %q", clientID, keyID)
}

func (o *opStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("jwt profile grant is not offered")
}

func (o *opStorage) Health(ctx context.Context) error { return o.s.raw.Ping(ctx) }
