package eidassim

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters/eidas"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/config"
)

// Options configure New. BaseURL and a connector metadata source are
// required.
type Options struct {
	// BaseURL is the external URL where Handler is mounted (prefix
	// stripped), e.g. "http://127.0.0.1:8080/sim/eidas". Country c lives
	// at BaseURL + "/" + c.Code.
	BaseURL string
	// ConnectorMetadataURL is fetched (and cached for a few minutes) to
	// learn the connector's keys and ACS; ConnectorMetadata, if set,
	// is used instead.
	ConnectorMetadataURL string
	ConnectorMetadata    func(ctx context.Context) ([]byte, error)
	// ConnectorTrust are the certificates the connector metadata signature
	// must verify with. Empty: the metadata must be signed by its own
	// signing certificate (trust on first use, acceptable for a demo only).
	ConnectorTrust []*x509.Certificate
	HTTP           *http.Client
	// Countries default to DefaultCountries().
	Countries []Country
	// Keys supplies key material instead of generating it (tests use the
	// fixed keys of testdata). Missing entries are generated.
	Keys *Keys
	// MetadataValidity is the validUntil horizon of the countries'
	// metadata (default 24h).
	MetadataValidity time.Duration
	Now              func() time.Time
	Logger           *slog.Logger
}

// Keys is the simulator's key material: a trust anchor (CA) that issues
// each country's signing certificate.
type Keys struct {
	CAKey     crypto.Signer
	CACert    *x509.Certificate
	Countries map[string]Signer // by country code
}

// Sim is a set of simulated eIDAS proxy-services behind one handler.
type Sim struct {
	opts      Options
	base      string
	http      *http.Client
	now       func() time.Time
	log       *slog.Logger
	keys      *Keys
	countries []Country
	byCode    map[string]*Country

	mu       sync.Mutex
	pending  map[string]*pending
	connMeta *eidas.Metadata
	connAt   time.Time
	// cutPages are rendered pages cut at their per-request values (see
	// cutPage).
	cutPages map[string][]string
}

// New builds the simulator, generating whatever keys Options.Keys lacks.
func New(opts Options) (*Sim, error) {
	if opts.BaseURL == "" || (opts.ConnectorMetadataURL == "" && opts.ConnectorMetadata == nil) {
		return nil, errors.New("eidassim: BaseURL and a connector metadata source are required")
	}
	s := &Sim{
		opts: opts, base: strings.TrimRight(opts.BaseURL, "/"), http: opts.HTTP, now: opts.Now, log: opts.Logger,
		countries: slices.Clone(opts.Countries), byCode: map[string]*Country{}, pending: map[string]*pending{},
		cutPages: map[string][]string{},
	}
	if s.http == nil {
		s.http = &http.Client{Timeout: 10 * time.Second}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.countries == nil {
		s.countries = DefaultCountries()
	}
	if s.opts.MetadataValidity == 0 {
		s.opts.MetadataValidity = 24 * time.Hour
	}
	s.keys = &Keys{Countries: map[string]Signer{}}
	if opts.Keys != nil {
		s.keys.CAKey, s.keys.CACert = opts.Keys.CAKey, opts.Keys.CACert
		for k, v := range opts.Keys.Countries {
			s.keys.Countries[samlxml.CountryCode(k)] = v
		}
	}
	if s.keys.CAKey == nil || s.keys.CACert == nil {
		key, cert, err := NewCA("eIDAS simulator trust anchor (demo only)")
		if err != nil {
			return nil, fmt.Errorf("eidassim: %w", err)
		}
		s.keys.CAKey, s.keys.CACert = key, cert
	}
	for i := range s.countries {
		c := &s.countries[i]
		// Like the adapter's configuration: "GR" and "EL" are one country,
		// kept as "EL" (its URLs, keys and messages use that form).
		c.Code = samlxml.CountryCode(c.Code)
		s.byCode[c.Code] = c
		if _, ok := s.keys.Countries[c.Code]; ok {
			continue
		}
		sg, err := IssueSigner(s.keys.CAKey, s.keys.CACert, c.Code+" proxy-service (simulator)", c.KeyType == "rsa")
		if err != nil {
			return nil, fmt.Errorf("eidassim: country %s: %w", c.Code, err)
		}
		s.keys.Countries[c.Code] = sg
	}
	return s, nil
}

// country finds a simulated country by code ("GR" finds Greece too).
func (s *Sim) country(code string) *Country { return s.byCode[samlxml.CountryCode(code)] }

// TrustAnchor is the certificate the adapter must trust for the
// simulated countries' metadata.
func (s *Sim) TrustAnchor() *x509.Certificate { return s.keys.CACert }

// Countries lists the simulated countries.
func (s *Sim) Countries() []Country { return s.countries }

// EntityID is a country's entity ID (its metadata URL).
func (s *Sim) EntityID(code string) string {
	return s.base + "/" + samlxml.CountryCode(code) + "/metadata"
}

func (s *Sim) ssoURL(code string) string { return s.base + "/" + samlxml.CountryCode(code) + "/sso" }

// CountryConfigs returns eidas.Country entries for the simulated
// countries: trust anchor and metadata in memory (no network needed at
// start), levels and names as simulated.
func (s *Sim) CountryConfigs() []eidas.Country {
	var out []eidas.Country
	for _, c := range s.countries {
		code := c.Code
		out = append(out, eidas.Country{
			Code: code, Name: eidas.Names{DE: c.Names.DE, EN: c.Names.EN}, Level: c.Level,
			RefreshInterval: config.Duration(time.Hour),
			Material: &eidas.CountryMaterial{
				TrustAnchors: []*x509.Certificate{s.keys.CACert},
				Metadata:     func(context.Context) ([]byte, error) { return s.Metadata(code) },
			},
		})
	}
	return out
}

// AdapterConfig returns a complete eidas.Config for the simulated
// countries, using m as the connector's keys (see GenerateMaterial).
func (s *Sim) AdapterConfig(m *eidas.Material) *eidas.Config {
	cfg := eidas.NewConfig()
	cfg.Material = m
	cfg.ProviderName = "Demo-Portal"
	cfg.Countries = s.CountryConfigs()
	return cfg
}

// Metadata returns a country's signed metadata.
func (s *Sim) Metadata(code string) ([]byte, error) {
	code = samlxml.CountryCode(code)
	c := s.byCode[code]
	if c == nil {
		return nil, fmt.Errorf("eidassim: unknown country %q", code)
	}
	sg := s.keys.Countries[code]
	now := s.now()
	ed := etree.NewElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", samlxml.NSMetadata)
	ed.CreateAttr("xmlns:ds", samlxml.NSDSig)
	ed.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	ed.CreateAttr("xmlns:eidas", samlxml.NSEIDAS)
	ed.CreateAttr("ID", samlxml.NewID())
	ed.CreateAttr("entityID", s.EntityID(code))
	ed.CreateAttr("validUntil", ts(now.Add(s.opts.MetadataValidity)))
	ext := ed.CreateElement("md:Extensions")
	ea := ext.CreateElement("mdattr:EntityAttributes")
	ea.CreateAttr("xmlns:mdattr", samlxml.NSMDAttr)
	samlxml.AddEntityAttribute(ea, samlxml.EntityAttrProtocolVersion, "1.4")
	samlxml.AddEntityAttribute(ea, samlxml.EntityAttrApplicationID, "ozg-broker:eidas-proxy-simulator:1.0")
	var loas []string
	for _, lv := range assurance.NotifiedLevels() {
		if c.Level.Satisfies(lv) {
			loas = append(loas, lv.URI())
		}
	}
	samlxml.AddEntityAttribute(ea, samlxml.EntityAttrAssuranceCert, loas...)
	alg, err := sg.algorithm()
	if err != nil {
		return nil, err
	}
	ext.CreateElement("alg:SigningMethod").CreateAttr("Algorithm", alg)
	ext.FindElement("alg:SigningMethod").CreateAttr("xmlns:alg", samlxml.NSAlgSupport)

	idp := ed.CreateElement("md:IDPSSODescriptor")
	idp.CreateAttr("WantAuthnRequestsSigned", "true")
	idp.CreateAttr("protocolSupportEnumeration", samlxml.ProtocolSAML2)
	idp.CreateElement("md:Extensions").CreateElement("eidas:NodeCountry").SetText(eidas.EIDASCountryCode(code))
	samlxml.AddKeyDescriptor(idp, "signing", sg.Cert)
	for _, f := range []string{samlxml.NameIDPersistent, samlxml.NameIDTransient, samlxml.NameIDUnspecified} {
		idp.CreateElement("md:NameIDFormat").SetText(f)
	}
	bindings := []string{samlxml.BindingPOST, samlxml.BindingRedirect}
	if c.RedirectOnly {
		bindings = []string{samlxml.BindingRedirect}
	}
	for _, b := range bindings {
		sso := idp.CreateElement("md:SingleSignOnService")
		sso.CreateAttr("Binding", b)
		sso.CreateAttr("Location", s.ssoURL(code))
	}
	for _, d := range eidas.Attributes() {
		a := idp.CreateElement("saml2:Attribute")
		a.CreateAttr("FriendlyName", d.FriendlyName)
		a.CreateAttr("Name", d.Name)
		a.CreateAttr("NameFormat", samlxml.AttrNameFormatURI)
	}
	// The metadata is signed by the same certificate as the responses; it
	// chains to the simulator's trust anchor, which the adapter trusts.
	if err := xmlsec.Sign(ed, sg.Key, []*x509.Certificate{sg.Cert, s.keys.CACert}, alg); err != nil {
		return nil, fmt.Errorf("eidassim: sign metadata: %w", err)
	}
	return Serialize(ed)
}

// connector returns the connector's verified metadata (cached 5 minutes).
func (s *Sim) connector(ctx context.Context) (*eidas.Metadata, error) {
	s.mu.Lock()
	if s.connMeta != nil && s.now().Sub(s.connAt) < 5*time.Minute {
		m := s.connMeta
		s.mu.Unlock()
		return m, nil
	}
	s.mu.Unlock()
	var data []byte
	var err error
	if s.opts.ConnectorMetadata != nil {
		data, err = s.opts.ConnectorMetadata(ctx)
	} else {
		data, err = s.fetch(ctx, s.opts.ConnectorMetadataURL)
	}
	if err != nil {
		return nil, fmt.Errorf("connector metadata: %w", err)
	}
	anchors := s.opts.ConnectorTrust
	if len(anchors) == 0 {
		ents, err := eidas.ParseMetadata(data)
		if err != nil {
			return nil, err
		}
		if len(ents) != 1 {
			return nil, errors.New("connector metadata must hold one entity")
		}
		anchors = ents[0].SigningCerts
	}
	ents, err := eidas.LoadMetadata(data, eidas.VerifyMetadataOptions{Anchors: anchors, Now: s.now})
	if err != nil {
		return nil, err
	}
	m := ents[0]
	if m.IDP || len(ents) != 1 {
		return nil, errors.New("connector metadata is not one SPSSODescriptor")
	}
	if !s.now().Before(m.ValidUntil) {
		return nil, errors.New("connector metadata expired")
	}
	if len(m.EncryptionCerts) == 0 || len(m.SigningCerts) == 0 {
		return nil, errors.New("connector metadata lacks signing or encryption certificates")
	}
	s.mu.Lock()
	s.connMeta, s.connAt = m, s.now()
	s.mu.Unlock()
	return m, nil
}

func (s *Sim) fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "eidas-proxy-simulator/1")
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// GenerateMaterial creates connector key material for the demo: separate
// signing and encryption keys with self-signed certificates, RSA-3072
// (RSASSA-PSS, RSA-OAEP) or EC P-256 (ECDSA, ECDH-ES).
func GenerateMaterial(useRSA bool) (*eidas.Material, error) {
	sk, sc, err := selfSigned("eIDAS connector signing (demo)", useRSA, x509.KeyUsageDigitalSignature)
	if err != nil {
		return nil, err
	}
	ek, ec, err := selfSigned("eIDAS connector encryption (demo)", useRSA, x509.KeyUsageKeyEncipherment|x509.KeyUsageKeyAgreement)
	if err != nil {
		return nil, err
	}
	return &eidas.Material{SigningKey: sk, SigningCert: sc, DecryptionKey: ek, EncryptionCert: ec}, nil
}

func newKey(useRSA bool) (crypto.Signer, error) {
	if useRSA {
		return rsa.GenerateKey(rand.Reader, 3072)
	}
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
}

func selfSigned(cn string, useRSA bool, usage x509.KeyUsage) (crypto.Signer, *x509.Certificate, error) {
	key, err := newKey(useRSA)
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn, Subject: pkix.Name{CommonName: cn, Country: []string{"DE"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(2, 0, 0),
		KeyUsage: usage, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

// NewCA creates a self-signed EC P-384 trust anchor.
func NewCA(cn string) (crypto.Signer, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(5, 0, 0),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

// IssueSigner creates a signing key and a certificate for it issued by the
// CA.
func IssueSigner(caKey crypto.Signer, caCert *x509.Certificate, cn string, useRSA bool) (Signer, error) {
	key, err := newKey(useRSA)
	if err != nil {
		return Signer{}, err
	}
	sn, err := serial()
	if err != nil {
		return Signer{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: caCert.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		return Signer{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Signer{}, err
	}
	return Signer{Key: key, Cert: cert}, nil
}
