package sp

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// RelayStateRE is what the core accepts as RelayState: the broker's
// transaction reference (base64url). SAML bindings limit RelayState to 80
// bytes; the strict syntax also means it can never be a URL (no open
// redirect at the ACS).
var RelayStateRE = regexp.MustCompile(`^[A-Za-z0-9_-]{16,80}$`)

// Size limits of an answer: the form (base64) and the XML inside it.
const (
	MaxForm    = 512 << 10
	MaxMessage = 256 << 10
)

// ResponseLimits bound the parser for Responses and decrypted assertions.
var ResponseLimits = xmlsec.Limits{MaxBytes: MaxMessage}

// Signer is our SAML signing key with its certificate and the signature
// method URI it signs with.
type Signer struct {
	Key  crypto.Signer
	Cert *x509.Certificate
	Alg  string
}

// Handoff signs the request element ar and hands the browser to the
// identity provider's endpoint sso: HTTP-POST (enveloped XML signature,
// auto-submitting form) or HTTP-Redirect (DEFLATE, detached signature over
// the query string). RelayState is relayState (the transaction reference).
func Handoff(ar *etree.Element, sso Endpoint, relayState string, s Signer) (adapters.Handoff, error) {
	var h adapters.Handoff
	switch sso.Binding {
	case samlxml.BindingPOST:
		if err := xmlsec.Sign(ar, s.Key, []*x509.Certificate{s.Cert}, s.Alg); err != nil {
			return h, fmt.Errorf("sign request: %w", err)
		}
		xml, err := Serialize(ar)
		if err != nil {
			return h, err
		}
		h.PostURL = sso.Location
		h.PostForm = url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(xml)}, "RelayState": {relayState}}
	case samlxml.BindingRedirect:
		xml, err := Serialize(ar)
		if err != nil {
			return h, err
		}
		u, err := RedirectURL(sso.Location, "SAMLRequest", xml, relayState, s.Key, s.Alg)
		if err != nil {
			return h, err
		}
		h.RedirectURL = u
	default:
		return h, fmt.Errorf("%w: binding %q", ErrMetadata, samlxml.Truncate(sso.Binding, 80))
	}
	return h, nil
}

// RedirectURL encodes a message for the HTTP-Redirect binding (SAML
// bindings §3.4.4): raw DEFLATE, base64, URL-encoded, and a signature over
// the exact query string "param=…&RelayState=…&SigAlg=…". ECDSA values are
// raw r‖s as XML Signature defines them for the SigAlg URI.
func RedirectURL(location, param string, xml []byte, relayState string, signer crypto.Signer, sigAlg string) (string, error) {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(xml); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	q := param + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
	if relayState != "" {
		q += "&RelayState=" + url.QueryEscape(relayState)
	}
	q += "&SigAlg=" + url.QueryEscape(sigAlg)
	sig, err := xmlsec.SignBytes(signer, sigAlg, []byte(q))
	if err != nil {
		return "", fmt.Errorf("sign redirect query: %w", err)
	}
	q += "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
	sep := "?"
	if strings.Contains(location, "?") {
		sep = "&"
	}
	return location + sep + q, nil
}

// ReadPOSTResponse reads an HTTP-POST binding answer: POST only, one
// SAMLResponse, exactly the RelayState of this login (compared in constant
// time), size limits. It returns the decoded XML bytes. Errors wrap
// ErrBinding.
func ReadPOSTResponse(r *http.Request, relayState string) ([]byte, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("%w: method %s (responses only by HTTP-POST)", ErrBinding, r.Method)
	}
	if err := ParsePostForm(r, MaxForm); err != nil {
		return nil, fmt.Errorf("%w: form: %w", ErrBinding, err)
	}
	resp := r.PostForm["SAMLResponse"]
	if len(resp) != 1 {
		return nil, fmt.Errorf("%w: need exactly one SAMLResponse", ErrBinding)
	}
	rs := r.PostForm["RelayState"]
	if len(rs) != 1 || subtle.ConstantTimeCompare([]byte(rs[0]), []byte(relayState)) != 1 {
		return nil, fmt.Errorf("%w: RelayState does not belong to this login", ErrBinding)
	}
	raw, err := samlxml.DecodeBase64(resp[0])
	if err != nil {
		return nil, fmt.Errorf("%w: SAMLResponse is not base64", ErrBinding)
	}
	return raw, nil
}

// ParsePostForm is Request.ParseForm for a POST whose body is at most max
// bytes, with the body read into one buffer of its declared length: SAML
// forms carry tens of kilobytes of base64, which io.ReadAll (inside
// ParseForm) would copy through a series of growing buffers. The rules
// are ParseForm's: only application/x-www-form-urlencoded fills PostForm,
// a body over max, a bad escape or a semicolon separator is an error, and
// Form holds the body's values followed by the URL query's.
func ParsePostForm(r *http.Request, max int64) error {
	if r.PostForm != nil {
		return nil
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		// Anything else: ParseForm's own handling (and errors).
		r.Body = http.MaxBytesReader(nil, r.Body, max)
		return r.ParseForm()
	}
	body, err := readBody(nil, r, max)
	if err != nil {
		return err
	}
	post, err := parseFormBody(body.Bytes())
	if err != nil {
		return err
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	form := make(url.Values, len(post)+len(query))
	for k, v := range post {
		form[k] = v
	}
	for k, v := range query {
		form[k] = append(form[k], v...)
	}
	r.PostForm, r.Form = post, form
	return err
}

// ForwardACS returns the handler of a fixed assertion consumer service.
// SAML metadata names one ACS, while the broker receives each login's
// answer at its own callback (/login/cb/{ref}). The handler reads
// RelayState (the transaction reference), checks its syntax strictly, and
// answers 307, which makes the browser repeat the same POST, body
// included, at baseURL + "/login/cb/" + RelayState. Nothing is verified
// here; the adapter's Finish does all checks with the login's state.
func ForwardACS(baseURL string, log *slog.Logger, what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rs, responses, err := forwardFields(w, r)
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if len(rs) != 1 || !RelayStateRE.MatchString(rs[0]) || responses != 1 {
			log.Warn(what + " ACS: POST without a usable RelayState or SAMLResponse")
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, strings.TrimRight(baseURL, "/")+"/login/cb/"+rs[0], http.StatusTemporaryRedirect)
	}
}

// readBody reads a request body of at most max bytes into one buffer of
// its declared length (a SAML form carries tens of kilobytes of base64,
// which io.ReadAll would copy through a series of growing buffers).
func readBody(w http.ResponseWriter, r *http.Request, max int64) (*bytes.Buffer, error) {
	size := r.ContentLength
	if size < 0 || size > max {
		size = 0
	}
	body := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	if _, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, max)); err != nil {
		return nil, err
	}
	return body, nil
}

// forwardFields reads what ForwardACS needs from a form POST: the
// RelayState values and how many SAMLResponse fields there are. It
// refuses what Request.ParseForm refuses (another content type, a body
// over MaxForm, a semicolon separator, a bad escape in a name or in
// RelayState) but leaves the SAMLResponse value (the bulk of the body)
// undecoded: the ACS only forwards it, and the callback decodes and checks
// it (ReadPOSTResponse).
func forwardFields(w http.ResponseWriter, r *http.Request) (relayStates []string, responses int, err error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return nil, 0, fmt.Errorf("%w: content type", ErrBinding)
	}
	body, err := readBody(w, r, MaxForm)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: form: %w", ErrBinding, err)
	}
	form := body.Bytes()
	if bytes.IndexByte(form, ';') >= 0 {
		return nil, 0, fmt.Errorf("%w: form: semicolon separator", ErrBinding)
	}
	for len(form) > 0 {
		var pair []byte
		pair, form, _ = bytes.Cut(form, []byte("&"))
		if len(pair) == 0 {
			continue
		}
		kb, vb, _ := bytes.Cut(pair, []byte("="))
		k, err := url.QueryUnescape(string(kb))
		if err != nil {
			return nil, 0, fmt.Errorf("%w: form: %w", ErrBinding, err)
		}
		switch k {
		case "SAMLResponse":
			responses++
		case "RelayState":
			v, err := url.QueryUnescape(string(vb))
			if err != nil {
				return nil, 0, fmt.Errorf("%w: form: %w", ErrBinding, err)
			}
			relayStates = append(relayStates, v)
		}
	}
	return relayStates, responses, nil
}
