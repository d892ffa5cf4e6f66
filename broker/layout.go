package broker

import (
	"bytes"
	"fmt"
	"html/template"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// Layout renders pages of other components served on the broker's origin
// (the eIDAS-Service) in the broker's own layout: the same stylesheet,
// theme, favicon, operator name and logo, legal links, language switch
// and TEST banner as every login page.
type Layout struct {
	tmpl  *template.Template
	brand brandView
}

// NewLayout builds the layout for the operator's branding b (the same as
// Config.Branding, TestBanner included).
func NewLayout(b Branding) (*Layout, error) {
	p, err := newPages(&Server{branding: b})
	if err != nil {
		return nil, fmt.Errorf("broker: layout: %w", err)
	}
	return &Layout{tmpl: p.tmpl, brand: p.brand}, nil
}

// LayoutPage is one page for Layout.Render.
type LayoutPage struct {
	Lang  string // de or en
	Title adapters.Text
	// For names whom the login is for (shown as the portal is on login
	// pages); empty: not shown.
	For string
	// LangBase is the address the language switch links to with
	// ?lang=de or ?lang=en; empty: no switch.
	LangBase string
	// Content is the page's main content, with exactly one h1.
	Content template.HTML
}

// Render returns the complete page. The caller sets the response's
// headers (its own content security policy): the layout loads only the
// broker's stylesheets and images from the same origin.
func (l *Layout) Render(pg LayoutPage) ([]byte, error) {
	lang := pg.Lang
	if lang != "en" {
		lang = "de"
	}
	data := map[string]any{
		"Lang": lang, "DE": lang == "de", "Title": pg.Title, "Brand": l.brand,
		"Client": pg.For, "LangBase": pg.LangBase, "Content": pg.Content,
	}
	var buf bytes.Buffer
	if err := l.tmpl.ExecuteTemplate(&buf, "adapter.html", data); err != nil {
		return nil, fmt.Errorf("broker: layout: %w", err)
	}
	return buf.Bytes(), nil
}
