package eidas

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Adapter is the eIDAS-Connector. Create it with Config.Open; stop its
// metadata refresh with Close.
type Adapter struct {
	id      string
	cfg     Config // effective
	log     *slog.Logger
	now     func() time.Time
	http    *http.Client
	store   store.Store
	baseURL string

	entityID string
	acsURL   string

	signer   crypto.Signer
	signCert *x509.Certificate
	signAlg  string
	decKey   crypto.Signer
	// openKey is decKey as assertion decryption uses it: an ECDSA key
	// converted to its ECDH form once here, not on every Response (the
	// conversion recomputes the public point).
	openKey crypto.PrivateKey
	encCert *x509.Certificate

	personType PersonType
	requested  []requested
	nameID     string
	skew       time.Duration

	countries []*country
	byCode    map[string]*country
	maxLevel  assurance.Level

	metaMu    sync.Mutex
	metaBytes []byte
	metaFresh time.Time

	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// requested is one attribute of the request, resolved in the registry.
type requested struct {
	def      AttributeDef
	required bool
}

var (
	_ adapters.Adapter       = (*Adapter)(nil)
	_ adapters.Router        = (*Adapter)(nil)
	_ adapters.HealthChecker = (*Adapter)(nil)
)

// Open builds the adapter: it loads the key material, loads and verifies
// every country's metadata once (a country whose metadata fails stays
// listed but unavailable, and is retried), and starts the background
// refresh. deps.BaseURL and deps.Store are required.
func (c *Config) Open(id string, deps adapters.Deps) (*Adapter, error) {
	if ps := c.Validate(); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = strings.TrimPrefix(p.Path+": "+p.Msg, ": ")
		}
		return nil, fmt.Errorf("eidas: open %s: invalid config: %s", id, strings.Join(msgs, "; "))
	}
	if deps.BaseURL == "" || deps.Store == nil {
		return nil, fmt.Errorf("eidas: open %s: base URL and store are required", id)
	}
	e := c.effective()
	base := strings.TrimRight(deps.BaseURL, "/")
	a := &Adapter{
		id: id, cfg: e, log: deps.Logger, now: deps.Now, http: deps.HTTP, store: deps.Store, baseURL: base,
		entityID:   e.EntityID,
		acsURL:     base + ConnectorPath + "/acs",
		personType: PersonType(e.PersonType),
		nameID:     nameIDFormats[e.NameIDFormat],
		skew:       e.ClockSkew.D(),
		byCode:     map[string]*country{},
	}
	if a.entityID == "" {
		a.entityID = base + ConnectorPath + "/metadata"
	}
	if err := checkURL(a.entityID); err != nil {
		return nil, fmt.Errorf("eidas: open %s: entity ID %w", id, err)
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.http == nil {
		a.http = &http.Client{Timeout: fetchTimeout}
	}
	if err := a.loadMaterial(e); err != nil {
		return nil, fmt.Errorf("eidas: open %s: %w", id, err)
	}
	for _, ra := range e.RequestedAttributes {
		d, _ := LookupAttribute(ra.Name)
		a.requested = append(a.requested, requested{def: d, required: ra.Required})
	}
	for _, cc := range e.Countries {
		ct := &country{
			code: cc.Code, names: adapters.Text{DE: cc.Name.DE, EN: cc.Name.EN}, level: cc.Level,
			url: cc.MetadataURL, file: string(cc.MetadataFile), entityID: cc.EntityID,
			interval: cc.RefreshInterval.D(), pkcs1: cc.AllowRSAPKCS1v15, legacyKT: cc.AllowLegacyKeyTransport,
			binding: samlxml.BindingPOST,
		}
		if cc.Binding == BindingNameRedirect {
			ct.binding = samlxml.BindingRedirect
		}
		if cc.Material != nil {
			ct.anchors = cc.Material.TrustAnchors
			ct.mem = cc.Material.Metadata
		}
		if len(ct.anchors) == 0 {
			certs, err := sp.LoadCerts(string(cc.TrustAnchorFile))
			if err != nil {
				return nil, fmt.Errorf("eidas: open %s: country %s: trust anchor: %w", id, cc.Code, err)
			}
			ct.anchors = certs
		}
		a.countries = append(a.countries, ct)
		a.byCode[ct.code] = ct
		a.maxLevel = assurance.Max(a.maxLevel, ct.level)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.stop, a.done = cancel, make(chan struct{})
	a.refreshAll(ctx)
	go a.refreshLoop(ctx)
	return a, nil
}

func (a *Adapter) loadMaterial(e Config) error {
	if m := e.Material; m != nil {
		a.signer, a.signCert, a.decKey, a.encCert = m.SigningKey, m.SigningCert, m.DecryptionKey, m.EncryptionCert
	} else {
		var err error
		if a.signer, err = sp.LoadKey(string(e.SigningKeyFile)); err != nil {
			return fmt.Errorf("signing key: %w", err)
		}
		certs, err := sp.LoadCerts(string(e.SigningCertFile))
		if err != nil {
			return fmt.Errorf("signing certificate: %w", err)
		}
		a.signCert = certs[0]
		if a.decKey, err = sp.LoadKey(string(e.EncryptionKeyFile)); err != nil {
			return fmt.Errorf("encryption key: %w", err)
		}
		if certs, err = sp.LoadCerts(string(e.EncryptionCertFile)); err != nil {
			return fmt.Errorf("encryption certificate: %w", err)
		}
		a.encCert = certs[0]
	}
	if err := sp.CheckKeyPair(a.signer, a.signCert); err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	if err := sp.CheckKeyPair(a.decKey, a.encCert); err != nil {
		return fmt.Errorf("encryption key: %w", err)
	}
	a.openKey = a.decKey
	if k, ok := a.decKey.(*ecdsa.PrivateKey); ok {
		// A curve without an ECDH form keeps the ECDSA key, so that
		// decryption reports it as before.
		if ek, err := k.ECDH(); err == nil {
			a.openKey = ek
		}
	}
	if a.signCert.Equal(a.encCert) {
		return errors.New("signing and encryption certificates must differ (eIDAS requires separate keys)")
	}
	alg, err := SignatureMethodFor(a.signer.Public())
	if err != nil {
		return err
	}
	a.signAlg = alg
	return nil
}

// Close stops the background metadata refresh. It is safe to call more
// than once.
func (a *Adapter) Close() error {
	a.closeOnce.Do(func() {
		a.stop()
		<-a.done
	})
	return nil
}

// Info implements adapters.Adapter: one option per country with its
// configured level; a country whose metadata is unusable carries a short
// bilingual reason.
func (a *Adapter) Info() adapters.Info {
	now := a.now()
	opts := make([]adapters.Option, len(a.countries))
	for i, c := range a.countries {
		opts[i] = adapters.Option{ID: c.code, Name: c.names, Level: c.level, Unavailable: c.unavailableText(now)}
	}
	name := adapters.Text{DE: "Elektronische Identität aus einem anderen EU-Staat (eIDAS)", EN: "Electronic identity from another EU country (eIDAS)"}
	if a.personType == Legal {
		name = adapters.Text{DE: "Für ein Unternehmen aus einem anderen EU-Staat (eIDAS)", EN: "On behalf of a company from another EU country (eIDAS)"}
	}
	return adapters.Info{Type: "eidas", Name: name, MaxLevel: a.maxLevel, Options: opts}
}

// EntityID is our connector's entity ID (the metadata URL).
func (a *Adapter) EntityID() string { return a.entityID }

// ACSURL is our assertion consumer service URL as published in metadata.
func (a *Adapter) ACSURL() string { return a.acsURL }
