package eid_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters/eid"
	"github.com/ozg-broker/eidas-broker/adapters/eid/eidsim"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

// startSimServer serves an eID-Server simulator with custom settings over
// mutual TLS (httptest), for result-code paths StartDemo does not expose.
func startSimServer(t *testing.T, p *eidsim.PKI, mutate func(*eidsim.ServerConfig)) string {
	t.Helper()
	cfg := eidsim.ServerConfig{
		SigningKey:         p.ServerSigning.Key,
		SigningCert:        p.ServerSigning.Cert,
		ClientSigningCerts: []*x509.Certificate{p.ServiceSigning.Cert},
		RequireClientTLS:   true,
		ECardServerAddress: "https://127.0.0.1:1/paos",
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := eidsim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv)
	ts.TLS = &tls.Config{
		Certificates: []tls.Certificate{p.ServerTLS},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    p.CAPool(),
	}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts.URL
}

func clientFor(t *testing.T, p *eidsim.PKI, endpoint string, mutate func(*eid.ClientOptions)) *eid.Client {
	t.Helper()
	o := eid.ClientOptions{
		Endpoint:          endpoint,
		HTTP:              mtlsClient(p, &p.ClientTLS),
		SigningKey:        p.ServiceSigning.Key,
		SigningCert:       p.ServiceSigning.Cert,
		ServerSigningCert: p.ServerSigning.Cert,
		Timeout:           5 * time.Second,
	}
	if mutate != nil {
		mutate(&o)
	}
	c, err := eid.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUseIDResultCodes(t *testing.T) {
	p := loadPKI(t)
	restricted := &eid.Operations{}
	for _, n := range eid.OperationNames() {
		restricted.Set(n, eid.Allowed)
	}
	restricted.Set("PlaceOfResidence", eid.Prohibited)
	url := startSimServer(t, p, func(c *eidsim.ServerConfig) { c.Rights = restricted })
	c := clientFor(t, p, url, nil)
	ctx := context.Background()

	tests := []struct {
		name   string
		mutate func(*eid.UseIDRequest)
		want   error
	}{
		{"ok", func(*eid.UseIDRequest) {}, nil},
		{"missing age argument", func(r *eid.UseIDRequest) { r.UseOperations.AgeVerification = eid.Required }, eid.ErrMissingArgument},
		{"missing place argument", func(r *eid.UseIDRequest) { r.UseOperations.PlaceVerification = eid.Allowed }, eid.ErrMissingArgument},
		{"bad place argument", func(r *eid.UseIDRequest) {
			r.UseOperations.PlaceVerification = eid.Required
			r.PlaceVerificationRequest = &eid.PlaceVerificationRequest{CommunityID: "12"}
		}, eid.ErrMissingArgument},
		{"missing terminal rights", func(r *eid.UseIDRequest) { r.UseOperations.PlaceOfResidence = eid.Allowed }, eid.ErrMissingTerminalRights},
		{"invalid PSK", func(r *eid.UseIDRequest) { r.PSK = &eid.PSK{ID: "short", Key: "00"} }, eid.ErrInvalidPSK},
		{"PSK not hex", func(r *eid.UseIDRequest) {
			r.PSK = &eid.PSK{ID: "0123456789abcdef0123", Key: "not-hex-not-hex-not-hex-not-hex!"}
		}, eid.ErrInvalidPSK},
		{"schema violation", func(r *eid.UseIDRequest) { r.UseOperations.GivenNames = "MAYBE" }, eid.ErrSchemaViolation},
		{"unknown level", func(r *eid.UseIDRequest) { r.LevelOfAssuranceRequest = "http://bsi.bund.de/eID/LoA/ultra" }, eid.ErrSchemaViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := basicRequest()
			tt.mutate(r)
			resp, err := c.UseID(ctx, r)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err == nil && (resp.Session == nil || resp.PSK == nil || resp.ECardServerAddress == "") {
				t.Fatalf("response %+v", resp)
			}
			var re *eid.ResultError
			if err != nil && (!errors.As(err, &re) || re.Op != "useID") {
				t.Fatalf("not a ResultError: %v", err)
			}
		})
	}

	// An eService-chosen PSK must come back unchanged.
	r := basicRequest()
	r.PSK = &eid.PSK{ID: "eservice-chosen-psk-id", Key: strings.Repeat("ab", 32)}
	resp, err := c.UseID(ctx, r)
	if err != nil || resp.PSK.ID != r.PSK.ID || resp.PSK.Key != r.PSK.Key {
		t.Fatalf("PSK not echoed: %+v %v", resp, err)
	}
	// The same PSK ID cannot be used for a second session.
	if _, err := c.UseID(ctx, r); !errors.Is(err, eid.ErrInvalidPSK) {
		t.Fatalf("reused PSK ID: %v", err)
	}
}

func TestGetResultCodes(t *testing.T) {
	p := loadPKI(t)
	now := time.Now()
	clock := &now
	url := startSimServer(t, p, func(c *eidsim.ServerConfig) {
		c.Now = func() time.Time { return *clock }
		c.SessionTTL = time.Minute
		c.MaxOpenSessions = 3
	})
	c := clientFor(t, p, url, nil)
	ctx := context.Background()
	open := func() string {
		resp, err := c.UseID(ctx, basicRequest())
		if err != nil {
			t.Fatal(err)
		}
		return resp.Session.ID
	}

	t.Run("noResultYet then invalidCounter ends the session", func(t *testing.T) {
		sid := open()
		if _, err := c.GetResult(ctx, sid, 1); !errors.Is(err, eid.ErrNoResultYet) {
			t.Fatalf("first: %v", err)
		}
		if _, err := c.GetResult(ctx, sid, 2); !errors.Is(err, eid.ErrNoResultYet) {
			t.Fatalf("second: %v", err)
		}
		if _, err := c.GetResult(ctx, sid, 2); !errors.Is(err, eid.ErrInvalidCounter) {
			t.Fatalf("repeated counter: %v", err)
		}
		if _, err := c.GetResult(ctx, sid, 3); !errors.Is(err, eid.ErrInvalidSession) {
			t.Fatalf("after invalidCounter: %v", err)
		}
	})
	t.Run("counter out of order", func(t *testing.T) {
		sid := open()
		if _, err := c.GetResult(ctx, sid, 5); !errors.Is(err, eid.ErrInvalidCounter) {
			t.Fatalf("skipped counter: %v", err)
		}
	})
	t.Run("unknown session", func(t *testing.T) {
		if _, err := c.GetResult(ctx, "00112233445566778899aabbccddeeff", 1); !errors.Is(err, eid.ErrInvalidSession) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("expired session", func(t *testing.T) {
		sid := open()
		later := now.Add(2 * time.Minute)
		clock = &later
		defer func() { clock = &now }()
		// The signature timestamps use the real clock on the client; only
		// the server's session clock moves.
		if _, err := c.GetResult(ctx, sid, 1); !errors.Is(err, eid.ErrInvalidSession) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestSessionsSeparatedByEService(t *testing.T) {
	p := loadPKI(t)
	rogue := loadPKI(t, "rogue")
	url := startSimServer(t, p, func(c *eidsim.ServerConfig) {
		c.ClientSigningCerts = []*x509.Certificate{p.ServiceSigning.Cert, rogue.ServiceSigning.Cert}
	})
	a := clientFor(t, p, url, nil)
	b := clientFor(t, p, url, func(o *eid.ClientOptions) {
		o.SigningKey, o.SigningCert = rogue.ServiceSigning.Key, rogue.ServiceSigning.Cert
	})
	resp, err := a.UseID(context.Background(), basicRequest())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetResult(context.Background(), resp.Session.ID, 1); !errors.Is(err, eid.ErrInvalidSession) {
		t.Fatalf("another eService read the session: %v", err)
	}
}

// rewrite is a RoundTripper that edits requests or responses in flight.
type rewrite struct {
	base     http.RoundTripper
	request  func([]byte) []byte
	response func([]byte) []byte
}

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	if rw.request != nil {
		b, _ := io.ReadAll(r.Body)
		b = rw.request(b)
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
	}
	resp, err := rw.base.RoundTrip(r)
	if err != nil || rw.response == nil {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b = rw.response(b)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	return resp, nil
}

func TestWSSecurityBothDirections(t *testing.T) {
	p := loadPKI(t)
	rogue := loadPKI(t, "rogue")
	url := startSimServer(t, p, nil)
	ctx := context.Background()
	tamper := func(b []byte) []byte {
		return bytes.Replace(b, []byte("<GivenNames>REQUIRED<"), []byte("<GivenNames>ALLOWED<"), 1)
	}
	tamperResponse := func(b []byte) []byte {
		// Change a value inside the signed body.
		return bytes.Replace(b, []byte("resultmajor#ok"), []byte("resultmajor#OK"), 1)
	}
	withTransport := func(rw rewrite) func(*eid.ClientOptions) {
		return func(o *eid.ClientOptions) {
			rw.base = mtlsClient(p, &p.ClientTLS).Transport
			o.HTTP = &http.Client{Transport: rw}
		}
	}
	tests := []struct {
		name   string
		mutate func(*eid.ClientOptions)
		want   error
	}{
		{"tampered request: server answers internalError", withTransport(rewrite{request: tamper}), eid.ErrInternal},
		{"request signed by an unknown key: no answer", func(o *eid.ClientOptions) {
			o.SigningKey, o.SigningCert = rogue.ServiceSigning.Key, rogue.ServiceSigning.Cert
		}, eid.ErrProtocol},
		{"unsigned request: no answer", withTransport(rewrite{request: func(b []byte) []byte {
			i, j := bytes.Index(b, []byte("<soapenv:Header>")), bytes.Index(b, []byte("</soapenv:Header>"))
			return append(append(append([]byte{}, b[:i]...), []byte("<soapenv:Header/>")...), b[j+len("</soapenv:Header>"):]...)
		}}), eid.ErrProtocol},
		{"tampered response", withTransport(rewrite{response: tamperResponse}), eid.ErrSignature},
		{"response expected from another key", func(o *eid.ClientOptions) { o.ServerSigningCert = rogue.ServerSigning.Cert }, eid.ErrSignature},
		{"response with DOCTYPE", withTransport(rewrite{response: func(b []byte) []byte {
			return append([]byte(`<!DOCTYPE x [<!ENTITY e "e">]>`), b[bytes.Index(b, []byte("<soapenv:Envelope")):]...)
		}}), eid.ErrProtocol},
		{"oversized response", func(o *eid.ClientOptions) {
			withTransport(rewrite{response: func(b []byte) []byte { return append(b, bytes.Repeat([]byte(" "), 4096)...) }})(o)
			o.MaxResponseBytes = 4096
		}, eid.ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clientFor(t, p, url, tt.mutate)
			_, err := c.UseID(ctx, basicRequest())
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestUnsignedVectorRefused serves the TR's (unsigned) example response: the
// client must not use it.
func TestUnsignedVectorRefused(t *testing.T) {
	p := loadPKI(t)
	body := []byte(`<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:eid="http://bsi.bund.de/eID/" xmlns:dss="urn:oasis:names:tc:dss:1.0:core:schema"><soapenv:Header/><soapenv:Body><eid:useIDResponse><eid:Session><eid:ID>1234567890abcdef1234567890abcdef</eid:ID></eid:Session><eid:PSK><eid:ID>0987654321abcdef1234567890abcdef</eid:ID><eid:Key>fedcba0987654321fedcba0987654321</eid:Key></eid:PSK><dss:Result><dss:ResultMajor>http://www.bsi.bund.de/ecard/api/1.1/resultmajor#ok</dss:ResultMajor></dss:Result></eid:useIDResponse></soapenv:Body></soapenv:Envelope>`)
	if dir, ok := testfiles.FindVectors(t, "eid", "soap"); ok {
		if b, err := os.ReadFile(filepath.Join(dir, "useIDResponse.xml")); err == nil {
			body = b
		}
	}
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(body)
	}))
	defer ts.Close()
	c := clientFor(t, p, ts.URL, func(o *eid.ClientOptions) { o.HTTP = ts.Client() })
	if _, err := c.UseID(context.Background(), basicRequest()); !errors.Is(err, eid.ErrSignature) {
		t.Fatalf("got %v, want ErrSignature", err)
	}
}

func TestMutualTLSRequired(t *testing.T) {
	p := loadPKI(t)
	rogue := loadPKI(t, "rogue")
	d, err := eidsim.StartDemo(eidsim.DemoOptions{PKI: p})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	tests := []struct {
		name string
		cert *tls.Certificate
		want error
	}{
		{"configured client certificate", &p.ClientTLS, nil},
		{"no client certificate", nil, eid.ErrUnavailable},
		{"certificate from another CA", &rogue.ClientTLS, eid.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawClient(t, d, func(o *eid.ClientOptions) { o.HTTP = mtlsClient(p, tt.cert) })
			_, err := c.GetServerInfo(ctx)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}

	// The handler itself also refuses a request without a verified client
	// certificate when configured to (here: plain TLS without client auth).
	url := startSimServer(t, p, nil)
	c := clientFor(t, p, url, func(o *eid.ClientOptions) { o.HTTP = mtlsClient(p, nil) })
	if _, err := c.GetServerInfo(ctx); !errors.Is(err, eid.ErrProtocol) || !strings.Contains(err.Error(), "403") {
		t.Fatalf("handler without client certificate: %v", err)
	}
	url = startSimServer(t, p, func(c *eidsim.ServerConfig) { c.RequireClientTLS = false })
	c = clientFor(t, p, url, func(o *eid.ClientOptions) { o.HTTP = mtlsClient(p, nil) })
	if _, err := c.GetServerInfo(ctx); err != nil {
		t.Fatalf("server not requiring client certificates: %v", err)
	}
}

func TestCallTimeout(t *testing.T) {
	p := loadPKI(t)
	// The server never answers while the client waits: the handler holds
	// the request until the test ends. (It used to return when the
	// request's context ended; on a loaded machine that once happened
	// before the client's deadline, and the client got an empty 200.)
	release := make(chan struct{})
	ts := httptest.NewTLSServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
	}))
	defer ts.Close()
	defer close(release) // before Close, which waits for the handler
	c := clientFor(t, p, ts.URL, func(o *eid.ClientOptions) {
		o.HTTP = ts.Client()
		o.Timeout = 50 * time.Millisecond
	})
	if _, err := c.GetServerInfo(context.Background()); !errors.Is(err, eid.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestSOAPFault(t *testing.T) {
	p := loadPKI(t)
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>boom</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`)
	}))
	defer ts.Close()
	c := clientFor(t, p, ts.URL, func(o *eid.ClientOptions) { o.HTTP = ts.Client() })
	_, err := c.GetResult(context.Background(), "00112233445566778899aabbccddeeff", 1)
	if !errors.Is(err, eid.ErrProtocol) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v", err)
	}
}

func TestNewClientChecks(t *testing.T) {
	p := loadPKI(t)
	base := eid.ClientOptions{
		Endpoint: "https://example.org/eid", HTTP: http.DefaultClient,
		SigningKey: p.ServiceSigning.Key, SigningCert: p.ServiceSigning.Cert, ServerSigningCert: p.ServerSigning.Cert,
	}
	tests := []struct {
		name   string
		mutate func(*eid.ClientOptions)
	}{
		{"relative endpoint", func(o *eid.ClientOptions) { o.Endpoint = "/eid" }},
		{"no HTTP client", func(o *eid.ClientOptions) { o.HTTP = nil }},
		{"no server certificate", func(o *eid.ClientOptions) { o.ServerSigningCert = nil }},
		{"key does not match certificate", func(o *eid.ClientOptions) { o.SigningCert = p.ServerSigning.Cert }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.mutate(&o)
			if _, err := eid.NewClient(o); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if _, err := eid.NewClient(base); err != nil {
		t.Fatal(err)
	}
}

// TestClientRefusesInvalidCertificates: a certificate that expires while the
// broker runs stops the client before anything is sent, with ErrCertificate,
// for our signing certificate and for the eID-Server's pinned one alike.
func TestClientRefusesInvalidCertificates(t *testing.T) {
	p := loadPKI(t)
	var calls int
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		http.Error(w, "unexpected", http.StatusTeapot)
	}))
	t.Cleanup(counting.Close)
	// expiredCopy is cert with a validity period that ended yesterday, so
	// each case proves one certificate's check on its own.
	expiredCopy := func(cert *x509.Certificate) *x509.Certificate {
		cp := *cert
		cp.NotAfter = time.Now().Add(-24 * time.Hour)
		return &cp
	}
	tests := []struct {
		name   string
		mutate func(*eid.ClientOptions)
	}{
		{"our signing certificate expired", func(o *eid.ClientOptions) { o.SigningCert = expiredCopy(o.SigningCert) }},
		{"server signing certificate expired", func(o *eid.ClientOptions) { o.ServerSigningCert = expiredCopy(o.ServerSigningCert) }},
		{"clock past both", func(o *eid.ClientOptions) {
			later := o.SigningCert.NotAfter.Add(time.Second)
			if o.ServerSigningCert.NotAfter.After(later) {
				later = o.ServerSigningCert.NotAfter.Add(time.Second)
			}
			o.Now = func() time.Time { return later }
		}},
		{"clock before our certificate", func(o *eid.ClientOptions) {
			before := o.SigningCert.NotBefore.Add(-time.Second)
			o.Now = func() time.Time { return before }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clientFor(t, p, counting.URL, tt.mutate)
			_, err := c.GetServerInfo(context.Background())
			if !errors.Is(err, eid.ErrCertificate) {
				t.Fatalf("err = %v, want ErrCertificate", err)
			}
			if calls != 0 {
				t.Fatalf("%d requests sent with an invalid certificate", calls)
			}
		})
	}
	// Within both validity periods the client does call (and fails on the
	// teapot, which proves the check above was the only thing stopping it).
	c := clientFor(t, p, counting.URL, nil)
	if _, err := c.GetServerInfo(context.Background()); errors.Is(err, eid.ErrCertificate) || calls != 1 {
		t.Fatalf("valid certificates: err %v, %d calls", err, calls)
	}
}
