package eidsim

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters/eid"
)

// DemoOptions configures StartDemo. The zero value works.
type DemoOptions struct {
	// PKI is the key material; nil generates a fresh one (about a second).
	PKI *PKI
	// Listen is the eID-Server's TLS address (default "127.0.0.1:0").
	Listen string
	// ClientBasePath is where the caller mounts Demo.Client (default
	// "/sim/eid-client/").
	ClientBasePath string
	// Cards default to TestCards().
	Cards []Card
	// MaxOpenSessions and SessionTTL are passed to the server simulator.
	MaxOpenSessions int
	SessionTTL      time.Duration
	// TCTokenHTTP fetches TC Tokens for the client simulator (default: 10s
	// timeout, no cookies).
	TCTokenHTTP *http.Client
	Logger      *slog.Logger
	Now         func() time.Time
}

// Demo is a running eID-Server simulator on its own mutual-TLS listener plus
// the eID-Client simulator handler. Wire it like this:
//
//	d, err := eidsim.StartDemo(eidsim.DemoOptions{})
//	defer d.Close()
//	mux.Handle("/sim/eid-client/", d.Client)               // the AusweisApp's role
//	cfg := d.AdapterConfig(baseURL + "/sim/eid-client/") // an eid.Config preset
//	adapter, err := cfg.Open("eid", deps)               // as for any eid adapter
//	mux.Handle("/eid/", http.StripPrefix("/eid", adapter.Routes()))
type Demo struct {
	PKI *PKI
	// Server is the eID-Server simulator; ServerURL its SOAP endpoint.
	Server    *Server
	ServerURL string
	// Client is the eID-Client simulator (an http.Handler).
	Client *ClientSim

	srv *http.Server
	ln  net.Listener
}

// StartDemo starts the eID-Server simulator on a TLS listener that demands
// a client certificate from the PKI's CA, and builds the client simulator.
func StartDemo(opts DemoOptions) (*Demo, error) {
	p := opts.PKI
	if p == nil {
		var err error
		if p, err = NewPKI(PKIOptions{}); err != nil {
			return nil, fmt.Errorf("start eid demo: %w", err)
		}
	}
	addr := opts.Listen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start eid demo: %w", err)
	}
	base := "https://" + ln.Addr().String()
	srv, err := NewServer(ServerConfig{
		SigningKey:         p.ServerSigning.Key,
		SigningCert:        p.ServerSigning.Cert,
		ClientSigningCerts: []*x509.Certificate{p.ServiceSigning.Cert},
		RequireClientTLS:   true,
		ECardServerAddress: base + "/paos",
		MaxOpenSessions:    opts.MaxOpenSessions,
		SessionTTL:         opts.SessionTTL,
		Now:                opts.Now,
		Logger:             opts.Logger,
	})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("start eid demo: %w", err)
	}
	client, err := NewClientSim(ClientConfig{Server: srv, HTTP: opts.TCTokenHTTP, Cards: opts.Cards, BasePath: opts.ClientBasePath, Logger: opts.Logger, Now: opts.Now})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("start eid demo: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/eID-Interface", srv)
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{p.ServerTLS},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    p.CAPool(),
		},
	}
	if opts.Logger != nil {
		hs.ErrorLog = slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug)
	}
	d := &Demo{PKI: p, Server: srv, ServerURL: base + "/eID-Interface", Client: client, srv: hs, ln: ln}
	go func() {
		if err := hs.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) && opts.Logger != nil {
			opts.Logger.Error("eid demo server stopped", "err", err)
		}
	}()
	return d, nil
}

// AdapterConfig returns an eid.Config wired to this simulator: endpoint,
// mutual TLS and WS-Security keys in memory, level high requested, the
// default attribute selection, and clientURL as both eID-Client links.
func (d *Demo) AdapterConfig(clientURL string) *eid.Config {
	c := eid.NewConfig()
	c.Endpoint = d.ServerURL
	c.ClientURL = clientURL
	c.MobileClientURL = clientURL
	c.LevelOfAssurance = "high"
	c.Material = &eid.Material{
		ClientCert:        &d.PKI.ClientTLS,
		ServerCAs:         d.PKI.CAPool(),
		SigningKey:        d.PKI.ServiceSigning.Key,
		SigningCert:       d.PKI.ServiceSigning.Cert,
		ServerSigningCert: d.PKI.ServerSigning.Cert,
	}
	return c
}

// Close stops the eID-Server simulator at once, dropping open connections
// (a graceful HTTP/2 shutdown would wait for idle clients for a second).
func (d *Demo) Close() error {
	return d.srv.Close()
}
