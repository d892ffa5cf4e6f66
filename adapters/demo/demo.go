package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// Person is a test identity.
type Person struct {
	ID     string
	Label  string
	Claims adapters.Claims
}

// personIDs are the built-in test identities, in the pickers' order.
var personIDs = [...]string{"erika", "max", "anna"}

// People are the built-in test identities.
func People() []Person {
	out := make([]Person, 0, len(personIDs))
	for _, id := range personIDs {
		p, _ := Lookup(id)
		out = append(out, p)
	}
	return out
}

// Lookup returns the built-in test identity id. Each call builds it
// afresh, so what one login gets shares nothing with another, and a
// login builds only the person chosen.
func Lookup(id string) (Person, bool) {
	switch id {
	case "erika":
		return Person{ID: "erika", Label: "Erika Mustermann (Köln)", Claims: adapters.Claims{
			GivenName: "Erika", FamilyName: "Mustermann", BirthFamilyName: "Gabler", Birthdate: "1964-08-12",
			PlaceOfBirth:  &adapters.PlaceOfBirth{Locality: "Berlin", Country: "DE"},
			Nationalities: []string{"DE"}, Title: "Dr.",
			Address: &adapters.Address{StreetAddress: "Heidestraße 17", PostalCode: "51147", Locality: "Köln", Country: "DE"},
		}}, true
	case "max":
		return Person{ID: "max", Label: "Max Mustermann (Hamburg)", Claims: adapters.Claims{
			GivenName: "Max", FamilyName: "Mustermann", Birthdate: "1980",
			Nationalities: []string{"DE"},
			Address:       &adapters.Address{StreetAddress: "Musterweg 1", PostalCode: "20095", Locality: "Hamburg", Country: "DE"},
		}}, true
	case "anna":
		return Person{ID: "anna", Label: "Anna Beispiel, acting for Beispiel GmbH", Claims: adapters.Claims{
			GivenName: "Anna", FamilyName: "Beispiel", Birthdate: "1990-01-31", Nationalities: []string{"AT"},
			LegalEntity: &adapters.LegalEntity{Name: "Beispiel GmbH", Identifier: "DE/HRB 12345", Country: "DE"},
		}}, true
	}
	return Person{}, false
}

// Adapter is the demo-identities adapter.
type Adapter struct {
	now func() time.Time
	// pages holds the picker rendered once per floor, with placeholders
	// for the callback URL and the nonce: the demo is what load tests and
	// benchmarks log in with, so its page should not cost a template
	// execution per login.
	pages               map[assurance.Level][]byte
	callbackPH, noncePH []byte
	callbackCut         []byte // "/" and callbackPH: where the callback URL goes
}

var _ adapters.Adapter = (*Adapter)(nil)

// New returns the adapter; now may be nil.
func New(now func() time.Time) *Adapter {
	if now == nil {
		now = time.Now
	}
	a := &Adapter{now: now, pages: map[assurance.Level][]byte{}, callbackPH: placeholder(), noncePH: placeholder()}
	a.callbackCut = append([]byte("/"), a.callbackPH...)
	page := template.Must(template.New("demo").Parse(pageHTML))
	for l := assurance.Unspecified; l <= assurance.NotNotifiedHigh; l++ {
		var buf bytes.Buffer
		// The placeholders are base64url, which the template's URL and
		// attribute escaping leave as they are.
		if err := page.Execute(&buf, map[string]any{
			"Callback": "/" + string(a.callbackPH), "Nonce": string(a.noncePH), "People": People(), "Floor": l.String(),
			"Levels": []string{"low", "substantial", "high"},
		}); err != nil {
			panic("demo: page template: " + err.Error()) // a constant template: a programming error
		}
		cb, n := bytes.Index(buf.Bytes(), a.callbackCut), bytes.Index(buf.Bytes(), a.noncePH)
		if cb < 0 || n < cb {
			panic("demo: page template: callback must come before the nonce") // Begin fills them in this order
		}
		a.pages[l] = buf.Bytes()
	}
	return a
}

// placeholder is a random base64url string no text of the page contains.
func placeholder() []byte {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return []byte(base64.RawURLEncoding.EncodeToString(b[:]))
}

// Info implements adapters.Adapter.
func (a *Adapter) Info() adapters.Info {
	return adapters.Info{
		Type:     "demo",
		Name:     adapters.Text{DE: "Demo-Identitäten (nur Demo)", EN: "Demo identities (demo only)"},
		MaxLevel: assurance.High,
	}
}

// Begin renders the picker; the state is a nonce the form must echo, so
// an answer cannot be replayed into another transaction.
func (a *Adapter) Begin(_ context.Context, req adapters.Request) (adapters.Handoff, []byte, error) {
	page, ok := a.pages[req.MinLevel]
	if !ok {
		return adapters.Handoff{}, nil, fmt.Errorf("demo: no page for level %v", req.MinLevel)
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("demo: nonce: %w", err)
	}
	// The nonce is the state as it is (base64url, no copy as a string).
	nonce := base64.RawURLEncoding.AppendEncode(make([]byte, 0, base64.RawURLEncoding.EncodedLen(len(b))), b[:])
	// The callback is the broker's own URL (issuer, path, reference);
	// escaped for the attribute all the same.
	cb := template.HTMLEscapeString(req.CallbackURL)
	out := make([]byte, 0, len(page)+len(cb)+len(nonce))
	before, after, _ := bytes.Cut(page, a.callbackCut)
	out = append(append(out, before...), cb...)
	before, after, _ = bytes.Cut(after, a.noncePH)
	out = append(append(append(out, before...), nonce...), after...)
	return adapters.Handoff{Page: out}, nonce, nil
}

// Finish checks the nonce and returns the chosen person at the chosen level.
func (a *Adapter) Finish(_ context.Context, _ adapters.Request, state []byte, r *http.Request) (adapters.Identity, error) {
	if err := r.ParseForm(); err != nil {
		return adapters.Identity{}, fmt.Errorf("demo: form: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("nonce")), state) != 1 || len(state) == 0 {
		return adapters.Identity{}, errors.New("demo: nonce does not match this login")
	}
	if r.PostForm.Get("action") == "cancel" {
		return adapters.Identity{}, fmt.Errorf("demo: %w", adapters.ErrCancelled)
	}
	level, err := assurance.ParseName(r.PostForm.Get("level"))
	if err != nil || !level.Notified() {
		return adapters.Identity{}, fmt.Errorf("demo: level: %w", err)
	}
	id := r.PostForm.Get("person")
	p, ok := Lookup(id)
	if !ok {
		return adapters.Identity{}, fmt.Errorf("demo: unknown test person %q", id)
	}
	return adapters.Identity{Subject: "demo:" + p.ID, Level: level, AuthTime: a.now(), Claims: p.Claims}, nil
}

const pageHTML = `<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo-Identitäten</title><link rel="stylesheet" href="/static/broker.css"></head>
<body><header><span class="brand">Demo – keine echte Anmeldung / not a real login</span></header>
<main>
<p class="demo-banner">Demo-Identitäten: Sie wählen eine Testperson und das Vertrauensniveau, das sie vorgeben soll. Nur im Demo-Modus verfügbar. / Demo identities: pick a test person and the level it should count as. Demo mode only.</p>
<p>Mindestens nötig / required at least: <strong id="floor">{{.Floor}}</strong></p>
<form method="post" action="{{.Callback}}">
<input type="hidden" name="nonce" value="{{.Nonce}}">
<fieldset><legend>Testperson / test person</legend>
{{range $i, $p := .People}}<label class="option"><input type="radio" name="person" value="{{$p.ID}}" id="person-{{$p.ID}}"{{if eq $i 0}} checked{{end}}> {{$p.Label}}</label>
{{end}}</fieldset>
<fieldset><legend>Vertrauensniveau / level of assurance</legend>
{{range .Levels}}<label class="option"><input type="radio" name="level" value="{{.}}" id="level-{{.}}"{{if eq . "high"}} checked{{end}}> {{.}}</label>
{{end}}</fieldset>
<button type="submit" name="action" value="login" id="demo-login">Anmelden / Log in</button>
<button type="submit" name="action" value="cancel" class="secondary" id="demo-cancel">Abbrechen / Cancel</button>
</form></main></body></html>`
