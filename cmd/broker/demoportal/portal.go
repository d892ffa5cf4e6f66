package demoportal

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-chi/chi/v5"
	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/broker"
)

// Service is one demo service.
type Service struct {
	ID, Name, Level string
}

// Services are the demo's three services, one per level.
func Services() []Service {
	return []Service{
		{ID: "library", Name: "Bibliotheksausweis verlängern / Renew a library card", Level: "low"},
		{ID: "residence", Name: "Wohnsitz ummelden / Register a change of address", Level: "substantial"},
		{ID: "certificate", Name: "Führungszeugnis beantragen / Apply for a certificate of good conduct", Level: "high"},
	}
}

// Portal is the demo portal handler.
type Portal struct {
	issuer, clientID, secret, base string
	log                            *slog.Logger
	tmpl                           *template.Template

	once     sync.Once
	provider *oidc.Provider
	initErr  error

	mu      sync.Mutex
	pending map[string]pendingLogin // by state; short-lived

	links []Link
}

// Link points newcomers at the simulators' test data (certificates, cards).
type Link struct{ Href, Text string }

// AddLink lists a simulator page on the portal; call before serving.
func (p *Portal) AddLink(href, text string) { p.links = append(p.links, Link{href, text}) }

type pendingLogin struct {
	verifier, nonce string
	created         time.Time
}

// New makes the portal; base is its own URL prefix (issuer + "/demo").
func New(issuer, clientID, secret string, log *slog.Logger) *Portal {
	return &Portal{
		issuer: issuer, clientID: clientID, secret: secret, base: issuer + "/demo", log: log,
		tmpl: template.Must(template.New("portal").Parse(portalHTML)), pending: map[string]pendingLogin{},
	}
}

// Routes mounts the portal at /demo.
func (p *Portal) Routes(r chi.Router) {
	r.Get("/demo", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/demo/", http.StatusFound) })
	r.Get("/demo/", p.index)
	r.Get("/demo/login", p.login)
	r.Get("/demo/callback", p.callback)
	r.Get("/demo/legal/{kind}", legalPage)
}

// LegalLinks are the demo operator's footer links: placeholder pages that
// say what a real operator links there (branding.links in broker.yaml).
func LegalLinks(issuer string) []broker.BrandLink {
	var out []broker.BrandLink
	for _, kind := range broker.LinkKinds {
		out = append(out, broker.BrandLink{Kind: kind, URL: issuer + "/demo/legal/" + kind})
	}
	return out
}

var legalTitles = map[string]string{
	"imprint": "Impressum / Legal notice", "privacy": "Datenschutzerklärung / Privacy policy",
	"accessibility": "Erklärung zur Barrierefreiheit / Accessibility statement", "easy_language": "Leichte Sprache / Easy-to-read German",
	"sign_language": "Gebärdensprache / Sign language", "support": "Hilfe und Kontakt / Help and contact",
}

func legalPage(w http.ResponseWriter, r *http.Request) {
	title, ok := legalTitles[chi.URLParam(r, "kind")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'")
	_ = legalTmpl.Execute(w, title)
}

var legalTmpl = template.Must(template.New("legal").Parse(`<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} – Demo</title><link rel="stylesheet" href="/static/broker.css"></head>
<body><main id="main"><h1>{{.}}</h1>
<p>Demo: Hier steht beim echten Betreiber dessen Text; er wird in <code>broker.yaml</code> unter <code>branding.links</code> verlinkt.</p>
<p lang="en">Demo: a real operator links their own page here, configured under <code>branding.links</code> in <code>broker.yaml</code>.</p>
<p><a href="/demo/">Zurück zum Demo-Portal / Back to the demo portal</a></p></main></body></html>`))

func (p *Portal) oauth(ctx context.Context) (*oauth2.Config, *oidc.Provider, error) {
	p.once.Do(func() {
		ctx := oidc.InsecureIssuerURLContext(ctx, p.issuer)
		p.provider, p.initErr = oidc.NewProvider(ctx, p.issuer)
	})
	if p.initErr != nil {
		return nil, nil, p.initErr
	}
	return &oauth2.Config{ClientID: p.clientID, ClientSecret: p.secret, RedirectURL: p.base + "/callback",
		Endpoint: p.provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "address", "legal_entity"}}, p.provider, nil
}

func (p *Portal) render(w http.ResponseWriter, status int, data map[string]any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if data["Services"] == nil {
		data["Services"] = Services()
	}
	data["Links"] = p.links
	_ = p.tmpl.Execute(w, data)
}

func (p *Portal) index(w http.ResponseWriter, _ *http.Request) {
	p.render(w, http.StatusOK, map[string]any{})
}

func (p *Portal) login(w http.ResponseWriter, r *http.Request) {
	cfg, _, err := p.oauth(r.Context())
	if err != nil {
		p.render(w, http.StatusBadGateway, map[string]any{"Error": "discovery failed: " + err.Error()})
		return
	}
	svc := r.URL.Query().Get("service")
	known := false
	for _, s := range Services() {
		known = known || s.ID == svc
	}
	if known {
		cfg.Scopes = append(cfg.Scopes, "service:"+svc)
	}
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	p.mu.Lock()
	for k, v := range p.pending { // forget abandoned logins
		if time.Since(v.created) > 15*time.Minute {
			delete(p.pending, k)
		}
	}
	p.pending[state] = pendingLogin{verifier: verifier, nonce: nonce, created: time.Now()}
	p.mu.Unlock()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}
	if l := r.URL.Query().Get("lang"); l == "de" || l == "en" {
		opts = append(opts, oauth2.SetAuthURLParam("ui_locales", l))
	}
	http.Redirect(w, r, cfg.AuthCodeURL(state, opts...), http.StatusFound)
}

func (p *Portal) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	pl, ok := p.pending[q.Get("state")]
	delete(p.pending, q.Get("state"))
	p.mu.Unlock()
	if !ok {
		p.render(w, http.StatusBadRequest, map[string]any{"Error": "unknown or reused state"})
		return
	}
	if e := q.Get("error"); e != "" {
		p.render(w, http.StatusOK, map[string]any{"Error": e, "Description": q.Get("error_description")})
		return
	}
	cfg, provider, err := p.oauth(r.Context())
	if err != nil {
		p.render(w, http.StatusBadGateway, map[string]any{"Error": err.Error()})
		return
	}
	tok, err := cfg.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(pl.verifier))
	if err != nil {
		p.render(w, http.StatusBadGateway, map[string]any{"Error": "token exchange failed: " + err.Error()})
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: p.clientID}).Verify(r.Context(), raw)
	if err == nil && idt.Nonce != pl.nonce {
		err = errors.New("nonce mismatch")
	}
	if err != nil {
		p.render(w, http.StatusBadGateway, map[string]any{"Error": "ID token rejected: " + err.Error()})
		return
	}
	var idClaims, uiClaims map[string]any
	_ = idt.Claims(&idClaims)
	if ui, err := provider.UserInfo(r.Context(), oauth2.StaticTokenSource(tok)); err == nil {
		_ = ui.Claims(&uiClaims)
	}
	logout := provider.Endpoint().AuthURL // replaced below when discovery names end_session
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if provider.Claims(&meta) == nil && meta.EndSession != "" {
		logout = meta.EndSession + "?" + url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {p.base + "/"}}.Encode()
	}
	pretty := func(v any) string { b, _ := json.MarshalIndent(v, "", "  "); return string(b) }
	p.render(w, http.StatusOK, map[string]any{
		"ACR": idClaims["acr"], "IDToken": pretty(idClaims), "Userinfo": pretty(uiClaims), "Logout": logout,
	})
}

const portalHTML = `<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo-Portal</title><link rel="stylesheet" href="/static/broker.css"></head>
<body><header><span class="brand">Demo-Portal (Beispielkommune) – nur Demo / demo only</span></header>
<main>
{{if .Error}}
<h1>Anmeldung nicht erfolgreich / Login not successful</h1>
<p class="error" id="portal-error">{{.Error}}</p>{{if .Description}}<p id="portal-error-description">{{.Description}}</p>{{end}}
{{else if .IDToken}}
<h1>Angemeldet / Logged in</h1>
<p>Vertrauensniveau / level of assurance (acr): <strong id="acr">{{.ACR}}</strong></p>
<h2>ID token</h2><pre id="id-token">{{.IDToken}}</pre>
<h2>Userinfo</h2><pre id="userinfo">{{.Userinfo}}</pre>
<p><a class="button" href="{{.Logout}}" id="logout">Abmelden / Log out</a></p>
{{end}}
<h1>Dienste / Services</h1>
<ul class="methods">
{{range .Services}}<li class="method"><h2>{{.Name}}</h2><p class="level">Mindestens / at least: {{.Level}}</p>
<a class="button" id="service-{{.ID}}" href="/demo/login?service={{.ID}}">Anmelden / Log in</a></li>
{{end}}</ul>
{{if .Links}}<h2>Testdaten / test data</h2><ul>{{range .Links}}<li><a href="{{.Href}}">{{.Text}}</a></li>{{end}}</ul>{{end}}
</main></body></html>`
