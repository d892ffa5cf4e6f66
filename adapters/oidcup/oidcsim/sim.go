package oidcsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ozg-broker/eidas-broker/adapters/demo"
)

// The simulator's acr values: a Land's own vocabulary.
const (
	ACRBasis        = "urn:example:servicekonto:loa:basis" // username and password only: maps to nothing
	ACRNormal       = "urn:example:servicekonto:loa:normal"
	ACRSubstantiell = "urn:example:servicekonto:loa:substantiell"
	ACRHoch         = "urn:example:servicekonto:loa:hoch"
)

// Level is one button on the simulator's page.
type Level struct {
	Key   string // element id suffix: basis, normal, substantiell, hoch
	ACR   string
	Label string
}

// Levels are the simulator's levels, weakest first.
func Levels() []Level {
	return []Level{
		{"basis", ACRBasis, "Benutzername und Passwort / username and password"},
		{"normal", ACRNormal, "Benutzername, Passwort und E-Mail-Bestätigung / with e-mail confirmation"},
		{"substantiell", ACRSubstantiell, "ELSTER-Zertifikat / ELSTER certificate"},
		{"hoch", ACRHoch, "Online-Ausweis / eID card"},
	}
}

// Options configure a simulator.
type Options struct {
	// Issuer is the URL where Handler is reachable (its routes hang below).
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURIs []string
	Now          func() time.Time
}

// Tamper changes what the simulator issues, for tests.
type Tamper struct {
	// Claims edits the ID token's claims before signing.
	Claims func(map[string]any)
	// WrongKey signs the ID token with a key the JWKS does not publish.
	WrongKey bool
	// IssParam replaces the iss authorization response parameter.
	IssParam string
}

// Sim is a running simulator.
type Sim struct {
	opts     Options
	key      *ecdsa.PrivateKey
	wrongKey *ecdsa.PrivateKey
	kid      string
	page     *template.Template

	mu      sync.Mutex
	pending map[string]authRequest // by page id
	codes   map[string]grant
	tokens  map[string]map[string]any // access token → userinfo claims
	tamper  Tamper
	// LastAuthorize is the query of the last authorization request, so
	// tests can see what the relying party asked for.
	lastAuthorize url.Values
}

type authRequest struct {
	ClientID, RedirectURI, State, Nonce, Challenge string
	ACRValues                                      []string
	Created                                        time.Time
}

type grant struct {
	req    authRequest
	person demo.Person
	acr    string
	at     time.Time
}

// New generates the simulator's keys.
func New(opts Options) (*Sim, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Issuer = strings.TrimSuffix(opts.Issuer, "/")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	wrong, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Sim{
		opts: opts, key: key, wrongKey: wrong, kid: "sim-" + rand.Text()[:8],
		page:    template.Must(template.New("page").Parse(pageHTML)),
		pending: map[string]authRequest{}, codes: map[string]grant{}, tokens: map[string]map[string]any{},
	}, nil
}

// SetTamper sets (or, with the zero value, clears) the tampering.
func (s *Sim) SetTamper(t Tamper) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tamper = t
}

// LastAuthorize returns the query of the last authorization request.
func (s *Sim) LastAuthorize() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastAuthorize
}

// Subject is the simulator's sub for a test person.
func Subject(personID string) string { return "sk-" + personID }

// Handler serves the OP's endpoints relative to the issuer URL's path.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /jwks", s.jwks)
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /authorize", s.approve)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("GET /userinfo", s.userinfo)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Sim) discovery(w http.ResponseWriter, _ *http.Request) {
	var acrs []string
	for _, l := range Levels() {
		acrs = append(acrs, l.ACR)
	}
	i := s.opts.Issuer
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": i, "authorization_endpoint": i + "/authorize", "token_endpoint": i + "/token",
		"userinfo_endpoint": i + "/userinfo", "jwks_uri": i + "/jwks",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported":          []string{"ES256"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post"},
		"acr_values_supported":                           acrs,
		"authorization_response_iss_parameter_supported": true,
		"scopes_supported":                               []string{"openid", "profile", "address"},
	})
}

func (s *Sim) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &s.key.PublicKey, KeyID: s.kid, Algorithm: string(jose.ES256), Use: "sig"},
	}})
}

// authorize checks the request as a strict OP would and shows the page.
func (s *Sim) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.lastAuthorize = q
	s.mu.Unlock()
	if q.Get("client_id") != s.opts.ClientID || !slices.Contains(s.opts.RedirectURIs, q.Get("redirect_uri")) {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	fail := func(code string) {
		u, _ := url.Parse(q.Get("redirect_uri"))
		v := u.Query()
		v.Set("error", code)
		v.Set("state", q.Get("state"))
		v.Set("iss", s.opts.Issuer)
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type")
		return
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		fail("invalid_scope")
		return
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		fail("invalid_request")
		return
	}
	id := rand.Text()
	req := authRequest{
		ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"), State: q.Get("state"),
		Nonce: q.Get("nonce"), Challenge: q.Get("code_challenge"), ACRValues: strings.Fields(q.Get("acr_values")),
		Created: s.opts.Now(),
	}
	s.mu.Lock()
	s.pending[id] = req
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	_ = s.page.Execute(w, map[string]any{"ID": id, "People": demo.People(), "Levels": Levels(), "Requested": req.ACRValues})
}

// approve is the person's choice on the page: a code (or a refusal) for the
// relying party.
func (s *Sim) approve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	req, ok := s.pending[r.PostFormValue("request")]
	delete(s.pending, r.PostFormValue("request"))
	tamper := s.tamper
	s.mu.Unlock()
	if !ok || s.opts.Now().Sub(req.Created) > 10*time.Minute {
		http.Error(w, "unknown or expired request", http.StatusBadRequest)
		return
	}
	u, _ := url.Parse(req.RedirectURI)
	v := u.Query()
	v.Set("state", req.State)
	v.Set("iss", s.opts.Issuer)
	if tamper.IssParam != "" {
		v.Set("iss", tamper.IssParam)
	}
	if r.PostFormValue("action") == "cancel" {
		v.Set("error", "access_denied")
	} else {
		var person *demo.Person
		for _, p := range demo.People() {
			if p.ID == r.PostFormValue("person") {
				person = &p
			}
		}
		acr := r.PostFormValue("acr")
		if person == nil || !slices.ContainsFunc(Levels(), func(l Level) bool { return l.ACR == acr }) {
			http.Error(w, "choose a person and a level", http.StatusBadRequest)
			return
		}
		code := rand.Text()
		s.mu.Lock()
		s.codes[code] = grant{req: req, person: *person, acr: acr, at: s.opts.Now()}
		s.mu.Unlock()
		v.Set("code", code)
	}
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func (s *Sim) token(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code string) { writeJSON(w, status, map[string]string{"error": code}) }
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != s.opts.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1 {
		oauthErr(http.StatusUnauthorized, "invalid_client")
		return
	}
	if r.PostFormValue("grant_type") != "authorization_code" {
		oauthErr(http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	s.mu.Lock()
	g, ok := s.codes[r.PostFormValue("code")]
	delete(s.codes, r.PostFormValue("code")) // single use
	tamper := s.tamper
	s.mu.Unlock()
	if !ok || s.opts.Now().Sub(g.at) > time.Minute || g.req.ClientID != id || g.req.RedirectURI != r.PostFormValue("redirect_uri") {
		oauthErr(http.StatusBadRequest, "invalid_grant")
		return
	}
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.req.Challenge)) != 1 {
		oauthErr(http.StatusBadRequest, "invalid_grant")
		return
	}
	now := s.opts.Now()
	p := g.person.Claims
	person := map[string]any{"sub": Subject(g.person.ID), "given_name": p.GivenName, "family_name": p.FamilyName}
	if p.Birthdate != "" {
		person["birthdate"] = p.Birthdate
	}
	if p.Address != nil {
		person["address"] = map[string]any{"street_address": p.Address.StreetAddress, "postal_code": p.Address.PostalCode,
			"locality": p.Address.Locality, "country": p.Address.Country}
	}
	claims := map[string]any{
		"iss": s.opts.Issuer, "aud": id, "azp": id, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"auth_time": g.at.Unix(), "acr": g.acr,
	}
	if g.req.Nonce != "" {
		claims["nonce"] = g.req.Nonce
	}
	for k, v := range person {
		claims[k] = v
	}
	if tamper.Claims != nil {
		tamper.Claims(claims)
	}
	key := s.key
	if tamper.WrongKey {
		key = s.wrongKey
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", s.kid))
	if err != nil {
		oauthErr(http.StatusInternalServerError, "server_error")
		return
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		oauthErr(http.StatusInternalServerError, "server_error")
		return
	}
	idToken, _ := jws.CompactSerialize()
	at := rand.Text()
	s.mu.Lock()
	s.tokens[at] = person
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

func (s *Sim) userinfo(w http.ResponseWriter, r *http.Request) {
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	claims, known := s.tokens[at]
	s.mu.Unlock()
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	writeJSON(w, http.StatusOK, claims)
}

// String names the simulator in logs.
func (s *Sim) String() string { return fmt.Sprintf("oidcsim(%s)", s.opts.Issuer) }

const pageHTML = `<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Servicekonto (Simulator)</title>
<style>body{font-family:sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}.sim{background:#fff3cd;padding:.5rem}button{margin:.2rem 0;display:block}</style></head>
<body><p class="sim">SIMULATOR – Servicekonto eines Landes (OpenID Connect), nur für Demo und Tests.</p>
<h1>Anmelden mit dem Servicekonto / Log in with the service account</h1>
<p>Angefragte Niveaus / requested acr_values: <code id="oidcsim-requested">{{range .Requested}}{{.}} {{end}}</code></p>
<form method="post" action="authorize">
<input type="hidden" name="request" value="{{.ID}}">
<fieldset><legend>Testperson / test person</legend>
{{range $i, $p := .People}}<label><input type="radio" name="person" value="{{$p.ID}}" id="oidcsim-person-{{$p.ID}}"{{if eq $i 0}} checked{{end}}> {{$p.Label}}</label><br>
{{end}}</fieldset>
<p>Anmelden mit / log in with:</p>
{{range .Levels}}<button type="submit" name="acr" value="{{.ACR}}" id="oidcsim-login-{{.Key}}">{{.Label}} <small>({{.ACR}})</small></button>
{{end}}
<button type="submit" name="action" value="cancel" id="oidcsim-cancel">Abbrechen / cancel</button>
</form></body></html>`
