package eidasservice

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Defaults of the duration settings.
const (
	DefaultMetadataValidity = 7 * 24 * time.Hour
	DefaultMetadataRefresh  = time.Hour
	DefaultClockSkew        = time.Minute
	DefaultRequestMaxAge    = 5 * time.Minute
	DefaultResponseValidity = 5 * time.Minute
	DefaultTransactionTTL   = 30 * time.Minute
	DefaultNodeCountry      = "DE"
	// DefaultMaxMessageBytes bounds a SAMLRequest (base64 form value or
	// inflated Redirect payload). eIDAS requests are a few KiB.
	DefaultMaxMessageBytes = 64 << 10
	// maxMetadataBytes bounds fetched connector metadata.
	maxMetadataBytes = 1 << 20
)

// Config configures the eIDAS-Service. The zero value of each optional
// field means its default.
type Config struct {
	// BaseURL is the broker's external base URL (https in production). The
	// entity ID is BaseURL + MetadataPath, the SSO endpoint BaseURL +
	// SSOPath.
	BaseURL string
	// SigningKey signs metadata, Responses and Assertions: RSA ≥ 3072
	// bits (RSASSA-PSS) or EC P-256/384/521 (ECDSA). A crypto.Signer, so an
	// HSM key works.
	SigningKey  crypto.Signer
	SigningCert *x509.Certificate
	// SignatureAlgorithm overrides the default chosen from the key
	// (RSA: sha256-rsa-MGF1; EC: ecdsa-sha256/384/512 by curve size).
	SignatureAlgorithm string
	// EncryptionCert is optional. The service decrypts nothing (connectors
	// do not encrypt requests); the certificate is only published for
	// connectors whose metadata tooling expects one. eIDAS wants distinct
	// signing and encryption keys, so it must differ from SigningCert.
	EncryptionCert *x509.Certificate
	// MetadataValidity is the validUntil distance of our metadata
	// (default 7 days); it is re-signed after half of it.
	MetadataValidity time.Duration

	// Adapter is the German eID adapter (adapters/eid), AdapterID its ID in
	// the broker (for logs). Its Routes must be mounted at /eid/ by whoever
	// wires the service: the eID-Client fetches the TC Token there.
	Adapter   adapters.Adapter
	AdapterID string

	// Store keeps transactions and the request replay cache. Give it a
	// confined key space (broker.AdapterStore(st, "eidas-service")).
	Store store.Store
	// PseudonymSecret (≥ 32 bytes) keys the per-connector PersonIdentifier.
	// It must never change: every connector's identifiers depend on it.
	PseudonymSecret []byte
	// DataKey (32 bytes) encrypts transactions at rest in the store
	// (AES-256-GCM). It may be rotated; open transactions are then lost.
	DataKey []byte

	// Connectors are the foreign eIDAS-Connectors this service answers.
	Connectors []Connector
	// RequesterIDOptional lets private-sector connectors omit
	// Scoping/RequesterID. By default it is required (and the metadata says
	// so with the requester-ID entity category).
	RequesterIDOptional bool

	// NodeCountry is published as eidas:NodeCountry and prefixes every
	// PersonIdentifier (default DE; "GR" is read as "EL", as for
	// connectors).
	NodeCountry string
	// Organization is published in the metadata when set.
	Organization *Organization

	ClockSkew        time.Duration // default 1 minute
	RequestMaxAge    time.Duration // oldest acceptable IssueInstant (default 5 minutes)
	ResponseValidity time.Duration // assertion NotOnOrAfter distance (default 5 minutes)
	TransactionTTL   time.Duration // from request to consent (default 30 minutes)
	MetadataRefresh  time.Duration // re-fetch of URL metadata (default 1 hour)
	MaxMessageBytes  int           // default 64 KiB

	// Layout puts the service's pages into the operator's layout (the
	// broker's: operator name and logo, language switch, legal links,
	// TEST banner in staging; see broker.Layout). Nil keeps a plain layout
	// of the service's own.
	Layout func(Page) ([]byte, error)

	// HTTPClient fetches connector metadata (default: 10 s timeout).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger defaults to discarding. The service adds component=eidas-service
	// and adapter=<AdapterID> to every line itself: hand in a logger that
	// does not carry them already, or they appear twice.
	Logger *slog.Logger
}

// Connector is one foreign eIDAS-Connector.
type Connector struct {
	// EntityID is the connector's entity ID. With MetadataURL it defaults to
	// that URL (eIDAS: entityID = metadata URL); with Metadata it defaults to
	// the entityID inside. When set, the metadata must carry exactly it.
	EntityID string
	// Metadata is the connector's metadata document, or MetadataURL where
	// to fetch it (re-fetched every MetadataRefresh). Exactly one is set.
	Metadata    []byte
	MetadataURL string
	// TrustAnchors verify the metadata signature: the connector's metadata
	// signing certificate itself or the CA that issued it (exchanged
	// bilaterally, eIDAS Interoperability Architecture §6).
	TrustAnchors []*x509.Certificate
	// Country is the connector's member state as eIDAS writes it: ISO
	// 3166-1 alpha-2, "EL" for Greece ("GR" is accepted and read as "EL").
	// It becomes the second part of the PersonIdentifier and must match the
	// metadata's NodeCountry (either spelling) when that is present.
	Country string
	// SPType is what the bilateral agreement says (public or private). When
	// set, metadata or request must agree with it; when empty, one of them
	// must state it.
	SPType string
	// AllowedAttributes limits the attribute Name URIs this connector may
	// receive; empty means every published attribute.
	AllowedAttributes []string
	// Name is shown to the person on the consent page (default: the
	// country code).
	Name string
}

// Organization is published in the metadata.
type Organization struct {
	Name, DisplayName, URL       string
	SupportEmail, TechnicalEmail string
}

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// settings is the checked configuration with defaults applied.
type settings struct {
	Config
	entityID string
	ssoURL   string
	cbBase   string
	path     string // URL path of PathPrefix under BaseURL, for cookies
	secure   bool   // BaseURL is https
	sigAlg   string
}

func (c Config) check() (settings, error) {
	s := settings{Config: c}
	bad := func(format string, args ...any) (settings, error) {
		return settings{}, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	base := strings.TrimSuffix(c.BaseURL, "/")
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return bad("base URL must be an absolute http(s) URL without query")
	}
	s.BaseURL = base
	s.entityID = base + MetadataPath
	s.ssoURL = base + SSOPath
	s.cbBase = base + CallbackPath
	s.path = strings.TrimSuffix(u.EscapedPath(), "/") + PathPrefix + "/"
	s.secure = u.Scheme == "https"

	if c.SigningKey == nil || c.SigningCert == nil {
		return bad("signing key and certificate required")
	}
	if eq, ok := c.SigningKey.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(c.SigningCert.PublicKey) {
		return bad("signing certificate does not hold the signing key")
	}
	if err := xmlsec.CheckPublicKey(c.SigningCert.PublicKey); err != nil {
		return bad("signing key: %v", err)
	}
	s.sigAlg = c.SignatureAlgorithm
	if s.sigAlg == "" {
		s.sigAlg = defaultSigAlg(c.SigningCert.PublicKey)
	}
	if !sigAlgFits(s.sigAlg, c.SigningCert.PublicKey) {
		return bad("signature algorithm %q does not fit the signing key (want RSASSA-PSS for RSA, ECDSA for EC)", s.sigAlg)
	}
	if c.EncryptionCert != nil {
		if err := xmlsec.CheckPublicKey(c.EncryptionCert.PublicKey); err != nil {
			return bad("encryption certificate: %v", err)
		}
		if c.EncryptionCert.Equal(c.SigningCert) {
			return bad("encryption certificate must differ from the signing certificate")
		}
	}
	if c.Adapter == nil {
		return bad("eID adapter required")
	}
	if c.AdapterID == "" {
		s.AdapterID = "eid"
	}
	if c.Store == nil {
		return bad("store required")
	}
	if len(c.PseudonymSecret) < 32 {
		return bad("pseudonym secret must have at least 32 bytes")
	}
	if len(c.DataKey) != 32 {
		return bad("data key must have 32 bytes")
	}
	if s.NodeCountry == "" {
		s.NodeCountry = DefaultNodeCountry
	}
	s.NodeCountry = samlxml.CountryCode(s.NodeCountry)
	if !countryPattern.MatchString(s.NodeCountry) {
		return bad("node country must be two upper-case letters")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&s.MetadataValidity, DefaultMetadataValidity)
	def(&s.MetadataRefresh, DefaultMetadataRefresh)
	def(&s.ClockSkew, DefaultClockSkew)
	def(&s.RequestMaxAge, DefaultRequestMaxAge)
	def(&s.ResponseValidity, DefaultResponseValidity)
	def(&s.TransactionTTL, DefaultTransactionTTL)
	for _, d := range []time.Duration{s.MetadataValidity, s.MetadataRefresh, s.ClockSkew, s.RequestMaxAge, s.ResponseValidity, s.TransactionTTL} {
		if d < 0 {
			return bad("durations must not be negative")
		}
	}
	if s.MaxMessageBytes <= 0 {
		s.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if s.HTTPClient == nil {
		s.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if len(c.Connectors) == 0 {
		return bad("at least one connector required")
	}
	seen := map[string]bool{}
	// A copy: the codes are normalised below, the caller's slice stays.
	s.Connectors = slices.Clone(c.Connectors)
	for i := range s.Connectors {
		// "GR" and "EL" name Greece; the PersonIdentifier and NodeCountry
		// use "EL", so that is the form kept.
		s.Connectors[i].Country = samlxml.CountryCode(s.Connectors[i].Country)
		cc := s.Connectors[i]
		if (len(cc.Metadata) == 0) == (cc.MetadataURL == "") {
			return bad("connectors[%d]: exactly one of metadata and metadata URL", i)
		}
		if cc.MetadataURL != "" {
			if mu, err := url.Parse(cc.MetadataURL); err != nil || mu.Host == "" || (mu.Scheme != "https" && mu.Scheme != "http") {
				return bad("connectors[%d]: metadata URL must be an absolute http(s) URL", i)
			}
		}
		if len(cc.TrustAnchors) == 0 {
			return bad("connectors[%d]: trust anchor required", i)
		}
		if !countryPattern.MatchString(cc.Country) {
			return bad("connectors[%d]: country must be two upper-case letters", i)
		}
		switch cc.SPType {
		case "", SPTypePublic, SPTypePrivate:
		default:
			return bad("connectors[%d]: SP type must be public or private", i)
		}
		for _, a := range cc.AllowedAttributes {
			if d, ok := lookupAttr(a); !ok || !d.Published {
				return bad("connectors[%d]: allowed attribute %q is not one the service offers", i, a)
			}
		}
		id := cc.EntityID
		if id == "" {
			id = cc.MetadataURL
		}
		if id != "" {
			if seen[id] {
				return bad("connectors[%d]: duplicate entity ID", i)
			}
			seen[id] = true
		}
	}
	return s, nil
}

// defaultSigAlg picks the eIDAS signature method for a key: RSASSA-PSS with
// SHA-256 for RSA, ECDSA with the hash matching the curve size for EC.
func defaultSigAlg(pub crypto.PublicKey) string {
	if k, ok := pub.(*ecdsa.PublicKey); ok {
		switch k.Curve {
		case elliptic.P384():
			return xmlsec.SigECDSASHA384
		case elliptic.P521():
			return xmlsec.SigECDSASHA512
		}
		return xmlsec.SigECDSASHA256
	}
	return xmlsec.SigRSAPSSSHA256
}

var (
	pssAlgs   = []string{xmlsec.SigRSAPSSSHA256, xmlsec.SigRSAPSSSHA384, xmlsec.SigRSAPSSSHA512}
	ecdsaAlgs = []string{xmlsec.SigECDSASHA256, xmlsec.SigECDSASHA384, xmlsec.SigECDSASHA512}
)

func sigAlgFits(alg string, pub crypto.PublicKey) bool {
	switch pub.(type) {
	case *rsa.PublicKey:
		return contains(pssAlgs, alg)
	case *ecdsa.PublicKey:
		return contains(ecdsaAlgs, alg)
	}
	return false
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
