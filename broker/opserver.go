package broker

import (
	"context"
	"errors"
	"net/http"
	"slices"
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
func (o *opServer) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	if r.URL != nil && r.URL.Query().Has("access_token") {
		return nil, op.NewStatusError(oidc.ErrInvalidRequest().WithDescription("access tokens are not accepted in the URL query"), http.StatusBadRequest)
	}
	return o.LegacyServer.UserInfo(ctx, r)
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
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method=S256 is required")
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
	if err := o.s.createTx(ctx, tx); err != nil {
		return nil, storeError(err, nil)
	}
	o.s.log.InfoContext(ctx, "authorization started", "tx", logID(tx.ID), "client", tx.ClientID, "floor", floor.String())
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

// VerifyClient adds to the library's private_key_jwt check: the algorithm
// allow-list and single use of the assertion's jti (through the store, so
// the rule holds across replicas).
func (o *opServer) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	if r.Data.ClientAssertion == "" {
		if r.Data.ClientAssertionType != "" {
			return nil, oidc.ErrInvalidClient().WithDescription("client_assertion missing")
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
	client, err := o.LegacyServer.VerifyClient(ctx, r)
	if err != nil {
		var se op.StatusError
		if errors.As(err, &se) {
			return nil, err
		}
		// A bad assertion is a failed client authentication (RFC 7523
		// §3.1: invalid_client), whatever the library called it; the
		// reason stays in the log, not in the answer.
		o.s.log.InfoContext(ctx, "client assertion rejected", "err", err)
		return nil, oidc.ErrInvalidClient().WithDescription("client assertion rejected").WithParent(err)
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

// CodeExchange requires the PKCE verifier from every client (the library
// checks it only for public clients or when one is sent).
func (o *opServer) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	if r.Data.CodeVerifier == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_verifier is required")
	}
	ar, err := op.AuthRequestByCode(ctx, o.Provider().Storage(), r.Data.Code)
	if err != nil {
		return nil, err
	}
	g := ar.(*grant)
	if err := op.AuthorizeCodeChallenge(r.Data.CodeVerifier, g.GetCodeChallenge()); err != nil {
		return nil, err
	}
	if r.Client.GetID() != g.ClientID {
		return nil, oidc.ErrInvalidGrant().WithDescription("code was issued to another client")
	}
	if r.Data.RedirectURI != g.RedirectURI {
		return nil, oidc.ErrInvalidGrant().WithDescription("redirect_uri does not match")
	}
	ctx = withSigningAlg(ctx, r.Client.(*opClient).c.IDTokenAlg)
	resp, err := op.CreateTokenResponse(ctx, g, r.Client, o.Provider(), true, r.Data.Code, "")
	if err != nil {
		return nil, err
	}
	return op.NewResponse(resp), nil
}

func (o *opServer) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	ctx = withSigningAlg(ctx, r.Client.(*opClient).c.IDTokenAlg)
	return o.LegacyServer.RefreshToken(ctx, r)
}

type sessionCtxKey struct{}

// EndSession ends the SSO session of the browser that calls it and clears
// its cookie, then redirects where the library validated.
func (o *opServer) EndSession(ctx context.Context, r *op.Request[oidc.EndSessionRequest]) (*op.Redirect, error) {
	if r.Data.IdTokenHint == "" {
		// Without an id_token_hint nobody vouches that the person wants
		// this (a cross-site GET could log them out): ask the person, and
		// never follow a post_logout_redirect_uri.
		return op.NewRedirect(o.s.issuer + "/logout/confirm"), nil
	}
	hr := &http.Request{Header: r.Header}
	if c, err := hr.Cookie(o.s.sessionCookieName()); err == nil {
		ctx = context.WithValue(ctx, sessionCtxKey{}, hashKey(c.Value))
	}
	red, err := o.LegacyServer.EndSession(ctx, r)
	if err != nil {
		return nil, err
	}
	red.Header.Add("Set-Cookie", o.s.expiredCookie(o.s.sessionCookieName()).String())
	return red, nil
}
