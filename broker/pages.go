package broker

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
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

//go:embed web/templates/*.html
var templateFS embed.FS

//go:embed web/static
var staticFS embed.FS

// User-facing messages. They say what happened and what to do, never why
// in detail: the reason goes to the log, keyed by transaction.
var (
	msgOtherBrowser   = adapters.Text{DE: "Diese Anmeldung wurde in einem anderen Browser begonnen. Bitte starten Sie die Anmeldung im Portal neu.", EN: "This login was started in another browser. Please start again from the portal."}
	msgRelayed        = adapters.Text{DE: "Diese Anmeldung wurde in einem anderen Browser oder von einer anderen Person begonnen. Es wurden keine Daten weitergegeben, und die Anmeldung ist beendet. Wenn Sie selbst einen Dienst nutzen wollen, starten Sie die Anmeldung bitte im Portal in diesem Browser. Wenn Ihnen jemand den Link geschickt hat, folgen Sie solchen Links nicht.", EN: "This login was started in another browser or by someone else. No data was passed on, and the login has ended. If you want to use a service yourself, please start the login from the portal in this browser. If someone sent you the link, do not follow such links."}
	msgNotDelivered   = adapters.Text{DE: "Die Anmeldung wurde noch nicht in diesem Browser abgeschlossen. Bitte schließen Sie sie in dem Browser ab, in dem Sie sich beim Anmeldedienst ausgewiesen haben.", EN: "The login has not been completed in this browser. Please finish it in the browser in which you identified yourself at the login service."}
	msgExpired        = adapters.Text{DE: "Diese Anmeldung ist abgelaufen oder unbekannt. Bitte starten Sie sie im Portal neu.", EN: "This login has expired or is unknown. Please start again from the portal."}
	msgUnavailable    = adapters.Text{DE: "Der Dienst ist vorübergehend nicht erreichbar. Bitte versuchen Sie es in einigen Minuten erneut.", EN: "The service is temporarily unavailable. Please try again in a few minutes."}
	msgInternal       = adapters.Text{DE: "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es erneut.", EN: "An internal error occurred. Please try again."}
	msgBadChoice      = adapters.Text{DE: "Diese Anmeldeart steht für diesen Dienst nicht zur Verfügung.", EN: "This login method is not available for this service."}
	msgUpstream       = adapters.Text{DE: "Die gewählte Anmeldeart ist gerade nicht erreichbar. Bitte wählen Sie eine andere oder versuchen Sie es später.", EN: "The chosen login method cannot be reached right now. Please choose another or try later."}
	msgReplay         = adapters.Text{DE: "Diese Antwort wurde bereits verarbeitet oder nicht erwartet.", EN: "This answer was already processed or was not expected."}
	msgUpstreamFailed = adapters.Text{DE: "Die Anmeldung konnte nicht bestätigt werden.", EN: "The login could not be verified."}
)

// claimLabels name the data on the consent page.
var claimLabels = map[string]adapters.Text{
	"given_name":        {DE: "Vorname(n)", EN: "Given name(s)"},
	"family_name":       {DE: "Familienname", EN: "Family name"},
	"birth_family_name": {DE: "Geburtsname", EN: "Birth name"},
	"birthdate":         {DE: "Geburtsdatum", EN: "Date of birth"},
	"place_of_birth":    {DE: "Geburtsort", EN: "Place of birth"},
	"nationalities":     {DE: "Staatsangehörigkeit", EN: "Nationality"},
	"gender":            {DE: "Geschlecht", EN: "Gender"},
	"title":             {DE: "Doktorgrad", EN: "Academic title"},
	"address":           {DE: "Anschrift", EN: "Address"},
	"legal_entity":      {DE: "Handelnd für (Organisation)", EN: "Acting for (organisation)"},
	"document_type":     {DE: "Dokumentart", EN: "Document type"},
	"issuing_state":     {DE: "Ausstellender Staat", EN: "Issuing state"},
}

type pages struct {
	tmpl   *template.Template
	static http.HandlerFunc
}

func newPages() (*pages, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"tr": func(lang string, t adapters.Text) string { return t.In(lang) },
		"level": func(lang string, l assurance.Level) string {
			t, ok := adapters.LevelName(l)
			if !ok {
				return l.String()
			}
			return t.In(lang)
		},
		"de": func(lang string) bool { return lang != "en" },
	}).ParseFS(templateFS, "web/templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	sub, err := fs.Sub(staticFS, "web/static")
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	fileServer := http.StripPrefix("/static/", http.FileServerFS(sub))
	return &pages{tmpl: t, static: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	}}, nil
}

// pickLang chooses de or en: ui_locales first, then Accept-Language.
func pickLang(uiLocales []string, r *http.Request) string {
	for _, l := range uiLocales {
		switch {
		case strings.HasPrefix(l, "de"):
			return "de"
		case strings.HasPrefix(l, "en"):
			return "en"
		}
	}
	if r != nil {
		for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
			part = strings.TrimSpace(strings.ToLower(part))
			switch {
			case strings.HasPrefix(part, "de"):
				return "de"
			case strings.HasPrefix(part, "en"):
				return "en"
			}
		}
	}
	return "de"
}

func langOf(r *http.Request, tx *transaction) string {
	if q := r.URL.Query().Get("lang"); q == "de" || q == "en" {
		return q
	}
	if tx != nil {
		return pickLang(tx.UILocales, r)
	}
	return pickLang(nil, r)
}

// render writes a page with a strict content security policy. formAction
// lists origins forms (and the redirects after them) may go to; empty means
// no restriction beyond default-src for pages whose forms leave for
// upstreams chosen at run time.
func (p *pages) render(w http.ResponseWriter, status int, name string, data map[string]any, formAction ...string) {
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	csp := "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"
	if len(formAction) > 0 {
		csp += "; form-action 'self' " + strings.Join(formAction, " ")
	}
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func (p *pages) errorPage(w http.ResponseWriter, r *http.Request, status int, msg adapters.Text) {
	p.render(w, status, "error.html", map[string]any{"Lang": langOf(r, nil), "Msg": msg})
}

func (p *pages) retryPage(w http.ResponseWriter, r *http.Request, tx *transaction, status int, msg adapters.Text) {
	p.render(w, status, "error.html", map[string]any{"Lang": langOf(r, tx), "Msg": msg, "Tx": tx.ID},
		origin(tx.RedirectURI))
}

func (p *pages) methods(w http.ResponseWriter, r *http.Request, tx *transaction, client *opClient, ms []method) {
	p.render(w, http.StatusOK, "methods.html", map[string]any{
		"Lang": langOf(r, tx), "Tx": tx.ID, "Client": client.c.Name, "Floor": tx.Floor, "Methods": ms,
		"AnyUsable": anyUsable(ms),
	})
}

func (p *pages) unmet(w http.ResponseWriter, r *http.Request, tx *transaction, proved assurance.Level) {
	p.render(w, http.StatusForbidden, "unmet.html", map[string]any{
		"Lang": langOf(r, tx), "Tx": tx.ID, "Floor": tx.Floor, "Proved": proved,
	}, origin(tx.RedirectURI))
}

type consentItem struct {
	Label adapters.Text
	Value string
}

func (p *pages) consent(w http.ResponseWriter, r *http.Request, tx *transaction, client *opClient, released map[string]any, services []Service) {
	items := make([]consentItem, 0, len(released))
	for _, name := range sortedKeys(released) {
		label, ok := claimLabels[name]
		if !ok {
			label = adapters.Text{DE: name, EN: name}
		}
		items = append(items, consentItem{Label: label, Value: displayValue(released[name])})
	}
	p.render(w, http.StatusOK, "consent.html", map[string]any{
		"Lang": langOf(r, tx), "Tx": tx.ID, "Client": client.c.Name, "Services": services,
		"Items": items, "Level": tx.Identity.Level,
	}, origin(tx.RedirectURI))
}

// displayValue renders a claim value for people.
func displayValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []string:
		return strings.Join(x, ", ")
	case *adapters.Address:
		if x.Formatted != "" {
			return x.Formatted
		}
		return strings.Join(nonEmpty(x.StreetAddress, strings.TrimSpace(x.PostalCode+" "+x.Locality), x.Region, x.Country), ", ")
	case *adapters.PlaceOfBirth:
		return strings.Join(nonEmpty(x.Locality, x.Region, x.Country), ", ")
	case *adapters.LegalEntity:
		return strings.Join(nonEmpty(x.Name, x.Identifier, x.Country), ", ")
	}
	return fmt.Sprint(v)
}

func nonEmpty(parts ...string) []string {
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// handoff sends the browser to the upstream as the adapter asked.
func (p *pages) handoff(w http.ResponseWriter, r *http.Request, h adapters.Handoff) {
	switch {
	case h.RedirectURL != "":
		http.Redirect(w, r, h.RedirectURL, http.StatusSeeOther)
	case h.PostURL != "":
		type field struct{ Name, Value string }
		var fields []field
		for k, vs := range h.PostForm {
			for _, v := range vs {
				fields = append(fields, field{k, v})
			}
		}
		p.render(w, http.StatusOK, "post.html", map[string]any{
			"Lang": langOf(r, nil), "URL": h.PostURL, "Fields": fields,
		}, origin(h.PostURL))
	case h.Page != nil:
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("Content-Type", "text/html; charset=utf-8")
		hd.Set("Cache-Control", "no-store")
		_, _ = w.Write(h.Page)
	default:
		p.errorPage(w, r, http.StatusBadGateway, msgUpstream)
	}
}

// wait tells the person the upstream is not done yet and offers to
// continue (the same callback, which asks the upstream again).
func (p *pages) wait(w http.ResponseWriter, r *http.Request, tx *transaction, continueURL string) {
	p.render(w, http.StatusAccepted, "wait.html", map[string]any{"Lang": langOf(r, tx), "Continue": continueURL, "Tx": tx.ID})
}

func (p *pages) loggedOut(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "loggedout.html", map[string]any{"Lang": langOf(r, nil)})
}
