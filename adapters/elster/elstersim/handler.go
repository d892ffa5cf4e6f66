package elstersim

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// maxOCSPRequest bounds a request body; real ones are about 100 bytes.
const maxOCSPRequest = 8 << 10

// Handler serves the simulator. Mount it with its prefix stripped, e.g.
//
//	mux.Handle("/sim/elster/", http.StripPrefix("/sim/elster", sim.Handler()))
//
// Routes (relative to the mount point):
//
//	GET  /                the test certificate files with their PINs
//	GET  /files/{name}    a .pfx file
//	GET  /ca/{name}.pem   a CA certificate
//	GET  /crl/{name}.crl  the CA's current CRL (DER, freshly signed)
//	POST /ocsp            OCSP (RFC 6960, application/ocsp-request)
//	GET  /ocsp/{request}  OCSP, base64 request in the path
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveIndex)
	mux.HandleFunc("GET /files/{name}", s.serveFile)
	mux.HandleFunc("GET /ca/{name}", s.serveCACert)
	mux.HandleFunc("GET /crl/{name}", s.serveCRL)
	mux.HandleFunc("POST /ocsp", s.serveOCSPPost)
	mux.HandleFunc("GET /ocsp/{req...}", s.serveOCSPGet)
	return mux
}

func (s *Sim) serveFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	data, err := s.PFX(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/x-pkcs12")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(data)
}

func (s *Sim) serveCACert(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("name"), ".pem")
	ca := s.cas[name]
	if !ok || ca == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

func (s *Sim) serveCRL(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("name"), ".crl")
	ca := s.cas[name]
	if !ok || ca == nil || ca.Key == nil || !ca.Cert.IsCA {
		http.NotFound(w, r)
		return
	}
	der, err := ca.CRL()
	if err != nil {
		http.Error(w, "cannot sign crl", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	_, _ = w.Write(der)
}

func (s *Sim) serveOCSPPost(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxOCSPRequest+1))
	if err != nil || len(body) > maxOCSPRequest {
		s.writeOCSP(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	s.writeOCSP(w, s.OCSPResponse(body))
}

func (s *Sim) serveOCSPGet(w http.ResponseWriter, r *http.Request) {
	raw, err := url.PathUnescape(r.PathValue("req"))
	if err != nil {
		s.writeOCSP(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	der, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		s.writeOCSP(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	s.writeOCSP(w, s.OCSPResponse(der))
}

func (s *Sim) writeOCSP(w http.ResponseWriter, der []byte) {
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(der)
}

// OCSPResponse answers a DER OCSP request: good for certificates the PKI
// issued, revoked for revoked ones, unknown for serials it never issued, and
// "unauthorized" for CAs it does not run. The issuing CA's answers are
// signed by its delegated responder, the root's by the root itself.
func (s *Sim) OCSPResponse(reqDER []byte) []byte {
	req, err := ocsp.ParseRequest(reqDER)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse
	}
	ca := s.findIssuer(req)
	if ca == nil || ca.Key == nil {
		return ocsp.UnauthorizedErrorResponse
	}
	now := s.now().UTC().Truncate(time.Second)
	tmpl := ocsp.Response{
		SerialNumber: req.SerialNumber,
		ThisUpdate:   now,
		NextUpdate:   now.Add(s.validity),
		IssuerHash:   req.HashAlgorithm,
		Status:       ocsp.Unknown,
	}
	serial := req.SerialNumber.Text(16)
	s.mu.Lock()
	if s.issued[ca.Name][serial] {
		tmpl.Status = ocsp.Good
	}
	if at, ok := s.revoked[ca.Name][serial]; ok {
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = at
		tmpl.RevocationReason = ocsp.Unspecified
	}
	s.mu.Unlock()

	signerCert, signerKey := ca.Cert, ca.Key
	if ca.Responder != nil && ca.Responder.Key != nil {
		signerCert, signerKey = ca.Responder.Cert, ca.Responder.Key
		tmpl.Certificate = ca.Responder.Cert
	}
	der, err := ocsp.CreateResponse(ca.Cert, signerCert, tmpl, signerKey)
	if err != nil {
		return ocsp.InternalErrorErrorResponse
	}
	return der
}

func (s *Sim) findIssuer(req *ocsp.Request) *CA {
	if !req.HashAlgorithm.Available() {
		return nil
	}
	for _, name := range s.order {
		ca := s.cas[name]
		if !ca.Cert.IsCA {
			continue
		}
		h := req.HashAlgorithm.New()
		h.Write(ca.Cert.RawSubject)
		nameHash := h.Sum(nil)
		bits, err := spkiBits(ca.Cert)
		if err != nil {
			continue
		}
		h = req.HashAlgorithm.New()
		h.Write(bits)
		keyHash := h.Sum(nil)
		if subtle.ConstantTimeCompare(nameHash, req.IssuerNameHash) == 1 && bytes.Equal(keyHash, req.IssuerKeyHash) {
			return ca
		}
	}
	return nil
}

var indexTemplate = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="de">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ELSTER-Test-PKI (Simulator)</title></head>
<body>
<h1>ELSTER-Test-PKI &mdash; SIMULATOR</h1>
<p><strong>Nur für Demo und Tests.</strong> Diese Zertifikate stammen von einer simulierten
Zertifizierungsstelle, nicht von ELSTER. / <strong>Demo and tests only.</strong> These certificates
come from a simulated certification authority, not from ELSTER.</p>
<p>Datei herunterladen, dann im Demo-Portal &bdquo;ELSTER-Zertifikat&ldquo; w&auml;hlen und die Datei mit ihrer PIN
verwenden. / Download a file, choose &ldquo;ELSTER certificate&rdquo; on the demo portal and use the file with its PIN.</p>
<table>
<thead><tr><th>Datei / file</th><th>PIN</th><th>Art / kind</th><th>Beschreibung</th><th>Description</th><th>Erwartet / expected</th></tr></thead>
<tbody>
{{range .Files}}<tr>
<td><a href="files/{{.File}}" download>{{.File}}</a></td>
<td><code>{{.PIN}}</code></td>
<td>{{.Kind}}</td>
<td>{{.DescriptionDE}}</td>
<td>{{.DescriptionEN}}</td>
<td>{{.Expect}}</td>
</tr>{{end}}
</tbody>
</table>
<h2>CA</h2>
<ul>
{{range .CAs}}<li><a href="ca/{{.}}.pem">{{.}}.pem</a>{{if call $.HasCRL .}} &middot; <a href="crl/{{.}}.crl">CRL</a>{{end}}</li>
{{end}}</ul>
<p>OCSP: <code>ocsp</code></p>
</body>
</html>
`))

func (s *Sim) serveIndex(w http.ResponseWriter, _ *http.Request) {
	var buf bytes.Buffer
	err := indexTemplate.Execute(&buf, map[string]any{
		"Files": s.manifest.Files,
		"CAs":   s.order,
		"HasCRL": func(name string) bool {
			ca := s.cas[name]
			return ca != nil && ca.Key != nil && ca.Cert.IsCA
		},
	})
	if err != nil {
		http.Error(w, fmt.Sprintf("render index: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	_, _ = w.Write(buf.Bytes())
}
