package nezo

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/config"
)

// Type is the adapter type in the configuration and the amr value of ID
// tokens it produces.
const Type = "elster-nezo"

// Defaults and limits of the settings.
const (
	DefaultClockSkew        = 60 * time.Second
	DefaultRefreshInterval  = time.Hour
	DefaultMetadataValidity = 7 * 24 * time.Hour
	maxClockSkew            = 5 * time.Minute
	minRefreshInterval      = time.Minute
	maxRefreshInterval      = 7 * 24 * time.Hour
)

// Config is the `config:` block of an adapter of type "elster-nezo". Zero
// values mean the documented default; NewConfig returns them filled in.
type Config struct {
	// MetadataURL or MetadataFile: where NEZO's signed IdP metadata comes
	// from (exactly one). ELSTER hands it out on onboarding in the Mein
	// Unternehmenskonto self-service portal.
	MetadataURL  string      `yaml:"metadata_url"`
	MetadataFile config.Path `yaml:"metadata_file"`
	// IdPEntityID selects the entity when the file holds more than one.
	IdPEntityID string `yaml:"idp_entity_id"`
	// TrustAnchorFile holds the certificate(s) that sign NEZO's metadata
	// (its signing certificate, or a CA above it). Required.
	TrustAnchorFile config.Path `yaml:"trust_anchor_file"`
	// RefreshInterval of the metadata (default 1h, 1m to 7 days).
	RefreshInterval config.Duration `yaml:"refresh_interval"`

	// EntityID is ours (default BaseURL + "/saml/<adapter id>/metadata").
	// It is registered with ELSTER: never change it once onboarded.
	EntityID string `yaml:"entity_id"`
	// Our signing key (AuthnRequests, metadata) and decryption key
	// (EncryptedAssertion, EncryptedID), with their certificates, as
	// registered with ELSTER. RSA ≥ 3072 bits or EC P-256/384/521; the two
	// keys must differ. Required.
	SigningKeyFile     config.Path `yaml:"signing_key_file"`
	SigningCertFile    config.Path `yaml:"signing_cert_file"`
	EncryptionKeyFile  config.Path `yaml:"encryption_key_file"`
	EncryptionCertFile config.Path `yaml:"encryption_cert_file"`

	// RequestedAttributes are published in our metadata as the
	// AttributeConsumingService (the attributes ELSTER is asked to
	// release). Default: DefaultAttributes. The pseudonym and the level
	// attribute are always requested.
	RequestedAttributes []string `yaml:"requested_attributes"`
	// Levels maps ElsterVertrauensniveauAuthentifizierung values to
	// levels (default: substanziell → substantial, hoch → high). A value
	// not in the table refuses the login.
	Levels map[string]assurance.Level `yaml:"levels"`
	// MaxLevel caps every level this adapter proves (default high).
	MaxLevel assurance.Level `yaml:"max_level"`
	// AllowTestAccounts accepts accounts with IstTestkonto=true. Default
	// false: production never lets ELSTER test accounts in.
	AllowTestAccounts bool `yaml:"allow_test_accounts"`
	// ForceAuthn asks ELSTER for a fresh login (default false, as the
	// public NEZO integrations configure it; with true, an AuthnInstant
	// before the request is refused).
	ForceAuthn bool `yaml:"force_authn"`
	// Binding is how AuthnRequests are sent: post (default) or redirect.
	Binding string `yaml:"binding"`
	// ClockSkew tolerated in validity times (default 60s, at most 5m).
	ClockSkew config.Duration `yaml:"clock_skew"`
	// MetadataValidity is the validUntil horizon of our signed metadata
	// (default 168h).
	MetadataValidity config.Duration `yaml:"metadata_validity"`
	// Algorithms relaxes the algorithm policy for this upstream. Every
	// switch is off by default (eIDAS-strict: RSASSA-PSS/ECDSA, AES-GCM,
	// RSA-OAEP 1.1).
	Algorithms Algorithms `yaml:"algorithms"`
	// ServiceName is published in our metadata's AttributeConsumingService
	// (default "Anmeldung mit ELSTER").
	ServiceName string `yaml:"service_name"`

	// Material supplies keys and trust in memory (demo and tests). Not
	// from YAML.
	Material *Material `yaml:"-"`
}

// Algorithms are the opt-in relaxations of the algorithm policy.
type Algorithms struct {
	// AllowRSASHA256 accepts rsa-sha256/384/512 (PKCS#1 v1.5) signatures
	// on NEZO's metadata and responses.
	AllowRSASHA256 bool `yaml:"allow_rsa_sha256"`
	// AllowAESCBC accepts AES-CBC encrypted assertions and EncryptedIDs
	// (only ever after the Response signature over the ciphertext has
	// verified).
	AllowAESCBC bool `yaml:"allow_aes_cbc"`
	// AllowLegacyKeyTransport accepts rsa-oaep-mgf1p and SHA-1 OAEP.
	AllowLegacyKeyTransport bool `yaml:"allow_legacy_key_transport"`
}

// Material is key material and trust in memory.
type Material struct {
	SigningKey     crypto.Signer
	SigningCert    *x509.Certificate
	DecryptionKey  crypto.Signer
	EncryptionCert *x509.Certificate
	TrustAnchors   []*x509.Certificate
	// Metadata replaces MetadataURL/MetadataFile as the source (still
	// verified against the anchors).
	Metadata func(ctx context.Context) ([]byte, error)
}

// SigningCertList is the signing certificate as a list (to verify our
// metadata with it).
func (m *Material) SigningCertList() []*x509.Certificate { return []*x509.Certificate{m.SigningCert} }

// DefaultAttributes are requested when requested_attributes is empty: the
// person, the organisation, the address and the technical attributes.
var DefaultAttributes = []string{
	AttrVorname, AttrName, AttrGeburtsdatum, AttrGeburtsname, AttrAkademischerGrad, AttrAnschrift,
	AttrHandelndePerson, AttrFirmenname, AttrStNr, AttrUmsatzsteuerID, AttrRechtsform, AttrRechtsformText, AttrRegisterart,
	AttrRegisternummer, AttrRegistergericht, AttrUnternehmensanschrift, AttrIstTestkonto,
}

// DefaultLevels is ELSTER's level vocabulary mapped to ours.
func DefaultLevels() map[string]assurance.Level {
	return map[string]assurance.Level{"substanziell": assurance.Substantial, "hoch": assurance.High}
}

// NewConfig returns a Config with the defaults filled in; it is the
// constructor for the config registry.
func NewConfig() *Config {
	return &Config{
		RefreshInterval:  config.Duration(DefaultRefreshInterval),
		MaxLevel:         assurance.High,
		Binding:          "post",
		ClockSkew:        config.Duration(DefaultClockSkew),
		MetadataValidity: config.Duration(DefaultMetadataValidity),
	}
}

// effective returns a copy with defaults in place of zero values.
func (c *Config) effective() Config {
	e := *c
	d := NewConfig()
	if e.RefreshInterval == 0 {
		e.RefreshInterval = d.RefreshInterval
	}
	if e.MaxLevel == assurance.Unspecified {
		e.MaxLevel = d.MaxLevel
	}
	if e.Binding == "" {
		e.Binding = d.Binding
	}
	if e.ClockSkew == 0 {
		e.ClockSkew = d.ClockSkew
	}
	if e.MetadataValidity == 0 {
		e.MetadataValidity = d.MetadataValidity
	}
	if len(e.RequestedAttributes) == 0 {
		e.RequestedAttributes = DefaultAttributes
	}
	if len(e.Levels) == 0 {
		e.Levels = DefaultLevels()
	}
	if e.ServiceName == "" {
		e.ServiceName = "Anmeldung mit ELSTER"
	}
	return e
}

// policy is the algorithm policy the config allows.
func (c *Config) policy() sp.Policy {
	return sp.Policy{
		AllowRSAPKCS1v15:        c.Algorithms.AllowRSASHA256,
		AllowAESCBC:             c.Algorithms.AllowAESCBC,
		AllowLegacyKeyTransport: c.Algorithms.AllowLegacyKeyTransport,
	}
}

// Validate checks every setting and reports all problems, with paths
// relative to the config block. It reads the key, certificate and trust
// anchor files, but fetches no metadata.
func (c *Config) Validate() []config.Problem {
	var ps []config.Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, config.Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	e := c.effective()
	hasMemMD := e.Material != nil && e.Material.Metadata != nil
	switch {
	case e.MetadataURL != "" && e.MetadataFile != "":
		add("", "give metadata_url or metadata_file, not both")
	case e.MetadataURL == "" && e.MetadataFile == "" && !hasMemMD:
		add("metadata_url", "required (or metadata_file)")
	case e.MetadataURL != "":
		if err := checkURL(e.MetadataURL); err != nil {
			add("metadata_url", "%v", err)
		}
	case e.MetadataFile != "":
		if _, err := sp.ReadFileLimited(string(e.MetadataFile), int64(sp.MetadataLimits.MaxBytes)); err != nil {
			add("metadata_file", "%v", err)
		}
	}
	if e.Material == nil || len(e.Material.TrustAnchors) == 0 {
		if e.TrustAnchorFile == "" {
			add("trust_anchor_file", "required")
		} else if _, err := sp.LoadCerts(string(e.TrustAnchorFile)); err != nil {
			add("trust_anchor_file", "%v", err)
		}
	}
	for key, v := range map[string]string{"entity_id": e.EntityID, "idp_entity_id": e.IdPEntityID} {
		if v != "" {
			if err := checkURL(v); err != nil {
				add(key, "%v", err)
			}
		}
	}
	if e.Material == nil || e.Material.SigningKey == nil {
		checkKeyFiles(add, "signing_key_file", "signing_cert_file", e.SigningKeyFile, e.SigningCertFile)
		checkKeyFiles(add, "encryption_key_file", "encryption_cert_file", e.EncryptionKeyFile, e.EncryptionCertFile)
		if e.SigningKeyFile != "" && e.SigningKeyFile == e.EncryptionKeyFile {
			add("encryption_key_file", "must differ from signing_key_file")
		}
	} else if e.Material.SigningCert == nil || e.Material.DecryptionKey == nil || e.Material.EncryptionCert == nil {
		add("", "in-memory key material is incomplete")
	}
	seen := map[string]bool{}
	for i, n := range c.RequestedAttributes {
		p := fmt.Sprintf("requested_attributes[%d]", i)
		switch {
		case !slices.Contains(KnownAttributes, n):
			add(p, "unknown NEZO attribute %q", n)
		case seen[n]:
			add(p, "%s is listed twice", n)
		}
		seen[n] = true
	}
	for k, l := range c.Levels {
		if k == "" || strings.TrimSpace(k) != k {
			add("levels", "value %q must be non-empty without surrounding spaces", k)
		}
		if !l.Notified() {
			add("levels."+k, "must be low, substantial or high")
		}
	}
	if !e.MaxLevel.Notified() {
		add("max_level", "must be low, substantial or high")
	}
	switch e.Binding {
	case "post", "redirect":
	default:
		add("binding", "must be post or redirect")
	}
	if d := e.ClockSkew.D(); d < 0 || d > maxClockSkew {
		add("clock_skew", "must be between 0s and %s", maxClockSkew)
	}
	if d := e.RefreshInterval.D(); d < minRefreshInterval || d > maxRefreshInterval {
		add("refresh_interval", "must be between %s and %s", minRefreshInterval, maxRefreshInterval)
	}
	if d := e.MetadataValidity.D(); d < time.Hour || d > 90*24*time.Hour {
		add("metadata_validity", "must be between 1h and 2160h")
	}
	if len(e.ServiceName) > 120 || strings.ContainsFunc(e.ServiceName, func(r rune) bool { return r < 0x20 }) {
		add("service_name", "must be at most 120 printable characters")
	}
	return ps
}

func checkKeyFiles(add func(string, string, ...any), keyPath, certPath string, keyFile, certFile config.Path) {
	if keyFile == "" {
		add(keyPath, "required")
	}
	if certFile == "" {
		add(certPath, "required")
	}
	if keyFile == "" || certFile == "" {
		return
	}
	key, err := sp.LoadKey(string(keyFile))
	if err != nil {
		add(keyPath, "%v", err)
		return
	}
	certs, err := sp.LoadCerts(string(certFile))
	if err != nil {
		add(certPath, "%v", err)
		return
	}
	if err := sp.CheckKeyPair(key, certs[0]); err != nil {
		add(keyPath, "%v", err)
	}
}

// checkURL requires an absolute https URL without fragment or user info;
// plain http only for loopback hosts (local demo and tests).
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("must be an absolute URL")
	}
	if u.Fragment != "" || u.User != nil {
		return fmt.Errorf("must not have a fragment or user info")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("must be https (http only for localhost)")
}
