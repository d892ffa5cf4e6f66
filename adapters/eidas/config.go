package eidas

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/config"
)

// Values of the enumerated settings.
const (
	SPTypePublic  = "public"
	SPTypePrivate = "private"

	SPTypeInMetadata = "metadata"
	SPTypeInRequest  = "request"

	BindingNamePOST     = "post"
	BindingNameRedirect = "redirect"
)

// Defaults and bounds of the duration settings.
const (
	DefaultClockSkew        = 60 * time.Second
	DefaultMetadataValidity = 7 * 24 * time.Hour
	DefaultRefreshInterval  = time.Hour
	DefaultNodeCountry      = "DE"

	maxClockSkew        = 5 * time.Minute
	minMetadataValidity = time.Hour
	maxMetadataValidity = 90 * 24 * time.Hour
	minRefreshInterval  = time.Minute
	maxRefreshInterval  = 7 * 24 * time.Hour
	maxTextSetting      = 256
)

// ConnectorPath is where the broker mounts Routes(); the metadata and the
// assertion consumer service live below it.
const ConnectorPath = "/saml/connector"

// Config is the `config:` block of an adapter of type "eidas": the broker
// as eIDAS-Connector (SAML service provider) towards the proxy-services of
// other member states. NewConfig returns it with the defaults filled in.
type Config struct {
	// EntityID is our connector's entity ID, which eIDAS requires to be the
	// HTTPS URL where our metadata is published (default: the broker's base
	// URL + "/saml/connector/metadata").
	EntityID string `yaml:"entity_id"`
	// SigningKeyFile/SigningCertFile: PEM key and certificate that sign
	// AuthnRequests and our metadata. RSA of at least 3072 bits (signs with
	// RSASSA-PSS SHA-256) or EC P-256/P-384/P-521 (ECDSA). Required.
	SigningKeyFile  config.Path `yaml:"signing_key_file"`
	SigningCertFile config.Path `yaml:"signing_cert_file"`
	// EncryptionKeyFile/EncryptionCertFile: the key proxy-services encrypt
	// assertions to (RSA ≥ 3072 for RSA-OAEP, or EC for ECDH-ES). eIDAS
	// requires it to differ from the signing key. Required.
	EncryptionKeyFile  config.Path `yaml:"encryption_key_file"`
	EncryptionCertFile config.Path `yaml:"encryption_cert_file"`
	// SPType is "public" (default) or "private".
	SPType string `yaml:"sp_type"`
	// SPTypeIn says where SPType is declared: "metadata" (default; our
	// metadata carries it and requests do not) or "request".
	SPTypeIn string `yaml:"sp_type_in"`
	// PersonType selects the data set requested: "natural" (default) or
	// "legal" (a natural person acting for a company; the proxy-service
	// returns the company's attributes plus the representative's).
	PersonType string `yaml:"person_type"`
	// RequestedAttributes lists what to request; empty means the minimum
	// data set of PersonType plus the optional attributes the broker maps.
	// Optional attributes are only requested when a portal may receive and
	// asked for their claim (data minimisation).
	RequestedAttributes []RequestedAttribute `yaml:"requested_attributes"`
	// NameIDFormat is "persistent" (default), "transient" or "unspecified".
	NameIDFormat string `yaml:"name_id_format"`
	// ProviderName and RequesterID name the relying party; RequesterID goes
	// into Scoping. Both optional.
	ProviderName string `yaml:"provider_name"`
	RequesterID  string `yaml:"requester_id"`
	// NodeCountry is our country (default DE); PersonIdentifiers we receive
	// must name it as their destination ("XX/DE/…"). Like countries[].code,
	// "GR" is read as "EL".
	NodeCountry string `yaml:"node_country"`
	// ClockSkew is the tolerance for the validity times of responses
	// (default 60s, at most 5m).
	ClockSkew config.Duration `yaml:"clock_skew"`
	// MetadataValidity is the validUntil horizon of our signed metadata
	// (default 168h, 1h to 90 days).
	MetadataValidity config.Duration `yaml:"metadata_validity"`
	// Organization and contacts published in our metadata (optional).
	Organization Organization `yaml:"organization"`
	// Countries are the proxy-services offered on the login page.
	Countries []Country `yaml:"countries"`

	// Material supplies keys already in memory (demo and tests); when set,
	// the four key and certificate files are not read. Not from YAML.
	Material *Material `yaml:"-"`
}

// Organization is published in our metadata.
type Organization struct {
	Name           string `yaml:"name"`
	DisplayName    string `yaml:"display_name"`
	URL            string `yaml:"url"`
	SupportEmail   string `yaml:"support_email"`
	TechnicalEmail string `yaml:"technical_email"`
}

// Material is our key material in memory.
type Material struct {
	SigningKey     crypto.Signer
	SigningCert    *x509.Certificate
	DecryptionKey  crypto.Signer // *rsa.PrivateKey, *ecdsa.PrivateKey or an HSM key
	EncryptionCert *x509.Certificate
}

// Country is one member state's proxy-service.
type Country struct {
	// Code is the member state's code as eIDAS writes it: ISO 3166-1
	// alpha-2 ("AT"), except "EL" for Greece. "GR" is accepted and read as
	// "EL" (NewAdapter and Validate normalise it), so both spellings mean
	// the same country everywhere. It is the option ID on the login
	// page.
	Code string `yaml:"code"`
	// Name in German and English; defaults for EU and EEA states.
	Name Names `yaml:"name"`
	// Level is the highest level this proxy-service can prove (required).
	Level assurance.Level `yaml:"level"`
	// MetadataURL or MetadataFile: where the proxy-service's signed
	// metadata comes from (exactly one).
	MetadataURL  string      `yaml:"metadata_url"`
	MetadataFile config.Path `yaml:"metadata_file"`
	// EntityID selects the entity when the metadata is an aggregate
	// (EntitiesDescriptor) holding more than one proxy-service.
	EntityID string `yaml:"entity_id"`
	// TrustAnchorFile holds the certificate(s) exchanged bilaterally with
	// that member state: the metadata signature must verify with one of
	// them or with a certificate in the signature that chains to one.
	TrustAnchorFile config.Path `yaml:"trust_anchor_file"`
	// RefreshInterval is how often the metadata is fetched again (default
	// 1h, 1m to 7 days).
	RefreshInterval config.Duration `yaml:"refresh_interval"`
	// AllowRSAPKCS1v15 also accepts RSA PKCS#1 v1.5 signatures from this
	// country (metadata and responses), which eIDAS v1.4 forbids. Default
	// false; only for a node that cannot sign otherwise yet.
	AllowRSAPKCS1v15 bool `yaml:"allow_rsa_pkcs1v15"`
	// AllowLegacyKeyTransport also accepts assertions whose key is
	// wrapped with rsa-oaep-mgf1p or SHA-1 OAEP, as nodes on eIDAS
	// protocol versions before 1.4 send them. Default false; AES-GCM stays
	// mandatory and RSA PKCS#1 v1.5 key transport is never accepted.
	AllowLegacyKeyTransport bool `yaml:"allow_legacy_key_transport"`
	// Binding is how AuthnRequests are sent: "post" (default; HTTP-POST,
	// no length limit) or "redirect" (HTTP-Redirect with a signed query,
	// which the eIDAS interoperability architecture recommends for short
	// requests). When the proxy-service's metadata lacks the preferred
	// binding, the other one is used.
	Binding string `yaml:"binding"`

	// Material supplies the trust anchors and a metadata source in memory
	// (demo and tests). Not from YAML.
	Material *CountryMaterial `yaml:"-"`
}

// Names is a short text in German and English.
type Names struct {
	DE string `yaml:"de"`
	EN string `yaml:"en"`
}

// CountryMaterial is a country's trust in memory.
type CountryMaterial struct {
	// TrustAnchors replace TrustAnchorFile when set.
	TrustAnchors []*x509.Certificate
	// Metadata, when set, replaces MetadataURL/MetadataFile as the source
	// of the (still signed and verified) metadata.
	Metadata func(ctx context.Context) ([]byte, error)
}

// NewConfig returns a Config with the defaults filled in; it is the
// constructor for the config registry.
func NewConfig() *Config {
	return &Config{
		SPType:           SPTypePublic,
		SPTypeIn:         SPTypeInMetadata,
		PersonType:       string(Natural),
		NameIDFormat:     "persistent",
		NodeCountry:      DefaultNodeCountry,
		ClockSkew:        config.Duration(DefaultClockSkew),
		MetadataValidity: config.Duration(DefaultMetadataValidity),
	}
}

// effective returns a copy with defaults in place of zero values.
func (c *Config) effective() Config {
	e := *c
	d := NewConfig()
	if e.SPType == "" {
		e.SPType = d.SPType
	}
	if e.SPTypeIn == "" {
		e.SPTypeIn = d.SPTypeIn
	}
	if e.PersonType == "" {
		e.PersonType = d.PersonType
	}
	if e.NameIDFormat == "" {
		e.NameIDFormat = d.NameIDFormat
	}
	if e.NodeCountry == "" {
		e.NodeCountry = d.NodeCountry
	}
	e.NodeCountry = samlxml.CountryCode(e.NodeCountry)
	if e.ClockSkew == 0 {
		e.ClockSkew = d.ClockSkew
	}
	if e.MetadataValidity == 0 {
		e.MetadataValidity = d.MetadataValidity
	}
	if len(e.RequestedAttributes) == 0 {
		e.RequestedAttributes = defaultRequested(PersonType(e.PersonType))
	}
	e.Countries = make([]Country, len(c.Countries))
	for i, cc := range c.Countries {
		// One spelling per country from here on: "GR" and "EL" are the
		// same member state, and eIDAS messages say "EL".
		cc.Code = samlxml.CountryCode(cc.Code)
		if cc.Name.DE == "" || cc.Name.EN == "" {
			if t, ok := CountryName(cc.Code); ok {
				if cc.Name.DE == "" {
					cc.Name.DE = t.DE
				}
				if cc.Name.EN == "" {
					cc.Name.EN = t.EN
				}
			}
		}
		if cc.RefreshInterval == 0 {
			cc.RefreshInterval = config.Duration(DefaultRefreshInterval)
		}
		e.Countries[i] = cc
	}
	return e
}

var (
	countryCodeRE = regexp.MustCompile(`^[A-Z]{2}$`)
	nameIDFormats = map[string]string{
		"persistent":              samlxml.NameIDPersistent,
		"transient":               samlxml.NameIDTransient,
		"unspecified":             samlxml.NameIDUnspecified,
		samlxml.NameIDPersistent:  samlxml.NameIDPersistent,
		samlxml.NameIDTransient:   samlxml.NameIDTransient,
		samlxml.NameIDUnspecified: samlxml.NameIDUnspecified,
	}
)

// Validate checks every setting and reports all problems, with paths
// relative to the config block. It reads the key, certificate and trust
// anchor files to check them, but fetches no metadata.
func (c *Config) Validate() []config.Problem {
	var ps []config.Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, config.Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	e := c.effective()

	if e.EntityID != "" {
		if err := checkURL(e.EntityID); err != nil {
			add("entity_id", "%v", err)
		}
	}
	if e.Material == nil {
		checkKeyFiles(add, "signing_key_file", "signing_cert_file", e.SigningKeyFile, e.SigningCertFile)
		checkKeyFiles(add, "encryption_key_file", "encryption_cert_file", e.EncryptionKeyFile, e.EncryptionCertFile)
		if e.SigningKeyFile != "" && e.SigningKeyFile == e.EncryptionKeyFile {
			add("encryption_key_file", "must differ from signing_key_file (eIDAS requires separate keys)")
		}
	} else if e.Material.SigningKey == nil || e.Material.SigningCert == nil || e.Material.DecryptionKey == nil || e.Material.EncryptionCert == nil {
		add("", "in-memory key material is incomplete")
	}
	switch e.SPType {
	case SPTypePublic, SPTypePrivate:
	default:
		add("sp_type", "must be public or private")
	}
	switch e.SPTypeIn {
	case SPTypeInMetadata, SPTypeInRequest:
	default:
		add("sp_type_in", "must be metadata or request")
	}
	pt := PersonType(e.PersonType)
	if pt != Natural && pt != Legal {
		add("person_type", "must be natural or legal")
	} else {
		for _, p := range checkRequested(e.RequestedAttributes, pt) {
			add(p.Path, "%s", p.Msg)
		}
	}
	if _, ok := nameIDFormats[e.NameIDFormat]; !ok {
		add("name_id_format", "must be persistent, transient or unspecified")
	}
	for key, v := range map[string]string{"provider_name": e.ProviderName, "requester_id": e.RequesterID} {
		if len(v) > maxTextSetting || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 }) {
			add(key, "must be at most %d printable characters", maxTextSetting)
		}
	}
	if !countryCodeRE.MatchString(e.NodeCountry) {
		add("node_country", "must be two capital letters (ISO 3166-1 alpha-2)")
	}
	if d := e.ClockSkew.D(); d < 0 || d > maxClockSkew {
		add("clock_skew", "must be between 0s and %s", maxClockSkew)
	}
	if d := e.MetadataValidity.D(); d < minMetadataValidity || d > maxMetadataValidity {
		add("metadata_validity", "must be between %s and %s", minMetadataValidity, maxMetadataValidity)
	}
	if u := e.Organization.URL; u != "" {
		if pu, err := url.Parse(u); err != nil || !pu.IsAbs() {
			add("organization.url", "must be an absolute URL")
		}
	}
	for key, v := range map[string]string{"organization.support_email": e.Organization.SupportEmail, "organization.technical_email": e.Organization.TechnicalEmail} {
		if v != "" && (!strings.Contains(v, "@") || strings.ContainsAny(v, " \t\r\n<>")) {
			add(key, "must be an e-mail address")
		}
	}
	if len(e.Countries) == 0 {
		add("countries", "required (at least one country)")
	}
	seen := map[string]bool{}
	for i, cc := range e.Countries {
		p := fmt.Sprintf("countries[%d]", i)
		switch {
		case cc.Code == "":
			add(p+".code", "required")
		case !countryCodeRE.MatchString(cc.Code):
			add(p+".code", "must be two capital letters (ISO 3166-1 alpha-2, EL or GR for Greece)")
		case seen[cc.Code] && cc.Code == "EL":
			add(p+".code", "country EL is listed twice (GR and EL both name Greece)")
		case seen[cc.Code]:
			add(p+".code", "country %s is listed twice", cc.Code)
		}
		seen[cc.Code] = true
		if cc.Name.DE == "" {
			add(p+".name.de", "required (no built-in name for %q)", cc.Code)
		}
		if cc.Name.EN == "" {
			add(p+".name.en", "required (no built-in name for %q)", cc.Code)
		}
		if cc.Level == assurance.Unspecified {
			add(p+".level", "required")
		} else if !cc.Level.Notified() {
			add(p+".level", "must be low, substantial or high")
		}
		hasMem := cc.Material != nil && cc.Material.Metadata != nil
		switch {
		case cc.MetadataURL != "" && cc.MetadataFile != "":
			add(p, "give metadata_url or metadata_file, not both")
		case cc.MetadataURL == "" && cc.MetadataFile == "" && !hasMem:
			add(p+".metadata_url", "required (or metadata_file)")
		case cc.MetadataURL != "":
			if err := checkURL(cc.MetadataURL); err != nil {
				add(p+".metadata_url", "%v", err)
			}
		case cc.MetadataFile != "":
			if _, err := sp.ReadFileLimited(string(cc.MetadataFile), int64(metadataLimits.MaxBytes)); err != nil {
				add(p+".metadata_file", "%v", err)
			}
		}
		if cc.Material == nil || len(cc.Material.TrustAnchors) == 0 {
			if cc.TrustAnchorFile == "" {
				add(p+".trust_anchor_file", "required")
			} else if _, err := sp.LoadCerts(string(cc.TrustAnchorFile)); err != nil {
				add(p+".trust_anchor_file", "%v", err)
			}
		}
		if cc.EntityID != "" {
			if err := checkURL(cc.EntityID); err != nil {
				add(p+".entity_id", "%v", err)
			}
		}
		switch cc.Binding {
		case "", BindingNamePOST, BindingNameRedirect:
		default:
			add(p+".binding", "must be post or redirect")
		}
		if d := cc.RefreshInterval.D(); d < minRefreshInterval || d > maxRefreshInterval {
			add(p+".refresh_interval", "must be between %s and %s", minRefreshInterval, maxRefreshInterval)
		}
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
	// Peers check our certificates' validity: an expired one makes every
	// member state refuse our metadata and requests.
	if now := time.Now(); now.After(certs[0].NotAfter) || now.Before(certs[0].NotBefore) {
		add(certPath, "certificate is valid only from %s to %s", certs[0].NotBefore.UTC().Format(time.DateOnly), certs[0].NotAfter.UTC().Format(time.DateOnly))
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
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("must be https (http only for localhost)")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkRequested applies the eIDAS request rules to the attribute list.
func checkRequested(list []RequestedAttribute, pt PersonType) []config.Problem {
	var ps []config.Problem
	seen := map[string]bool{}
	for i, ra := range list {
		p := fmt.Sprintf("requested_attributes[%d].name", i)
		if strings.HasPrefix(ra.Name, naturalRepPrefix) || strings.HasPrefix(ra.Name, legalRepPrefix) || strings.HasPrefix(strings.ToLower(ra.Name), "representative") {
			ps = append(ps, config.Problem{Path: p, Msg: "representative attributes must not be requested"})
			continue
		}
		d, ok := LookupAttribute(ra.Name)
		if !ok {
			ps = append(ps, config.Problem{Path: p, Msg: fmt.Sprintf("unknown attribute %q", ra.Name)})
			continue
		}
		if d.Type != pt {
			ps = append(ps, config.Problem{Path: p, Msg: fmt.Sprintf("%s is a %s-person attribute; eIDAS v1.4 forbids mixing data sets (person_type is %s)", d.FriendlyName, d.Type, pt)})
		}
		if seen[d.Name] {
			ps = append(ps, config.Problem{Path: p, Msg: fmt.Sprintf("%s is listed twice", d.FriendlyName)})
		}
		seen[d.Name] = true
		if d.Mandatory && !ra.Required {
			ps = append(ps, config.Problem{Path: fmt.Sprintf("requested_attributes[%d].required", i), Msg: fmt.Sprintf("%s belongs to the minimum data set and must be required", d.FriendlyName)})
		}
	}
	for _, d := range Attributes() {
		if d.Type == pt && d.Mandatory && !seen[d.Name] {
			ps = append(ps, config.Problem{Path: "requested_attributes", Msg: fmt.Sprintf("must include %s (minimum data set)", d.FriendlyName)})
		}
	}
	return ps
}
