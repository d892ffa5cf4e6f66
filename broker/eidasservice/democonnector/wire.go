package democonnector

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"log/slog"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	es "github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// WireOptions are what the demo has at hand.
type WireOptions struct {
	// Issuer is the broker's base URL.
	Issuer string
	// Adapter is the eID adapter instance (with its routes mounted at
	// /eid/); AdapterID its ID.
	Adapter   adapters.Adapter
	AdapterID string
	// Store is a confined store for the service
	// (broker.AdapterStore(st, "eidas-service")).
	Store store.Store
	// ConnectorPath is where the demo connector is mounted (default
	// "/demo/connector").
	ConnectorPath string
	// Country of the demo connector (default AT).
	Country string
	Logger  *slog.Logger
	Now     func() time.Time
	// Layout is the service's page layout (eidasservice.Config.Layout).
	Layout func(es.Page) ([]byte, error)
}

// Demo is a wired eIDAS-Service with a demo connector it trusts.
type Demo struct {
	Service   *es.Service
	Connector *Connector
}

// Wire builds, with generated keys and secrets, the eIDAS-Service and a
// demo connector that trust each other. Mount Service.Routes() at
// eidasservice.PathPrefix and Connector.Handler() at ConnectorPath, both
// with the prefix stripped.
func Wire(o WireOptions) (*Demo, error) {
	if o.ConnectorPath == "" {
		o.ConnectorPath = "/demo/connector"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	svcKey, err := GenerateKey(KindEC, "demo eIDAS-Service DE signing", false, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	conn, err := New(Config{BaseURL: o.Issuer + o.ConnectorPath, Country: o.Country, Logger: o.Logger, Now: o.Now,
		Service: ServiceInfo{EntityID: o.Issuer + es.MetadataPath, SSOURL: o.Issuer + es.SSOPath, Certs: []*x509.Certificate{svcKey.Cert}}})
	if err != nil {
		return nil, err
	}
	entry, err := conn.ServiceEntry()
	if err != nil {
		return nil, err
	}
	secret, dataKey := make([]byte, 32), make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("demo secrets: %w", err)
	}
	if _, err := rand.Read(dataKey); err != nil {
		return nil, fmt.Errorf("demo secrets: %w", err)
	}
	svc, err := es.New(es.Config{
		BaseURL: o.Issuer, SigningKey: svcKey.Key, SigningCert: svcKey.Cert,
		Adapter: o.Adapter, AdapterID: o.AdapterID, Store: o.Store,
		PseudonymSecret: secret, DataKey: dataKey, Connectors: []es.Connector{entry},
		Organization: &es.Organization{Name: "eIDAS broker demo", URL: o.Issuer},
		Logger:       o.Logger, Now: o.Now, Layout: o.Layout,
	})
	if err != nil {
		return nil, err
	}
	return &Demo{Service: svc, Connector: conn}, nil
}
