package eidasservice

import (
	"html/template"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// Page is one page of the service for a Layout: its main content (one
// h1), in Lang, with a title naming the step.
type Page struct {
	Lang  string
	Title adapters.Text
	// For names the requesting foreign service, for the layout's line
	// saying whom the login is for; empty where it is not known.
	For string
	// LangBase is the address the language switch links to (with
	// ?lang=de or ?lang=en); empty: no switch.
	LangBase string
	Content  template.HTML
}

// Page titles: each step has its own (WCAG 2.4.2).
var (
	titleError   = adapters.Text{DE: "Anmeldung nicht möglich", EN: "Login not possible"}
	titleConsent = adapters.Text{DE: "Datenübermittlung bestätigen", EN: "Confirm the data release"}
	titleReturn  = adapters.Text{DE: "Rückkehr zum anfragenden Dienst", EN: "Returning to the requesting service"}
	titleWait    = adapters.Text{DE: "Ausweis noch nicht gelesen", EN: "Card not read yet"}
	titleStart   = adapters.Text{DE: "Anmeldung mit dem Online-Ausweis", EN: "Login with the German eID"}
)

// pageTitles are the titles of the service's templates.
var pageTitles = map[string]adapters.Text{
	"error.html": titleError, "consent.html": titleConsent, "post.html": titleReturn,
	"wait.html": titleWait, "adapter.html": titleStart,
}
