package eidsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters/eid"
	"github.com/ozg-broker/eidas-broker/adapters/eid/internal/wsse"
)

// maxPending bounds the logins the client simulator keeps between showing
// its page and the form coming back.
const maxPending = 1000

// ClientConfig configures the eID-Client simulator.
type ClientConfig struct {
	// Server is the simulated eID-Server the test cards talk to.
	Server *Server
	// HTTP fetches TC Tokens. It must have no cookie jar: the real
	// eID-Client fetches without the person's cookies. Default: a client
	// with a 10s timeout.
	HTTP *http.Client
	// Cards are offered on the page (default TestCards()).
	Cards []Card
	// BasePath is where the handler is mounted, with a trailing slash
	// (default "/sim/eid-client/"); the form posts to BasePath+"complete".
	BasePath string
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// ClientSim plays the eID-Client (the AusweisApp's role) for the demo and
// tests: it receives tcTokenURL like the real client on 127.0.0.1:24727,
// fetches the TC Token server-side, shows what the eService asks for, lets
// the person pick a test card and deselect optional data, completes the
// session at the simulated eID-Server and sends the browser to the
// RefreshAddress with ResultMajor (and ResultMinor) as TR-03124-1 §2.7.4
// prescribes.
type ClientSim struct {
	cfg ClientConfig
	log *slog.Logger

	mu      sync.Mutex
	pending map[string]*pending
}

type pending struct {
	tok     *eid.TCToken
	psk     []byte
	info    *SessionInfo
	expires time.Time
}

// NewClientSim checks cfg and returns the simulator.
func NewClientSim(cfg ClientConfig) (*ClientSim, error) {
	if cfg.Server == nil {
		return nil, errors.New("new eid-client simulator: server required")
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.HTTP.Jar != nil {
		return nil, errors.New("new eid-client simulator: the TC Token client must not carry cookies")
	}
	if len(cfg.Cards) == 0 {
		cfg.Cards = TestCards()
	}
	if cfg.BasePath == "" {
		cfg.BasePath = "/sim/eid-client/"
	}
	if !strings.HasSuffix(cfg.BasePath, "/") {
		cfg.BasePath += "/"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &ClientSim{cfg: cfg, log: log, pending: map[string]*pending{}}, nil
}

// Card returns the configured card with the given ID.
func (c *ClientSim) Card(id string) (Card, bool) {
	for _, k := range c.cfg.Cards {
		if k.ID == id {
			return k, true
		}
	}
	return Card{}, false
}

// fetchTCToken GETs the TC Token without cookies, following redirects as
// the real client does, and parses it strictly.
func (c *ClientSim) fetchTCToken(ctx context.Context, tcTokenURL string) (*eid.TCToken, []byte, error) {
	u, err := url.Parse(tcTokenURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, nil, fmt.Errorf("fetch tc token: tcTokenURL %q is not an absolute http(s) URL", tcTokenURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch tc token: %w", err)
	}
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch tc token: %w", err)
	}
	defer resp.Body.Close()
	body, err := wsse.ReadLimited(resp.Body, 64<<10)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch tc token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("fetch tc token: HTTP status %d", resp.StatusCode)
	}
	tok, err := eid.ParseTCToken(body)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch tc token: %w", err)
	}
	psk, err := hex.DecodeString(tok.PathSecurityParameters.PSK)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch tc token: PSK: %w", err)
	}
	return tok, psk, nil
}

// refreshURL adds the result parameters to the refresh address.
func refreshURL(addr, major, minor string) string {
	u, err := url.Parse(addr)
	if err != nil {
		return addr
	}
	q := u.Query()
	q.Set("ResultMajor", major)
	if minor != "" {
		q.Set("ResultMinor", minor)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// finish completes or cancels at the server and returns where the browser goes.
func (c *ClientSim) finish(tok *eid.TCToken, psk []byte, card Card, cancel bool, deselect []string) (string, error) {
	srv := c.cfg.Server
	if cancel || card.Cancel {
		if err := srv.Cancel(tok.ServerAddress, tok.SessionIdentifier, psk); err != nil {
			return "", err
		}
		return refreshURL(tok.RefreshAddress, "error", "cancellationByUser"), nil
	}
	err := srv.Complete(tok.ServerAddress, tok.SessionIdentifier, psk, card, deselect)
	switch {
	case err == nil:
		return refreshURL(tok.RefreshAddress, "ok", ""), nil
	case errors.Is(err, ErrRefused):
		return refreshURL(tok.RefreshAddress, "error", "serverError"), nil
	}
	return "", err
}

// Authenticate is the automatic mode (no page): it fetches the TC Token,
// completes the session with the card (deselecting the named optional data
// groups) and returns the URL the browser would be sent to.
func (c *ClientSim) Authenticate(ctx context.Context, tcTokenURL, cardID string, deselect ...string) (string, error) {
	card, ok := c.Card(cardID)
	if !ok {
		return "", fmt.Errorf("authenticate: unknown card %q", cardID)
	}
	tok, psk, err := c.fetchTCToken(ctx, tcTokenURL)
	if err != nil {
		return "", fmt.Errorf("authenticate: %w", err)
	}
	if _, err := c.cfg.Server.Connect(tok.ServerAddress, tok.SessionIdentifier, psk); err != nil {
		if tok.CommunicationErrorAddress != "" {
			return refreshURL(tok.CommunicationErrorAddress, "error", "communicationError"), nil
		}
		return "", fmt.Errorf("authenticate: %w", err)
	}
	u, err := c.finish(tok, psk, card, false, deselect)
	if err != nil {
		return "", fmt.Errorf("authenticate: %w", err)
	}
	return u, nil
}

// ServeHTTP serves the page at BasePath (GET with ?tcTokenURL=) and the form
// target BasePath+"complete". Mount it with the prefix stripped or not.
func (c *ClientSim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action *; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	p := strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(c.cfg.BasePath, "/"))
	p = strings.Trim(p, "/")
	switch {
	case p == "" && r.Method == http.MethodGet:
		c.serveStart(w, r)
	case p == "complete" && r.Method == http.MethodPost:
		c.serveComplete(w, r)
	default:
		c.errorPage(w, http.StatusNotFound, "Diese Seite gibt es nicht.", "There is no such page.")
	}
}

func (c *ClientSim) serveStart(w http.ResponseWriter, r *http.Request) {
	tcTokenURL := r.URL.Query().Get("tcTokenURL")
	if tcTokenURL == "" {
		c.render(w, http.StatusOK, pageData{Intro: true})
		return
	}
	tok, psk, err := c.fetchTCToken(r.Context(), tcTokenURL)
	if err != nil {
		c.log.Info("eidsim client: tc token", "err", err)
		c.errorPage(w, http.StatusBadGateway, "Der TC Token konnte nicht geladen werden. Starten Sie die Anmeldung neu.", "The TC Token could not be loaded. Start the login again.")
		return
	}
	info, err := c.cfg.Server.Connect(tok.ServerAddress, tok.SessionIdentifier, psk)
	if err != nil {
		c.log.Info("eidsim client: connect", "err", err)
		if tok.CommunicationErrorAddress != "" {
			http.Redirect(w, r, refreshURL(tok.CommunicationErrorAddress, "error", "communicationError"), http.StatusSeeOther)
			return
		}
		c.errorPage(w, http.StatusBadGateway, "Keine Verbindung zum eID-Server.", "No connection to the eID-Server.")
		return
	}
	handle := make([]byte, 16)
	_, _ = rand.Read(handle)
	h := hex.EncodeToString(handle)
	now := c.cfg.Now()
	c.mu.Lock()
	for k, v := range c.pending {
		if now.After(v.expires) {
			delete(c.pending, k)
		}
	}
	full := len(c.pending) >= maxPending
	if !full {
		c.pending[h] = &pending{tok: tok, psk: psk, info: info, expires: now.Add(15 * time.Minute)}
	}
	c.mu.Unlock()
	if full {
		c.errorPage(w, http.StatusServiceUnavailable, "Zu viele offene Vorgänge. Bitte später erneut versuchen.", "Too many open processes. Please try again later.")
		return
	}
	c.render(w, http.StatusOK, pageData{Handle: h, Info: info, Action: c.cfg.BasePath + "complete", Cards: c.cfg.Cards})
}

func (c *ClientSim) serveComplete(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		c.errorPage(w, http.StatusBadRequest, "Ungültige Eingabe.", "Invalid input.")
		return
	}
	h := r.PostForm.Get("handle")
	c.mu.Lock()
	p := c.pending[h]
	delete(c.pending, h)
	c.mu.Unlock()
	if p == nil || c.cfg.Now().After(p.expires) {
		c.errorPage(w, http.StatusGone, "Dieser Vorgang ist abgelaufen oder schon abgeschlossen.", "This process has expired or is already finished.")
		return
	}
	cancel := r.PostForm.Get("action") == "cancel"
	var card Card
	if !cancel {
		var ok bool
		if card, ok = c.Card(r.PostForm.Get("card")); !ok {
			c.errorPage(w, http.StatusBadRequest, "Bitte wählen Sie einen Testausweis.", "Please choose a test card.")
			return
		}
	}
	keep := r.PostForm["keep"]
	var deselect []string
	for _, n := range p.info.Optional {
		if !slices.Contains(keep, n) {
			deselect = append(deselect, n)
		}
	}
	target, err := c.finish(p.tok, p.psk, card, cancel, deselect)
	if err != nil {
		c.log.Info("eidsim client: complete", "err", err)
		if p.tok.CommunicationErrorAddress != "" {
			http.Redirect(w, r, refreshURL(p.tok.CommunicationErrorAddress, "error", "communicationError"), http.StatusSeeOther)
			return
		}
		c.errorPage(w, http.StatusBadGateway, "Der eID-Server hat den Vorgang nicht angenommen.", "The eID-Server did not accept the process.")
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (c *ClientSim) errorPage(w http.ResponseWriter, status int, de, en string) {
	c.render(w, status, pageData{ErrorDE: de, ErrorEN: en})
}

func (c *ClientSim) render(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := clientPage.Execute(w, d); err != nil {
		c.log.Error("eidsim client: render", "err", err)
	}
}

type pageData struct {
	Intro            bool
	ErrorDE, ErrorEN string
	Handle, Action   string
	Info             *SessionInfo
	Cards            []Card
}

// labels names the data groups on the page.
var labels = map[string][2]string{
	"DocumentType":      {"Dokumentart", "Document type"},
	"IssuingState":      {"Ausstellender Staat", "Issuing state"},
	"DateOfExpiry":      {"Ablaufdatum", "Date of expiry"},
	"GivenNames":        {"Vornamen", "Given names"},
	"FamilyNames":       {"Familienname", "Family name"},
	"ArtisticName":      {"Ordens- oder Künstlername", "Religious or artistic name"},
	"AcademicTitle":     {"Doktorgrad", "Doctoral degree"},
	"DateOfBirth":       {"Geburtsdatum", "Date of birth"},
	"PlaceOfBirth":      {"Geburtsort", "Place of birth"},
	"Nationality":       {"Staatsangehörigkeit", "Nationality"},
	"BirthName":         {"Geburtsname", "Birth name"},
	"PlaceOfResidence":  {"Anschrift", "Address"},
	"CommunityID":       {"Wohnort-ID", "Community ID"},
	"ResidencePermitI":  {"Nebenbestimmungen (Aufenthaltstitel)", "Residence permit conditions"},
	"RestrictedID":      {"Dienste- und kartenspezifisches Kennzeichen (Pseudonym)", "Service- and card-specific identifier (pseudonym)"},
	"AgeVerification":   {"Altersbestätigung", "Age verification"},
	"PlaceVerification": {"Wohnortbestätigung", "Place verification"},
}

var clientPage = template.Must(template.New("client").Funcs(template.FuncMap{
	"de": func(n string) string { return labels[n][0] },
	"en": func(n string) string { return labels[n][1] },
}).Parse(`<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>eID-Client-Simulator</title>
</head>
<body>
<main>
<p><strong>Simulator – nur für Test und Demonstration.</strong> <span lang="en">Simulator – for testing and demonstration only.</span></p>
<h1>eID-Client-Simulator <span lang="en">/ eID-Client simulator</span></h1>
{{if .ErrorDE}}
<p role="alert">{{.ErrorDE}}</p>
<p role="alert" lang="en">{{.ErrorEN}}</p>
{{else if .Intro}}
<p>Diese Seite spielt die Rolle der AusweisApp. Sie wird über den Anmeldelink des Brokers mit dem Parameter tcTokenURL aufgerufen.</p>
<p lang="en">This page plays the role of the AusweisApp. The broker's login link opens it with the tcTokenURL parameter.</p>
{{else}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="handle" value="{{.Handle}}">
<h2>Angefragte Daten <span lang="en">/ Requested data</span></h2>
{{with .Info}}
{{if .TransactionInfo}}<p>{{.TransactionInfo}}</p>{{end}}
{{if .LevelOfAssurance}}<p>Vertrauensniveau <span lang="en">/ level of assurance</span>: {{.LevelOfAssurance}}</p>{{end}}
<fieldset>
<legend>Pflichtangaben <span lang="en">/ required</span></legend>
<ul>
{{range .Required}}<li><label><input type="checkbox" checked disabled> {{de .}} <span lang="en">/ {{en .}}</span></label></li>
{{end}}</ul>
</fieldset>
{{if .Optional}}
<fieldset>
<legend>Freiwillige Angaben – abwählbar <span lang="en">/ optional – you may untick them</span></legend>
<ul>
{{range .Optional}}<li><label><input type="checkbox" name="keep" value="{{.}}" checked> {{de .}} <span lang="en">/ {{en .}}</span></label></li>
{{end}}</ul>
</fieldset>
{{end}}
{{if .AgeVerification}}<p>Altersprüfung: mindestens {{.AgeVerification}} Jahre <span lang="en">/ age check: at least {{.AgeVerification}} years</span></p>{{end}}
{{if .PlaceVerification}}<p>Wohnortprüfung: {{.PlaceVerification}} <span lang="en">/ place check: {{.PlaceVerification}}</span></p>{{end}}
{{end}}
<h2>Testausweis wählen <span lang="en">/ Choose a test card</span></h2>
<fieldset>
<legend>Testausweise <span lang="en">/ test cards</span></legend>
{{range $i, $c := .Cards}}<p><label><input type="radio" name="card" value="{{$c.ID}}"{{if eq $i 0}} checked{{end}}> <strong>{{$c.Label}}</strong> <span lang="en">/ {{$c.LabelEN}}</span></label><br>{{$c.Note}} <span lang="en">{{$c.NoteEN}}</span></p>
{{end}}</fieldset>
<p>
<button type="submit" name="action" value="ok">PIN eingeben und Daten übermitteln <span lang="en">/ Enter PIN and send data</span></button>
<button type="submit" name="action" value="cancel">Abbrechen <span lang="en">/ Cancel</span></button>
</p>
</form>
{{end}}
</main>
</body>
</html>
`))
