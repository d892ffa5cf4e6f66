package broker

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// transaction is one authorization request from its validation at
// /authorize until the code is issued. It implements op.AuthRequest.
type transaction struct {
	ID      string    `json:"id"`
	Ref     string    `json:"ref"`     // second reference for cookie-less upstream callbacks
	Binding string    `json:"binding"` // hash of the browser-binding cookie, set at /authorize
	Created time.Time `json:"created"`
	// Renewed is when the record's time to live last started again
	// (every update renews it), so pages can tell the person when the
	// login expires.
	Renewed time.Time `json:"renewed,omitempty"`
	// RefRenewed is when the extension last renewed the upstream
	// reference (zero: not since Created; see refTTL).
	RefRenewed time.Time `json:"ref_renewed,omitempty"`

	ClientID      string            `json:"client_id"`
	RedirectURI   string            `json:"redirect_uri"`
	State         string            `json:"state"`
	Nonce         string            `json:"nonce"`
	Scopes        []string          `json:"scopes"`
	ResponseType  oidc.ResponseType `json:"response_type"`
	ResponseMode  oidc.ResponseMode `json:"response_mode"`
	CodeChallenge string            `json:"code_challenge"`
	Prompt        []string          `json:"prompt"`
	MaxAge        *uint             `json:"max_age"`
	UILocales     []string          `json:"ui_locales"`
	HintSubject   string            `json:"hint_subject"` // pairwise sub from id_token_hint
	Floor         assurance.Level   `json:"floor"`
	EssentialACR  []string          `json:"essential_acr"` // acr values the ID token must carry one of
	Services      []string          `json:"services"`
	Claims        requestedClaims   `json:"claims"`

	// Upstream step.
	AdapterID    string `json:"adapter_id"`
	Option       string `json:"option"`
	AdapterState []byte `json:"adapter_state"`
	// Failures counts upstream answers that Finish refused for this
	// attempt; after maxCallbackFailures the attempt is dropped. A refused
	// answer does not consume the state, so a junk request by someone who
	// knows Ref cannot kill a genuine login, but it cannot retry forever.
	Failures int `json:"failures,omitempty"`
	// Failure remembers why the last upstream attempt failed (a failure
	// code), so that "back to the portal" afterwards reports that, not a
	// cancel by the person.
	Failure string `json:"failure,omitempty"`

	// Delivered is the identity an upstream answer proved, waiting for the
	// browser that delivered the answer to come to /done with the one-time
	// handle whose hash is DeliveryHash, while holding the binding cookie.
	// Only then does it become Identity (see Server.done).
	Delivered    *adapters.Identity `json:"delivered,omitempty"`
	DeliveryHash string             `json:"delivery_hash,omitempty"`
	DeliveredACR string             `json:"delivered_acr,omitempty"`

	// Result.
	Identity  *adapters.Identity `json:"identity"`
	SessionID string             `json:"session_id"` // hash of the SSO session cookie
	Subject   string             `json:"subject"`    // pairwise sub for this client
	AuthTime  time.Time          `json:"auth_time"`
	ACR       string             `json:"acr"`
	AMR       []string           `json:"amr"`

	// Set by getTx, never stored: the revision and sealed bytes that were
	// read, for updateLoadedTx's compare-and-swap and complete's check
	// that the transaction it consumes is the one it issued the code for.
	loaded bool
	rev    uint64
	sealed []byte
}

func (t *transaction) GetID() string                      { return t.ID }
func (t *transaction) GetACR() string                     { return t.ACR }
func (t *transaction) GetAMR() []string                   { return t.AMR }
func (t *transaction) GetAudience() []string              { return []string{t.ClientID} }
func (t *transaction) GetAuthTime() time.Time             { return t.AuthTime }
func (t *transaction) GetClientID() string                { return t.ClientID }
func (t *transaction) GetNonce() string                   { return t.Nonce }
func (t *transaction) GetRedirectURI() string             { return t.RedirectURI }
func (t *transaction) GetResponseType() oidc.ResponseType { return t.ResponseType }
func (t *transaction) GetResponseMode() oidc.ResponseMode { return t.ResponseMode }
func (t *transaction) GetScopes() []string                { return t.Scopes }
func (t *transaction) GetState() string                   { return t.State }
func (t *transaction) GetSubject() string                 { return t.Subject }

// Done is false: codes are issued only by Server.complete, never by the
// library's own authorize-callback path.
func (t *transaction) Done() bool { return false }
func (t *transaction) GetCodeChallenge() *oidc.CodeChallenge {
	return &oidc.CodeChallenge{Challenge: t.CodeChallenge, Method: oidc.CodeChallengeMethodS256}
}

// grant is what a code, an access token or a refresh token stands for: the
// released identity of one login for one client. It implements the
// op.AuthRequest and op.RefreshTokenRequest views the library needs.
type grant struct {
	ID        string          `json:"id"` // the tx ID it came from (or the refresh family)
	ClientID  string          `json:"client_id"`
	Subject   string          `json:"subject"`
	Scopes    []string        `json:"scopes"`
	Nonce     string          `json:"nonce"`
	AuthTime  time.Time       `json:"auth_time"`
	ACR       string          `json:"acr"`
	AMR       []string        `json:"amr"`
	Claims    requestedClaims `json:"claims"`
	Released  map[string]any  `json:"released"` // the claim values the person agreed to release
	SessionID string          `json:"session_id"`
	// SessionExpiry caps refresh tokens: they never outlive the SSO
	// session's level lifetime.
	SessionExpiry time.Time `json:"session_expiry"`
	RedirectURI   string    `json:"redirect_uri"`
	CodeChallenge string    `json:"code_challenge"`
	Services      []string  `json:"services"`
}

func (g *grant) GetID() string                      { return g.ID }
func (g *grant) GetACR() string                     { return g.ACR }
func (g *grant) GetAMR() []string                   { return g.AMR }
func (g *grant) GetAudience() []string              { return []string{g.ClientID} }
func (g *grant) GetAuthTime() time.Time             { return g.AuthTime }
func (g *grant) GetClientID() string                { return g.ClientID }
func (g *grant) GetNonce() string                   { return g.Nonce }
func (g *grant) GetRedirectURI() string             { return g.RedirectURI }
func (g *grant) GetResponseType() oidc.ResponseType { return oidc.ResponseTypeCode }
func (g *grant) GetResponseMode() oidc.ResponseMode { return oidc.ResponseModeQuery }
func (g *grant) GetScopes() []string                { return g.Scopes }
func (g *grant) GetState() string                   { return "" }
func (g *grant) GetSubject() string                 { return g.Subject }
func (g *grant) Done() bool                         { return true }
func (g *grant) SetCurrentScopes(s []string)        { g.Scopes = s }
func (g *grant) GetCodeChallenge() *oidc.CodeChallenge {
	return &oidc.CodeChallenge{Challenge: g.CodeChallenge, Method: oidc.CodeChallengeMethodS256}
}

// session is the SSO session behind the broker's session cookie.
type session struct {
	AdapterID string            `json:"adapter_id"`
	Identity  adapters.Identity `json:"identity"`
	Expiry    time.Time         `json:"expiry"`
	// Consents lists client IDs and the claim sets the person released to
	// them in this session, so prompt=none can reuse them.
	Consents map[string][]string `json:"consents"`
}
