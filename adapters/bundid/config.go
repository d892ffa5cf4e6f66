package bundid

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/config"
)

// Adapter types in broker.yaml: the BundID profile and the generic profile
// for Länder Servicekonten (same SAML core, tables from the config).
const (
	Type             = "bundid"
	TypeServicekonto = "servicekonto"
)

// Profiles.
const (
	ProfileBundID  = "bundid"  // AKDB extension, BundID attribute names and STORK levels
	ProfileGeneric = "generic" // plain SAML Web SSO; attribute and level tables from the config
)

// Defaults and bounds.
const (
	DefaultClockSkew = time.Minute
	maxClockSkew     = 5 * time.Minute
	maxText          = 256
	maxStateAge      = time.Hour
)

// Config is the `config:` block of an adapter of type "bundid" or
// "servicekonto". NewConfig and NewServicekontoConfig return it with the
// profile's defaults.
type Config struct {
	// Profile is bundid (type bundid) or generic (type servicekonto).
	Profile string `yaml:"profile"`
	// Name is shown on the login page.
	Name Names `yaml:"name"`
	// EntityID is ours (default <base>/saml/<id>/metadata). For BundID its
	// host name enters every bPK2: never change it after going live.
	EntityID string `yaml:"entity_id"`
	// SigningKeyFile/SigningCertFile (PEM) sign AuthnRequests and our
	// metadata: RSA ≥ 3072 (RSASSA-PSS) or EC P-256/384/521. Required.
	SigningKeyFile  config.Path `yaml:"signing_key_file"`
	SigningCertFile config.Path `yaml:"signing_cert_file"`
	// EncryptionKeyFile/EncryptionCertFile (PEM): the key assertions are
	// encrypted to (default: the signing key and certificate).
	EncryptionKeyFile  config.Path `yaml:"encryption_key_file"`
	EncryptionCertFile config.Path `yaml:"encryption_cert_file"`
	// IdP is the identity provider: its signed metadata and the anchors
	// that verify it.
	IdP IdP `yaml:"idp"`
	// Algorithms relaxes the strict eIDAS algorithm policy, only where the
	// upstream needs it (see the sp package).
	Algorithms Algorithms `yaml:"algorithms"`
	// ClockSkew tolerates clock differences (default 1m, at most 5m).
	ClockSkew config.Duration `yaml:"clock_skew"`
	// Levels maps the upstream's level values (AuthnContextClassRef and
	// the level attribute) to levels; unlisted values are refused.
	Levels []LevelEntry `yaml:"levels"`
	// LevelAttribute, when set, is an attribute carrying the level again
	// (BundID: urn:oid:1.2.40.0.10.2.1.1.261.94); it must map too, and the
	// lower of it and the AuthnContextClassRef is the proved level.
	LevelAttribute string `yaml:"level_attribute"`
	// TrustLevels maps per-attribute akdb:TrustLevel values (bundid
	// profile); an attribute verified below the proved level is dropped.
	TrustLevels map[string]assurance.Level `yaml:"trust_levels"`
	// SubjectAttribute is the attribute that identifies the person (BundID:
	// bPK2); empty means the NameID (persistent) of the assertion.
	SubjectAttribute string `yaml:"subject_attribute"`
	// MethodAttribute reports the means used (BundID: AssertionProvedBy),
	// passed to the ID token's amr.
	MethodAttribute string `yaml:"method_attribute"`
	// Attributes maps attribute names to claims (see the package doc).
	Attributes []AttributeEntry `yaml:"attributes"`
	// AuthnMethods are the means BundID may offer, each with the highest
	// level it reaches: enabled when that meets the floor (bundid profile).
	AuthnMethods []MethodEntry `yaml:"authn_methods"`
	// Display is BundID's DisplayInformation: a default and per client or
	// service (bundid profile).
	Display Display `yaml:"display"`

	// Material supplies keys and IdP metadata in memory (demo, tests).
	Material *Material `yaml:"-"`
}

// Names is a login-page name in German and English.
type Names struct {
	DE string `yaml:"de"`
	EN string `yaml:"en"`
}

// IdP says where the identity provider's metadata comes from.
type IdP struct {
	MetadataURL  string      `yaml:"metadata_url"`
	MetadataFile config.Path `yaml:"metadata_file"`
	// EntityID selects the entity in an aggregate.
	EntityID string `yaml:"entity_id"`
	// TrustAnchors (PEM) verify the metadata signature. Required.
	TrustAnchors []config.Path `yaml:"trust_anchors"`
	// Binding is post (default) or redirect: the one used when the
	// metadata offers both.
	Binding string `yaml:"binding"`
	// Refresh is the metadata refresh interval (default 1h).
	Refresh config.Duration `yaml:"refresh"`
}

// Algorithms are the policy relaxations of sp.Policy.
type Algorithms struct {
	AllowRSAPKCS1v15        bool `yaml:"allow_rsa_pkcs1v15"`
	AllowLegacyKeyTransport bool `yaml:"allow_legacy_key_transport"`
	AllowAESCBC             bool `yaml:"allow_aes_cbc"`
}

// LevelEntry maps one upstream level value.
type LevelEntry struct {
	Value string          `yaml:"value"`
	Level assurance.Level `yaml:"level"`
}

// AttributeEntry maps one attribute to a claim.
type AttributeEntry struct {
	Name string `yaml:"name"`
	// Claim is a broker claim (given_name, family_name, birth_family_name,
	// birthdate, gender, title, nationalities, place_of_birth,
	// address.<member>) or another snake_case name carried as an extra
	// claim (document_type, postbox_reference).
	Claim string `yaml:"claim"`
	// Required: the login fails without it, and it is always requested.
	// Optional attributes are requested only when the portal may receive
	// and asked for their claim.
	Required bool `yaml:"required"`
}

// MethodEntry is one AKDB login means.
type MethodEntry struct {
	Name  string          `yaml:"name"`
	Level assurance.Level `yaml:"level"`
}

// Display is BundID's DisplayInformation.
type Display struct {
	// Default applies when no entry below matches; its organisation name is
	// required for the bundid profile.
	Default DisplayEntry `yaml:"default"`
	// PerService entries match a client (and a service of it); the most
	// specific match wins, and its empty fields come from the next one.
	PerService []DisplayEntry `yaml:"per_service"`
}

// DisplayEntry is the display information for one client or service.
type DisplayEntry struct {
	Client  string `yaml:"client"`
	Service string `yaml:"service"`
	// OrganizationDisplayName is shown by BundID as the requesting body.
	OrganizationDisplayName string `yaml:"organization_display_name"`
	// OnlineServiceId is the service's BMI-ID (mandatory at BundID for
	// services since mid-2025).
	OnlineServiceID string `yaml:"online_service_id"`
}

// Material is key material and IdP metadata in memory.
type Material struct {
	SigningKey     crypto.Signer
	SigningCert    *x509.Certificate
	DecryptionKey  crypto.Signer
	EncryptionCert *x509.Certificate
	// Metadata returns the IdP's signed metadata; Anchors verify it.
	Metadata func(context.Context) ([]byte, error)
	Anchors  []*x509.Certificate
	// CheckURL replaces the https-only check of IdP endpoints (demo on
	// plain http loopback).
	CheckURL func(string) error
}

// NewConfig returns the BundID profile's defaults.
func NewConfig() *Config {
	return &Config{
		Profile:          ProfileBundID,
		Name:             Names{DE: "BundID (Nutzerkonto Bund)", EN: "BundID (federal citizen account)"},
		IdP:              IdP{Binding: "post", Refresh: config.Duration(time.Hour)},
		ClockSkew:        config.Duration(DefaultClockSkew),
		Levels:           DefaultLevels(),
		LevelAttribute:   AttrTrustLevel,
		TrustLevels:      DefaultTrustLevels(),
		SubjectAttribute: AttrBPK2,
		MethodAttribute:  AttrProvedBy,
		Attributes:       DefaultAttributes(),
		AuthnMethods:     DefaultAuthnMethods(),
	}
}

// NewServicekontoConfig returns the generic profile's defaults: the tables
// are the admin's to fill in.
func NewServicekontoConfig() *Config {
	return &Config{
		Profile:   ProfileGeneric,
		Name:      Names{DE: "Servicekonto", EN: "Service account"},
		IdP:       IdP{Binding: "post", Refresh: config.Duration(time.Hour)},
		ClockSkew: config.Duration(DefaultClockSkew),
	}
}

var (
	claimRE   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	printable = regexp.MustCompile(`^[\x21-\x7e]{1,256}$`)
	bmiIDRE   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
)

// typedClaims are the claims with a place in adapters.Claims.
var typedClaims = map[string]bool{"given_name": true, "family_name": true, "birth_family_name": true,
	"birthdate": true, "gender": true, "title": true, "nationalities": true, "place_of_birth": true,
	"address.street_address": true, "address.postal_code": true, "address.locality": true,
	"address.region": true, "address.country": true, "address.formatted": true}

var reservedClaims = map[string]bool{"sub": true, "acr": true, "amr": true, "auth_time": true, "legal_entity": true,
	"address": true, "iss": true, "aud": true, "nonce": true}

// Validate checks the block and returns every problem.
func (c *Config) Validate() []config.Problem {
	var ps []config.Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, config.Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	switch c.Profile {
	case ProfileBundID, ProfileGeneric:
	default:
		add("profile", "must be bundid or generic, not %q", c.Profile)
	}
	if c.Name.DE == "" && c.Name.EN == "" {
		add("name", "required")
	}
	if len(c.Name.DE) > maxText || len(c.Name.EN) > maxText {
		add("name", "longer than %d characters", maxText)
	}
	if c.EntityID != "" {
		if msg := entityIDProblem(c.EntityID, c.Profile == ProfileBundID); msg != "" {
			add("entity_id", "%s", msg)
		}
	}
	if c.Material == nil {
		for _, f := range []struct {
			path string
			v    config.Path
		}{{"signing_key_file", c.SigningKeyFile}, {"signing_cert_file", c.SigningCertFile}} {
			if f.v == "" {
				add(f.path, "required")
			}
		}
		if (c.EncryptionKeyFile == "") != (c.EncryptionCertFile == "") {
			add("encryption_key_file", "set both encryption_key_file and encryption_cert_file, or neither")
		}
		switch {
		case c.IdP.MetadataURL == "" && c.IdP.MetadataFile == "":
			add("idp", "metadata_url or metadata_file required")
		case c.IdP.MetadataURL != "" && c.IdP.MetadataFile != "":
			add("idp", "metadata_url and metadata_file are exclusive")
		case c.IdP.MetadataURL != "":
			if u, err := url.Parse(c.IdP.MetadataURL); err != nil || u.Scheme != "https" || u.Host == "" {
				add("idp.metadata_url", "must be an https URL")
			}
		}
		if len(c.IdP.TrustAnchors) == 0 {
			add("idp.trust_anchors", "required: the certificates that verify the metadata signature")
		}
	}
	switch c.IdP.Binding {
	case "", "post", "redirect":
	default:
		add("idp.binding", "must be post or redirect, not %q", c.IdP.Binding)
	}
	if r := c.IdP.Refresh.D(); r != 0 && (r < time.Minute || r > 7*24*time.Hour) {
		add("idp.refresh", "must be between 1m and 168h")
	}
	if s := c.ClockSkew.D(); s < 0 || s > maxClockSkew {
		add("clock_skew", "must be between 0 and %s", maxClockSkew)
	}
	if len(c.Levels) == 0 {
		add("levels", "required: at least one level value and its level")
	}
	seen := map[string]bool{}
	for i, l := range c.Levels {
		p := fmt.Sprintf("levels[%d]", i)
		switch {
		case !printable.MatchString(l.Value):
			add(p+".value", "required, printable ASCII without spaces")
		case seen[l.Value]:
			add(p+".value", "listed twice")
		}
		seen[l.Value] = true
		if l.Level == assurance.Unspecified {
			add(p+".level", "required (low, substantial or high)")
		}
	}
	for k, l := range c.TrustLevels {
		if !printable.MatchString(k) || l == assurance.Unspecified {
			add("trust_levels."+k, "needs a printable value and a level")
		}
	}
	for _, f := range []struct{ path, v string }{
		{"level_attribute", c.LevelAttribute}, {"subject_attribute", c.SubjectAttribute}, {"method_attribute", c.MethodAttribute},
	} {
		if f.v != "" && !printable.MatchString(f.v) {
			add(f.path, "must be an attribute name (printable ASCII without spaces)")
		}
	}
	names := map[string]bool{}
	for i, a := range c.Attributes {
		p := fmt.Sprintf("attributes[%d]", i)
		switch {
		case !printable.MatchString(a.Name):
			add(p+".name", "required, printable ASCII without spaces")
		case names[a.Name]:
			add(p+".name", "listed twice")
		case a.Name == c.SubjectAttribute || a.Name == c.LevelAttribute || a.Name == c.MethodAttribute:
			add(p+".name", "is protocol data (subject, level or method attribute), not a claim")
		}
		names[a.Name] = true
		if !typedClaims[a.Claim] && (!claimRE.MatchString(a.Claim) || reservedClaims[a.Claim]) {
			add(p+".claim", "not a claim the broker can carry: %q", a.Claim)
		}
	}
	mseen := map[string]bool{}
	for i, m := range c.AuthnMethods {
		p := fmt.Sprintf("authn_methods[%d]", i)
		if !slices.Contains(AuthnMethods, m.Name) {
			add(p+".name", "must be one of %s", strings.Join(AuthnMethods, ", "))
		} else if mseen[m.Name] {
			add(p+".name", "listed twice")
		}
		mseen[m.Name] = true
	}
	if c.Profile == ProfileBundID {
		if c.Display.Default.OrganizationDisplayName == "" {
			add("display.default.organization_display_name", "required by BundID")
		}
		if c.SubjectAttribute == "" {
			add("subject_attribute", "required for the bundid profile (bPK2)")
		}
	}
	checkDisplay := func(p string, d DisplayEntry) {
		if len(d.OrganizationDisplayName) > maxText || strings.ContainsAny(d.OrganizationDisplayName, "\r\n\x00") {
			add(p+".organization_display_name", "at most %d characters on one line", maxText)
		}
		if d.OnlineServiceID != "" && !bmiIDRE.MatchString(d.OnlineServiceID) {
			add(p+".online_service_id", "letters, digits, '.', '_' or '-', at most 64")
		}
	}
	checkDisplay("display.default", c.Display.Default)
	dseen := map[[2]string]bool{}
	for i, d := range c.Display.PerService {
		p := fmt.Sprintf("display.per_service[%d]", i)
		if d.Client == "" {
			add(p+".client", "required")
		}
		k := [2]string{d.Client, d.Service}
		if dseen[k] {
			add(p, "client and service listed twice")
		}
		dseen[k] = true
		checkDisplay(p, d)
	}
	return ps
}

// entityIDProblem: https (BundID: without a port, because the host name
// enters bPK2) or http on loopback for the demo.
func entityIDProblem(raw string, bundid bool) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "not an absolute URL"
	}
	if u.Scheme == "http" && isLoopback(u.Hostname()) {
		return ""
	}
	if u.Scheme != "https" {
		return "must be https"
	}
	if bundid && u.Port() != "" {
		return "must not have a port (BundID)"
	}
	return ""
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

// open is what Open needs beyond the YAML.
type opened struct {
	signer   sp.Signer
	decKey   crypto.PrivateKey
	encCert  *x509.Certificate
	anchors  []*x509.Certificate
	source   sp.MetadataSource
	checkURL func(string) error
}

func (c *Config) load() (*opened, error) {
	o := &opened{}
	if m := c.Material; m != nil {
		if m.SigningKey == nil || m.SigningCert == nil || m.Metadata == nil || len(m.Anchors) == 0 {
			return nil, errors.New("material lacks a key, certificate, metadata or anchors")
		}
		o.signer = sp.Signer{Key: m.SigningKey, Cert: m.SigningCert}
		o.decKey, o.encCert = m.DecryptionKey, m.EncryptionCert
		if o.decKey == nil {
			o.decKey, o.encCert = m.SigningKey, m.SigningCert
		}
		o.anchors, o.source, o.checkURL = m.Anchors, sp.MetadataSource{Mem: m.Metadata}, m.CheckURL
	} else {
		key, err := loadKey(string(c.SigningKeyFile))
		if err != nil {
			return nil, fmt.Errorf("signing_key_file: %w", err)
		}
		cert, err := loadCert(string(c.SigningCertFile))
		if err != nil {
			return nil, fmt.Errorf("signing_cert_file: %w", err)
		}
		o.signer = sp.Signer{Key: key, Cert: cert}
		o.decKey, o.encCert = key, cert
		if c.EncryptionKeyFile != "" {
			dk, err := loadKey(string(c.EncryptionKeyFile))
			if err != nil {
				return nil, fmt.Errorf("encryption_key_file: %w", err)
			}
			ec, err := loadCert(string(c.EncryptionCertFile))
			if err != nil {
				return nil, fmt.Errorf("encryption_cert_file: %w", err)
			}
			o.decKey, o.encCert = dk, ec
		}
		for _, p := range c.IdP.TrustAnchors {
			certs, err := loadCerts(string(p))
			if err != nil {
				return nil, fmt.Errorf("idp.trust_anchors: %w", err)
			}
			o.anchors = append(o.anchors, certs...)
		}
		o.source = sp.MetadataSource{URL: c.IdP.MetadataURL, File: string(c.IdP.MetadataFile)}
	}
	if !publicKeyMatches(o.signer.Key.Public(), o.signer.Cert.PublicKey) {
		return nil, errors.New("signing key and certificate do not match")
	}
	alg, err := signatureMethodFor(o.signer.Key.Public())
	if err != nil {
		return nil, err
	}
	o.signer.Alg = alg
	if o.checkURL == nil {
		o.checkURL = func(raw string) error {
			if u, err := url.Parse(raw); err != nil || u.Scheme != "https" || u.Host == "" {
				return fmt.Errorf("endpoint %q is not https", samlxml.Truncate(raw, 80))
			}
			return nil
		}
	}
	return o, nil
}

// Open builds the adapter and starts the IdP metadata refresh (Close
// stops it).
func (c *Config) Open(id string, deps adapters.Deps) (*Adapter, error) {
	if ps := c.Validate(); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = p.Path + ": " + p.Msg
		}
		slices.Sort(msgs)
		return nil, fmt.Errorf("open %s adapter %q: invalid config: %s", c.Profile, id, strings.Join(msgs, "; "))
	}
	if !regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`).MatchString(id) {
		return nil, fmt.Errorf("open %s adapter: invalid id %q", c.Profile, id)
	}
	if deps.Store == nil || deps.BaseURL == "" {
		return nil, fmt.Errorf("open %s adapter %q: deps need a store and a base URL", c.Profile, id)
	}
	o, err := c.load()
	if err != nil {
		return nil, fmt.Errorf("open %s adapter %q: %w", c.Profile, id, err)
	}
	return newAdapter(c, id, deps, o), nil
}
