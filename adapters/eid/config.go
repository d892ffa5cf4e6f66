package eid

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/config"
)

// DefaultClientURL is the eID-Client's local address (TR-03124-1 §2.2).
const (
	DefaultClientURL       = "http://127.0.0.1:24727/eID-Client"
	DefaultMobileClientURL = "eid://127.0.0.1:24727/eID-Client"
)

// Defaults of Timeouts.
const (
	DefaultCallTimeout  = 10 * time.Second
	DefaultTCTokenTTL   = 10 * time.Minute
	DefaultSessionTTL   = 30 * time.Minute
	DefaultResultPoll   = 3 * time.Second
	defaultPollInterval = 500 * time.Millisecond
)

// Config is the `config:` block of an adapter of type "eid" in broker.yaml.
//
//	adapters:
//	  - id: eid
//	    type: eid
//	    config:
//	      endpoint: https://eid-server.example.de/eID-Interface
//	      tls: {client_cert: eservice-tls.crt, client_key: eservice-tls.key, server_ca: eid-server-ca.crt}
//	      ws_security: {signing_key: eservice-sign.key, signing_cert: eservice-sign.crt, server_cert: eid-server-sign.crt}
//	      attributes: {restricted_id: REQUIRED, given_names: REQUIRED, family_names: REQUIRED, date_of_birth: ALLOWED}
//	      level_caps: {AF: substantial}
//
// The zero value plus the required keys is a working configuration; NewConfig
// returns it with the defaults filled in.
type Config struct {
	// Endpoint is the eID-Server's SOAP endpoint (eID-Interface), https.
	Endpoint string `yaml:"endpoint"`
	// ServerAddress is the eID-Server's eCard-API (PAOS) address written into
	// the TC Token when useID returns no eCardServerAddress. Optional.
	ServerAddress string `yaml:"server_address"`
	// TLS is the mutual TLS towards the eID-Server.
	TLS TLSConfig `yaml:"tls"`
	// WSSecurity holds the message signature keys.
	WSSecurity WSSecurity `yaml:"ws_security"`
	// Attributes selects the data read from the card. Empty means a
	// sensible default (see DefaultAttributes). Each login asks only for
	// the selected data that the portal's allowed claims need.
	Attributes Attributes `yaml:"attributes"`
	// LevelOfAssurance is sent as LevelOfAssuranceRequest (schema 2.4):
	// "high" (default), "substantial", "low", or "none" to leave the element
	// out for eID-Servers that implement only schema 2.0.2. A login whose
	// floor is higher asks for the floor.
	LevelOfAssurance string `yaml:"level_of_assurance"`
	// AgeVerification asks the card whether the holder is at least Age.
	AgeVerification *AgeVerification `yaml:"age_verification"`
	// PlaceVerification asks the card whether the holder lives in CommunityID.
	PlaceVerification *PlaceVerification `yaml:"place_verification"`
	// TransactionInfo (schema 2.4) is shown to the person by the eID-Client.
	TransactionInfo string `yaml:"transaction_info"`
	// ClientURL is the eID-Client's address the start page links to
	// (default http://127.0.0.1:24727/eID-Client).
	ClientURL string `yaml:"client_url"`
	// MobileClientURL is the link for smartphones
	// (default eid://127.0.0.1:24727/eID-Client).
	MobileClientURL string `yaml:"mobile_client_url"`
	// Timeouts bound calls and stored data.
	Timeouts Timeouts `yaml:"timeouts"`
	// LevelCaps lowers the proved level per document type (DG1: "ID" ID
	// card, "AR"/"AS"/"AF" residence permits, "UB" eID card for EU citizens,
	// "OA" Smart-eID), e.g. {AF: substantial}. Setting any cap makes the
	// document type a required attribute.
	LevelCaps map[string]assurance.Level `yaml:"level_caps"`

	// Material supplies keys already in memory (demo and tests); when set,
	// the file fields of TLS and WSSecurity are not read. It cannot come
	// from YAML.
	Material *Material `yaml:"-"`
}

// TLSConfig names the files of the mutual TLS connection.
type TLSConfig struct {
	// ClientCert and ClientKey (PEM) authenticate the broker to the eID-Server.
	ClientCert config.Path `yaml:"client_cert"`
	ClientKey  config.Path `yaml:"client_key"`
	// ServerCA (PEM, one or more certificates) verifies the eID-Server;
	// empty means the system roots.
	ServerCA config.Path `yaml:"server_ca"`
	// ServerName overrides the name checked in the server's certificate.
	ServerName string `yaml:"server_name"`
}

// WSSecurity names the message signature keys (TR-03130-1 §3.5.2).
type WSSecurity struct {
	// SigningKey and SigningCert (PEM, RSA) sign every request.
	SigningKey  config.Path `yaml:"signing_key"`
	SigningCert config.Path `yaml:"signing_cert"`
	// ServerCert (PEM) is the eID-Server's signature certificate; responses
	// not signed with its key are refused.
	ServerCert config.Path `yaml:"server_cert"`
	// ClockSkew tolerated on message timestamps (default 2m).
	ClockSkew config.Duration `yaml:"clock_skew"`
	// AllowSHA1 accepts rsa-sha1 signatures from the eID-Server. Off by
	// default; only for servers that cannot sign with SHA-2.
	AllowSHA1 bool `yaml:"allow_sha1"`
}

// Attributes selects each data group: REQUIRED (the person cannot deselect
// it), ALLOWED (the person may deselect it) or PROHIBITED/empty (not read).
type Attributes struct {
	DocumentType     Selection `yaml:"document_type"`
	IssuingState     Selection `yaml:"issuing_state"`
	DateOfExpiry     Selection `yaml:"date_of_expiry"`
	GivenNames       Selection `yaml:"given_names"`
	FamilyNames      Selection `yaml:"family_names"`
	ArtisticName     Selection `yaml:"artistic_name"`
	AcademicTitle    Selection `yaml:"academic_title"`
	DateOfBirth      Selection `yaml:"date_of_birth"`
	PlaceOfBirth     Selection `yaml:"place_of_birth"`
	Nationality      Selection `yaml:"nationality"`
	BirthName        Selection `yaml:"birth_name"`
	PlaceOfResidence Selection `yaml:"place_of_residence"`
	CommunityID      Selection `yaml:"community_id"`
	ResidencePermitI Selection `yaml:"residence_permit_i"`
	// RestrictedID is the subject; it is always REQUIRED.
	RestrictedID Selection `yaml:"restricted_id"`
}

// AgeVerification configures an age check.
type AgeVerification struct {
	Age int `yaml:"age"`
	// Selection is REQUIRED (default) or ALLOWED.
	Selection Selection `yaml:"selection"`
}

// PlaceVerification configures a place check.
type PlaceVerification struct {
	// CommunityID is a Wohnort-ID prefix ("0276" Germany, "027605" a Land …).
	CommunityID string `yaml:"community_id"`
	// Selection is REQUIRED (default) or ALLOWED.
	Selection Selection `yaml:"selection"`
}

// Timeouts bound calls and stored data.
type Timeouts struct {
	// Call bounds each SOAP call (default 10s).
	Call config.Duration `yaml:"call"`
	// TCToken is how long the TC Token reference stays valid (default 10m).
	TCToken config.Duration `yaml:"tc_token"`
	// Session is how long request counters are kept (default 30m).
	Session config.Duration `yaml:"session"`
	// ResultPoll is how long Finish keeps polling while the eID-Server has
	// no result yet (default 3s; 0 in a file means the default).
	ResultPoll config.Duration `yaml:"result_poll"`
}

// Material is key material already in memory, for the demo and tests.
type Material struct {
	// ClientCert is the mutual-TLS client certificate with its key.
	ClientCert *tls.Certificate
	// ServerCAs verifies the eID-Server's TLS certificate (nil: system roots).
	ServerCAs *x509.CertPool
	// SigningKey and SigningCert sign requests.
	SigningKey  crypto.Signer
	SigningCert *x509.Certificate
	// ServerSigningCert verifies responses.
	ServerSigningCert *x509.Certificate
}

var _ config.AdapterSpec = (*Config)(nil)

// NewConfig returns a Config with the defaults filled in; the registry in
// cmd/broker uses it as the constructor for type "eid".
func NewConfig() *Config {
	return &Config{
		ClientURL:       DefaultClientURL,
		MobileClientURL: DefaultMobileClientURL,
		Timeouts: Timeouts{
			Call:       config.Duration(DefaultCallTimeout),
			TCToken:    config.Duration(DefaultTCTokenTTL),
			Session:    config.Duration(DefaultSessionTTL),
			ResultPoll: config.Duration(DefaultResultPoll),
		},
	}
}

// DefaultAttributes is the selection used when the attributes block is empty:
// the pseudonym, names and date of birth required; the rest of the usual
// identity data allowed (the person may deselect it).
func DefaultAttributes() Attributes {
	return Attributes{
		RestrictedID:     Required,
		GivenNames:       Required,
		FamilyNames:      Required,
		DateOfBirth:      Required,
		BirthName:        Allowed,
		AcademicTitle:    Allowed,
		PlaceOfBirth:     Allowed,
		PlaceOfResidence: Allowed,
		Nationality:      Allowed,
		DocumentType:     Allowed,
		IssuingState:     Allowed,
	}
}

// attributeFields lists the attribute keys with their schema names.
func (a *Attributes) fields() []struct {
	key, op string
	sel     *Selection
} {
	return []struct {
		key, op string
		sel     *Selection
	}{
		{"document_type", "DocumentType", &a.DocumentType},
		{"issuing_state", "IssuingState", &a.IssuingState},
		{"date_of_expiry", "DateOfExpiry", &a.DateOfExpiry},
		{"given_names", "GivenNames", &a.GivenNames},
		{"family_names", "FamilyNames", &a.FamilyNames},
		{"artistic_name", "ArtisticName", &a.ArtisticName},
		{"academic_title", "AcademicTitle", &a.AcademicTitle},
		{"date_of_birth", "DateOfBirth", &a.DateOfBirth},
		{"place_of_birth", "PlaceOfBirth", &a.PlaceOfBirth},
		{"nationality", "Nationality", &a.Nationality},
		{"birth_name", "BirthName", &a.BirthName},
		{"place_of_residence", "PlaceOfResidence", &a.PlaceOfResidence},
		{"community_id", "CommunityID", &a.CommunityID},
		{"residence_permit_i", "ResidencePermitI", &a.ResidencePermitI},
		{"restricted_id", "RestrictedID", &a.RestrictedID},
	}
}

func (a Attributes) empty() bool {
	for _, f := range a.fields() {
		if *f.sel != "" {
			return false
		}
	}
	return true
}

func upper(s Selection) Selection { return Selection(strings.ToUpper(strings.TrimSpace(string(s)))) }

var (
	communityIDPattern = regexp.MustCompile(`^0[0-9]{3}([0-9]{2}(0[0-9]([0-9]{2}(0[0-9]{3})?)?)?)?$`)
	docTypePattern     = regexp.MustCompile(`^[A-Z]{2}$`)
)

func checkURL(raw string, schemes ...string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "not a URL"
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" {
		return "must be an absolute URL without user info or fragment"
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return ""
		}
	}
	return "must use " + strings.Join(schemes, " or ")
}

func levelName(s string) (assurance.Level, bool, error) {
	switch strings.TrimSpace(s) {
	case "", "high":
		return assurance.High, true, nil
	case "none":
		return assurance.Unspecified, false, nil
	}
	l, err := assurance.ParseName(strings.TrimSpace(s))
	if err != nil || !l.Notified() {
		return assurance.Unspecified, false, errors.New(`want "low", "substantial", "high" or "none"`)
	}
	return l, true, nil
}

// Validate checks the configuration, reading the key and certificate files
// so that a broken key is found by check-config, not by the first login.
func (c *Config) Validate() []config.Problem {
	var ps []config.Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, config.Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	switch {
	case c.Endpoint == "":
		add("endpoint", "required")
	default:
		if m := checkURL(c.Endpoint, "https"); m != "" {
			add("endpoint", "%s", m)
		}
	}
	if c.ServerAddress != "" {
		if m := checkURL(c.ServerAddress, "https"); m != "" {
			add("server_address", "%s", m)
		}
	}
	if c.Material == nil {
		_, probs := c.loadMaterial()
		ps = append(ps, probs...)
	} else if m := c.Material; m.ClientCert == nil || m.SigningKey == nil || m.SigningCert == nil || m.ServerSigningCert == nil {
		add("", "in-memory key material is incomplete")
	}

	attrs := c.Attributes
	explicit := !attrs.empty()
	for _, f := range attrs.fields() {
		switch upper(*f.sel) {
		case "", Required, Allowed, Prohibited:
		default:
			add("attributes."+f.key, "want REQUIRED, ALLOWED or PROHIBITED")
		}
	}
	if explicit {
		if s := upper(attrs.RestrictedID); s != "" && s != Required {
			add("attributes.restricted_id", "must be REQUIRED: the restricted identification is the subject")
		}
	}
	if _, _, err := levelName(c.LevelOfAssurance); err != nil {
		add("level_of_assurance", "%v", err)
	}
	if av := c.AgeVerification; av != nil {
		if av.Age < 1 || av.Age > 150 {
			add("age_verification.age", "want an age between 1 and 150")
		}
		if s := upper(av.Selection); s != "" && s != Required && s != Allowed {
			add("age_verification.selection", "want REQUIRED or ALLOWED")
		}
	}
	if pv := c.PlaceVerification; pv != nil {
		if !communityIDPattern.MatchString(pv.CommunityID) {
			add("place_verification.community_id", "want a Wohnort-ID prefix such as 0276 or 027605")
		}
		if s := upper(pv.Selection); s != "" && s != Required && s != Allowed {
			add("place_verification.selection", "want REQUIRED or ALLOWED")
		}
	}
	if len(c.TransactionInfo) > 1000 {
		add("transaction_info", "longer than 1000 characters")
	}
	if c.ClientURL != "" {
		if m := checkURL(c.ClientURL, "http", "https"); m != "" {
			add("client_url", "%s", m)
		}
	}
	if c.MobileClientURL != "" {
		if u, err := url.Parse(c.MobileClientURL); err != nil || u.Scheme == "" || u.Scheme == "javascript" || u.Scheme == "data" {
			add("mobile_client_url", "must be an absolute URL")
		}
	}
	for _, d := range []struct {
		key string
		v   config.Duration
	}{{"timeouts.call", c.Timeouts.Call}, {"timeouts.tc_token", c.Timeouts.TCToken}, {"timeouts.session", c.Timeouts.Session}, {"timeouts.result_poll", c.Timeouts.ResultPoll}, {"ws_security.clock_skew", c.WSSecurity.ClockSkew}} {
		if d.v < 0 {
			add(d.key, "must not be negative")
		}
	}
	if c.Timeouts.Call.D() > 5*time.Minute {
		add("timeouts.call", "longer than 5m")
	}
	keys := make([]string, 0, len(c.LevelCaps))
	for k := range c.LevelCaps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !docTypePattern.MatchString(k) {
			add("level_caps."+k, "want a two-letter document type such as ID, AR, AS, AF, UB or OA")
		}
		if !c.LevelCaps[k].Notified() {
			add("level_caps."+k, "want low, substantial or high")
		}
	}
	if len(c.LevelCaps) > 0 && explicit {
		if s := upper(attrs.DocumentType); s != "" && s != Required {
			add("attributes.document_type", "must be REQUIRED when level_caps is set")
		}
	}
	return ps
}

// loadMaterial reads the key files; problems carry config paths.
func (c *Config) loadMaterial() (*Material, []config.Problem) {
	var ps []config.Problem
	add := func(path string, err error) {
		ps = append(ps, config.Problem{Path: path, Msg: err.Error()})
	}
	m := &Material{}
	switch {
	case c.TLS.ClientCert == "" && c.TLS.ClientKey == "":
		ps = append(ps, config.Problem{Path: "tls.client_cert", Msg: "required (the eID-Server demands mutual TLS)"})
	case c.TLS.ClientCert == "":
		ps = append(ps, config.Problem{Path: "tls.client_cert", Msg: "required"})
	case c.TLS.ClientKey == "":
		ps = append(ps, config.Problem{Path: "tls.client_key", Msg: "required"})
	default:
		cert, err := loadTLSPair(string(c.TLS.ClientCert), string(c.TLS.ClientKey))
		if err != nil {
			add("tls.client_cert", err)
		} else {
			m.ClientCert = cert
		}
	}
	if c.TLS.ServerCA != "" {
		pool, err := loadPool(string(c.TLS.ServerCA))
		if err != nil {
			add("tls.server_ca", err)
		}
		m.ServerCAs = pool
	}
	if c.WSSecurity.SigningKey == "" {
		ps = append(ps, config.Problem{Path: "ws_security.signing_key", Msg: "required"})
	}
	if c.WSSecurity.SigningCert == "" {
		ps = append(ps, config.Problem{Path: "ws_security.signing_cert", Msg: "required"})
	}
	if c.WSSecurity.SigningKey != "" && c.WSSecurity.SigningCert != "" {
		key, cert, err := loadSigningPair(string(c.WSSecurity.SigningKey), string(c.WSSecurity.SigningCert))
		if err != nil {
			add("ws_security.signing_key", err)
		} else {
			m.SigningKey, m.SigningCert = key, cert
		}
	}
	if c.WSSecurity.ServerCert == "" {
		ps = append(ps, config.Problem{Path: "ws_security.server_cert", Msg: "required"})
	} else {
		cert, err := loadCert(string(c.WSSecurity.ServerCert))
		if err != nil {
			add("ws_security.server_cert", err)
		} else {
			m.ServerSigningCert = cert
		}
	}
	return m, ps
}

// settings is the validated, defaulted configuration an Adapter runs with.
type settings struct {
	ops             Operations
	level           assurance.Level
	sendLevel       bool
	age             *AgeVerification
	place           *PlaceVerification
	transactionInfo string
	serverAddress   string
	clientURL       string
	mobileURL       string
	callTimeout     time.Duration
	tcTokenTTL      time.Duration
	sessionTTL      time.Duration
	resultPoll      time.Duration
	pollInterval    time.Duration
	caps            map[string]assurance.Level
}

func orDefault(d config.Duration, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d.D()
}

func (c *Config) settings() settings {
	attrs := c.Attributes
	if attrs.empty() {
		attrs = DefaultAttributes()
	}
	var ops Operations
	for _, f := range attrs.fields() {
		s := upper(*f.sel)
		if s == "" {
			s = Prohibited
		}
		ops.Set(f.op, s)
	}
	ops.RestrictedID = Required
	if len(c.LevelCaps) > 0 {
		ops.DocumentType = Required
	}
	s := settings{
		ops:             ops,
		transactionInfo: c.TransactionInfo,
		serverAddress:   c.ServerAddress,
		clientURL:       c.ClientURL,
		mobileURL:       c.MobileClientURL,
		callTimeout:     orDefault(c.Timeouts.Call, DefaultCallTimeout),
		tcTokenTTL:      orDefault(c.Timeouts.TCToken, DefaultTCTokenTTL),
		sessionTTL:      orDefault(c.Timeouts.Session, DefaultSessionTTL),
		resultPoll:      orDefault(c.Timeouts.ResultPoll, DefaultResultPoll),
		pollInterval:    defaultPollInterval,
		caps:            map[string]assurance.Level{},
	}
	s.level, s.sendLevel, _ = levelName(c.LevelOfAssurance)
	if s.clientURL == "" {
		s.clientURL = DefaultClientURL
	}
	if s.mobileURL == "" {
		s.mobileURL = DefaultMobileClientURL
	}
	if av := c.AgeVerification; av != nil {
		cp := *av
		if cp.Selection = upper(cp.Selection); cp.Selection == "" {
			cp.Selection = Required
		}
		s.age = &cp
		s.ops.AgeVerification = cp.Selection
	}
	if pv := c.PlaceVerification; pv != nil {
		cp := *pv
		if cp.Selection = upper(cp.Selection); cp.Selection == "" {
			cp.Selection = Required
		}
		s.place = &cp
		s.ops.PlaceVerification = cp.Selection
	}
	for k, v := range c.LevelCaps {
		s.caps[k] = v
	}
	return s
}

// Open validates the configuration, loads the keys and returns the adapter.
// id is the adapter's id in the broker configuration (used in logs).
func (c *Config) Open(id string, deps adapters.Deps) (*Adapter, error) {
	if ps := c.Validate(); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = p.Path + ": " + p.Msg
		}
		return nil, fmt.Errorf("open eid adapter %q: invalid config: %s", id, strings.Join(msgs, "; "))
	}
	if deps.Store == nil {
		return nil, fmt.Errorf("open eid adapter %q: a store is required", id)
	}
	m := c.Material
	if m == nil {
		var ps []config.Problem
		m, ps = c.loadMaterial()
		if len(ps) > 0 {
			return nil, fmt.Errorf("open eid adapter %q: %s: %s", id, ps[0].Path, ps[0].Msg)
		}
	}
	s := c.settings()
	tlsConf := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{*m.ClientCert},
		RootCAs:      m.ServerCAs,
		ServerName:   c.TLS.ServerName,
	}
	transport := &http.Transport{
		TLSClientConfig:       tlsConf,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   s.callTimeout,
		ResponseHeaderTimeout: s.callTimeout,
		Proxy:                 http.ProxyFromEnvironment,
	}
	hc := &http.Client{
		Transport: transport,
		Timeout:   s.callTimeout,
		// The eID-Interface has no redirects; following one would send a
		// signed request to a place the configuration did not name.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	client, err := NewClient(ClientOptions{
		Endpoint:          c.Endpoint,
		HTTP:              hc,
		SigningKey:        m.SigningKey,
		SigningCert:       m.SigningCert,
		ServerSigningCert: m.ServerSigningCert,
		Timeout:           s.callTimeout,
		ClockSkew:         c.WSSecurity.ClockSkew.D(),
		AllowSHA1:         c.WSSecurity.AllowSHA1,
		Now:               deps.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("open eid adapter %q: %w", id, err)
	}
	return newAdapter(id, s, client, deps), nil
}
