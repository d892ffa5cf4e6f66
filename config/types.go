package config

import (
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// Config is the file format of broker.yaml. Field comments are the
// user-facing reference; docs/configuration.md repeats them with examples.
type Config struct {
	// Issuer is the external base URL and OIDC issuer (https in production).
	Issuer string `yaml:"issuer"`
	// Listen is the address the HTTP server binds, e.g. "0.0.0.0:8080".
	Listen string `yaml:"listen"`
	// AdminListen, when set, is the address of a second listener serving
	// /metrics and /debug/pprof/ (no authentication): off by default, and a
	// loopback address unless AdminListenAllowRemote is set.
	AdminListen string `yaml:"admin_listen"`
	// AdminListenAllowRemote permits an AdminListen address that is not
	// loopback (e.g. a pod network reached only by the metrics scraper).
	AdminListenAllowRemote bool `yaml:"admin_listen_allow_remote"`
	// Store selects the persistence backend.
	Store Store `yaml:"store"`
	// Keys holds signing keys and secrets.
	Keys Keys `yaml:"keys"`
	// Sessions caps SSO session lifetimes per level.
	Sessions Sessions `yaml:"sessions"`
	// Clients are the portals (OIDC relying parties).
	Clients []Client `yaml:"clients"`
	// Adapters are the upstream identity systems offered on the login page.
	Adapters []Adapter `yaml:"adapters"`
	// EIDASService, when present, enables the eIDAS-Service: the SAML
	// identity provider that answers foreign eIDAS-Connectors with German
	// eID identities (see EIDASService).
	EIDASService *EIDASService `yaml:"eidas_service"`
	// SecureCookies defaults to true; only plain-http demo setups turn it off.
	SecureCookies *bool `yaml:"secure_cookies"`
	// Log sets the log level ("debug", "info", "warn", "error"; default info).
	Log string `yaml:"log"`
	// Branding is the operator's name, logo, colours and legal links.
	Branding Branding `yaml:"branding"`
	// Audit is the audit trail (off unless audit.output is set).
	Audit Audit `yaml:"audit"`
	// Environment is production (default) or staging (see EnvStaging).
	Environment string `yaml:"environment"`
	// TestHost marks the issuer's host as a test host (staging only).
	TestHost string `yaml:"test_host"`
	// Limits configures rate limits and the in-flight cap (see Limits).
	Limits Limits `yaml:"limits"`
}

// Store selects a backend: "memory" (single node, tests, demo) or "redis".
type Store struct {
	Type   string  `yaml:"type"`
	Memory *Memory `yaml:"memory"`
	Redis  *Redis  `yaml:"redis"`
}

// Memory configures the in-memory store.
type Memory struct {
	// MaxMB bounds the memory its entries hold, in MiB (unset:
	// DefaultMemoryMaxMB). Over it, the SSO sessions used longest ago are
	// dropped (those people log in again); nothing single-use or
	// replay-protecting ever is.
	MaxMB int `yaml:"max_mb"`
}

// MaxBytes is the memory store's limit in bytes, the default if unset.
func (s Store) MaxBytes() int64 {
	if s.Memory != nil && s.Memory.MaxMB > 0 {
		return int64(s.Memory.MaxMB) << 20
	}
	return DefaultMemoryMaxMB << 20
}

// Redis configures go-redis UniversalClient: one address is a single node,
// several are a cluster, and MasterName selects Sentinel.
type Redis struct {
	Addrs      []string `yaml:"addrs"`
	MasterName string   `yaml:"master_name"`
	Username   string   `yaml:"username"`
	Password   Secret   `yaml:"password"`
	DB         int      `yaml:"db"`
	TLS        bool     `yaml:"tls"`
	// KeyPrefix namespaces keys when several brokers share one Redis.
	KeyPrefix string `yaml:"key_prefix"`
	// DialTimeout, ReadTimeout and WriteTimeout bound each round trip to
	// Redis; unset, the store's defaults apply (500ms each), so a hung
	// Redis is answered with 503 within about a second.
	DialTimeout  Duration `yaml:"dial_timeout"`
	ReadTimeout  Duration `yaml:"read_timeout"`
	WriteTimeout Duration `yaml:"write_timeout"`
}

// Keys are the broker's own keys and secrets.
type Keys struct {
	// Signing are the ID-token keys (PEM, PKCS#8 or SEC1/PKCS#1). All are
	// published in the JWKS; the one marked active signs.
	Signing []SigningKey `yaml:"signing"`
	// SubjectSecret keys the pairwise subject HMAC (at least 32 bytes).
	// Changing it changes every sub the portals know.
	SubjectSecret Secret `yaml:"subject_secret"`
	// DataKey is the AES-256 key (32 bytes, base64) that encrypts identity
	// data in the store. It is the same as DataKeys with one entry whose ID
	// is DefaultDataKeyID.
	DataKey Secret `yaml:"data_key"`
	// DataKeys, instead of DataKey, allow rotation: the one marked active
	// encrypts, the others only decrypt what was stored under them.
	DataKeys []DataKey `yaml:"data_keys"`
}

// DataKey is one AES-256 data key in keys.data_keys.
type DataKey struct {
	// ID is stored with every record the key encrypts; never give another
	// key an ID used before.
	ID     string `yaml:"id"`
	Key    Secret `yaml:"key"` // 32 random bytes, base64
	Active bool   `yaml:"active"`
}

// SigningKey is one ID-token signing key.
type SigningKey struct {
	ID     string `yaml:"id"`
	File   string `yaml:"file"`
	Alg    string `yaml:"alg"` // ES256 (default), RS256, PS256
	Active bool   `yaml:"active"`
}

// Sessions caps SSO lifetime per proved level (TR-03160-1 maxima are the
// defaults and the upper bounds: low 12h, substantial 2h, high 30m).
type Sessions struct {
	Low         Duration `yaml:"low"`
	Substantial Duration `yaml:"substantial"`
	High        Duration `yaml:"high"`
}

// Client is one portal.
type Client struct {
	ID                     string   `yaml:"id"`
	Name                   string   `yaml:"name"`
	RedirectURIs           []string `yaml:"redirect_uris"`
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris"`
	// AuthMethod is "client_secret_basic" (default) or "private_key_jwt".
	AuthMethod string `yaml:"auth_method"`
	// Secret is required for client_secret_basic.
	Secret Secret `yaml:"secret"`
	// JWKSFile holds the client's public keys for private_key_jwt.
	JWKSFile string `yaml:"jwks_file"`
	// JWKS is the content of JWKSFile as Parse read and checked it (public
	// keys only, at least one usable for signatures); nil otherwise.
	JWKS *jose.JSONWebKeySet `yaml:"-"`
	// IDTokenAlg is ES256 (default), RS256 or PS256.
	IDTokenAlg string `yaml:"id_token_alg"`
	// MinLevel is the floor for every login of this client.
	MinLevel assurance.Level `yaml:"min_level"`
	// Sector groups clients that share pairwise subjects; defaults to the
	// host of the first redirect URI.
	Sector string `yaml:"sector"`
	// Logo is shown beside the display name (Name) on the login pages.
	Logo     string `yaml:"logo"`
	LogoData []byte `yaml:"-"`
	LogoType string `yaml:"-"`
	// AllowedClaims the client may receive (on top of sub, acr, auth_time).
	AllowedClaims []string `yaml:"allowed_claims"`
	// Consent is "required" (default: the person sees what is released) or
	// "implicit".
	Consent  string    `yaml:"consent"`
	Services []Service `yaml:"services"`
}

// Service is an administrative service a portal offers, requested with the
// scope "service:<id>"; it raises the floor to its MinLevel.
type Service struct {
	ID       string          `yaml:"id"`
	Name     string          `yaml:"name"`
	MinLevel assurance.Level `yaml:"min_level"`
}

// Adapter is one upstream. Config is decoded strictly into the type's own
// struct, which the Registry provides; the decoded value lands in Spec.
type Adapter struct {
	ID       string          `yaml:"id"`
	Type     string          `yaml:"type"`
	MaxLevel assurance.Level `yaml:"max_level"`
	// Spec is the decoded type-specific block (not read from YAML directly).
	Spec any `yaml:"-"`
}

// Duration is a time.Duration written as "30m", "2h".
type Duration time.Duration

// Secret is a sensitive string. In YAML it is either a literal that may be
// "${ENV_VAR}", or a mapping {file: path}. Its String and format verbs
// never print the value.
type Secret struct {
	value string
}

// EIDASService configures the eIDAS-Service (package broker/eidasservice):
// metadata at <issuer>/saml/service/metadata, SSO at
// <issuer>/saml/service/sso. Transactions are encrypted with keys.data_key.
type EIDASService struct {
	// Adapter is the ID of the adapter of type eid that authenticates the
	// person (its TC Token route is mounted at /eid/ as usual).
	Adapter string `yaml:"adapter"`
	// SigningKey and SigningCert (PEM) sign metadata, Responses and
	// assertions: RSA of at least 3072 bits (RSASSA-PSS) or EC P-256/384/521
	// (ECDSA).
	SigningKey  Path `yaml:"signing_key"`
	SigningCert Path `yaml:"signing_cert"`
	// EncryptionCert (PEM, optional) is only published in the metadata.
	EncryptionCert Path `yaml:"encryption_cert"`
	// SignatureAlgorithm overrides the method chosen from the key.
	SignatureAlgorithm string `yaml:"signature_algorithm"`
	// PseudonymSecret (at least 32 bytes) keys the per-connector
	// PersonIdentifier. Never change it: every identifier depends on it.
	PseudonymSecret Secret `yaml:"pseudonym_secret"`
	// NodeCountry is published and prefixes every PersonIdentifier (DE;
	// GR is read as EL).
	NodeCountry string `yaml:"node_country"`
	// RequesterIDOptional lets private-sector connectors omit RequesterID.
	RequesterIDOptional bool `yaml:"requester_id_optional"`

	MetadataValidity Duration `yaml:"metadata_validity"` // default 168h
	MetadataRefresh  Duration `yaml:"metadata_refresh"`  // default 1h
	ClockSkew        Duration `yaml:"clock_skew"`        // default 1m
	RequestMaxAge    Duration `yaml:"request_max_age"`   // default 5m
	ResponseValidity Duration `yaml:"response_validity"` // default 5m
	TransactionTTL   Duration `yaml:"transaction_ttl"`   // default 30m

	Organization *EIDASOrganization `yaml:"organization"`
	// Connectors are the foreign eIDAS-Connectors answered (at least one).
	Connectors []EIDASConnector `yaml:"connectors"`
}

// EIDASOrganization is published in the service metadata.
type EIDASOrganization struct {
	Name           string `yaml:"name"`
	DisplayName    string `yaml:"display_name"`
	URL            string `yaml:"url"`
	SupportEmail   string `yaml:"support_email"`
	TechnicalEmail string `yaml:"technical_email"`
}

// EIDASConnector is one foreign eIDAS-Connector.
type EIDASConnector struct {
	// EntityID defaults to metadata_url, or to the entityID in
	// metadata_file.
	EntityID string `yaml:"entity_id"`
	// Exactly one of MetadataFile and MetadataURL (https).
	MetadataFile Path   `yaml:"metadata_file"`
	MetadataURL  string `yaml:"metadata_url"`
	// TrustAnchor (PEM, one or more certificates) verifies the metadata
	// signature: the connector's signing certificate or its issuing CA.
	TrustAnchor Path `yaml:"trust_anchor"`
	// Country is the connector's member state (ISO 3166-1 alpha-2; for
	// Greece EL, the eIDAS code, or GR, which is read as EL).
	Country string `yaml:"country"`
	// SPType is public or private as agreed; empty: taken from the
	// connector's metadata or requests.
	SPType string `yaml:"sp_type"`
	// AllowedAttributes limits what this connector may receive, by
	// FriendlyName (see EIDASAttributeNames); empty means all.
	AllowedAttributes []string `yaml:"allowed_attributes"`
	// Name is shown on the consent page (default: the country code).
	Name string `yaml:"name"`
}
