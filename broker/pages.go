package broker

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
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
	msgOtherBrowser      = adapters.Text{DE: "Diese Anmeldung wurde in einem anderen Browser begonnen. Bitte starten Sie die Anmeldung im Portal neu.", EN: "This login was started in another browser. Please start again from the portal."}
	msgRelayed           = adapters.Text{DE: "Diese Anmeldung wurde in einem anderen Browser oder von einer anderen Person begonnen. Es wurden keine Daten weitergegeben, und die Anmeldung ist beendet. Wenn Sie selbst einen Dienst nutzen wollen, starten Sie die Anmeldung bitte im Portal in diesem Browser. Wenn Ihnen jemand den Link geschickt hat, folgen Sie solchen Links nicht.", EN: "This login was started in another browser or by someone else. No data was passed on, and the login has ended. If you want to use a service yourself, please start the login from the portal in this browser. If someone sent you the link, do not follow such links."}
	msgNotDelivered      = adapters.Text{DE: "Die Anmeldung wurde noch nicht in diesem Browser abgeschlossen. Bitte schließen Sie sie in dem Browser ab, in dem Sie sich beim Anmeldedienst ausgewiesen haben.", EN: "The login has not been completed in this browser. Please finish it in the browser in which you identified yourself at the login service."}
	msgExpired           = adapters.Text{DE: "Diese Anmeldung ist abgelaufen oder unbekannt. Bitte starten Sie sie im Portal neu.", EN: "This login has expired or is unknown. Please start again from the portal."}
	msgUnavailable       = adapters.Text{DE: "Der Dienst ist vorübergehend nicht erreichbar. Bitte versuchen Sie es in einigen Minuten erneut.", EN: "The service is temporarily unavailable. Please try again in a few minutes."}
	msgInternal          = adapters.Text{DE: "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es erneut.", EN: "An internal error occurred. Please try again."}
	msgBadChoice         = adapters.Text{DE: "Diese Anmeldeart steht für diesen Dienst nicht zur Verfügung.", EN: "This login method is not available for this service."}
	msgUpstream          = adapters.Text{DE: "Die gewählte Anmeldeart ist gerade nicht erreichbar. Bitte wählen Sie eine andere oder versuchen Sie es später.", EN: "The chosen login method cannot be reached right now. Please choose another or try later."}
	msgReplay            = adapters.Text{DE: "Diese Antwort wurde bereits verarbeitet oder nicht erwartet.", EN: "This answer was already processed or was not expected."}
	msgUpstreamFailed    = adapters.Text{DE: "Die Anmeldung konnte nicht bestätigt werden. Bitte versuchen Sie es erneut oder wählen Sie eine andere Anmeldeart.", EN: "The login could not be verified. Please try again or choose another method."}
	msgCookieLost        = adapters.Text{DE: "Diese Anmeldung ist in diesem Browser nicht mehr gültig, vermutlich weil sie zu lange unterbrochen war. Bitte starten Sie die Anmeldung im Portal neu.", EN: "This login is no longer valid in this browser, probably because it was interrupted for too long. Please start again from the portal."}
	msgCancelledUpstream = adapters.Text{DE: "Sie haben die Anmeldung abgebrochen. Sie können eine andere Anmeldeart wählen oder zum Portal zurückkehren.", EN: "You cancelled the login. You can choose another method or go back to the portal."}
)

// reasonMessages say what happened and what to do next, per reason an
// adapter reports (adapters.Reason).
var reasonMessages = map[adapters.Reason]adapters.Text{
	adapters.ReasonCertificateRevoked:   {DE: "Ihr ELSTER-Zertifikat ist gesperrt oder widerrufen. Melden Sie sich mit einem gültigen Zertifikat oder einer anderen Anmeldeart an; ein neues Zertifikat erhalten Sie über Mein ELSTER.", EN: "Your ELSTER certificate has been revoked. Log in with a valid certificate or another method; you can get a new certificate through My ELSTER."},
	adapters.ReasonCertificateExpired:   {DE: "Ihr ELSTER-Zertifikat ist abgelaufen. Ein neues Zertifikat erhalten Sie über Mein ELSTER; bis dahin können Sie eine andere Anmeldeart wählen.", EN: "Your ELSTER certificate has expired. You can get a new one through My ELSTER; until then, choose another method."},
	adapters.ReasonCertificateUsage:     {DE: "Diese Zertifikatsdatei ist nicht für die Anmeldung bestimmt. Bitte wählen Sie Ihre ELSTER-Zertifikatsdatei für die Anmeldung (.pfx) oder eine andere Anmeldeart.", EN: "This certificate file is not meant for logging in. Please choose your ELSTER login certificate file (.pfx) or another method."},
	adapters.ReasonCertificateUntrusted: {DE: "Dieses Zertifikat wurde nicht von ELSTER ausgestellt. Bitte wählen Sie Ihre ELSTER-Zertifikatsdatei oder eine andere Anmeldeart.", EN: "This certificate was not issued by ELSTER. Please choose your ELSTER certificate file or another method."},
	adapters.ReasonCardBlocked:          {DE: "Ihr Ausweis kann nicht verwendet werden: Er ist gesperrt oder abgelaufen, oder die PIN ist gesperrt. Eine gesperrte PIN entsperren Sie mit der PUK in der AusweisApp; sonst hilft Ihre Personalausweisbehörde. Sie können auch eine andere Anmeldeart wählen.", EN: "Your ID card cannot be used: it is blocked or expired, or its PIN is blocked. Unblock the PIN with the PUK in the AusweisApp; otherwise your ID card authority can help. You can also choose another method."},
	adapters.ReasonDocumentNotAccepted:  {DE: "Dieses Ausweisdokument (zum Beispiel die Smart-eID auf dem Smartphone) erreicht nicht das Vertrauensniveau, das dieser Dienst verlangt. Bitte nutzen Sie Ihre Ausweiskarte oder eine andere Anmeldeart.", EN: "This identity document (for example the Smart-eID on a smartphone) does not reach the level of assurance this service needs. Please use your ID card or another method."},
	adapters.ReasonCredentialRevoked:    {DE: "Der Personalausweis-Datensatz (PID) in Ihrer Wallet wurde vom Aussteller gesperrt. Bitte aktualisieren Sie ihn in Ihrer Wallet-App oder wählen Sie eine andere Anmeldeart.", EN: "The person identification data (PID) in your wallet has been revoked by its issuer. Please renew it in your wallet app or choose another method."},
	adapters.ReasonUpstreamUnreachable:  {DE: "Der Anmeldedienst ist gerade nicht erreichbar. Bitte versuchen Sie es in einigen Minuten erneut oder wählen Sie eine andere Anmeldeart.", EN: "The login service cannot be reached right now. Please try again in a few minutes or choose another method."},
	adapters.ReasonAuthnFailed:          {DE: "Die Anmeldung beim gewählten Anmeldedienst ist fehlgeschlagen. Bitte versuchen Sie es erneut oder wählen Sie eine andere Anmeldeart.", EN: "The login at the chosen service failed. Please try again or choose another method."},
}

func failureMessage(r adapters.Reason) adapters.Text {
	if m, ok := reasonMessages[r]; ok {
		return m
	}
	return msgUpstreamFailed
}

// claimLabels name the data on the consent page.
var claimLabels = map[string]adapters.Text{
	"given_name":        {DE: "Vorname(n)", EN: "Given name(s)"},
	"family_name":       {DE: "Familienname", EN: "Family name"},
	"birth_family_name": {DE: "Geburtsname", EN: "Birth name"},
	"birth_name":        {DE: "Name bei Geburt (Vor- und Familienname)", EN: "Name at birth (given and family names)"},
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
	s      *Server
	brand  brandView
	cache  *pageCache
	post   *postPages // the SAML auto-POST page (postpage.go)
}

func newPages(s *Server) (*pages, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"tr": func(lang string, t adapters.Text) string { return t.In(lang) },
		"level": func(lang string, l assurance.Level) string {
			t, ok := adapters.LevelName(l)
			if !ok {
				return l.String()
			}
			return t.In(lang)
		},
	}).ParseFS(templateFS, "web/templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	sub, err := fs.Sub(staticFS, "web/static")
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	fileServer := http.StripPrefix("/static/", http.FileServerFS(sub))
	return &pages{s: s, brand: s.branding.view(), tmpl: t, cache: newPageCache(), post: newPostPages(), static: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	}}, nil
}

// pickLang chooses de or en from ui_locales, then Accept-Language.
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

// langCookie keeps the person's explicit language choice for the rest of
// the login (a session cookie; it says nothing about the person).
const langCookie = "broker_lang"

// langOf is the one language rule of every page and adapter: an explicit
// switch (the lang parameter, then the cookie it set) before the portal's
// ui_locales, before the browser's Accept-Language, before German.
func langOf(r *http.Request, tx *transaction) string {
	if q := langParam(r); q != "" {
		return q
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "de" || c.Value == "en") {
		return c.Value
	}
	if tx != nil {
		return pickLang(tx.UILocales, r)
	}
	return pickLang(nil, r)
}

// langParam is the explicit switch, de or en, else "". Most requests
// have no lang parameter; they skip parsing the query.
func langParam(r *http.Request) string {
	if !strings.Contains(r.URL.RawQuery, "lang=") {
		return ""
	}
	if q := r.URL.Query().Get("lang"); q == "de" || q == "en" {
		return q
	}
	return ""
}

// rememberLang stores an explicit language switch in the cookie, so the
// choice holds on every later page of the login, adapters' included.
func rememberLang(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := langParam(r); q != "" {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
		}
		next.ServeHTTP(w, r)
	})
}

// Page titles: each step has its own, so a screen-reader user and the
// browser history tell the steps apart (WCAG 2.4.2).
var (
	titleMethods  = adapters.Text{DE: "Anmeldeart wählen", EN: "Choose how to log in"}
	titleError    = adapters.Text{DE: "Anmeldung nicht möglich", EN: "Login not possible"}
	titleUnmet    = adapters.Text{DE: "Vertrauensniveau nicht erreicht", EN: "Level of assurance not reached"}
	titleConsent  = adapters.Text{DE: "Datenweitergabe bestätigen", EN: "Confirm the data release"}
	titleWait     = adapters.Text{DE: "Anmeldung noch nicht abgeschlossen", EN: "Login not finished yet"}
	titleRedirect = adapters.Text{DE: "Weiterleitung", EN: "Redirecting"}
	titleLogout   = adapters.Text{DE: "Abmelden", EN: "Log out"}
	titleLoggedIn = adapters.Text{DE: "Abgemeldet", EN: "Logged out"}
)

// view fills what every page shows: language, title, the operator's
// branding, and, within a login, the portal and services it is for.
func (p *pages) view(r *http.Request, tx *transaction, title adapters.Text, data map[string]any) map[string]any {
	if data == nil {
		data = map[string]any{}
	}
	data["Lang"] = langOf(r, tx)
	data["Title"] = title
	data["Brand"] = p.brand
	switch {
	case tx != nil:
		data["Tx"] = tx.ID
		data["LangBase"] = "/login/" + tx.ID
		if c := p.s.clients[tx.ClientID]; c != nil {
			data["Client"] = c.c.Name
			data["ClientID"] = c.c.ID
			data["ClientLogo"] = len(c.c.Logo) > 0
			if _, set := data["Services"]; !set {
				data["Services"] = p.s.servicesOf(tx, c)
			}
		}
		p.expiryHook(data, tx, tx.Renewed)
	case r.Method == http.MethodGet:
		data["LangBase"] = r.URL.Path
	}
	return data
}

// render writes a page with a strict content security policy. formAction
// lists origins forms (and the redirects after them) may go to; empty means
// no restriction beyond default-src for pages whose forms leave for
// upstreams chosen at run time.
func (p *pages) render(w http.ResponseWriter, status int, name string, data map[string]any, formAction ...string) {
	page, err := p.execute(name, data)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writePageWith(w, status, page, policyOf(data), formAction...)
}

func (p *pages) execute(name string, data map[string]any) ([]byte, error) {
	// DE is the language test as a field: templates ask it dozens of
	// times per page, and a field is much cheaper than a function call.
	data["DE"] = data["Lang"] != "en"
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writePage sends a rendered page with the pages' headers.
func writePage(w http.ResponseWriter, status int, page []byte, formAction ...string) {
	writePageWith(w, status, page, pagePolicy{}, formAction...)
}

// writePageWith is writePage for a page that needs more than the strict
// policy (see pagePolicy).
func writePageWith(w http.ResponseWriter, status int, page []byte, needs pagePolicy, formAction ...string) {
	pageHeadersWith(w, status, len(page), needs, formAction...)
	_, _ = w.Write(page)
}

// pageHeadersWith writes the status and headers of a page of length
// bytes that needs what needs says beyond the strict policy.
func pageHeadersWith(w http.ResponseWriter, status, length int, needs pagePolicy, formAction ...string) {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP(needs, formAction))
	h["Content-Type"] = hdrHTML
	h["Cache-Control"] = hdrNoStore
	// With the length known, net/http sends the page in one piece
	// instead of chunked.
	h.Set("Content-Length", strconv.Itoa(length))
	w.WriteHeader(status)
}

// strictCSP is the content security policy of every page, before what a
// page needs beyond it (formAction, pagePolicy).
const strictCSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"

// pageCSP is strictCSP with the form-action origins and what needs says,
// built in one allocation (every page of a login asks for it).
func pageCSP(needs pagePolicy, formAction []string) string {
	if needs.dataImages {
		// Rare (an adapter's QR code page): the general path.
		csp := strictCSP
		if len(formAction) > 0 {
			csp += "; form-action 'self' " + strings.Join(formAction, " ")
		}
		return needs.extend(csp)
	}
	var b strings.Builder
	n := len(strictCSP) + len("; form-action 'self'") + len("; connect-src 'self'")
	for _, o := range formAction {
		n += 1 + len(o)
	}
	b.Grow(n)
	b.WriteString(strictCSP)
	if len(formAction) > 0 {
		b.WriteString("; form-action 'self'")
		for _, o := range formAction {
			b.WriteByte(' ')
			b.WriteString(o)
		}
	}
	if needs.connect {
		b.WriteString("; connect-src 'self'")
	}
	return b.String()
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// errorPage is for errors outside a usable login. When the browser's
// last login named a known portal, it offers the way back there.
func (p *pages) errorPage(w http.ResponseWriter, r *http.Request, status int, msg adapters.Text) {
	data := map[string]any{"Msg": msg}
	if c, err := r.Cookie(clientHintCookie); err == nil {
		if client := p.s.clients[c.Value]; client != nil && len(client.c.RedirectURIs) > 0 {
			data["Back"], data["BackName"] = origin(client.c.RedirectURIs[0])+"/", client.c.Name
		}
	}
	p.render(w, status, "error.html", p.view(r, nil, titleError, data))
}

// retryPage explains a failure within a login, with the ways on: another
// method, or back to the portal (which answers it with the OIDC error).
func (p *pages) retryPage(w http.ResponseWriter, r *http.Request, tx *transaction, status int, msg adapters.Text) {
	p.render(w, status, "error.html", p.view(r, tx, titleError, map[string]any{"Msg": msg}), p.s.redirectOrigin(tx.RedirectURI))
}

// methodPage renders the method page, from methodPageCache when the same
// page was rendered before (see there).
func (p *pages) methodPage(w http.ResponseWriter, r *http.Request, tx *transaction, ms []method, note adapters.Text, groups func([]method) *methodGroups) {
	lang := langOf(r, tx)
	p.cachedPage(w, r, p.cache.methodPageKey(lang, tx, ms, note), tx, "methods.html", titleMethods, nil, func() map[string]any {
		return map[string]any{
			"Floor": tx.Floor, "Methods": ms, "AnyUsable": anyUsable(ms), "Note": note, "Levels": levelHelp, "Groups": groups(ms),
			"TTLMinutes": int(txTTL.Minutes()),
		}
	})
}

// cachedPage writes the page of key from pageCache, rendering its skeleton
// first if it is not there: the template named name with the data of data
// (asked for only then), in a view of tx whose ID is the placeholder. rows
// appends what fills the skeleton's slot, if it has one.
func (p *pages) cachedPage(w http.ResponseWriter, r *http.Request, key *keyBuilder, tx *transaction, name string, title adapters.Text, rows func([]byte) []byte, data func() map[string]any) {
	defer key.release()
	sk, ok := p.cache.get(key)
	if !ok {
		generic := *tx
		generic.ID = string(p.cache.placeholder)
		page, err := p.execute(name, p.view(r, &generic, title, data()))
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		sk = p.cache.put(key, page)
	}
	p.cache.write(w, sk, tx.ID, rows, p.s.redirectOrigin(tx.RedirectURI))
}

func (p *pages) unmet(w http.ResponseWriter, r *http.Request, tx *transaction, proved assurance.Level) {
	p.render(w, http.StatusForbidden, "unmet.html", p.view(r, tx, titleUnmet, map[string]any{
		"Floor": tx.Floor, "Proved": proved, "Levels": levelHelp,
	}), p.s.redirectOrigin(tx.RedirectURI))
}

// levelHelp explains the three levels in one plain sentence each.
var levelHelp = []struct {
	Level assurance.Level
	Text  adapters.Text
}{
	{assurance.Low, adapters.Text{DE: "Niedrig: Ihre Angaben wurden nur einfach geprüft, etwa über ein Konto mit Passwort.", EN: "Low: your details were checked in a simple way, such as an account with a password."}},
	{assurance.Substantial, adapters.Text{DE: "Substanziell: Sie haben sich mit einem geprüften Nachweis angemeldet, etwa einem ELSTER-Zertifikat.", EN: "Substantial: you logged in with a verified credential, such as an ELSTER certificate."}},
	{assurance.High, adapters.Text{DE: "Hoch: Sie haben sich mit einem amtlichen Ausweis angemeldet, etwa der Online-Ausweisfunktion.", EN: "High: you logged in with an official identity document, such as the online ID card function."}},
}

type consentItem struct {
	Label adapters.Text
	Value string
}

func (p *pages) consent(w http.ResponseWriter, r *http.Request, tx *transaction, client *opClient, released map[string]any, services []Service) {
	items := make([]consentItem, 0, len(released))
	for _, name := range sortedKeys(released) {
		label, ok := claimLabels[name]
		if base, tag, tagged := strings.Cut(name, "#"); !ok && tagged {
			// A language-tagged claim (OIDC Core §5.2): the base claim's
			// label with the script's language tag.
			if l, found := claimLabels[base]; found {
				label, ok = adapters.Text{DE: l.DE + " (" + tag + ")", EN: l.EN + " (" + tag + ")"}, true
			}
		}
		if !ok {
			label = adapters.Text{DE: name, EN: name}
		}
		items = append(items, consentItem{Label: label, Value: displayValue(released[name])})
	}
	lang := langOf(r, tx)
	b := p.cache.pageKey("consent", lang, tx)
	b.field(tx.Identity.Level.String())
	if len(items) == 0 {
		b.field("none")
	}
	rows := func(page []byte) []byte { return appendConsentRows(page, lang, items) }
	p.cachedPage(w, r, b, tx, "consent.html", titleConsent, rows, func() map[string]any {
		return map[string]any{
			"Services": services, "HasItems": len(items) > 0, "Rows": template.HTML(p.cache.slot), "Level": tx.Identity.Level,
		}
	})
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
func (p *pages) handoff(w http.ResponseWriter, r *http.Request, tx *transaction, h adapters.Handoff) {
	switch {
	case h.Content != nil:
		p.adapterContent(w, r, tx, h)
	case h.RedirectURL != "":
		http.Redirect(w, r, h.RedirectURL, http.StatusSeeOther)
	case h.PostURL != "":
		p.handoffPost(w, r, h) // postpage.go
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
	p.render(w, http.StatusAccepted, "wait.html", p.view(r, tx, titleWait, map[string]any{"Continue": continueURL}))
}

func (p *pages) loggedOut(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "loggedout.html", p.view(r, nil, titleLoggedIn, nil))
}
