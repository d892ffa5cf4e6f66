package eidasservice

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/config"
)

// ConfigFromFile turns a validated eidas_service block into a Config: it
// loads the key, certificates, trust anchors and metadata files and maps
// attribute FriendlyNames to Name URIs. issuer is the broker's issuer,
// adapter the opened eID adapter named by f.Adapter, st a confined store
// (broker.AdapterStore(st, "eidas-service")), dataKey the broker's
// keys.data_key.
func ConfigFromFile(f *config.EIDASService, issuer string, adapter adapters.Adapter, st store.Store, dataKey []byte, log *slog.Logger) (Config, error) {
	c := Config{
		BaseURL: strings.TrimSuffix(issuer, "/"), Adapter: adapter, AdapterID: f.Adapter, Store: st, DataKey: dataKey,
		SignatureAlgorithm: f.SignatureAlgorithm, PseudonymSecret: []byte(f.PseudonymSecret.Value()),
		NodeCountry: f.NodeCountry, RequesterIDOptional: f.RequesterIDOptional,
		MetadataValidity: f.MetadataValidity.D(), MetadataRefresh: f.MetadataRefresh.D(), ClockSkew: f.ClockSkew.D(),
		RequestMaxAge: f.RequestMaxAge.D(), ResponseValidity: f.ResponseValidity.D(), TransactionTTL: f.TransactionTTL.D(),
		Logger: log,
	}
	var err error
	if c.SigningKey, err = f.LoadSigningKey(); err != nil {
		return Config{}, fmt.Errorf("%w: signing_key: %w", ErrConfig, err)
	}
	if c.SigningCert, err = f.LoadSigningCert(); err != nil {
		return Config{}, fmt.Errorf("%w: signing_cert: %w", ErrConfig, err)
	}
	if c.EncryptionCert, err = f.LoadEncryptionCert(); err != nil {
		return Config{}, fmt.Errorf("%w: encryption_cert: %w", ErrConfig, err)
	}
	if o := f.Organization; o != nil {
		c.Organization = &Organization{Name: o.Name, DisplayName: o.DisplayName, URL: o.URL, SupportEmail: o.SupportEmail, TechnicalEmail: o.TechnicalEmail}
	}
	for i := range f.Connectors {
		fc := &f.Connectors[i]
		cc := Connector{EntityID: fc.EntityID, MetadataURL: fc.MetadataURL, Country: fc.Country, SPType: fc.SPType, Name: fc.Name}
		if cc.Metadata, err = fc.LoadMetadata(); err != nil {
			return Config{}, fmt.Errorf("%w: connectors[%d]: %w", ErrConfig, i, err)
		}
		if cc.TrustAnchors, err = fc.LoadTrustAnchors(); err != nil {
			return Config{}, fmt.Errorf("%w: connectors[%d]: trust_anchor: %w", ErrConfig, i, err)
		}
		for _, name := range fc.AllowedAttributes {
			d, ok := attrByFriendlyName(name)
			if !ok {
				return Config{}, fmt.Errorf("%w: connectors[%d]: unknown attribute %q", ErrConfig, i, name)
			}
			cc.AllowedAttributes = append(cc.AllowedAttributes, d.Name)
		}
		c.Connectors = append(c.Connectors, cc)
	}
	return c, nil
}

func attrByFriendlyName(name string) (attrDef, bool) {
	for _, d := range attrDefs {
		if d.FriendlyName == name && d.Published {
			return d, true
		}
	}
	return attrDef{}, false
}
