package broker

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// Branding is the operator's look on every page: the name people see in
// the header and title, an optional logo, colours (checked for contrast
// when the config is loaded), and the legal links German public-sector
// pages carry (Impressum, Datenschutz, Barrierefreiheit, Leichte Sprache,
// Gebärdensprache, support). The zero value is a neutral look.
type Branding struct {
	OperatorName string
	Logo         []byte // PNG, JPEG, WebP or SVG; served at /branding/logo
	LogoType     string // its media type
	// Colours as #rrggbb: Primary for buttons and links with OnPrimary as
	// text on it; Text on Background for the page. Empty keeps the default.
	Primary, OnPrimary, Text, Background string
	Links                                []BrandLink
	// TestBanner puts a TEST banner on every page (staging with
	// simulators): nobody may mistake it for a real login.
	TestBanner bool
}

// BrandLink is one footer link.
type BrandLink struct {
	Kind string // imprint, privacy, accessibility, easy_language, sign_language, support
	URL  string
}

// linkLabels name the footer links in both languages.
var linkLabels = map[string]adapters.Text{
	"imprint":       {DE: "Impressum", EN: "Legal notice"},
	"privacy":       {DE: "Datenschutzerklärung", EN: "Privacy policy"},
	"accessibility": {DE: "Erklärung zur Barrierefreiheit", EN: "Accessibility statement"},
	"easy_language": {DE: "Leichte Sprache", EN: "Easy-to-read German"},
	"sign_language": {DE: "Gebärdensprache", EN: "Sign language"},
	"support":       {DE: "Hilfe und Kontakt", EN: "Help and contact"},
}

// LinkKinds are the footer link kinds in the order pages show them.
var LinkKinds = []string{"imprint", "privacy", "accessibility", "easy_language", "sign_language", "support"}

// brandView is what templates see of the branding.
type brandView struct {
	Name    string
	HasLogo bool
	Test    bool
	Links   []brandLinkView
}

type brandLinkView struct {
	Label adapters.Text
	URL   string
}

func (b *Branding) view() brandView {
	v := brandView{Name: b.OperatorName, HasLogo: len(b.Logo) > 0, Test: b.TestBanner}
	if v.Name == "" {
		v.Name = "Anmeldung im Portalverbund"
	}
	for _, kind := range LinkKinds {
		for _, l := range b.Links {
			if l.Kind == kind && l.URL != "" {
				v.Links = append(v.Links, brandLinkView{Label: linkLabels[kind], URL: l.URL})
			}
		}
	}
	return v
}

// themeCSS overrides the stylesheet's colour variables. It is generated
// once, from validated #rrggbb values only, and served as a file so the
// pages keep a CSP without inline styles.
func (b *Branding) themeCSS() []byte {
	var sb strings.Builder
	sb.WriteString(":root{")
	for _, kv := range [][2]string{{"--primary", b.Primary}, {"--on-primary", b.OnPrimary}, {"--text", b.Text}, {"--background", b.Background}} {
		if validHexColour(kv[1]) {
			fmt.Fprintf(&sb, "%s:%s;", kv[0], kv[1])
		}
	}
	sb.WriteString("}\n")
	return []byte(sb.String())
}

func validHexColour(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for _, c := range s[1:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// brandingRoutes serves the theme, the operator's logo, the clients'
// logos and a favicon.
func (s *Server) brandingRoutes() http.Handler {
	mux := http.NewServeMux()
	theme := s.branding.themeCSS()
	asset := func(w http.ResponseWriter, typ string, body []byte) {
		h := w.Header()
		h.Set("Content-Type", typ)
		h.Set("Cache-Control", "public, max-age=3600")
		// An SVG logo is an image, never a document that runs anything.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
		_, _ = w.Write(body)
	}
	mux.HandleFunc("GET /branding/theme.css", func(w http.ResponseWriter, _ *http.Request) { asset(w, "text/css; charset=utf-8", theme) })
	mux.HandleFunc("GET /branding/favicon.svg", func(w http.ResponseWriter, _ *http.Request) { asset(w, "image/svg+xml", faviconSVG) })
	mux.HandleFunc("GET /branding/logo", func(w http.ResponseWriter, r *http.Request) {
		if len(s.branding.Logo) == 0 {
			http.NotFound(w, r)
			return
		}
		asset(w, s.branding.LogoType, s.branding.Logo)
	})
	mux.HandleFunc("GET /branding/client/{id}/logo", func(w http.ResponseWriter, r *http.Request) {
		c := s.clients[r.PathValue("id")]
		if c == nil || len(c.c.Logo) == 0 {
			http.NotFound(w, r)
			return
		}
		asset(w, c.c.LogoType, c.c.Logo)
	})
	return mux
}

// faviconSVG is a neutral key symbol, so browsers do not ask for a
// missing /favicon.ico on every page.
var faviconSVG = []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="11" cy="16" r="7" fill="none" stroke="#1d4f91" stroke-width="4"/><path d="M18 16h12v5m-5-5v4" fill="none" stroke="#1d4f91" stroke-width="4"/></svg>`)
