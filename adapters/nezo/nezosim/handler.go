package nezosim

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"io"
	"net/http"
	"net/url"
)

// Handler serves the simulated NEZO IdP (mount it at BaseURL's path with
// the prefix stripped):
//
//	GET  /metadata           signed IdP metadata
//	POST /sso                AuthnRequest, HTTP-POST binding
//	GET  /sso                AuthnRequest, HTTP-Redirect binding
//	POST /answer             the person's choice → auto-POST to the ACS
//	GET  /static/autopost.js the script that submits the auto-POST form
//	GET  /static/sim.css
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, _ *http.Request) {
		b, err := s.Metadata()
		if err != nil {
			http.Error(w, "simulator error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("POST /sso", s.serveSSO)
	mux.HandleFunc("GET /sso", s.serveSSO)
	mux.HandleFunc("POST /answer", s.serveAnswer)
	mux.HandleFunc("GET /static/autopost.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = io.WriteString(w, autopostJS)
	})
	mux.HandleFunc("GET /static/sim.css", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = io.WriteString(w, simCSS)
	})
	return mux
}

func (s *Sim) serveSSO(w http.ResponseWriter, r *http.Request) {
	req, err := s.ReceiveRequest(r)
	if err != nil {
		s.log.Warn("nezosim: AuthnRequest refused", "err", err)
		s.page(w, http.StatusBadRequest, "error", map[string]any{"Error": err.Error()}, "")
		return
	}
	key, err := s.store(req)
	if err != nil {
		http.Error(w, "simulator busy", http.StatusServiceUnavailable)
		return
	}
	s.page(w, http.StatusOK, "choose", map[string]any{"Key": key, "Accounts": s.accounts, "SP": req.SP}, "")
}

func (s *Sim) serveAnswer(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if r.ParseForm() != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	req := s.take(r.PostForm.Get("key"))
	if req == nil {
		s.page(w, http.StatusBadRequest, "error", map[string]any{"Error": "unknown or expired request"}, "")
		return
	}
	tamper := r.PostForm.Get("tamper")
	var acct *Account
	if r.PostForm.Get("action") == "cancel" {
		tamper = TamperCancel
	} else {
		var ok bool
		if acct, ok = s.Account(r.PostForm.Get("account")); !ok {
			s.page(w, http.StatusBadRequest, "error", map[string]any{"Error": "unknown test account"}, "")
			return
		}
	}
	b, err := s.Respond(req, acct, tamper)
	if err != nil {
		s.log.Error("nezosim: build response", "err", err)
		http.Error(w, "simulator error", http.StatusInternalServerError)
		return
	}
	s.page(w, http.StatusOK, "post", map[string]any{
		"ACS": req.ACS, "SAMLResponse": base64.StdEncoding.EncodeToString(b), "RelayState": req.RelayState,
	}, origin(req.ACS))
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func (s *Sim) page(w http.ResponseWriter, status int, name string, data map[string]any, formOrigin string) {
	data["Base"] = s.base
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "simulator error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; form-action 'self' "+formOrigin+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

const autopostJS = `"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var f = document.getElementById("autopost");
  if (f) { f.submit(); }
});
`

const simCSS = `body{font-family:system-ui,sans-serif;max-width:44rem;margin:1rem auto;padding:0 1rem;color:#1b1b1b}
.banner{background:#0b4f6c;color:#fff;padding:.5rem 1rem;font-weight:600}
fieldset{border:1px solid #bbb;margin:1rem 0}label{display:block;margin:.4rem 0}
button{padding:.5rem 1rem;margin-right:.5rem}.muted{color:#555;font-size:.9rem}.error{color:#a00}
`

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ELSTER NEZO simulator</title><link rel="stylesheet" href="{{.Base}}/static/sim.css"></head><body>
<p class="banner">SIMULATOR – keine echte ELSTER-Anmeldung / not a real ELSTER login (NEZO)</p>{{end}}
{{define "choose"}}{{template "head" .}}
<h1>Mein ELSTER – Anmeldung (Simulator)</h1>
<p class="muted">Anfrage von / request from {{.SP}}</p>
<form method="post" action="{{.Base}}/answer" id="choose">
<input type="hidden" name="key" value="{{.Key}}">
<fieldset><legend>ELSTER-Testkonto / test account</legend>
{{range $i, $a := .Accounts}}<label><input type="radio" name="account" value="{{$a.ID}}" id="account-{{$a.ID}}"{{if eq $i 0}} checked{{end}}> {{$a.Label}}</label>
{{end}}</fieldset>
<fieldset><legend>Test: manipulierte Antwort / tampered answer</legend>
<label><input type="radio" name="tamper" value="" checked> keine / none</label>
<label><input type="radio" name="tamper" value="unknown-level" id="tamper-level"> unbekanntes Vertrauensniveau / unknown level</label>
<label><input type="radio" name="tamper" value="wrong-audience" id="tamper-audience"> falsche Audience / wrong audience</label>
<label><input type="radio" name="tamper" value="plaintext" id="tamper-plaintext"> unverschlüsselte Assertion / plaintext assertion</label>
</fieldset>
<button type="submit" name="action" value="login" id="sim-login">Anmelden / Log in</button>
<button type="submit" name="action" value="cancel" id="sim-cancel">Abbrechen / Cancel</button>
</form></body></html>{{end}}
{{define "post"}}{{template "head" .}}
<p>Weiterleitung zum Dienst / returning to the service …</p>
<form method="post" action="{{.ACS}}" id="autopost">
<input type="hidden" name="SAMLResponse" value="{{.SAMLResponse}}">
{{if .RelayState}}<input type="hidden" name="RelayState" value="{{.RelayState}}">{{end}}
<noscript><p>JavaScript ist aus / JavaScript is off:</p></noscript><button type="submit" id="continue">Weiter / Continue</button>
</form><script src="{{.Base}}/static/autopost.js"></script></body></html>{{end}}
{{define "error"}}{{template "head" .}}<p class="error" id="sim-error">{{.Error}}</p></body></html>{{end}}
`))
