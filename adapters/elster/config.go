package elster

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/config"
)

// Values of the enumerated settings.
const (
	RevocationBoth = "both"
	RevocationOCSP = "ocsp"
	RevocationCRL  = "crl"
	RevocationNone = "none"

	UnreachableRefuse = "refuse"
	UnreachableAllow  = "allow"

	AlgRS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
	AlgPS256 = "PS256" // RSASSA-PSS with SHA-256, salt length 32

	EKUClientAuth = "client_auth"
	EKUAny        = "any"

	SubjectSerialNumber = "serial_number"
	SubjectSPKI         = "spki"

	// DefaultMTLSHeader is the header nginx fills from
	// $ssl_client_escaped_cert when configured so.
	DefaultMTLSHeader = "X-Client-Cert"
)

// Defaults of the duration settings.
const (
	DefaultChallengeTTL = 2 * time.Minute
	DefaultCacheTTL     = 10 * time.Minute
	DefaultTimeout      = 5 * time.Second
)

// Limits on durations, so a typo cannot open a window of days.
const (
	minChallengeTTL = 30 * time.Second
	maxChallengeTTL = 10 * time.Minute
	maxCacheTTL     = 24 * time.Hour
	minTimeout      = 500 * time.Millisecond
	maxTimeout      = time.Minute
	maxAnchorBytes  = 1 << 20
)

// Config is the `config:` block of an adapter of type "elster". Zero values
// mean the documented default; NewConfig returns them filled in.
type Config struct {
	// TrustAnchors are PEM files holding the certificates of the ELSTER CAs
	// whose certificates may log in: roots, or issuing CAs to pin the trust
	// to them. Every certificate in these files is an anchor (a chain ends
	// at the first one it reaches). For mutual TLS, where the terminator
	// forwards only the leaf, list the issuing CAs here as well. Required.
	TrustAnchors []config.Path `yaml:"trust_anchors"`
	// Revocation configures OCSP and CRL checking.
	Revocation Revocation `yaml:"revocation"`
	// ChallengeTTL is how long a login page's challenge can be answered
	// (default 2m, between 30s and 10m).
	ChallengeTTL config.Duration `yaml:"challenge_ttl"`
	// SignatureAlg is what the page asks the browser to sign with: RS256
	// (default) or PS256. Finish accepts both.
	SignatureAlg string `yaml:"signature_alg"`
	// ExtKeyUsage is client_auth (default: a certificate that carries the
	// extended key usage extension must allow clientAuth) or any.
	ExtKeyUsage string `yaml:"ext_key_usage"`
	// SubjectID selects the stable identity: serial_number (default: issuer
	// plus subject serialNumber attribute, falling back to the key hash) or
	// spki (SHA-256 of the subject public key info). See the package doc.
	SubjectID string `yaml:"subject_id"`
	// Mapping says which subject attributes become which claims.
	Mapping Mapping `yaml:"mapping"`
	// MTLS enables the login with a certificate forwarded by a TLS
	// terminator.
	MTLS MTLS `yaml:"mtls"`
}

// Revocation configures how certificates are checked for revocation.
type Revocation struct {
	// Mode is both (default), ocsp, crl or none.
	Mode string `yaml:"mode"`
	// CRLURLs replace the certificates' CRL distribution points. Each CRL is
	// used for the certificates of the CA that signed it.
	CRLURLs []string `yaml:"crl_urls"`
	// OCSPURL replaces the responder named in the certificates.
	OCSPURL string `yaml:"ocsp_url"`
	// CacheTTL bounds how long an answer is reused (default 10m, at most
	// 24h); an answer is never used past its own nextUpdate.
	CacheTTL config.Duration `yaml:"cache_ttl"`
	// Unreachable is the policy when no revocation source answers: refuse
	// (default) or allow. An invalid answer is always refused.
	Unreachable string `yaml:"unreachable"`
	// Timeout bounds one request to a responder (default 5s).
	Timeout config.Duration `yaml:"timeout"`
}

// Mapping lists, per claim, the subject attributes to read, in order; the
// first one present wins. Names are the usual short names (CN, SN, GN, O,
// C, serialNumber, organizationIdentifier, …) or dotted OIDs.
type Mapping struct {
	// Person applies to every certificate (an organisation certificate
	// names the person acting for the organisation too).
	Person PersonMapping `yaml:"person"`
	// Organisation applies to organisation certificates: those with one of
	// the Name attributes.
	Organisation OrganisationMapping `yaml:"organisation"`
	// SerialNumber holds the holder number used by subject_id serial_number
	// (default [serialNumber]).
	SerialNumber []string `yaml:"serial_number"`
}

// PersonMapping maps a person's names.
type PersonMapping struct {
	GivenName  []string `yaml:"given_name"`  // default [GN]
	FamilyName []string `yaml:"family_name"` // default [SN]
	// CommonName is split at its last space into given and family name
	// when neither of the above is present (default [CN]).
	CommonName []string `yaml:"common_name"`
}

// OrganisationMapping maps the legal entity of organisation certificates.
type OrganisationMapping struct {
	Name       []string `yaml:"name"`       // default [O]
	Identifier []string `yaml:"identifier"` // default [organizationIdentifier]
	Country    []string `yaml:"country"`    // default [C]
}

// MTLS configures the login with a client certificate forwarded by a TLS
// terminator.
type MTLS struct {
	Enabled bool `yaml:"enabled"`
	// TrustedProxies are the CIDRs of the terminators; the header is
	// believed only from a connection from one of them. Required when
	// enabled.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Header carries the URL-encoded PEM certificate (default
	// X-Client-Cert). The terminator must overwrite it on every request.
	Header string `yaml:"header"`
}

// NewConfig returns a Config with every default filled in; it is the
// constructor for the config registry.
func NewConfig() *Config {
	return &Config{
		Revocation: Revocation{
			Mode:        RevocationBoth,
			CacheTTL:    config.Duration(DefaultCacheTTL),
			Unreachable: UnreachableRefuse,
			Timeout:     config.Duration(DefaultTimeout),
		},
		ChallengeTTL: config.Duration(DefaultChallengeTTL),
		SignatureAlg: AlgRS256,
		ExtKeyUsage:  EKUClientAuth,
		SubjectID:    SubjectSerialNumber,
		Mapping:      defaultMapping(),
		MTLS:         MTLS{Header: DefaultMTLSHeader},
	}
}

func defaultMapping() Mapping {
	return Mapping{
		Person: PersonMapping{
			GivenName:  []string{"GN"},
			FamilyName: []string{"SN"},
			CommonName: []string{"CN"},
		},
		Organisation: OrganisationMapping{
			Name:       []string{"O"},
			Identifier: []string{"organizationIdentifier"},
			Country:    []string{"C"},
		},
		SerialNumber: []string{"serialNumber"},
	}
}

// effective returns a copy with defaults in place of zero values.
func (c *Config) effective() Config {
	e := *c
	d := NewConfig()
	if e.Revocation.Mode == "" {
		e.Revocation.Mode = d.Revocation.Mode
	}
	if e.Revocation.CacheTTL == 0 {
		e.Revocation.CacheTTL = d.Revocation.CacheTTL
	}
	if e.Revocation.Unreachable == "" {
		e.Revocation.Unreachable = d.Revocation.Unreachable
	}
	if e.Revocation.Timeout == 0 {
		e.Revocation.Timeout = d.Revocation.Timeout
	}
	if e.ChallengeTTL == 0 {
		e.ChallengeTTL = d.ChallengeTTL
	}
	if e.SignatureAlg == "" {
		e.SignatureAlg = d.SignatureAlg
	}
	if e.ExtKeyUsage == "" {
		e.ExtKeyUsage = d.ExtKeyUsage
	}
	if e.SubjectID == "" {
		e.SubjectID = d.SubjectID
	}
	if e.MTLS.Header == "" {
		e.MTLS.Header = d.MTLS.Header
	}
	m, dm := &e.Mapping, d.Mapping
	for _, f := range []struct{ v, d *[]string }{
		{&m.Person.GivenName, &dm.Person.GivenName},
		{&m.Person.FamilyName, &dm.Person.FamilyName},
		{&m.Person.CommonName, &dm.Person.CommonName},
		{&m.Organisation.Name, &dm.Organisation.Name},
		{&m.Organisation.Identifier, &dm.Organisation.Identifier},
		{&m.Organisation.Country, &dm.Organisation.Country},
		{&m.SerialNumber, &dm.SerialNumber},
	} {
		if len(*f.v) == 0 {
			*f.v = *f.d
		}
	}
	return e
}

// Validate checks the block and returns every problem; paths are relative
// to the block. It reads the trust anchor files, so check-config catches an
// unreadable or wrong file before the broker starts.
func (c *Config) Validate() []config.Problem {
	e := c.effective()
	var ps []config.Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, config.Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}

	if len(e.TrustAnchors) == 0 {
		add("trust_anchors", "required")
	}
	for i, p := range e.TrustAnchors {
		if _, err := loadAnchorFile(string(p)); err != nil {
			add(fmt.Sprintf("trust_anchors[%d]", i), "%v", err)
		}
	}

	r := e.Revocation
	switch r.Mode {
	case RevocationBoth, RevocationOCSP, RevocationCRL, RevocationNone:
	default:
		add("revocation.mode", "must be both, ocsp, crl or none, not %q", r.Mode)
	}
	for i, u := range r.CRLURLs {
		if msg := httpURLProblem(u); msg != "" {
			add(fmt.Sprintf("revocation.crl_urls[%d]", i), "%s", msg)
		}
	}
	if r.OCSPURL != "" {
		if msg := httpURLProblem(r.OCSPURL); msg != "" {
			add("revocation.ocsp_url", "%s", msg)
		}
	}
	if r.Mode == RevocationNone && (len(r.CRLURLs) > 0 || r.OCSPURL != "") {
		add("revocation.mode", "none, but responder URLs are set; choose a mode that uses them or remove them")
	}
	if ttl := r.CacheTTL.D(); ttl < time.Second || ttl > maxCacheTTL {
		add("revocation.cache_ttl", "must be between 1s and %s", maxCacheTTL)
	}
	switch r.Unreachable {
	case UnreachableRefuse, UnreachableAllow:
	default:
		add("revocation.unreachable", "must be refuse or allow, not %q", r.Unreachable)
	}
	if t := r.Timeout.D(); t < minTimeout || t > maxTimeout {
		add("revocation.timeout", "must be between %s and %s", minTimeout, maxTimeout)
	}

	if t := e.ChallengeTTL.D(); t < minChallengeTTL || t > maxChallengeTTL {
		add("challenge_ttl", "must be between %s and %s", minChallengeTTL, maxChallengeTTL)
	}
	switch e.SignatureAlg {
	case AlgRS256, AlgPS256:
	default:
		add("signature_alg", "must be RS256 or PS256, not %q", e.SignatureAlg)
	}
	switch e.ExtKeyUsage {
	case EKUClientAuth, EKUAny:
	default:
		add("ext_key_usage", "must be client_auth or any, not %q", e.ExtKeyUsage)
	}
	switch e.SubjectID {
	case SubjectSerialNumber, SubjectSPKI:
	default:
		add("subject_id", "must be serial_number or spki, not %q", e.SubjectID)
	}

	m := e.Mapping
	for _, f := range []struct {
		path  string
		names []string
	}{
		{"mapping.person.given_name", m.Person.GivenName},
		{"mapping.person.family_name", m.Person.FamilyName},
		{"mapping.person.common_name", m.Person.CommonName},
		{"mapping.organisation.name", m.Organisation.Name},
		{"mapping.organisation.identifier", m.Organisation.Identifier},
		{"mapping.organisation.country", m.Organisation.Country},
		{"mapping.serial_number", m.SerialNumber},
	} {
		for i, n := range f.names {
			if _, err := parseAttrName(n); err != nil {
				add(fmt.Sprintf("%s[%d]", f.path, i), "%v", err)
			}
		}
	}

	if e.MTLS.Enabled && len(e.MTLS.TrustedProxies) == 0 {
		add("mtls.trusted_proxies", "required when mtls is enabled")
	}
	for i, s := range e.MTLS.TrustedProxies {
		if _, err := netip.ParsePrefix(s); err != nil {
			add(fmt.Sprintf("mtls.trusted_proxies[%d]", i), "not a CIDR prefix like 10.0.0.0/8 or ::1/128")
		}
	}
	if !validHeaderName(e.MTLS.Header) {
		add("mtls.header", "not a valid header name")
	}
	return ps
}

// Open builds the adapter. It validates again (Open may be called without
// the config loader, e.g. by the demo) and needs deps.Store and
// deps.BaseURL.
func (c *Config) Open(id string, deps adapters.Deps) (*Adapter, error) {
	if ps := c.Validate(); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = p.Path + ": " + p.Msg
		}
		return nil, fmt.Errorf("open elster adapter %q: invalid config: %s", id, strings.Join(msgs, "; "))
	}
	if id == "" || strings.ContainsAny(id, "/?#% ") {
		return nil, fmt.Errorf("open elster adapter: invalid id %q", id)
	}
	if deps.Store == nil {
		return nil, fmt.Errorf("open elster adapter %q: %w", id, errors.New("no store in deps"))
	}
	origin, err := normaliseBaseURL(deps.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("open elster adapter %q: base url: %w", id, err)
	}
	webOrigin, err := serializedOrigin(origin)
	if err != nil {
		return nil, fmt.Errorf("open elster adapter %q: base url: %w", id, err)
	}
	e := c.effective()

	roots := x509.NewCertPool()
	var anchors []*x509.Certificate
	var caNames []string
	for _, p := range e.TrustAnchors {
		certs, err := loadAnchorFile(string(p))
		if err != nil {
			return nil, fmt.Errorf("open elster adapter %q: trust anchor %s: %w", id, p, err)
		}
		for _, cert := range certs {
			roots.AddCert(cert)
			anchors = append(anchors, cert)
			if cn := cert.Subject.CommonName; cn != "" {
				caNames = append(caNames, cn)
			}
		}
	}
	mapping, err := compileMapping(e.Mapping)
	if err != nil {
		return nil, fmt.Errorf("open elster adapter %q: mapping: %w", id, err)
	}
	var proxies []netip.Prefix
	for _, s := range e.MTLS.TrustedProxies {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("open elster adapter %q: trusted proxy %q: %w", id, s, err)
		}
		proxies = append(proxies, p.Masked())
	}

	a := &Adapter{
		id:           id,
		origin:       origin,
		webOrigin:    webOrigin,
		roots:        roots,
		anchors:      anchors,
		caNames:      caNames,
		challengeTTL: e.ChallengeTTL.D(),
		alg:          e.SignatureAlg,
		anyEKU:       e.ExtKeyUsage == EKUAny,
		subjectSPKI:  e.SubjectID == SubjectSPKI,
		mapping:      mapping,
		mtls:         e.MTLS.Enabled,
		mtlsHeader:   http.CanonicalHeaderKey(e.MTLS.Header),
		proxies:      proxies,
		store:        deps.Store,
		now:          deps.Now,
		log:          deps.Logger,
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = discardLogger()
	}
	// The broker scopes deps.Logger with the adapter ID (adapters.Deps).
	client := deps.HTTP
	if client == nil {
		client = &http.Client{Timeout: e.Revocation.Timeout.D()}
	}
	a.rev = newRevocationChecker(revocationOptions{
		mode:             e.Revocation.Mode,
		crlURLs:          e.Revocation.CRLURLs,
		ocspURL:          e.Revocation.OCSPURL,
		cacheTTL:         e.Revocation.CacheTTL.D(),
		allowUnreachable: e.Revocation.Unreachable == UnreachableAllow,
		timeout:          e.Revocation.Timeout.D(),
		client:           client,
		now:              a.now,
		log:              a.log,
	})
	a.page, err = newPageBuilder(origin + "/login/" + id + "/assets/")
	if err != nil {
		return nil, fmt.Errorf("open elster adapter %q: %w", id, err)
	}
	return a, nil
}

// loadAnchorFile reads CA certificates from a PEM file. Every block must be
// a CA certificate: a stray leaf or key in a trust anchor file is a mistake
// worth stopping for.
func loadAnchorFile(path string) ([]*x509.Certificate, error) {
	if path == "" {
		return nil, errors.New("empty path")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxAnchorBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read file: %w", err)
	}
	if len(data) > maxAnchorBytes {
		return nil, fmt.Errorf("file larger than %d bytes", maxAnchorBytes)
	}
	var certs []*x509.Certificate
	for len(strings.TrimSpace(string(data))) > 0 {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("trailing data that is not PEM")
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q, want CERTIFICATE", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		if !cert.BasicConstraintsValid || !cert.IsCA {
			return nil, fmt.Errorf("certificate %q is not a CA certificate", cert.Subject.CommonName)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate in file")
	}
	return certs, nil
}

func httpURLProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "not an absolute URL"
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		// OCSP and CRLs are signed, so plain http is normal for them.
		return "must be http or https"
	}
	if u.User != nil || u.Fragment != "" {
		return "must not contain user info or a fragment"
	}
	return ""
}

// normaliseBaseURL checks the broker's external base URL, which becomes part
// of every challenge, and strips a trailing slash.
func normaliseBaseURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parse: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(raw, " \t\r\n") {
		return "", fmt.Errorf("%q is not a plain http(s) base URL", raw)
	}
	return strings.TrimSuffix(raw, "/"), nil
}

// validHeaderName accepts an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}
