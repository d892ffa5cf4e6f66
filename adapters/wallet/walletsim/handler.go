package walletsim

import (
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"

	"github.com/ozg-broker/eidas-broker/adapters/wallet"
)

// Handler serves the simulator under BaseURL:
//
//	GET  /                      what this is, the test identities
//	GET  /authorize?client_id&request_uri   the wallet's consent page
//	POST /authorize             the person agrees or declines
//	GET  /status/sd-jwt, /status/mdoc       the signed Token Status Lists
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveIndex)
	mux.HandleFunc("GET /authorize", s.serveAuthorize)
	mux.HandleFunc("POST /authorize", s.serveDecision)
	mux.HandleFunc("GET /status/{format}", s.serveStatusList)
	return mux
}

func (s *Sim) serveStatusList(w http.ResponseWriter, r *http.Request) {
	f := r.PathValue("format")
	if f != "sd-jwt" && f != "mdoc" {
		http.NotFound(w, r)
		return
	}
	tok, err := s.statusToken(f)
	if err != nil {
		http.Error(w, "status list unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/statuslist+jwt")
	w.Header().Set("Cache-Control", "max-age=60")
	_, _ = w.Write([]byte(tok))
}

func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
}

var pageTmpl = template.Must(template.New("p").Parse(`<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Wallet-Simulator</title>
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:1rem auto;padding:0 1rem}
.sim{background:#fff3cd;border:1px solid #e0c36c;padding:.3rem .6rem}fieldset{margin:1rem 0}
button{padding:.5rem 1rem;margin-right:.5rem}.err{color:#a00}</style></head><body>
<p class="sim">SIMULATOR · EUDI-Wallet (Testdaten / test data)</p>
{{if .Error}}<p class="err" id="sim-error">{{.Error}}</p>{{end}}
{{if .Done}}<h1 id="sim-done">Übermittelt / Sent</h1><p>{{.Done}}</p>{{end}}
{{if .Req}}
<h1>Anfrage / Request</h1>
<p id="sim-verifier"><strong>{{.Req.ClientName}}</strong> ({{.Req.Verifier.Subject.CommonName}}) möchte / asks for:</p>
{{if .Req.Purpose}}<p id="sim-purpose">Zweck / purpose: {{.Req.Purpose}}</p>{{end}}
<ul id="sim-claims">{{range .Claims}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="{{.Action}}">
<input type="hidden" name="h" value="{{.Handle}}">
<fieldset><legend>PID</legend>
{{range $i, $p := .People}}<label><input type="radio" name="person" value="{{$p.ID}}"{{if eq $i 0}} checked{{end}}> {{$p.Label}}</label><br>{{end}}
</fieldset>
<fieldset><legend>Format</legend>
{{range $i, $f := .Formats}}<label><input type="radio" name="format" value="{{$f}}"{{if eq $i 0}} checked{{end}}> {{$f}}</label><br>{{end}}
</fieldset>
<button type="submit" name="action" value="agree" id="sim-agree">Zustimmen / Agree</button>
<button type="submit" name="action" value="decline" id="sim-decline">Ablehnen / Decline</button>
</form>{{end}}
{{if .Index}}<h1>EUDI-Wallet-Simulator</h1>
<p>Dieser Simulator stellt Test-PIDs aus (SD-JWT VC und mdoc) und beantwortet Anfragen des Brokers. Test identities:</p>
<ul>{{range .People}}<li>{{.Label}}</li>{{end}}</ul>{{end}}
</body></html>`))

func (s *Sim) render(w http.ResponseWriter, status int, data map[string]any) {
	securityHeaders(w)
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, data)
}

func (s *Sim) serveIndex(w http.ResponseWriter, _ *http.Request) {
	s.render(w, http.StatusOK, map[string]any{"Index": true, "People": s.People()})
}

// serveAuthorize is where the wallet is invoked (same-device link or the
// URL in the QR code, opened in a second browser).
func (s *Sim) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	req, err := s.FetchRequest(r.Context(), r.URL.String())
	if err != nil {
		s.render(w, http.StatusBadRequest, map[string]any{"Error": "Anfrage abgelehnt / request refused: " + err.Error()})
		return
	}
	handle := randomHandle()
	s.mu.Lock()
	for h, p := range s.pending { // forget abandoned requests
		if s.opts.Now().After(p.Expires) {
			delete(s.pending, h)
		}
	}
	if len(s.pending) < 1000 {
		s.pending[handle] = req
	}
	s.mu.Unlock()
	var formats []string
	for _, f := range []string{wallet.FormatSDJWT, wallet.FormatMDoc} {
		if _, ok := req.Query(f); ok {
			formats = append(formats, f)
		}
	}
	claims := map[string]bool{}
	for _, q := range req.Queries {
		for _, p := range q.Paths {
			claims[p[len(p)-1]] = true
		}
	}
	s.render(w, http.StatusOK, map[string]any{"Req": req, "Handle": handle, "People": s.People(),
		"Formats": formats, "Claims": sortedKeys(claims), "Action": s.opts.BaseURL + "/authorize"})
}

func (s *Sim) serveDecision(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.render(w, http.StatusBadRequest, map[string]any{"Error": "bad form"})
		return
	}
	s.mu.Lock()
	req := s.pending[r.PostForm.Get("h")]
	delete(s.pending, r.PostForm.Get("h"))
	s.mu.Unlock()
	if req == nil {
		s.render(w, http.StatusBadRequest, map[string]any{"Error": "Anfrage unbekannt oder schon beantwortet / unknown or answered request"})
		return
	}
	o := PresentOptions{Person: r.PostForm.Get("person"), Format: r.PostForm.Get("format"),
		Decline: r.PostForm.Get("action") == "decline"}
	res, err := s.Respond(r.Context(), req, o)
	if err != nil {
		s.render(w, http.StatusBadGateway, map[string]any{"Error": "Antwort fehlgeschlagen / response failed: " + err.Error()})
		return
	}
	if res.Status != http.StatusOK {
		s.render(w, http.StatusBadGateway, map[string]any{"Error": "Der Dienst hat die Antwort abgelehnt / the verifier refused the response: " + strings.TrimSpace(res.Body)})
		return
	}
	if res.RedirectURI != "" {
		http.Redirect(w, r, res.RedirectURI, http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, map[string]any{"Done": "Sie können zum anderen Gerät zurückkehren. / You can go back to your other device."})
}

func randomHandle() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
