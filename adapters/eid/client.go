package eid

import (
	"bytes"
	"context"
	"crypto"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters/eid/internal/wsse"
)

// ErrUnavailable: the eID-Server could not be reached or did not answer in
// time. The broker treats it like any upstream outage (fail closed, 503).
var ErrUnavailable = errors.New("eid-server unavailable")

// ClientOptions configures a Client of the eID-Interface.
type ClientOptions struct {
	// Endpoint is the eID-Server's SOAP URL.
	Endpoint string
	// HTTP sends the requests. It must carry the mutual-TLS configuration
	// (client certificate, trusted server CA); the Client never changes it.
	HTTP *http.Client
	// SigningKey and SigningCert sign every request (the initiator token).
	SigningKey  crypto.Signer
	SigningCert *x509.Certificate
	// ServerSigningCert verifies every response (the recipient token). A
	// response not signed by it is refused.
	ServerSigningCert *x509.Certificate
	// Timeout bounds each call (default 10s), on top of the context.
	Timeout time.Duration
	// MaxResponseBytes bounds a response (default 1 MiB).
	MaxResponseBytes int64
	// ClockSkew tolerated on WS-Security timestamps (default 2 minutes).
	ClockSkew time.Duration
	// AllowSHA1 admits rsa-sha1 response signatures (off by default).
	AllowSHA1 bool
	// Now defaults to time.Now.
	Now func() time.Time
}

// Client speaks the TR-03130 eID-Interface (SOAP 1.1, WS-Security, mTLS).
// It is safe for concurrent use.
type Client struct {
	endpoint string
	http     *http.Client
	signer   *wsse.Signer
	verifier *wsse.Verifier
	timeout  time.Duration
	maxBytes int64
	// certs are checked for validity on every call (see checkCertificates).
	certs []*x509.Certificate
	now   func() time.Time
}

// NewClient checks opts and returns a Client.
func NewClient(opts ClientOptions) (*Client, error) {
	u, err := url.Parse(opts.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("new eid client: endpoint %q is not an absolute URL", opts.Endpoint)
	}
	if opts.HTTP == nil {
		return nil, errors.New("new eid client: HTTP client required")
	}
	if opts.ServerSigningCert == nil {
		return nil, errors.New("new eid client: eID-Server signature certificate required")
	}
	s := &wsse.Signer{Key: opts.SigningKey, Cert: opts.SigningCert, Now: opts.Now}
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("new eid client: %w", err)
	}
	c := &Client{
		endpoint: opts.Endpoint,
		http:     opts.HTTP,
		signer:   s,
		verifier: &wsse.Verifier{
			Certs:     []*x509.Certificate{opts.ServerSigningCert},
			Skew:      opts.ClockSkew,
			Now:       opts.Now,
			AllowSHA1: opts.AllowSHA1,
			Limits:    wsse.Limits{MaxBytes: opts.MaxResponseBytes},
		},
		timeout:  opts.Timeout,
		maxBytes: opts.MaxResponseBytes,
		certs:    []*x509.Certificate{opts.SigningCert, opts.ServerSigningCert},
		now:      opts.Now,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	if c.maxBytes <= 0 {
		c.maxBytes = wsse.DefaultMaxBytes
	}
	return c, nil
}

// call sends one signed request and decodes the verified response into out.
func (c *Client) call(ctx context.Context, op, action string, in any, wantLocal string, out any) error {
	if err := c.checkCertificates(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	payload, err := xml.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: encode request: %w", op, err)
	}
	msg, err := c.signer.Seal(payload)
	if err != nil {
		return fmt.Errorf("%s: sign request: %w", op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(msg))
	if err != nil {
		return fmt.Errorf("%s: build request: %w", op, err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `"`+action+`"`)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := wsse.ReadLimited(resp.Body, c.maxBytes)
	if err != nil {
		if errors.Is(err, wsse.ErrTooLarge) {
			return fmt.Errorf("%s: %w: %w", op, ErrProtocol, err)
		}
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %w: HTTP status %d%s", op, ErrProtocol, resp.StatusCode, faultSummary(body))
	}
	opened, err := c.verifier.Open(body)
	if err != nil {
		switch {
		case errors.Is(err, wsse.ErrTooLarge), errors.Is(err, wsse.ErrDoctype),
			errors.Is(err, wsse.ErrMalformed), errors.Is(err, wsse.ErrStructure):
			return fmt.Errorf("%s: %w: %w", op, ErrProtocol, err)
		}
		return fmt.Errorf("%s: %w: %w", op, ErrSignature, err)
	}
	if opened.Space != NamespaceEID || opened.Local != wantLocal {
		return fmt.Errorf("%s: %w: got {%s}%s, want %s", op, ErrProtocol, opened.Space, opened.Local, wantLocal)
	}
	if err := xml.Unmarshal(opened.Payload, out); err != nil {
		return fmt.Errorf("%s: %w: decode %s: %w", op, ErrProtocol, wantLocal, err)
	}
	return nil
}

// faultSummary extracts faultcode and faultstring from a SOAP fault for the
// error message, without trusting it for anything else (faults are unsigned).
func faultSummary(body []byte) string {
	doc, err := wsse.Parse(body, wsse.Limits{})
	if err != nil {
		return ""
	}
	f := doc.FindElement("//Fault")
	if f == nil {
		return ""
	}
	code := strings.TrimSpace(f.FindElement("faultcode").NotNil().Text())
	str := strings.TrimSpace(f.FindElement("faultstring").NotNil().Text())
	if len(str) > 200 {
		str = str[:200]
	}
	return fmt.Sprintf(" (SOAP fault %q: %q)", code, str)
}

// UseID opens a session (TR-03130-1 §3.2.1). On success the response has a
// session ID and a PSK that passed basic checks; when req carries a PSK the
// server must have echoed it.
func (c *Client) UseID(ctx context.Context, req *UseIDRequest) (*UseIDResponse, error) {
	var resp UseIDResponse
	if err := c.call(ctx, "useID", ActionUseID, req, "useIDResponse", &resp); err != nil {
		return nil, err
	}
	if err := resultError("useID", resp.Result); err != nil {
		return nil, err
	}
	if resp.Session == nil || !validSessionID(strings.TrimSpace(resp.Session.ID)) {
		return nil, fmt.Errorf("useID: %w: session ID missing or shorter than 32 hex digits", ErrProtocol)
	}
	if resp.PSK == nil {
		return nil, fmt.Errorf("useID: %w: no PSK", ErrProtocol)
	}
	if err := checkPSK(resp.PSK); err != nil {
		return nil, fmt.Errorf("useID: %w: %w", ErrProtocol, err)
	}
	if req.PSK != nil {
		same := subtle.ConstantTimeCompare([]byte(strings.TrimSpace(req.PSK.ID)), []byte(strings.TrimSpace(resp.PSK.ID))) == 1
		same = subtle.ConstantTimeCompare([]byte(strings.ToLower(strings.TrimSpace(req.PSK.Key))), []byte(strings.ToLower(strings.TrimSpace(resp.PSK.Key)))) == 1 && same
		if !same {
			return nil, fmt.Errorf("useID: %w: PSK in the response differs from the one sent", ErrProtocol)
		}
	}
	if a := strings.TrimSpace(resp.ECardServerAddress); a != "" {
		if u, err := url.Parse(a); err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("useID: %w: eCardServerAddress is not an https URL", ErrProtocol)
		}
	}
	return &resp, nil
}

// GetResult asks for the session's result with the given RequestCounter,
// which must be one more than in the previous call for this session.
// ErrNoResultYet (wrapped in a *ResultError) means: poll again.
func (c *Client) GetResult(ctx context.Context, sessionID string, counter int) (*GetResultResponse, error) {
	req := &GetResultRequest{Session: Session{ID: sessionID}, RequestCounter: counter}
	var resp GetResultResponse
	if err := c.call(ctx, "getResult", ActionGetResult, req, "getResultResponse", &resp); err != nil {
		return nil, err
	}
	if err := resultError("getResult", resp.Result); err != nil {
		return nil, err
	}
	return &resp, nil
}

// GetServerInfo returns the interface version and the terminal rights.
func (c *Client) GetServerInfo(ctx context.Context) (*GetServerInfoResponse, error) {
	var resp GetServerInfoResponse
	if err := c.call(ctx, "getServerInfo", ActionGetServerInfo, &GetServerInfoRequest{}, "getServerInfoResponse", &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

func isHex(s string) bool {
	if len(s)%2 != 0 || s == "" {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// validSessionID: TR-03130-1 §3.3.1 wants at least 32 hex characters.
func validSessionID(s string) bool { return len(s) >= 32 && len(s) <= 256 && isHex(s) }

// checkPSK applies the schema's PreSharedKeyType limits: an ID of at least
// 16 characters and a hex key of at least 16 bytes.
func checkPSK(p *PSK) error {
	id := strings.TrimSpace(p.ID)
	key := strings.TrimSpace(p.Key)
	if len(id) < 16 || len(id) > 256 {
		return errors.New("PSK ID must have 16 to 256 characters")
	}
	for _, r := range id {
		if r <= ' ' || r > '~' {
			return errors.New("PSK ID must be printable ASCII")
		}
	}
	if !isHex(key) || len(key) < 32 || len(key) > 512 {
		return errors.New("PSK key must be 16 to 256 bytes in hex")
	}
	return nil
}

// checkCertificates refuses to talk once our signing certificate or the
// eID-Server's pinned one is outside its validity period. Loading checks
// them too, but a broker runs for months: without this the adapter would go
// on signing with a certificate the eID-Server refuses (an opaque failure
// per login) and, worse, go on trusting the server's expired key. Readiness
// reports the reason through CheckHealth, which makes a call.
func (c *Client) checkCertificates() error {
	now := c.now()
	for _, cert := range c.certs {
		if cert == nil {
			continue
		}
		if err := checkDates(cert, now); err != nil {
			return fmt.Errorf("%w: %w", ErrCertificate, err)
		}
	}
	return nil
}
