package democonnector

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

const autosubmitJS = `document.addEventListener("DOMContentLoaded", function () {
  var f = document.getElementById("autosubmit");
  if (f) { f.submit(); }
});
`

const pageCSS = `body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
.banner { background: #fff3cd; border: 1px solid #e0c060; padding: .5rem 1rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ccc; vertical-align: top; }
pre { white-space: pre-wrap; font-size: .85rem; background: #f4f4f4; padding: .5rem; }
button { font-size: 1rem; padding: .5rem 1rem; }
`

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="de">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo eIDAS-Connector {{.Country}}</title><link rel="stylesheet" href="{{.Base}}/static/page.css"></head>
<body><main>
<p class="banner">DEMO – simulierter ausländischer eIDAS-Connector ({{.Country}}) / simulated foreign eIDAS-Connector</p>
{{if .Start}}
<h1>Dienst in {{.Country}}: Anmeldung mit dem deutschen Online-Ausweis</h1>
<p>Dieser Demo-Dienst schickt eine signierte eIDAS-Anfrage (Mindestdatensatz natürliche Person + Anschrift, Vertrauensniveau hoch) an den eIDAS-Service des Brokers.<br>
This demo service sends a signed eIDAS AuthnRequest (natural-person minimum data set + address, LoA high) to the broker's eIDAS-Service.</p>
<form method="post" action="{{.Base}}/start">
<p><label>Binding: <select name="binding"><option value="post">HTTP-POST</option><option value="redirect">HTTP-Redirect</option></select></label>
<label>LoA: <select name="level"><option value="high">high (minimum)</option><option value="substantial">substantial (minimum)</option><option value="exact-substantial">substantial (exact) – wird abgelehnt / refused</option></select></label></p>
<button type="submit" id="start">Mit deutscher eID anmelden / Log in with German eID</button>
</form>
<p><a href="{{.Base}}/metadata">Connector-Metadaten / metadata</a></p>
{{end}}
{{if .Post}}
<p>Weiterleitung zum eIDAS-Service … / Redirecting …</p>
<form method="post" action="{{.Post}}" id="autosubmit">
<input type="hidden" name="SAMLRequest" value="{{.SAMLRequest}}"><input type="hidden" name="RelayState" value="{{.RelayState}}">
<noscript><button type="submit">Weiter / Continue</button></noscript>
</form>
<script src="{{.Base}}/static/autosubmit.js"></script>
{{end}}
{{if .Result}}
{{with .Result}}
<h1 id="result">{{if .Success}}Antwort erhalten: Anmeldung erfolgreich / Login successful{{else}}Antwort erhalten: Fehler / Error{{end}}</h1>
<table>
<tr><th>Status</th><td id="status">{{.Status}}{{if .SubStatus}}<br>{{.SubStatus}}{{end}}{{if .Message}}<br>„{{.Message}}“{{end}}</td></tr>
{{if .Success}}<tr><th>LoA</th><td id="loa">{{.Level}}</td></tr>
<tr><th>NameID</th><td>{{.NameID}}<br><small>{{.NameIDFormat}}</small></td></tr>
<tr><th>Verschlüsselung / encryption</th><td>{{.DataAlgorithm}}<br>{{.KeyAlgorithm}}</td></tr>
<tr><th>Assertion signiert / signed</th><td>{{.AssertionSigned}}</td></tr>
{{range .Attributes}}<tr><th>{{.FriendlyName}}</th><td>{{range .Values}}{{.}}<br>{{end}}{{if .Decoded}}<pre>{{.Decoded}}</pre>{{end}}</td></tr>
{{end}}{{end}}
</table>
{{end}}
<p><a href="{{.Base}}/">Noch einmal / Again</a></p>
{{end}}
{{if .Error}}<h1>Antwort abgelehnt / Response refused</h1><p>{{.Error}}</p><p><a href="{{.Base}}/">Zurück / Back</a></p>{{end}}
</main></body></html>
`))

// Handler serves the demo connector (mount it with its prefix stripped):
//
//	GET  /           start page
//	POST /start      builds, signs and sends an AuthnRequest
//	POST /acs        verifies and shows the Response
//	GET  /metadata   signed connector metadata
//	GET  /static/…   script and style
func (c *Connector) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		c.render(w, http.StatusOK, map[string]any{"Start": true}, "")
	})
	mux.HandleFunc("POST /start", c.start)
	mux.HandleFunc("POST /acs", c.serveACS)
	mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, r *http.Request) {
		b, err := c.Metadata()
		if err != nil {
			http.Error(w, "metadata unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("GET /static/autosubmit.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write([]byte(autosubmitJS))
	})
	mux.HandleFunc("GET /static/page.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write([]byte(pageCSS))
	})
	return mux
}

func (c *Connector) start(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	_ = r.ParseForm()
	o := RequestOptions{}
	switch r.PostFormValue("level") {
	case "substantial":
		o.Level = []string{"http://eidas.europa.eu/LoA/substantial"}
	case "exact-substantial":
		o.Level, o.Comparison = []string{"http://eidas.europa.eu/LoA/substantial"}, "exact"
	}
	el := c.Request(o)
	relay := samlxml.NewID()[1:21]
	svc := c.service()
	if r.PostFormValue("binding") == "redirect" {
		q, err := RedirectQuery(el, relay, c.cfg.Keys.Signing, c.sigAlg)
		if err != nil {
			c.render(w, http.StatusInternalServerError, map[string]any{"Error": "cannot sign request"}, "")
			return
		}
		sep := "?"
		if strings.Contains(svc.SSOURL, "?") {
			sep = "&"
		}
		http.Redirect(w, r, svc.SSOURL+sep+q, http.StatusSeeOther)
		return
	}
	v, err := c.SignPOST(el)
	if err != nil {
		c.render(w, http.StatusInternalServerError, map[string]any{"Error": "cannot sign request"}, "")
		return
	}
	c.render(w, http.StatusOK, map[string]any{"Post": svc.SSOURL, "SAMLRequest": v, "RelayState": relay}, originOf(svc.SSOURL))
}

func (c *Connector) serveACS(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		c.render(w, http.StatusBadRequest, map[string]any{"Error": "bad form"}, "")
		return
	}
	res, err := c.ReadResponse(r.PostFormValue("SAMLResponse"))
	if err != nil {
		c.log.Warn("demo connector: response refused", "err", err)
		c.render(w, http.StatusBadRequest, map[string]any{"Error": err.Error()}, "")
		return
	}
	c.log.Info("demo connector: response verified", "status", res.Status, "loa", res.Level)
	c.render(w, http.StatusOK, map[string]any{"Result": res}, "")
}

func (c *Connector) render(w http.ResponseWriter, status int, data map[string]any, formOrigin string) {
	data["Country"] = c.cfg.Country
	data["Base"] = strings.TrimSuffix(pathOf(c.cfg.BaseURL), "/")
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	csp := "default-src 'none'; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	if formOrigin != "" {
		csp += " " + formOrigin
	}
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func pathOf(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return rest[j:]
		}
		return ""
	}
	return raw
}

func originOf(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return raw[:i+3+j]
		}
	}
	return raw
}
