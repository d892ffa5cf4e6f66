package wallet

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
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
	"github.com/ozg-broker/eidas-broker/adapters/wallet/statuslist"
	"github.com/ozg-broker/eidas-broker/config"
)

// Type is the adapter type name in the config file and the amr value.
const Type = "eudi-wallet"

// Values of the enumerated settings.
const (
	FormatSDJWT = "dc+sd-jwt"
	FormatMDoc  = "mso_mdoc"

	PrefixX509Hash   = "x509_hash"
	PrefixX509SanDNS = "x509_san_dns"

	UnreachableRefuse = "refuse"
	UnreachableAllow  = "allow"

	// DefaultWalletURL is the authorization endpoint wallets register
	// (OpenID4VP 1.0 §13.1.2).
	DefaultWalletURL = "openid4vp://"
)

// Defaults and bounds of the durations.
const (
	DefaultRequestTTL = 5 * time.Minute
	DefaultCacheTTL   = 5 * time.Minute
	DefaultTimeout    = 5 * time.Second
	DefaultMaxLists   = 64
	minRequestTTL     = time.Minute
	maxRequestTTL     = 15 * time.Minute
	maxCacheTTL       = 24 * time.Hour
	minTimeout        = 500 * time.Millisecond
	maxTimeout        = time.Minute
	maxPEMBytes       = 1 << 20
)

// DefaultVCTs are the SD-JWT VC types accepted as PID: the EU base type of
// the PID rulebook and the German type, which extends it.
var DefaultVCTs = []string{"urn:eudi:pid:1", "urn:eudi:pid:de:1"}

// PIDDocType is the mdoc document type (and namespace) of the PID.
const PIDDocType = "eu.europa.ec.eudi.pid.1"

// Config is the `config:` block of an adapter of type "eudi-wallet".
type Config struct {
	// AccessCertificate is a PEM file with the verifier's access
	// certificate (the relying-party access certificate of the ARF) first,
	// then its intermediate CAs, without the root. Request objects carry
	// this chain as x5c. Required.
	AccessCertificate config.Path `yaml:"access_certificate"`
	// AccessKey is the PEM file with the certificate's EC P-256 private key
	// (request objects are signed with ES256). Required.
	AccessKey config.Path `yaml:"access_key"`
	// ClientIDPrefix is x509_hash (default; HAIP 1.0 requires it for signed
	// requests) or x509_san_dns (the certificate's first DNS name).
	ClientIDPrefix string `yaml:"client_id_prefix"`
	// Formats are the credential formats asked for: dc+sd-jwt and/or
	// mso_mdoc (default both; the wallet picks one).
	Formats []string `yaml:"formats"`
	// TrustLists are PEM files of the trust anchors per format: the PID
	// providers' CA certificates for SD-JWT VC and the IACA certificates
	// for mdoc. Each enabled format needs at least one.
	TrustLists TrustLists `yaml:"trust_lists"`
	// VCTValues are the accepted SD-JWT VC types (default urn:eudi:pid:1
	// and urn:eudi:pid:de:1).
	VCTValues []string `yaml:"vct_values"`
	// Status configures the Token Status List checks.
	Status Status `yaml:"status"`
	// RequestTTL bounds how long a wallet may take (default 5m, 1m..15m).
	RequestTTL config.Duration `yaml:"request_ttl"`
	// WalletURL is the wallet invocation URL the same-device link and the
	// QR code start with (default openid4vp://).
	WalletURL string `yaml:"wallet_url"`
	// CrossDevice offers the QR code for a wallet on another device
	// (default true). Off, only the same-device link remains, which
	// removes the cross-device relay risk (docs/wallet.md).
	CrossDevice bool `yaml:"cross_device"`
	// RelyingParty is what the wallet shows about who asks and why.
	RelyingParty RelyingParty `yaml:"relying_party"`

	// Material supplies the access key, chain and trust anchors in memory
	// (demo and tests); the files are then not read. Not from YAML.
	Material *Material `yaml:"-"`
}

// TrustLists hold the trust anchor files per format.
type TrustLists struct {
	SDJWT []config.Path `yaml:"sd_jwt_vc"`
	MDoc  []config.Path `yaml:"mso_mdoc"`
}

// Status configures revocation checking through Token Status Lists.
type Status struct {
	// Require refuses a PID that names no status list (default true).
	Require bool `yaml:"require"`
	// Unreachable is refuse (default) or allow: what to do when a list
	// cannot be fetched. An invalid list is always refused.
	Unreachable string `yaml:"unreachable"`
	// CacheTTL bounds how long a list is reused (default 5m, at most 24h);
	// never past the list token's exp or ttl.
	CacheTTL config.Duration `yaml:"cache_ttl"`
	// Timeout bounds one fetch (default 5s).
	Timeout config.Duration `yaml:"timeout"`
	// MaxLists bounds the cache (default 64).
	MaxLists int `yaml:"max_lists"`
}

// RelyingParty is shown to the person by the wallet.
type RelyingParty struct {
	// Name goes into client_metadata.client_name (default: the access
	// certificate's organisation).
	Name string `yaml:"name"`
	// RegistrationCertificate is an optional file with the relying party's
	// registration certificate (a JWT), sent as verifier_info.
	RegistrationCertificate config.Path `yaml:"registration_certificate"`
	// Clients describe, per portal (OIDC client ID), the relying party the
	// broker acts for as an intermediary (ARF): the wallet shows the
	// portal's name and intended use, and its registration certificate is
	// sent as verifier_info. A portal without an entry is presented under
	// Name alone.
	Clients map[string]IntermediatedRP `yaml:"clients"`
}

// IntermediatedRP is a portal the broker asks a wallet on behalf of.
type IntermediatedRP struct {
	Name                    string      `yaml:"name"`    // the portal as the person knows it
	Purpose                 string      `yaml:"purpose"` // the intended use, shown by the wallet
	RegistrationCertificate config.Path `yaml:"registration_certificate"`
}

// Material is key material and trust in memory.
type Material struct {
	AccessKey    crypto.Signer
	AccessChain  []*x509.Certificate // leaf first, without the root
	SDJWTAnchors []*x509.Certificate
	MDocAnchors  []*x509.Certificate
}

// NewConfig returns a Config with the defaults filled in.
func NewConfig() *Config {
	return &Config{
		ClientIDPrefix: PrefixX509Hash,
		Formats:        []string{FormatSDJWT, FormatMDoc},
		VCTValues:      append([]string(nil), DefaultVCTs...),
		Status: Status{Require: true, Unreachable: UnreachableRefuse, CacheTTL: config.Duration(DefaultCacheTTL),
			Timeout: config.Duration(DefaultTimeout), MaxLists: DefaultMaxLists},
		RequestTTL:  config.Duration(DefaultRequestTTL),
		WalletURL:   DefaultWalletURL,
		CrossDevice: true,
	}
}

// Validate checks the block and returns every problem. It reads the key,
// certificate and trust list files so check-config catches bad files.
func (c *Config) Validate() []config.Problem {
	var ps []config.Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, config.Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Material == nil {
		if c.AccessCertificate == "" {
			add("access_certificate", "required")
		} else if chain, err := loadCerts(string(c.AccessCertificate)); err != nil {
			add("access_certificate", "%v", err)
		} else if msg := accessCertProblem(chain, c.ClientIDPrefix); msg != "" {
			add("access_certificate", "%s", msg)
		}
		if c.AccessKey == "" {
			add("access_key", "required")
		} else if _, err := loadKey(string(c.AccessKey)); err != nil {
			add("access_key", "%v", err)
		}
	}
	switch c.ClientIDPrefix {
	case PrefixX509Hash, PrefixX509SanDNS:
	default:
		add("client_id_prefix", "must be x509_hash or x509_san_dns, not %q", c.ClientIDPrefix)
	}
	if len(c.Formats) == 0 {
		add("formats", "at least one of dc+sd-jwt, mso_mdoc")
	}
	seen := map[string]bool{}
	for i, f := range c.Formats {
		if f != FormatSDJWT && f != FormatMDoc {
			add(fmt.Sprintf("formats[%d]", i), "must be dc+sd-jwt or mso_mdoc, not %q", f)
		}
		if seen[f] {
			add(fmt.Sprintf("formats[%d]", i), "listed twice")
		}
		seen[f] = true
	}
	if c.Material == nil {
		for _, tl := range []struct {
			path, format string
			files        []config.Path
		}{{"trust_lists.sd_jwt_vc", FormatSDJWT, c.TrustLists.SDJWT}, {"trust_lists.mso_mdoc", FormatMDoc, c.TrustLists.MDoc}} {
			if seen[tl.format] && len(tl.files) == 0 {
				add(tl.path, "required when %s is among the formats", tl.format)
			}
			for i, p := range tl.files {
				if _, err := loadAnchors(string(p)); err != nil {
					add(fmt.Sprintf("%s[%d]", tl.path, i), "%v", err)
				}
			}
		}
	}
	if seen[FormatSDJWT] && len(c.VCTValues) == 0 {
		add("vct_values", "at least one type")
	}
	for i, v := range c.VCTValues {
		if strings.TrimSpace(v) == "" || strings.ContainsAny(v, " \t\r\n") {
			add(fmt.Sprintf("vct_values[%d]", i), "not a type identifier")
		}
	}
	switch c.Status.Unreachable {
	case UnreachableRefuse, UnreachableAllow:
	default:
		add("status.unreachable", "must be refuse or allow, not %q", c.Status.Unreachable)
	}
	if d := c.Status.CacheTTL.D(); d < time.Second || d > maxCacheTTL {
		add("status.cache_ttl", "must be between 1s and %s", maxCacheTTL)
	}
	if d := c.Status.Timeout.D(); d < minTimeout || d > maxTimeout {
		add("status.timeout", "must be between %s and %s", minTimeout, maxTimeout)
	}
	if c.Status.MaxLists < 1 || c.Status.MaxLists > 10000 {
		add("status.max_lists", "must be between 1 and 10000")
	}
	if d := c.RequestTTL.D(); d < minRequestTTL || d > maxRequestTTL {
		add("request_ttl", "must be between %s and %s", minRequestTTL, maxRequestTTL)
	}
	if u, err := url.Parse(c.WalletURL); err != nil || u.Scheme == "" || u.RawQuery != "" || u.Fragment != "" {
		add("wallet_url", "must be an absolute URL without query or fragment (openid4vp:// or an https universal link)")
	} else if u.Scheme == "http" && !isLoopback(u.Hostname()) || u.Scheme == "javascript" || u.Scheme == "data" {
		add("wallet_url", "scheme %q not allowed (plain http only for a loopback test wallet)", u.Scheme)
	}
	if p := c.RelyingParty.RegistrationCertificate; p != "" {
		if data, err := readLimited(string(p)); err != nil {
			add("relying_party.registration_certificate", "%v", err)
		} else if strings.Count(strings.TrimSpace(string(data)), ".") != 2 {
			add("relying_party.registration_certificate", "not a compact JWT")
		}
	}
	if len(c.RelyingParty.Name) > 200 {
		add("relying_party.name", "longer than 200 characters")
	}
	for id, rp := range c.RelyingParty.Clients {
		p := "relying_party.clients." + id
		if rp.Name == "" || len(rp.Name) > 200 {
			add(p+".name", "required, at most 200 characters")
		}
		if len(rp.Purpose) > 500 {
			add(p+".purpose", "longer than 500 characters")
		}
		if f := rp.RegistrationCertificate; f != "" {
			if data, err := readLimited(string(f)); err != nil {
				add(p+".registration_certificate", "%v", err)
			} else if strings.Count(strings.TrimSpace(string(data)), ".") != 2 {
				add(p+".registration_certificate", "not a compact JWT")
			}
		}
	}
	return ps
}

// accessCertProblem checks what the request objects depend on: an EC
// P-256 leaf, not self-signed (HAIP), with a DNS name for x509_san_dns.
func accessCertProblem(chain []*x509.Certificate, prefix string) string {
	leaf := chain[0]
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return "the first certificate must have an EC P-256 key (requests are signed with ES256)"
	}
	if leaf.IsCA {
		return "the first certificate must be the access certificate, not a CA"
	}
	if leaf.CheckSignatureFrom(leaf) == nil {
		return "the access certificate must not be self-signed (HAIP)"
	}
	for _, c := range chain {
		if c.CheckSignatureFrom(c) == nil && bytesEqual(c.RawSubject, c.RawIssuer) {
			return "the chain must not include the root certificate (HAIP: x5c without the trust anchor)"
		}
	}
	if prefix == PrefixX509SanDNS && len(leaf.DNSNames) == 0 {
		return "x509_san_dns needs a DNS name in the access certificate"
	}
	return ""
}

func readLimited(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("empty path")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPEMBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read file: %w", err)
	}
	if len(data) > maxPEMBytes {
		return nil, fmt.Errorf("file larger than %d bytes", maxPEMBytes)
	}
	return data, nil
}

func loadCerts(path string) ([]*x509.Certificate, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return config.ParseCertificatesPEM(data)
}

func loadAnchors(path string) ([]*x509.Certificate, error) {
	certs, err := loadCerts(path)
	if err != nil {
		return nil, err
	}
	for _, c := range certs {
		if !c.BasicConstraintsValid || !c.IsCA {
			return nil, fmt.Errorf("certificate %q is not a CA certificate", c.Subject.CommonName)
		}
	}
	return certs, nil
}

func loadKey(path string) (crypto.Signer, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	k, err := config.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, err
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("the access key must be an EC P-256 key")
	}
	return k, nil
}

// Open builds the adapter; it needs deps.Store and deps.BaseURL.
func (c *Config) Open(id string, deps adapters.Deps) (*Adapter, error) {
	if ps := c.Validate(); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = p.Path + ": " + p.Msg
		}
		return nil, fmt.Errorf("open wallet adapter %q: invalid config: %s", id, strings.Join(msgs, "; "))
	}
	if id == "" || strings.ContainsAny(id, "/?#% ") {
		return nil, fmt.Errorf("open wallet adapter: invalid id %q", id)
	}
	if deps.Store == nil {
		return nil, fmt.Errorf("open wallet adapter %q: no store in deps", id)
	}
	origin, err := normaliseBaseURL(deps.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("open wallet adapter %q: base url: %w", id, err)
	}
	m := c.Material
	if m == nil {
		m = &Material{}
		if m.AccessChain, err = loadCerts(string(c.AccessCertificate)); err != nil {
			return nil, fmt.Errorf("open wallet adapter %q: access certificate: %w", id, err)
		}
		if m.AccessKey, err = loadKey(string(c.AccessKey)); err != nil {
			return nil, fmt.Errorf("open wallet adapter %q: access key: %w", id, err)
		}
		for _, p := range c.TrustLists.SDJWT {
			cs, err := loadAnchors(string(p))
			if err != nil {
				return nil, fmt.Errorf("open wallet adapter %q: trust list %s: %w", id, p, err)
			}
			m.SDJWTAnchors = append(m.SDJWTAnchors, cs...)
		}
		for _, p := range c.TrustLists.MDoc {
			cs, err := loadAnchors(string(p))
			if err != nil {
				return nil, fmt.Errorf("open wallet adapter %q: trust list %s: %w", id, p, err)
			}
			m.MDocAnchors = append(m.MDocAnchors, cs...)
		}
	}
	if len(m.AccessChain) == 0 || m.AccessKey == nil {
		return nil, fmt.Errorf("open wallet adapter %q: no access certificate or key", id)
	}
	if msg := accessCertProblem(m.AccessChain, c.ClientIDPrefix); msg != "" {
		return nil, fmt.Errorf("open wallet adapter %q: %s", id, msg)
	}
	if !publicKeysEqual(m.AccessKey.Public(), m.AccessChain[0].PublicKey) {
		return nil, fmt.Errorf("open wallet adapter %q: the access key does not belong to the access certificate", id)
	}
	a := &Adapter{
		id:               id,
		origin:           origin,
		accessKey:        m.AccessKey,
		accessChain:      m.AccessChain,
		sdRoots:          pool(m.SDJWTAnchors),
		mdRoots:          pool(m.MDocAnchors),
		sdAnchors:        m.SDJWTAnchors,
		mdAnchors:        m.MDocAnchors,
		requestTTL:       c.RequestTTL.D(),
		walletURL:        c.WalletURL,
		crossDevice:      c.CrossDevice,
		vcts:             c.VCTValues,
		statusRequired:   c.Status.Require,
		allowUnreachable: c.Status.Unreachable == UnreachableAllow,
		store:            deps.Store,
		now:              deps.Now,
		log:              deps.Logger,
	}
	for _, f := range c.Formats {
		switch f {
		case FormatSDJWT:
			a.sdjwt = true
		case FormatMDoc:
			a.mdoc = true
		}
	}
	if a.sdjwt && len(m.SDJWTAnchors) == 0 || a.mdoc && len(m.MDocAnchors) == 0 {
		return nil, fmt.Errorf("open wallet adapter %q: a format without trust anchors", id)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = discardLogger()
	}
	a.clientID = clientID(c.ClientIDPrefix, m.AccessChain[0])
	a.rpName = c.RelyingParty.Name
	if a.rpName == "" && len(m.AccessChain[0].Subject.Organization) > 0 {
		a.rpName = m.AccessChain[0].Subject.Organization[0]
	}
	if p := c.RelyingParty.RegistrationCertificate; p != "" {
		data, err := readLimited(string(p))
		if err != nil {
			return nil, fmt.Errorf("open wallet adapter %q: registration certificate: %w", id, err)
		}
		a.registrationCert = strings.TrimSpace(string(data))
	}
	a.clients = map[string]clientRP{}
	for id, rp := range c.RelyingParty.Clients {
		crp := clientRP{name: rp.Name, purpose: rp.Purpose}
		if f := rp.RegistrationCertificate; f != "" {
			data, err := readLimited(string(f))
			if err != nil {
				return nil, fmt.Errorf("open wallet adapter %q: registration certificate of client %s: %w", id, id, err)
			}
			crp.registrationCert = strings.TrimSpace(string(data))
		}
		a.clients[id] = crp
	}
	client := deps.HTTP
	if client == nil {
		client = &http.Client{}
	}
	// Our own timeout bounds status fetches even with a longer deps client.
	sc := *client
	sc.Timeout = c.Status.Timeout.D()
	a.status = &statuslist.Checker{Client: &sc, Now: a.now, CacheTTL: c.Status.CacheTTL.D(), MaxEntries: c.Status.MaxLists}
	if a.page, err = newPageBuilder(origin + "/login/" + id + "/assets/"); err != nil {
		return nil, fmt.Errorf("open wallet adapter %q: %w", id, err)
	}
	return a, nil
}

func pool(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ak, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}

// normaliseBaseURL checks the broker's external base URL and strips a
// trailing slash.
func normaliseBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not a plain http(s) base URL", raw)
	}
	return strings.TrimSuffix(raw, "/"), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }
