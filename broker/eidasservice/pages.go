package eidasservice

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/ozg-broker/eidas-broker/adapters"
)

//go:embed web/templates/*.html
var templateFS embed.FS

//go:embed web/static
var staticFS embed.FS

// Messages for the person. They say what happened and what to do; the
// reason goes to the log.
var (
	msgBadRequest   = adapters.Text{DE: "Die Anfrage des ausländischen Dienstes ist ungültig oder nicht für diesen Dienst bestimmt.", EN: "The request of the foreign service is invalid or not meant for this service."}
	msgUnknown      = adapters.Text{DE: "Der anfragende Dienst ist hier nicht bekannt.", EN: "The requesting service is not known here."}
	msgOutdated     = adapters.Text{DE: "Die Anfrage ist abgelaufen oder wurde bereits verwendet. Bitte starten Sie die Anmeldung beim Dienst neu.", EN: "The request has expired or was already used. Please start the login again at the service."}
	msgUnavailable  = adapters.Text{DE: "Der Dienst ist vorübergehend nicht erreichbar. Bitte versuchen Sie es in einigen Minuten erneut.", EN: "The service is temporarily unavailable. Please try again in a few minutes."}
	msgExpired      = adapters.Text{DE: "Diese Anmeldung ist abgelaufen, unbekannt oder schon abgeschlossen.", EN: "This login has expired, is unknown or was already completed."}
	msgBrowser      = adapters.Text{DE: "Diese Anmeldung wurde in einem anderen Browser begonnen. Bitte setzen Sie sie dort fort oder starten Sie neu.", EN: "This login was started in another browser. Please continue there or start again."}
	msgRelayed      = adapters.Text{DE: "Diese Anmeldung wurde in einem anderen Browser oder von einer anderen Person begonnen. Es wurden keine Daten weitergegeben, und die Anmeldung ist beendet. Wenn Ihnen jemand den Link geschickt hat, folgen Sie solchen Links nicht.", EN: "This login was started in another browser or by someone else. No data was passed on, and the login has ended. If someone sent you the link, do not follow such links."}
	msgNotDelivered = adapters.Text{DE: "Die Anmeldung wurde noch nicht in diesem Browser abgeschlossen. Bitte schließen Sie sie in dem Browser ab, in dem Sie sich mit dem Online-Ausweis ausgewiesen haben.", EN: "The login has not been completed in this browser. Please finish it in the browser in which you identified yourself with your eID card."}
	msgInternal     = adapters.Text{DE: "Ein interner Fehler ist aufgetreten.", EN: "An internal error occurred."}
)

type pages struct {
	tmpl   *template.Template
	static http.Handler
	prefix string // URL path of the static files, e.g. "/saml/service/static/"
	layout func(Page) ([]byte, error)
}

func newPages(staticPrefix string, layout func(Page) ([]byte, error)) (*pages, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"de": func(lang string) bool { return lang != "en" },
		"tr": func(lang string, t adapters.Text) string { return t.In(lang) },
	}).ParseFS(templateFS, "web/templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	sub, err := fs.Sub(staticFS, "web/static")
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	pg := &pages{tmpl: t, static: http.FileServerFS(sub), prefix: staticPrefix, layout: layout}
	if pg.layout == nil {
		pg.layout = pg.ownLayout
	}
	return pg, nil
}

// ownLayout is the plain layout for a service wired without the broker's.
func (p *pages) ownLayout(pg Page) ([]byte, error) {
	var buf bytes.Buffer
	err := p.tmpl.ExecuteTemplate(&buf, "layout.html", map[string]any{
		"Lang": pg.Lang, "Title": pg.Title, "For": pg.For, "LangBase": pg.LangBase, "Content": pg.Content, "Static": p.prefix,
	})
	return buf.Bytes(), err
}

// render writes a page in the layout under a strict content security
// policy: no inline script or style, forms only to ourselves and the
// listed origins. The template writes the main content; data["Lang"] is
// the page's language, data["Connector"] the requesting service and
// data["Self"] the address of a page that may switch language.
func (p *pages) render(w http.ResponseWriter, status int, name string, data map[string]any, formAction ...string) {
	data["Static"] = p.prefix
	var content bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&content, name, data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	pg := Page{Title: pageTitles[name], Content: template.HTML(content.String())}
	pg.Lang, _ = data["Lang"].(string)
	pg.For, _ = data["Connector"].(string)
	pg.LangBase, _ = data["Self"].(string)
	if t, ok := data["Title"].(string); ok && t != "" {
		pg.Title = adapters.Text{DE: t, EN: t}
	}
	buf, err := p.layout(pg)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	csp := "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	if len(formAction) > 0 {
		csp += " " + strings.Join(formAction, " ")
	}
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf)
}

func (p *pages) errorPage(w http.ResponseWriter, lang string, status int, msg adapters.Text) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "30")
	}
	p.render(w, status, "error.html", map[string]any{"Lang": lang, "Msg": msg})
}

// post renders the auto-submitting form that delivers a Response to the
// connector's ACS (SAML HTTP-POST binding).
func (p *pages) post(w http.ResponseWriter, lang, acs, samlResponse, relayState string) {
	p.render(w, http.StatusOK, "post.html", map[string]any{
		"Lang": lang, "URL": acs, "SAMLResponse": samlResponse, "RelayState": relayState,
	}, origin(acs))
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// pickLang chooses de or en from ?lang=, else Accept-Language; German by
// default.
func pickLang(r *http.Request) string {
	if q := r.URL.Query().Get("lang"); q == "de" || q == "en" {
		return q
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		part = strings.TrimSpace(strings.ToLower(part))
		switch {
		case strings.HasPrefix(part, "de"):
			return "de"
		case strings.HasPrefix(part, "en"):
			return "en"
		}
	}
	return "de"
}
