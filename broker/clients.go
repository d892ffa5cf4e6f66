package broker

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// Client is a portal as the broker runs it.
type Client struct {
	ID                     string
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// AuthMethod is oidc.AuthMethodBasic or oidc.AuthMethodPrivateKeyJWT.
	AuthMethod oidc.AuthMethod
	// Secret for client_secret_basic; only its SHA-256 is kept.
	Secret string
	// Keys verify private_key_jwt client assertions (public keys only).
	Keys       []jose.JSONWebKey
	IDTokenAlg jose.SignatureAlgorithm
	MinLevel   assurance.Level
	Sector     string
	// AllowedClaims the client may receive at most.
	AllowedClaims []string
	// ImplicitConsent skips the consent page (an admin's decision).
	ImplicitConsent bool
	Services        []Service
	// Logo is shown beside the portal's name on the login pages (PNG,
	// JPEG, WebP or SVG, of media type LogoType); optional.
	Logo     []byte
	LogoType string
}

// Service is an administrative service behind a portal.
type Service struct {
	ID       string
	Name     string
	MinLevel assurance.Level
}

// opClient adapts a Client to op.Client.
type opClient struct {
	c          *Client
	secretHash [32]byte
	allowed    map[string]bool
	loginURL   func(id string) string
}

var _ op.Client = (*opClient)(nil)

func newOPClient(c *Client, loginURL func(string) string) (*opClient, error) {
	if c.ID == "" || len(c.RedirectURIs) == 0 {
		return nil, fmt.Errorf("client %q: id and redirect URIs are required", c.ID)
	}
	oc := &opClient{c: c, loginURL: loginURL, allowed: map[string]bool{}}
	switch c.AuthMethod {
	case oidc.AuthMethodBasic:
		if c.Secret == "" {
			return nil, fmt.Errorf("client %q: client_secret_basic needs a secret", c.ID)
		}
		oc.secretHash = sha256.Sum256([]byte(c.Secret))
	case oidc.AuthMethodPrivateKeyJWT:
		if len(c.Keys) == 0 {
			return nil, fmt.Errorf("client %q: private_key_jwt needs keys", c.ID)
		}
	default:
		return nil, fmt.Errorf("client %q: unsupported auth method %q", c.ID, c.AuthMethod)
	}
	if c.Sector == "" {
		u, err := url.Parse(c.RedirectURIs[0])
		if err != nil {
			return nil, fmt.Errorf("client %q: redirect URI: %w", c.ID, err)
		}
		c.Sector = u.Hostname()
	}
	for _, name := range c.AllowedClaims {
		oc.allowed[name] = true
	}
	return oc, nil
}

// checkSecret compares in constant time (over hashes, so the length of the
// real secret does not leak either).
func (oc *opClient) checkSecret(secret string) bool {
	if oc.c.AuthMethod != oidc.AuthMethodBasic {
		return false
	}
	h := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(h[:], oc.secretHash[:]) == 1
}

func (oc *opClient) service(id string) (Service, bool) {
	i := slices.IndexFunc(oc.c.Services, func(s Service) bool { return s.ID == id })
	if i < 0 {
		return Service{}, false
	}
	return oc.c.Services[i], true
}

func (oc *opClient) GetID() string                       { return oc.c.ID }
func (oc *opClient) RedirectURIs() []string              { return oc.c.RedirectURIs }
func (oc *opClient) PostLogoutRedirectURIs() []string    { return oc.c.PostLogoutRedirectURIs }
func (oc *opClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (oc *opClient) AuthMethod() oidc.AuthMethod         { return oc.c.AuthMethod }
func (oc *opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (oc *opClient) LoginURL(id string) string            { return oc.loginURL(id) }
func (oc *opClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (oc *opClient) IDTokenLifetime() time.Duration       { return idTokenLifetime }
func (oc *opClient) DevMode() bool                        { return false }
func (oc *opClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (oc *opClient) ClockSkew() time.Duration             { return 0 }
func (oc *opClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

func (oc *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (oc *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed lets service scopes through the library's filter so that
// Authorize can refuse an unknown service with invalid_scope instead of the
// library silently dropping it; other non-standard scopes are dropped.
func (oc *opClient) IsScopeAllowed(scope string) bool {
	return strings.HasPrefix(scope, serviceScopePrefix) || scope == "legal_entity"
}
