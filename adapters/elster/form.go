package elster

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

const (
	// maxBodyBytes bounds the callback POST: a chain of maxChain
	// certificates of a few KiB each in base64, a signature and the
	// challenge.
	maxBodyBytes = 96 << 10
	// maxChain bounds the number of posted certificates (leaf included).
	maxChain = 8
	// maxCertBytes bounds one posted certificate.
	maxCertBytes = 8 << 10
	// maxHeaderBytes bounds the forwarded client certificate header.
	maxHeaderBytes = 16 << 10
)

// Form field names of the callback POST (set by the login page).
const (
	fieldChallenge = "challenge"
	fieldSignature = "signature"
	fieldAlg       = "alg"
	fieldChain     = "chain"
	fieldMode      = "mode"
	fieldCancel    = "cancel"
)

// modeTLS is the value of fieldMode for the mutual-TLS login.
const modeTLS = "tls"

// answer is a parsed callback POST.
type answer struct {
	cancel    bool
	tls       bool
	challenge string
	alg       string
	signature []byte
	chain     []*x509.Certificate // leaf first
}

// parseAnswer reads the callback POST strictly: only known fields, each
// single-valued except chain, sizes bounded.
func parseAnswer(r *http.Request) (answer, error) {
	var a answer
	if r.Method != http.MethodPost {
		return a, fmt.Errorf("%w: method %s, want POST", ErrRequest, r.Method)
	}
	form := r.PostForm
	if form == nil {
		ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || ct != "application/x-www-form-urlencoded" {
			return a, fmt.Errorf("%w: content type %q, want a form", ErrRequest, r.Header.Get("Content-Type"))
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if err != nil {
			return a, fmt.Errorf("%w: read body: %w", ErrRequest, err)
		}
		if len(body) > maxBodyBytes {
			return a, fmt.Errorf("%w: body larger than %d bytes", ErrRequest, maxBodyBytes)
		}
		if form, err = url.ParseQuery(string(body)); err != nil {
			return a, fmt.Errorf("%w: parse form: %w", ErrRequest, err)
		}
	}
	for k, vs := range form {
		switch k {
		case fieldChain:
			if len(vs) > maxChain {
				return a, fmt.Errorf("%w: more than %d certificates", ErrRequest, maxChain)
			}
		case fieldChallenge, fieldSignature, fieldAlg, fieldMode, fieldCancel:
			if len(vs) != 1 {
				return a, fmt.Errorf("%w: field %s repeated", ErrRequest, k)
			}
		default:
			return a, fmt.Errorf("%w: unknown field %q", ErrRequest, k)
		}
	}
	if form.Has(fieldCancel) {
		a.cancel = true
		return a, nil
	}
	a.challenge = form.Get(fieldChallenge)
	if a.challenge == "" {
		return a, fmt.Errorf("%w: no challenge", ErrRequest)
	}
	switch mode := form.Get(fieldMode); mode {
	case "":
	case modeTLS:
		a.tls = true
		if form.Has(fieldSignature) || form.Has(fieldChain) || form.Has(fieldAlg) {
			return a, fmt.Errorf("%w: tls mode with signature fields", ErrRequest)
		}
		return a, nil
	default:
		return a, fmt.Errorf("%w: unknown mode", ErrRequest)
	}

	a.alg = form.Get(fieldAlg)
	if a.alg != AlgRS256 && a.alg != AlgPS256 {
		return a, fmt.Errorf("%w: unsupported signature algorithm %q", ErrRequest, a.alg)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(form.Get(fieldSignature))
	if err != nil || len(sig) == 0 || len(sig) > 1024 {
		return a, fmt.Errorf("%w: signature is not base64 of a plausible length", ErrRequest)
	}
	a.signature = sig
	ders := form[fieldChain]
	if len(ders) == 0 {
		return a, fmt.Errorf("%w: no certificate", ErrRequest)
	}
	for i, s := range ders {
		if base64.StdEncoding.DecodedLen(len(s)) > maxCertBytes {
			return a, fmt.Errorf("%w: certificate %d too large", ErrRequest, i)
		}
		der, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil {
			return a, fmt.Errorf("%w: certificate %d: not base64", ErrRequest, i)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return a, fmt.Errorf("%w: certificate %d: %w", ErrRequest, i, err)
		}
		a.chain = append(a.chain, cert)
	}
	return a, nil
}

// forwardedCert returns the client certificate a trusted TLS terminator
// forwarded. The header is believed only on a connection from a configured
// proxy address; anywhere else a browser could simply send it.
func (a *Adapter) forwardedCert(r *http.Request) (*x509.Certificate, []*x509.Certificate, error) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: remote address %q unparsable", ErrProxy, r.RemoteAddr)
	}
	addr := ap.Addr().Unmap()
	trusted := false
	for _, p := range a.proxies {
		if p.Contains(addr) {
			trusted = true
			break
		}
	}
	if !trusted {
		// The address is left out: it may be the person's own.
		return nil, nil, fmt.Errorf("%w: connection not from a configured proxy", ErrProxy)
	}
	vals := r.Header.Values(a.mtlsHeader)
	if len(vals) != 1 || vals[0] == "" {
		return nil, nil, fmt.Errorf("%w: want exactly one %s header, got %d (no client certificate presented?)", ErrRequest, a.mtlsHeader, len(vals))
	}
	if len(vals[0]) > maxHeaderBytes {
		return nil, nil, fmt.Errorf("%w: %s header too large", ErrRequest, a.mtlsHeader)
	}
	// nginx's $ssl_client_escaped_cert is percent-encoded PEM; PathUnescape
	// keeps a literal '+' (part of base64) instead of turning it into a
	// space.
	raw, err := url.PathUnescape(vals[0])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s header: %w", ErrRequest, a.mtlsHeader, err)
	}
	var certs []*x509.Certificate
	rest := []byte(raw)
	for len(strings.TrimSpace(string(rest))) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil || block.Type != "CERTIFICATE" {
			return nil, nil, fmt.Errorf("%w: %s header is not PEM certificates", ErrRequest, a.mtlsHeader)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s header: %w", ErrRequest, a.mtlsHeader, err)
		}
		certs = append(certs, cert)
		if len(certs) > maxChain {
			return nil, nil, fmt.Errorf("%w: %s header: more than %d certificates", ErrRequest, a.mtlsHeader, maxChain)
		}
	}
	if len(certs) == 0 {
		return nil, nil, fmt.Errorf("%w: %s header holds no certificate", ErrRequest, a.mtlsHeader)
	}
	return certs[0], certs[1:], nil
}
