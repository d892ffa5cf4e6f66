package broker

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// opServer is zitadel/oidc's LegacyServer with the broker's rules on top:
// the gaps the library leaves (S256-only PKCE, the claims parameter, acr
// enforcement and discovery, jti replay, pairwise subjects) are closed here,
// without forking it.
type opServer struct {
	*op.LegacyServer
	s *Server
}

var _ op.ExtendedLegacyServer = (*opServer)(nil)

// Discovery adds what the library does not advertise.
func (o *opServer) Discovery(ctx context.Context, r *op.Request[struct{}]) (*op.Response, error) {
	resp, err := o.LegacyServer.Discovery(ctx, r)
	if err != nil {
		return nil, err
	}
	d, ok := resp.Data.(*oidc.DiscoveryConfiguration)
	if !ok {
		return nil, errors.New("discovery: unexpected document type")
	}
	d.ACRValuesSupported = []string{assurance.URILow, assurance.URISubstantial, assurance.URIHigh}
	d.ClaimsSupported = SupportedClaims()
	d.ClaimsParameterSupported = true
	d.SubjectTypesSupported = []string{"pairwise"}
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	d.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPrivateKeyJWT}
	d.TokenEndpointAuthSigningAlgValuesSupported = allowedAssertionAlgs
	d.RevocationEndpointAuthMethodsSupported = d.TokenEndpointAuthMethodsSupported
	// The revocation endpoint authenticates clients exactly as the token
	// endpoint does (RFC 8414 §2), so it lists the same algorithms.
	d.RevocationEndpointAuthSigningAlgValuesSupported = allowedAssertionAlgs
	d.IntrospectionEndpoint = ""
	d.IntrospectionEndpointAuthMethodsSupported = nil
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	d.RequestParameterSupported = false
	d.RequestURIParameterSupported = false
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{string(oidc.ResponseModeQuery)}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	d.ScopesSupported = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeAddress, oidc.ScopeOfflineAccess, "legal_entity"}
	d.UILocalesSupported = oidc.Locales{language.German, language.English}
	// Fields the library's type lacks are added beside it.
	return op.NewResponse(struct {
		*oidc.DiscoveryConfiguration
		ISSParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
	}{d, true}), nil
}

// UserInfo refuses access tokens in the URL query (RFC 9700 §2: bearer
// tokens leak through logs and referrers there); header or form body only.
//
// It answers as a protected resource (RFC 6750 §3.1): a token that is not
// one of our access tokens (an ID token, garbage), or one that expired, was
// revoked or whose SSO session ended, is 401 invalid_token; a store outage
// is 503 temporarily_unavailable, never a 4xx that a portal would read as
// "token rejected". The WWW-Authenticate challenge is added by
// opHTTPRules from the status.
func (o *opServer) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	if r.URL != nil && r.URL.Query().Has("access_token") {
		return nil, op.NewStatusError(oidc.ErrInvalidRequest().WithDescription("access tokens are not accepted in the URL query"), http.StatusBadRequest)
	}
	tokenID, subject, ok := o.openAccessToken(r.Data.AccessToken)
	if !ok {
		return nil, errInvalidToken("access token invalid")
	}
	info := new(oidc.UserInfo)
	if err := (&opStorage{o.s}).SetUserinfoFromToken(ctx, info, tokenID, subject, ""); err != nil {
		return nil, err
	}
	return op.NewResponse(info), nil
}

// openAccessToken reads one of our opaque access tokens (the library's
// bearer format: tokenID:subject, encrypted under the token key). A JWT,
// such as an ID token, is never an access token here.
func (o *opServer) openAccessToken(token string) (id, subject string, ok bool) {
	if token == "" {
		return "", "", false
	}
	plain, err := o.Provider().Crypto().Decrypt(token)
	if err != nil {
		return "", "", false
	}
	// "ID:subject": the subject (base64url) has no colon, the ID (JSON,
	// accesstoken.go) may.
	i := strings.LastIndexByte(plain, ':')
	if i <= 0 || i == len(plain)-1 {
		return "", "", false
	}
	return plain[:i], plain[i+1:], true
}

// errInvalidToken is RFC 6750 §3.1 invalid_token, always with 401.
func errInvalidToken(desc string) error {
	return op.NewStatusError(&oidc.Error{ErrorType: "invalid_token", Description: desc}, http.StatusUnauthorized)
}

// Authorize runs after the library validated client and redirect_uri, so
// every error here is redirected to the portal with its state.
func (o *opServer) Authorize(ctx context.Context, r *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	req := r.Data
	client, ok := r.Client.(*opClient)
	if !ok {
		return nil, oidc.ErrServerError()
	}
	if r.Form.Get("request_uri") != "" {
		return nil, &oidc.Error{ErrorType: "request_uri_not_supported", Description: "request_uri is not supported"}
	}
	if req.RequestParam != "" {
		return nil, oidc.ErrRequestNotSupported()
	}
	if req.ResponseType != oidc.ResponseTypeCode {
		return nil, &oidc.Error{ErrorType: "unsupported_response_type", Description: "only the code flow is supported"}
	}
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery {
		return nil, oidc.ErrInvalidRequest().WithDescription("only response_mode=query is supported")
	}
	// RFC 6749 §3.1: "Request and response parameters MUST NOT be included
	// more than once." (client_id and redirect_uri were checked before the
	// library ran, by authorizeGate, so this error may go to the portal.)
	if name := repeatedParam(r.Form); name != "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("parameter %s is repeated", name)
	}
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method=S256 is required")
	}
	// RFC 7636 §4.2: code-challenge = 43*128unreserved.
	if !validPKCEValue(req.CodeChallenge) {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]")
	}
	if !slices.Contains(req.Scopes, oidc.ScopeOpenID) {
		return nil, oidc.ErrInvalidScope().WithDescription("the openid scope is required")
	}
	claims, err := parseClaimsParam(r.Form.Get("claims"))
	if err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("claims parameter is not valid JSON")
	}
	services := splitServiceScopes(req.Scopes)
	var mins []assurance.Level
	for _, id := range services {
		svc, ok := client.service(id)
		if !ok {
			return nil, oidc.ErrInvalidScope().WithDescription("unknown service %q", id)
		}
		mins = append(mins, svc.MinLevel)
	}
	floor, essential, err := computeFloor(floorInput{
		ClientMin: client.c.MinLevel, ServiceMins: mins, ACRValues: req.ACRValues, Claims: claims,
	})
	if err != nil {
		return nil, errUnmet(err.Error())
	}
	var hintSub string
	if req.IDTokenHint != "" {
		hintSub, err = op.ValidateAuthReqIDTokenHint(ctx, req.IDTokenHint, o.Provider().IDTokenHintVerifier(ctx))
		if err != nil {
			return nil, err
		}
	}
	maxAge, err := op.ValidateAuthReqPrompt(req.Prompt, req.MaxAge)
	if err != nil {
		return nil, err
	}
	locales := make([]string, 0, len(req.UILocales))
	for _, l := range req.UILocales {
		locales = append(locales, l.String())
	}
	tx := &transaction{
		ID: randomID(), Ref: randomID(), Created: o.s.now(),
		ClientID: client.GetID(), RedirectURI: req.RedirectURI, State: req.State, Nonce: req.Nonce,
		Scopes: req.Scopes, ResponseType: req.ResponseType, ResponseMode: oidc.ResponseModeQuery,
		CodeChallenge: req.CodeChallenge, Prompt: req.Prompt, MaxAge: maxAge, UILocales: locales,
		HintSubject: hintSub, Floor: floor, EssentialACR: essential, Services: services, Claims: claims,
	}
	in, inline := ctx.Value(inlineLoginKey{}).(*inlineLogin)
	if inline {
		tx.Binding = hashKey(in.binding)
	}
	if err := o.s.createTx(ctx, tx); err != nil {
		return nil, storeError(err, nil)
	}
	if inline {
		in.tx = tx
	}
	// Debug, like "upstream login started": a login leaves two info lines,
	// its upstream outcome and its end; the steps between are detail.
	o.s.log.DebugContext(ctx, "authorization started", "tx", logID(tx.ID), "client", tx.ClientID, "floor", floor.String())
	return op.NewRedirect(client.LoginURL(tx.ID)), nil
}

// errUnmet is OpenID Connect Unmet Authentication Requirements 1.0.
func errUnmet(desc string) *oidc.Error {
	return &oidc.Error{ErrorType: "unmet_authentication_requirements", Description: desc}
}

// allowedAssertionAlgs are the client assertion algorithms accepted for
// private_key_jwt: asymmetric only, so neither "none" nor an HMAC keyed
// with public data can ever authenticate a client.
var allowedAssertionAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}

// VerifyClient adds to the library's client authentication: the method a
// client is registered for is the only one it may use, a client_id sent
// beside the credentials must name the authenticated client, the
// private_key_jwt algorithm allow-list and audience rules, and single use
// of the assertion's jti (through the store, so the rule holds across
// replicas).
//
// A failed authentication with the Authorization header is answered 401
// (RFC 6749 §5.2); opHTTPRules adds the WWW-Authenticate challenge.
func (o *opServer) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	client, err := o.verifyClient(ctx, r)
	if err != nil {
		var se op.StatusError
		var oe *oidc.Error
		if !errors.As(err, &se) && errors.As(err, &oe) && oe.ErrorType == oidc.InvalidClient && basicAuthAttempted(r.Header) {
			return nil, op.NewStatusError(err, http.StatusUnauthorized)
		}
		return nil, err
	}
	// RFC 6749 §3.2.1 and RFC 7521 §4.2: a client_id in the body is only
	// a hint and must identify the client that authenticated; a different
	// one is a malformed request, not silently ignored.
	if id := r.Form.Get("client_id"); id != "" && id != client.GetID() {
		return nil, oidc.ErrInvalidRequest().WithDescription("client_id does not match the authenticated client")
	}
	return client, nil
}

func (o *opServer) verifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	if r.Data.ClientAssertion == "" {
		if r.Data.ClientAssertionType != "" {
			return nil, oidc.ErrInvalidClient().WithDescription("client_assertion missing")
		}
		// RFC 6749 §2.3: the server authenticates a client only with a
		// method it was registered for (OIDC Registration
		// token_endpoint_auth_method). Every client_secret client is
		// registered for client_secret_basic, so a secret in the body
		// (client_secret_post) is refused, not accepted as equivalent.
		if c, ok := o.s.clients[r.Data.ClientID]; ok && c.AuthMethod() == oidc.AuthMethodBasic && !basicAuthAttempted(r.Header) {
			return nil, oidc.ErrInvalidClient().WithDescription("client is registered for client_secret_basic")
		}
		return o.LegacyServer.VerifyClient(ctx, r)
	}
	algs := make([]jose.SignatureAlgorithm, len(allowedAssertionAlgs))
	for i, a := range allowedAssertionAlgs {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	tok, err := jwt.ParseSigned(r.Data.ClientAssertion, algs)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("client assertion: unsupported or malformed JWT")
	}
	var claims jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil || claims.ID == "" || claims.Expiry == nil {
		return nil, oidc.ErrInvalidClient().WithDescription("client assertion: jti and exp are required")
	}
	// OIDC Core §9 and RFC 7523 §3 (point 3): the audience identifies the
	// authorization server; Core says it SHOULD be the token endpoint URL,
	// RFC 7523 allows the issuer. Both name this server, so both are
	// accepted (and nothing else).
	aud := o.s.issuer
	if tokenEndpoint := o.s.issuer + "/token"; !slices.Contains(claims.Audience, aud) && slices.Contains(claims.Audience, tokenEndpoint) {
		aud = tokenEndpoint
	}
	req, err := op.VerifyJWTAssertion(ctx, r.Data.ClientAssertion, op.NewJWTProfileVerifier(o.Provider().Storage(), aud, time.Hour, time.Second))
	if err != nil {
		// A bad assertion is a failed client authentication (RFC 7523
		// §3.1: invalid_client); the reason stays in the log, not in the
		// answer.
		o.s.log.InfoContext(ctx, "client assertion rejected", "err", err)
		return nil, oidc.ErrInvalidClient().WithDescription("client assertion rejected").WithParent(err)
	}
	client, ok := o.s.clients[req.Issuer]
	if !ok {
		return nil, oidc.ErrInvalidClient().WithDescription("client assertion rejected")
	}
	if client.AuthMethod() != oidc.AuthMethodPrivateKeyJWT {
		return nil, oidc.ErrInvalidClient().WithDescription("client is not registered for private_key_jwt")
	}
	// Remember the jti until the assertion expires (plus skew), so it can
	// never be presented twice while it would still verify.
	ttl := time.Until(claims.Expiry.Time()) + time.Minute
	if ttl > time.Hour {
		return nil, oidc.ErrInvalidClient().WithDescription("client assertion: exp too far in the future")
	}
	err = o.s.raw.Create(ctx, store.KindJTI, client.GetID()+"\x00"+claims.ID, []byte{1}, ttl)
	switch {
	case errors.Is(err, store.ErrExists):
		o.s.log.WarnContext(ctx, "client assertion replayed", "client", client.GetID())
		return nil, oidc.ErrInvalidClient().WithDescription("client assertion already used")
	case err != nil:
		return nil, storeError(err, nil)
	}
	return client, nil
}

// CodeExchange redeems a code. The PKCE verifier is required from every
// client (the library checks it only for public clients or when one is
// sent).
//
// Order matters when the store hangs (a Redis that stops answering still
// executes, later, whatever reached it): the code is read, never consumed,
// while the request is checked and the tokens are created, and it is taken
// only as the last step. Any failure before that step, a 503 included,
// leaves the code as it was, so the client's retry succeeds; a refused
// request (wrong verifier, client or redirect_uri) does not burn it either.
// Only the final take itself can be ambiguous (sent, but its answer lost):
// the client then gets 503 and its retry invalid_grant, and the retry's
// code names its family (codefamily.go), so the tokens created for the
// unanswered attempt are revoked with their family. We prefer that one
// round trip of ambiguity to re-issuing tokens for a code already taken,
// which would break single use (RFC 6749 §4.1.2, §10.5).
func (o *opServer) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	resp, err := o.exchangeCode(ctx, r)
	if err != nil {
		return nil, err
	}
	return op.NewResponse(resp), nil
}

// exchangeCode is CodeExchange; codeTokenRequest calls it directly.
func (o *opServer) exchangeCode(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*oidc.AccessTokenResponse, error) {
	if r.Data.CodeVerifier == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_verifier is required")
	}
	// RFC 7636 §4.1: code-verifier = 43*128unreserved.
	if !validPKCEValue(r.Data.CodeVerifier) {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]")
	}
	st := &opStorage{o.s}
	key := hashKey(r.Data.Code)
	g, err := st.peekGrant(ctx, store.KindCode, key, "code invalid, expired or already used")
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			// Gone: redeemed (or expired). The code names its family,
			// authenticated, so a second use revokes what the first one
			// issued (codefamily.go).
			st.revokeFamily(ctx, store.KindCode, o.s.tokens.codeFamily(r.Data.Code))
		}
		return nil, err
	}
	if err := op.AuthorizeCodeChallenge(r.Data.CodeVerifier, g.GetCodeChallenge()); err != nil {
		return nil, err
	}
	if r.Client.GetID() != g.ClientID {
		return nil, oidc.ErrInvalidGrant().WithDescription("code was issued to another client")
	}
	if r.Data.RedirectURI != g.RedirectURI {
		return nil, oidc.ErrInvalidGrant().WithDescription("redirect_uri does not match")
	}
	resp, err := o.tokenResponse(ctx, g, r.Client.(*opClient).c.IDTokenAlg, r.Data.Code, false)
	if err != nil {
		return nil, err
	}
	if _, err := o.s.raw.Take(ctx, store.KindCode, key); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			// Another request redeemed it since we read it: a second use
			// of one code revokes what either use issued (RFC 6749 §10.5).
			st.revokeFamily(ctx, store.KindCode, g.ID)
		}
		return nil, storeError(err, oidc.ErrInvalidGrant().WithDescription("code invalid, expired or already used"))
	}
	return resp, nil
}

// RefreshToken rotates a refresh token. Like CodeExchange it reads the
// token, checks the request and creates the successor before it takes
// the old token, so that
//   - a refused request (another client's token, a scope beyond the grant,
//     RFC 6749 §6) leaves the honest client's token working;
//   - a store failure before the take leaves it working too;
//   - of two requests racing with one token (two replicas), exactly one
//     takes it; the other deletes the successor it created and gets
//     invalid_grant, without revoking the family, because it held a valid
//     token when it began. A token presented after its rotation finished
//     is reuse and revokes the family (RFC 9700 §4.14.2).
func (o *opServer) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	st := &opStorage{o.s}
	key := hashKey(r.Data.RefreshToken)
	g, err := st.peekGrant(ctx, store.KindRefresh, key, "refresh token invalid, expired or already used")
	if err != nil {
		return nil, err
	}
	if r.Client.GetID() != g.ClientID {
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token was issued to another client")
	}
	if err := op.ValidateRefreshTokenScopes(r.Data.Scopes, g); err != nil {
		return nil, err
	}
	if err := st.grantAlive(ctx, g); err != nil {
		return nil, err
	}
	// The reuse marker goes out with the new tokens, in one round trip,
	// before the take.
	ctx, marker := withUsedMarker(ctx, store.KindRefresh, key, g, o.s.now())
	resp, err := o.tokenResponse(ctx, g, r.Client.(*opClient).c.IDTokenAlg, "", true)
	if err != nil {
		return nil, err
	}
	if err := marker.flush(ctx, st); err != nil {
		return nil, err
	}
	if _, err := o.s.raw.Take(ctx, store.KindRefresh, key); err != nil {
		// Not delivered, so not valid: the successor goes (best effort;
		// nobody knows it if this fails).
		_ = o.s.raw.Delete(ctx, store.KindRefresh, hashKey(resp.RefreshToken))
		if id, _, ok := o.openAccessToken(resp.AccessToken); ok {
			_ = o.revokeAccessToken(ctx, id, g.ClientID)
		}
		if errors.Is(err, store.ErrNotFound) {
			o.s.log.InfoContext(ctx, "refresh token rotated by a concurrent request", "family", logID(g.ID))
		}
		return nil, storeError(err, oidc.ErrInvalidGrant().WithDescription("refresh token invalid, expired or already used"))
	}
	return op.NewResponse(resp), nil
}

// Revocation implements RFC 7009 with the broker's store rules: an
// unknown token is success (§2.2), a token of another client is refused,
// and a store outage is 503 (the library's path answered 500).
func (o *opServer) Revocation(ctx context.Context, r *op.ClientRequest[oidc.RevocationRequest]) (*op.Response, error) {
	var g grant
	switch _, err := o.s.data.get(ctx, store.KindRefresh, hashKey(r.Data.Token), &g); {
	case err == nil:
		if g.ClientID != r.Client.GetID() {
			// RFC 7009 §2.1: the token must have been issued to the
			// client that asks.
			return nil, oidc.ErrInvalidRequest().WithDescription("token was issued to another client")
		}
		if err := o.s.raw.Delete(ctx, store.KindRefresh, hashKey(r.Data.Token)); err != nil {
			return nil, storeError(err, nil)
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, storeError(err, nil)
	}
	if id, _, ok := o.openAccessToken(r.Data.Token); ok {
		if err := o.revokeAccessToken(ctx, id, r.Client.GetID()); err != nil {
			return nil, err
		}
	}
	return op.NewResponse(nil), nil
}

// revokeAccessToken ends one access token of client: a self-contained one
// by a marker that lives until the token's own expiry, a stored one of an
// earlier version by deleting its record. An unknown or expired token is
// nothing to do (RFC 7009 §2.2).
func (o *opServer) revokeAccessToken(ctx context.Context, id, client string) error {
	if !isAccessGrant(id) {
		var g grant
		if _, err := o.s.data.get(ctx, store.KindAccess, id, &g); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return storeError(err, nil)
		}
		if g.ClientID != client {
			return oidc.ErrInvalidRequest().WithDescription("token was issued to another client")
		}
		if err := o.s.raw.Delete(ctx, store.KindAccess, id); err != nil {
			return storeError(err, nil)
		}
		return nil
	}
	a, err := openAccessGrant(id)
	if err != nil {
		return nil
	}
	if a.Client != client {
		return oidc.ErrInvalidRequest().WithDescription("token was issued to another client")
	}
	ttl := time.Unix(a.Expiry, 0).Sub(o.s.now())
	if ttl <= 0 {
		return nil
	}
	ttl = max(ttl, time.Second) // the stores count whole milliseconds
	if err := o.s.raw.Create(ctx, store.KindAccess, revokedTokenPrefix+a.JTI, []byte{1}, ttl); err != nil && !errors.Is(err, store.ErrExists) {
		return storeError(err, nil)
	}
	return nil
}

type sessionCtxKey struct{}

// EndSession ends the SSO session of the browser that calls it and clears
// its cookie, then redirects where the library validated.
//
// An id_token_hint only vouches for a logout of the session it was issued
// from (OIDC RP-Initiated Logout 1.0 §2: the OP should confirm the logout
// with the End-User unless the hint identifies the session): its client
// must be one of ours, its sub the pairwise subject of this session's
// person for that client, and its auth_time this session's login. Any
// other valid hint (another person's, or an older login's) is treated
// like none: the person is asked.
func (o *opServer) EndSession(ctx context.Context, r *op.Request[oidc.EndSessionRequest]) (*op.Redirect, error) {
	confirm := op.NewRedirect(o.s.issuer + "/logout/confirm")
	if r.Data.IdTokenHint == "" {
		// Without an id_token_hint nobody vouches that the person wants
		// this (a cross-site GET could log them out): ask the person, and
		// never follow a post_logout_redirect_uri.
		return confirm, nil
	}
	claims, err := op.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, r.Data.IdTokenHint, o.Provider().IDTokenHintVerifier(ctx))
	if err != nil && !errors.As(err, &op.IDTokenHintExpiredError{}) {
		return nil, oidc.ErrInvalidRequest().WithDescription("id_token_hint invalid").WithParent(err)
	}
	hr := &http.Request{Header: r.Header}
	sess, sid, err := o.s.currentSession(hr)
	if err != nil {
		return nil, storeError(err, nil)
	}
	if sess != nil {
		if !o.hintMatchesSession(claims, sess) {
			o.s.log.InfoContext(ctx, "logout hint names another session; asking the person")
			return confirm, nil
		}
		ctx = context.WithValue(ctx, sessionCtxKey{}, sid)
	}
	red, err := o.LegacyServer.EndSession(ctx, r)
	if err != nil {
		return nil, err
	}
	red.Header.Add("Set-Cookie", o.s.expiredCookie(o.s.sessionCookieName()).String())
	return red, nil
}

func (o *opServer) hintMatchesSession(claims *oidc.IDTokenClaims, sess *session) bool {
	clientID := claims.GetAuthorizedParty()
	if clientID == "" && len(claims.Audience) == 1 {
		clientID = claims.Audience[0]
	}
	client, ok := o.s.clients[clientID]
	if !ok {
		return false
	}
	sub := o.s.pairwiseSubject(client.c.Sector, sess.AdapterID, sess.Identity.Subject)
	return subtle.ConstantTimeCompare([]byte(sub), []byte(claims.Subject)) == 1 &&
		claims.AuthTime.AsTime().Unix() == sess.Identity.AuthTime.Unix()
}
