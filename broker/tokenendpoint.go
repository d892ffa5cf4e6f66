package broker

import (
	"net/http"
	"net/url"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// codeTokenRequest answers a token request with grant_type
// authorization_code (RFC 6749 §4.1.3) in place of the OIDC library's token
// endpoint, with the same rules in the same order: one authentication
// method per request (§2.3), Basic credentials form-urlencoded (§2.3.1),
// client_assertion_type checked (RFC 7523 §2.2), the client authenticated
// by opServer.VerifyClient, code and redirect_uri required, and the code
// redeemed by opServer.CodeExchange; errors are the library's JSON errors
// with its status codes. What it saves, per login, is the library's
// reflective form decoding (run twice), its request copies and its routing.
//
// clientEndpoint has already checked the method, the query, the form
// (size, repeated parameters) and a malformed Authorization header, and
// only sends requests without an Origin header here: a browser's
// cross-origin request goes through the library, whose CORS policy
// answers it.
func (o *opServer) codeTokenRequest(w http.ResponseWriter, r *http.Request) {
	form := r.Form
	cc := &op.ClientCredentials{
		ClientID:            form.Get("client_id"),
		ClientSecret:        form.Get("client_secret"),
		ClientAssertion:     form.Get("client_assertion"),
		ClientAssertionType: form.Get("client_assertion_type"),
	}
	assertion := cc.ClientAssertion != "" && cc.ClientAssertionType != ""
	secret := cc.ClientSecret != "" && cc.ClientID != ""
	if assertion && secret {
		op.WriteError(w, r, oidc.ErrInvalidRequest().WithDescription("client authentication must not use more than one method"), nil)
		return
	}
	if id, pw, ok := r.BasicAuth(); ok {
		if assertion || secret {
			op.WriteError(w, r, oidc.ErrInvalidRequest().WithDescription("client authentication must not use more than one method"), nil)
			return
		}
		var errID, errPW error
		cc.ClientID, errID = url.QueryUnescape(id)
		cc.ClientSecret, errPW = url.QueryUnescape(pw)
		if errID != nil || errPW != nil {
			op.WriteError(w, r, oidc.ErrInvalidClient().WithDescription("invalid basic auth header"), nil)
			return
		}
	}
	if cc.ClientID == "" && cc.ClientAssertion == "" {
		op.WriteError(w, r, oidc.ErrInvalidRequest().WithDescription("client_id or client_assertion must be provided"), nil)
		return
	}
	if cc.ClientAssertion != "" && cc.ClientAssertionType != oidc.ClientAssertionTypeJWTAssertion {
		op.WriteError(w, r, oidc.ErrInvalidRequest().WithDescription("invalid client_assertion_type %s", cc.ClientAssertionType), nil)
		return
	}
	ctx := r.Context()
	client, err := o.VerifyClient(ctx, &op.Request[op.ClientCredentials]{
		Method: r.Method, URL: r.URL, Header: r.Header, Form: form, PostForm: r.PostForm, Data: cc,
	})
	if err != nil {
		op.WriteError(w, r, err, nil)
		return
	}
	if !op.ValidateGrantType(client, oidc.GrantTypeCode) {
		op.WriteError(w, r, oidc.ErrUnauthorizedClient().WithDescription("grant_type %q not allowed", oidc.GrantTypeCode), nil)
		return
	}
	req := &oidc.AccessTokenRequest{
		Code:                form.Get("code"),
		RedirectURI:         form.Get("redirect_uri"),
		ClientID:            form.Get("client_id"),
		ClientSecret:        form.Get("client_secret"),
		CodeVerifier:        form.Get("code_verifier"),
		ClientAssertion:     cc.ClientAssertion,
		ClientAssertionType: cc.ClientAssertionType,
	}
	switch {
	case req.Code == "":
		op.WriteError(w, r, oidc.ErrInvalidRequest().WithDescription("code missing"), nil)
		return
	case req.RedirectURI == "":
		op.WriteError(w, r, oidc.ErrInvalidRequest().WithDescription("redirect_uri missing"), nil)
		return
	}
	resp, err := o.exchangeCode(ctx, &op.ClientRequest[oidc.AccessTokenRequest]{
		Request: &op.Request[oidc.AccessTokenRequest]{
			Method: r.Method, URL: r.URL, Header: r.Header, Form: form, PostForm: r.PostForm, Data: req,
		},
		Client: client,
	})
	if err != nil {
		op.WriteError(w, r, err, nil)
		return
	}
	httphelper.MarshalJSON(w, resp)
}
