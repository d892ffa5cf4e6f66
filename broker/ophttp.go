package broker

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Size limits of OP requests. An authorization request travels in a URL
// (browsers and proxies cut URLs near 8 KiB anyway); token, revocation,
// userinfo and logout requests carry a code, a verifier, a client
// assertion or a token, all far below their limit.
const (
	maxAuthorizeBytes = 8 << 10
	maxOPBodyBytes    = 64 << 10
)

// Pages of the authorization endpoint for requests that cannot be answered
// at the portal's redirect URI (OAuth 2.0 §4.1.2.1: never redirect to an
// unverified URI; tell the person instead).
var (
	msgUnknownClient = adapters.Text{
		DE: "Das Portal, von dem Sie kommen, ist bei diesem Anmeldedienst nicht registriert. Bitte wenden Sie sich an das Portal.",
		EN: "The portal that sent you here is not registered with this login service. Please contact the portal.",
	}
	msgBadRedirectURI = adapters.Text{
		DE: "Die Rücksprungadresse des Portals ist bei diesem Anmeldedienst nicht registriert. Aus Sicherheitsgründen werden Sie nicht dorthin weitergeleitet. Bitte wenden Sie sich an das Portal.",
		EN: "The portal's return address is not registered with this login service. For your safety you are not sent there. Please contact the portal.",
	}
	msgBadAuthRequest = adapters.Text{
		DE: "Die Anmeldeanfrage des Portals ist fehlerhaft oder zu groß. Bitte starten Sie die Anmeldung im Portal neu.",
		EN: "The portal's login request is malformed or too large. Please start again from the portal.",
	}
)

// opHTTPRules wraps the library's OP endpoints with the HTTP-level rules of
// OAuth 2.0 that the library leaves open: request methods and sizes,
// repeated parameters, caching, and the 401 challenges.
func (s *Server) opHTTPRules(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/authorize":
			s.authorizeGate(next, w, r)
		case "/token", "/revoke":
			s.clientEndpoint(next, w, r)
		case "/userinfo":
			s.userinfoEndpoint(next, w, r)
		case "/end_session":
			if parseOPForm(w, r) {
				next.ServeHTTP(w, r)
			}
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// authorizeGate checks what decides whether an error may be redirected to
// the portal at all: client_id and redirect_uri. An unknown client or an
// unregistered redirect_uri gets a page for the person (400, German and
// English), never a redirect and never a 500; so does a request too large
// or with either parameter repeated. Everything after this is the
// library's and opServer.Authorize's, whose errors go to the portal.
func (s *Server) authorizeGate(next http.Handler, w http.ResponseWriter, r *http.Request) {
	// RFC 7636 §4.2 and RFC 6749 §3.1 leave sizes to the server; an
	// oversized request (a 100 KB scope) is refused before anything
	// reads it, rather than stored in a transaction.
	if len(r.URL.RawQuery) > maxAuthorizeBytes || r.ContentLength > maxAuthorizeBytes {
		s.log.InfoContext(r.Context(), "authorization request too large", "bytes", len(r.URL.RawQuery)+int(max(r.ContentLength, 0)))
		s.pages.errorPage(w, r, http.StatusBadRequest, msgBadAuthRequest)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAuthorizeBytes)
	if err := r.ParseForm(); err != nil {
		s.log.InfoContext(r.Context(), "authorization request unreadable", "err", err)
		s.pages.errorPage(w, r, http.StatusBadRequest, msgBadAuthRequest)
		return
	}
	ids, uris := r.Form["client_id"], r.Form["redirect_uri"]
	if len(ids) > 1 || len(uris) > 1 {
		s.log.InfoContext(r.Context(), "authorization request repeats client_id or redirect_uri")
		s.pages.errorPage(w, r, http.StatusBadRequest, msgBadAuthRequest)
		return
	}
	c, ok := s.clients[r.Form.Get("client_id")]
	if !ok {
		// Info, not error: anyone can send a wrong client_id; the value
		// is the requester's, shortened.
		s.log.InfoContext(r.Context(), "authorization request for an unknown client", "client", logID(r.Form.Get("client_id")))
		s.pages.errorPage(w, r, http.StatusBadRequest, msgUnknownClient)
		return
	}
	// OIDC Core §3.1.2.1: redirect_uri is required and must exactly match
	// a registered one (§3.1.2.6 and RFC 6749 §4.1.2.1: otherwise inform
	// the person and do not redirect).
	if !slices.Contains(c.c.RedirectURIs, r.Form.Get("redirect_uri")) {
		s.log.WarnContext(r.Context(), "authorization request with an unregistered redirect_uri", "client", c.GetID())
		s.pages.errorPage(w, r, http.StatusBadRequest, msgBadRedirectURI)
		return
	}
	s.authorizeInline(next, w, r)
}

// authorizeInline runs the library's authorization endpoint and, where it
// would redirect the browser to the login page of the transaction that
// opServer.Authorize just created, shows that page in this response
// instead. The browser saves a round trip, and the broker a read of the
// record it has in hand.
//
// The transaction is bound to this browser from its creation: Authorize
// stores the hash of a fresh binding value, and this response sets the
// binding cookie with the page. (With a redirect, the first browser to
// open the login URL bound it; now no other browser ever can.)
func (s *Server) authorizeInline(next http.Handler, w http.ResponseWriter, r *http.Request) {
	in := &inlineLogin{binding: randomID()}
	catcher := &loginRedirectCatcher{ResponseWriter: w, in: in, s: s}
	next.ServeHTTP(catcher, r.WithContext(context.WithValue(r.Context(), inlineLoginKey{}, in)))
	if !catcher.caught {
		return
	}
	tx := in.tx
	http.SetCookie(w, s.cookie(s.txCookieName(tx.ID), in.binding, txTTL))
	s.setClientHint(w, tx.ClientID)
	s.showLogin(w, r, tx)
}

// inlineLogin carries the binding value into opServer.Authorize and the
// transaction it created back out.
type inlineLogin struct {
	binding string
	tx      *transaction
}

type inlineLoginKey struct{}

// loginRedirectCatcher swallows the library's redirect to the login page
// of in.tx (and only that): headers and body of any other answer, errors
// to the portal included, pass through unchanged.
type loginRedirectCatcher struct {
	http.ResponseWriter
	in     *inlineLogin
	s      *Server
	caught bool
}

func (c *loginRedirectCatcher) WriteHeader(status int) {
	if c.in.tx != nil && (status == http.StatusFound || status == http.StatusSeeOther) &&
		c.Header().Get("Location") == c.s.clients[c.in.tx.ClientID].LoginURL(c.in.tx.ID) {
		c.caught = true
		c.Header().Del("Location")
		return
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *loginRedirectCatcher) Write(b []byte) (int, error) {
	if c.caught {
		return len(b), nil
	}
	return c.ResponseWriter.Write(b)
}

func (c *loginRedirectCatcher) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// clientEndpoint applies to the token and revocation endpoints, where
// clients authenticate.
func (s *Server) clientEndpoint(next http.Handler, w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if r.URL.Path == "/token" {
		// RFC 6749 §5.1 and OIDC Core §3.1.3.3: token responses, errors
		// included, are never cached.
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
	}
	if r.Method == http.MethodOptions {
		next.ServeHTTP(w, r) // CORS preflight, answered by the library's CORS policy
		return
	}
	// RFC 6749 §3.2 (token) and RFC 7009 §2.1 (revocation): POST only, so
	// codes, verifiers and secrets never travel in URLs and logs.
	if r.Method != http.MethodPost {
		h.Set("Allow", http.MethodPost)
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "this endpoint accepts POST only")
		return
	}
	// RFC 6749 §2.3.1: credentials "MUST NOT be included in the request
	// URI"; the other parameters belong in the body too (§4.1.3).
	if r.URL.RawQuery != "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "parameters must be sent in the request body")
		return
	}
	if !parseOPForm(w, r) {
		return
	}
	if basicAuthAttempted(r.Header) && !basicAuthWellFormed(r) {
		// RFC 6749 §2.3.1 encodes id and secret form-urlencoded; a header
		// that does not decode is a failed authentication with the header.
		h.Set("WWW-Authenticate", basicChallenge(s.issuer))
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "malformed Authorization header")
		return
	}
	cw := &challengeWriter{ResponseWriter: w, challenge: func(status int) (int, string) {
		// RFC 6749 §5.2: a failed authentication with the Authorization
		// header is 401 with a challenge for the scheme the client used.
		// Without the header a 401 would need a challenge the client did
		// not use (RFC 9110 §15.5.2), so it stays 400.
		if status != http.StatusUnauthorized {
			return status, ""
		}
		if basicAuthAttempted(r.Header) {
			return status, basicChallenge(s.issuer)
		}
		return http.StatusBadRequest, ""
	}}
	if r.URL.Path == "/token" && r.PostForm.Get("grant_type") == string(oidc.GrantTypeCode) && r.Header.Get("Origin") == "" {
		s.op.codeTokenRequest(cw, r)
		return
	}
	next.ServeHTTP(cw, r)
}

// userinfoEndpoint adds RFC 6750 §3 challenges and keeps userinfo
// responses out of caches (they carry personal data).
func (s *Server) userinfoEndpoint(next http.Handler, w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if !parseOPForm(w, r) {
		return
	}
	next.ServeHTTP(&challengeWriter{ResponseWriter: w, challenge: func(status int) (int, string) {
		switch {
		case status == http.StatusUnauthorized && !bearerPresented(r):
			// RFC 6750 §3.1: no credentials, no error code.
			return status, "Bearer"
		case status == http.StatusUnauthorized:
			return status, `Bearer error="invalid_token"`
		case status == http.StatusBadRequest:
			return status, `Bearer error="invalid_request"`
		}
		return status, ""
	}}, r)
}

// parseOPForm bounds and parses the request's parameters and refuses a
// repeated one (RFC 6749 §3.1: "Request and response parameters MUST NOT
// be included more than once"). It answers the request itself when it
// returns false.
func parseOPForm(w http.ResponseWriter, r *http.Request) bool {
	if len(r.URL.RawQuery) > maxOPBodyBytes {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "request too large")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxOPBodyBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "request too large")
			return false
		}
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed request parameters")
		return false
	}
	if name := repeatedParam(r.Form); name != "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "parameter "+name+" is repeated")
		return false
	}
	return true
}

// repeatedParam names the first parameter given more than once, in the
// query and body together, or "".
func repeatedParam(form url.Values) string {
	names := make([]string, 0, len(form))
	for name, vs := range form {
		if len(vs) > 1 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return names[0]
}

// validPKCEValue is the RFC 7636 §4.1/§4.2 syntax of a code verifier and a
// code challenge: 43 to 128 characters of ALPHA / DIGIT / "-" / "." / "_" / "~".
func validPKCEValue(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

func basicAuthAttempted(h http.Header) bool {
	scheme, _, _ := strings.Cut(h.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "basic")
}

// basicAuthWellFormed reports whether the Basic header decodes into a
// form-urlencoded client_id and secret (RFC 6749 §2.3.1).
func basicAuthWellFormed(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if !ok || id == "" {
		return false
	}
	if _, err := url.QueryUnescape(id); err != nil {
		return false
	}
	_, err := url.QueryUnescape(secret)
	return err == nil
}

func basicChallenge(issuer string) string {
	// RFC 7617 §2: realm is required; the issuer names the protection space.
	return `Basic realm="` + strings.ReplaceAll(issuer, `"`, "") + `", charset="UTF-8"`
}

func bearerPresented(r *http.Request) bool {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "bearer") && strings.TrimSpace(token) != "" ||
		r.PostForm.Get("access_token") != "" || r.URL.Query().Get("access_token") != ""
}

// writeOAuthError writes an RFC 6749 §5.2 error body.
func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// challengeWriter lets a rule adjust the status and add a WWW-Authenticate
// challenge once the library has chosen its answer.
type challengeWriter struct {
	http.ResponseWriter
	challenge   func(status int) (int, string)
	wroteHeader bool
}

func (c *challengeWriter) WriteHeader(status int) {
	if !c.wroteHeader {
		c.wroteHeader = true
		var challenge string
		status, challenge = c.challenge(status)
		if challenge != "" {
			c.Header().Set("WWW-Authenticate", challenge)
		}
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *challengeWriter) Write(b []byte) (int, error) {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}

func (c *challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
