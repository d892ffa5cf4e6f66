package config

import (
	"crypto/sha256"
	"errors"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// Session lifetime maxima per level (BSI TR-03160-1). They are also the
// defaults; a file may set lower values, never higher ones.
const (
	MaxSessionLow         = 12 * time.Hour
	MaxSessionSubstantial = 2 * time.Hour
	MaxSessionHigh        = 30 * time.Minute
)

// Defaults applied by Parse to keys the file leaves out.
const (
	DefaultListen = "127.0.0.1:8080"
	DefaultLog    = "info"
	DefaultStore  = "memory"
	// DefaultMemoryMaxMB bounds the memory store: about 35,000 SSO
	// sessions, after which the least recently used make room.
	DefaultMemoryMaxMB = 32
	DefaultAuthMethod  = AuthClientSecretBasic
	DefaultIDTokenAlg  = AlgES256
	DefaultConsent     = ConsentRequired
)

// Accepted values of the enumerations in the file.
const (
	StoreMemory = "memory"
	StoreRedis  = "redis"

	AuthClientSecretBasic = "client_secret_basic"
	AuthPrivateKeyJWT     = "private_key_jwt"

	ConsentRequired = "required"
	ConsentImplicit = "implicit"
)

// Minimum secret lengths, in bytes.
const (
	minSubjectSecret = 32
	minClientSecret  = 16
)

// idPattern restricts client, service, adapter and key IDs to characters
// that are safe in URLs, scopes ("service:<id>") and HTTP Basic auth.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

const idRule = "letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64"

// claimPattern is the shape of an OIDC claim name.
var claimPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Lifetime returns the SSO session cap for a proved level; 0 (no session
// reuse) for a level that is not notified.
func (s Sessions) Lifetime(l assurance.Level) time.Duration {
	switch l {
	case assurance.Low:
		return s.Low.D()
	case assurance.Substantial:
		return s.Substantial.D()
	case assurance.High:
		return s.High.D()
	case assurance.Unspecified, assurance.NotNotifiedLow, assurance.NotNotifiedSubstantial, assurance.NotNotifiedHigh:
	}
	return 0
}

// ActiveSigningKey returns the key that signs ID tokens, or false when none
// is configured (the broker then generates its keys at start).
func (k Keys) ActiveSigningKey() (SigningKey, bool) {
	for _, s := range k.Signing {
		if s.Active {
			return s, true
		}
	}
	return SigningKey{}, false
}

// validate checks the decoded file. Decoding errors mark their paths bad;
// invalid() stays silent there, so each mistake is reported once.
func (d *decoder) validate(c *Config) {
	d.checkURL("issuer", c.Issuer, false)
	if c.Listen != "" {
		d.checkListen("listen", c.Listen, DefaultListen)
	}
	d.validateAdminListen(c)
	switch c.Log {
	case "", "debug", "info", "warn", "error":
	default:
		d.invalid("log", "want debug, info, warn or error")
	}
	d.validateStore(&c.Store)
	d.validateKeys(c)
	d.validateSessions(&c.Sessions)
	d.validateClients(c)
	d.validateAdapters(c.Adapters)
	d.validateEIDASService(c)
	d.validateBranding(&c.Branding)
	d.validateAudit(&c.Audit)
	d.validateEnvironment(c)
	for i := range c.Clients {
		if cl := &c.Clients[i]; cl.Logo != "" {
			cl.LogoData, cl.LogoType = d.loadLogo(joinKey(joinIndex("clients", i), "logo"), cl.Logo)
		}
	}
	d.validateLimits(&c.Limits)
}

// checkListen validates a host:port listen address; it reports whether
// the address is well-formed.
func (d *decoder) checkListen(path, addr, example string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		d.invalid(path, "want host:port (e.g. %s)", example)
		return false
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || (host != "" && strings.ContainsAny(host, " /")) {
		d.invalid(path, "want host:port with a port from 0 to 65535")
		return false
	}
	return true
}

// ExampleAdminListen is the address the documentation suggests for
// admin_listen.
const ExampleAdminListen = "127.0.0.1:9090"

// validateAdminListen: the admin listener serves metrics and profiling
// without authentication, so it binds a loopback address (127.0.0.0/8,
// [::1], localhost) unless the file says explicitly that another address is
// meant. An empty host (":9090") binds every interface and counts as remote.
func (d *decoder) validateAdminListen(c *Config) {
	if c.AdminListen == "" {
		if c.AdminListenAllowRemote {
			d.invalid("admin_listen_allow_remote", "only allowed with admin_listen")
		}
		return
	}
	if !d.checkListen("admin_listen", c.AdminListen, ExampleAdminListen) {
		return
	}
	host, port, _ := net.SplitHostPort(c.AdminListen)
	if !c.AdminListenAllowRemote && !IsLoopbackHost(host) {
		d.invalid("admin_listen", "%q is not a loopback address: the admin listener serves metrics and profiling without authentication; "+
			"bind it to 127.0.0.1 or [::1], or set admin_listen_allow_remote: true and restrict access in the network", c.AdminListen)
		return
	}
	listen := c.Listen
	if listen == "" {
		listen = DefaultListen
	}
	if lh, lp, err := net.SplitHostPort(listen); err == nil && lp == port && port != "0" && (lh == host || lh == "" || host == "") {
		d.invalid("admin_listen", "must differ from listen (%s): the admin surface never shares the public listener", listen)
	}
}

// IsLoopbackHost reports whether a listen host binds only the loopback
// interface: "localhost" or an IP address in 127.0.0.0/8 or ::1.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (d *decoder) validateStore(s *Store) {
	switch s.Type {
	case "", StoreMemory:
		if s.Redis != nil {
			d.invalid("store.redis", "only allowed with type redis")
		}
		if m := s.Memory; m != nil && d.has("store.memory.max_mb") && (m.MaxMB < 1 || m.MaxMB > maxMemoryMB) {
			d.invalid("store.memory.max_mb", "want 1 to %d (MiB)", maxMemoryMB)
		}
	case StoreRedis:
		if s.Memory != nil {
			d.invalid("store.memory", "only allowed with type memory")
		}
		if s.Redis == nil || len(s.Redis.Addrs) == 0 {
			d.invalid("store.redis.addrs", "required with type redis")
			return
		}
		for i, a := range s.Redis.Addrs {
			if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
				d.invalid(joinIndex("store.redis.addrs", i), "want host:port")
			}
		}
		if s.Redis.DB < 0 {
			d.invalid("store.redis.db", "must not be negative")
		}
		if len(s.Redis.Addrs) > 1 && s.Redis.MasterName == "" && s.Redis.DB != 0 {
			d.invalid("store.redis.db", "a Redis Cluster (several addrs, no master_name) has only db 0")
		}
		d.validateRedisTimeouts(s.Redis)
	default:
		d.invalid("store.type", "want memory or redis")
	}
}

// maxMemoryMB bounds store.memory.max_mb (1 TiB): a larger figure is a typo.
const maxMemoryMB = 1 << 20

// maxRedisTimeout bounds the store timeouts: every request waits up to
// this long per store call while Redis hangs.
const maxRedisTimeout = 30 * time.Second

func (d *decoder) validateRedisTimeouts(r *Redis) {
	for _, x := range []struct {
		name string
		v    Duration
	}{{"dial_timeout", r.DialTimeout}, {"read_timeout", r.ReadTimeout}, {"write_timeout", r.WriteTimeout}} {
		p := "store.redis." + x.name
		switch {
		case !d.has(p):
		case x.v <= 0:
			d.invalid(p, "must be positive")
		case x.v.D() > maxRedisTimeout:
			d.invalid(p, "must not exceed %s (requests wait this long while Redis hangs)", shortDuration(maxRedisTimeout))
		}
	}
}

func (d *decoder) validateKeys(c *Config) {
	k := &c.Keys
	ids := map[string]string{}
	active := -1
	for i := range k.Signing {
		s := &k.Signing[i]
		p := joinIndex("keys.signing", i)
		d.checkID(joinKey(p, "id"), s.ID, "signing key", ids)
		algOK := true
		switch s.Alg {
		case "":
			d.signingAlg(AlgES256)
		case AlgES256, AlgRS256, AlgPS256:
			d.signingAlg(s.Alg)
		default:
			algOK = false
			d.invalid(joinKey(p, "alg"), "want ES256, RS256 or PS256")
		}
		if s.Active {
			if active >= 0 {
				d.invalid(joinKey(p, "active"), "only one signing key may be active (keys.signing[%d] is too)", active)
			} else {
				active = i
			}
		}
		if s.File == "" {
			d.invalid(joinKey(p, "file"), "required")
			continue
		}
		written := s.File
		s.File = d.resolve(s.File)
		b, err := readLimited(s.File, maxSecretFile)
		if err != nil {
			d.invalidErr(joinKey(p, "file"), err, "read key file %q: %v", written, osCause(err))
			continue
		}
		if !algOK {
			continue
		}
		if _, err := parseSigner(b, s.Alg); err != nil {
			d.invalidErr(joinKey(p, "file"), err, "key file %q: %v", written, err)
		}
	}
	if len(k.Signing) > 1 && active < 0 {
		d.invalid("keys.signing", "mark exactly one key active: true")
	}

	// Without a keys section a single node generates every key at start.
	// An invalid store type was reported already; it demands nothing more.
	d.validateDataKeys(k)
	generated := len(k.Signing) == 0 && !k.SubjectSecret.IsSet() && !k.DataKey.IsSet() && len(k.DataKeys) == 0
	if c.Store.Type != StoreRedis && generated {
		return
	}
	if c.Store.Type == StoreRedis && len(k.Signing) == 0 {
		d.invalid("keys.signing", "required with store type redis (every node must sign with the same key)")
	}
	if !k.SubjectSecret.IsSet() {
		d.invalid("keys.subject_secret", "required")
	} else if len(k.SubjectSecret.Value()) < minSubjectSecret {
		d.invalid("keys.subject_secret", "too short: want at least %d bytes", minSubjectSecret)
	}
	if !k.DataKey.IsSet() && len(k.DataKeys) == 0 {
		d.invalid("keys.data_key", "required")
	}
}

// validateDataKeys checks keys.data_key or keys.data_keys (not both): each
// key 32 bytes of base64, IDs unique, no key material under two IDs, and
// exactly one key active (a single key is active without the mark).
func (d *decoder) validateDataKeys(k *Keys) {
	if k.DataKey.IsSet() {
		if _, err := decodeDataKey(k.DataKey.Value()); err != nil {
			d.invalid("keys.data_key", "want %d random bytes in base64", DataKeyLen)
		}
		if len(k.DataKeys) > 0 {
			d.invalid("keys.data_keys", "set either data_key or data_keys, not both (data_key is the key %q of data_keys)", DefaultDataKeyID)
		}
		return
	}
	ids := map[string]string{}
	material := map[[sha256.Size]byte]int{}
	active := -1
	for i := range k.DataKeys {
		dk := &k.DataKeys[i]
		p := joinIndex("keys.data_keys", i)
		d.checkID(joinKey(p, "id"), dk.ID, "data key", ids)
		if dk.Active {
			if active >= 0 {
				d.invalid(joinKey(p, "active"), "only one data key may be active (keys.data_keys[%d] is too)", active)
			} else {
				active = i
			}
		}
		if !dk.Key.IsSet() {
			d.invalid(joinKey(p, "key"), "required")
			continue
		}
		b, err := decodeDataKey(dk.Key.Value())
		if err != nil {
			d.invalid(joinKey(p, "key"), "want %d random bytes in base64", DataKeyLen)
			continue
		}
		sum := sha256.Sum256(b)
		if j, dup := material[sum]; dup {
			d.invalid(joinKey(p, "key"), "the same key as keys.data_keys[%d]: give each key one ID", j)
			continue
		}
		material[sum] = i
	}
	if len(k.DataKeys) > 1 && active < 0 {
		d.invalid("keys.data_keys", "mark exactly one key active: true (the one that encrypts)")
	}
}

// signingAlg notes an algorithm some signing key has: clients may only ask
// for algorithms there is a key for.
func (d *decoder) signingAlg(alg string) {
	if d.signingAlgs == nil {
		d.signingAlgs = map[string]bool{}
	}
	d.signingAlgs[alg] = true
}

func (d *decoder) validateSessions(s *Sessions) {
	for _, x := range []struct {
		name string
		v    Duration
		max  time.Duration
	}{
		{"low", s.Low, MaxSessionLow},
		{"substantial", s.Substantial, MaxSessionSubstantial},
		{"high", s.High, MaxSessionHigh},
	} {
		p := "sessions." + x.name
		switch {
		case !d.has(p):
		case x.v <= 0:
			d.invalid(p, "must be positive")
		case x.v.D() > x.max:
			d.invalid(p, "must not exceed %s (TR-03160-1 maximum for %s)", shortDuration(x.max), x.name)
		}
	}
}

// shortDuration prints 2h or 30m rather than 2h0m0s.
func shortDuration(t time.Duration) string {
	switch {
	case t%time.Hour == 0:
		return strconv.FormatInt(int64(t/time.Hour), 10) + "h"
	case t%time.Minute == 0:
		return strconv.FormatInt(int64(t/time.Minute), 10) + "m"
	}
	return t.String()
}

func (d *decoder) validateClients(c *Config) {
	if len(c.Clients) == 0 {
		d.invalid("clients", "required: at least one client")
		return
	}
	ids := map[string]string{}
	for i := range c.Clients {
		cl := &c.Clients[i]
		p := joinIndex("clients", i)
		d.checkID(joinKey(p, "id"), cl.ID, "client", ids)

		if len(cl.RedirectURIs) == 0 {
			d.invalid(joinKey(p, "redirect_uris"), "required: at least one redirect URI")
		}
		d.checkURIList(joinKey(p, "redirect_uris"), cl.RedirectURIs)
		d.checkURIList(joinKey(p, "post_logout_redirect_uris"), cl.PostLogoutRedirectURIs)

		switch cl.AuthMethod {
		case "", AuthClientSecretBasic:
			if !cl.Secret.IsSet() {
				d.invalid(joinKey(p, "secret"), "required with auth_method client_secret_basic")
			} else if len(cl.Secret.Value()) < minClientSecret {
				d.invalid(joinKey(p, "secret"), "too short: want at least %d bytes", minClientSecret)
			}
			if cl.JWKSFile != "" {
				d.invalid(joinKey(p, "jwks_file"), "only allowed with auth_method private_key_jwt")
			}
		case AuthPrivateKeyJWT:
			if cl.Secret.IsSet() {
				d.invalid(joinKey(p, "secret"), "only allowed with auth_method client_secret_basic")
			}
			d.loadJWKS(joinKey(p, "jwks_file"), cl)
		default:
			d.invalid(joinKey(p, "auth_method"), "want client_secret_basic or private_key_jwt")
		}

		switch cl.IDTokenAlg {
		case "":
			d.needAlg(joinKey(p, "id_token_alg"), AlgES256, false)
		case AlgES256, AlgRS256, AlgPS256:
			d.needAlg(joinKey(p, "id_token_alg"), cl.IDTokenAlg, true)
		default:
			d.invalid(joinKey(p, "id_token_alg"), "want ES256, RS256 or PS256")
		}
		d.checkLevel(joinKey(p, "min_level"), cl.MinLevel, false)

		seen := map[string]bool{}
		for j, claim := range cl.AllowedClaims {
			cp := joinIndex(joinKey(p, "allowed_claims"), j)
			switch {
			case !claimPattern.MatchString(claim):
				d.invalid(cp, "want a claim name (lowercase letters, digits, '_')")
			case seen[claim]:
				d.invalid(cp, "duplicate claim %q", claim)
			}
			seen[claim] = true
		}
		switch cl.Consent {
		case "", ConsentRequired, ConsentImplicit:
		default:
			d.invalid(joinKey(p, "consent"), "want required or implicit")
		}

		sids := map[string]string{}
		for j := range cl.Services {
			s := &cl.Services[j]
			sp := joinIndex(joinKey(p, "services"), j)
			d.checkID(joinKey(sp, "id"), s.ID, "service", sids)
			d.checkLevel(joinKey(sp, "min_level"), s.MinLevel, false)
		}
	}
}

// needAlg checks that a client's ID-token algorithm has a configured key.
// With no keys configured the broker generates one per algorithm in use.
func (d *decoder) needAlg(path, alg string, explicit bool) {
	if d.signingAlgs == nil || d.signingAlgs[alg] {
		return
	}
	if explicit {
		d.invalid(path, "no key in keys.signing has alg %s", alg)
	} else {
		d.invalid(path, "defaults to ES256, but no key in keys.signing has alg ES256; set id_token_alg")
	}
}

func (d *decoder) loadJWKS(path string, cl *Client) {
	if cl.JWKSFile == "" {
		d.invalid(path, "required with auth_method private_key_jwt")
		return
	}
	written := cl.JWKSFile
	cl.JWKSFile = d.resolve(written)
	b, err := readLimited(cl.JWKSFile, maxSecretFile)
	if err != nil {
		d.invalidErr(path, err, "read JWKS file %q: %v", written, osCause(err))
		return
	}
	set, err := parseJWKS(b)
	if err != nil {
		d.invalidErr(path, err, "JWKS file %q: %v", written, err)
		return
	}
	cl.JWKS = set
}

func (d *decoder) validateAdapters(as []Adapter) {
	if len(as) == 0 {
		d.invalid("adapters", "required: at least one adapter")
		return
	}
	ids := map[string]string{}
	for i := range as {
		a := &as[i]
		p := joinIndex("adapters", i)
		d.checkID(joinKey(p, "id"), a.ID, "adapter", ids)
		if a.Type == "" {
			d.invalid(joinKey(p, "type"), "required (%s)", d.known())
		}
		d.checkLevel(joinKey(p, "max_level"), a.MaxLevel, true)
	}
}

// checkID validates an ID and its uniqueness among seen (ID -> path).
func (d *decoder) checkID(path, id, what string, seen map[string]string) {
	switch {
	case id == "":
		d.invalid(path, "required")
		return
	case !idPattern.MatchString(id):
		d.invalid(path, "invalid %s ID %q: use %s", what, id, idRule)
		return
	}
	if first, dup := seen[id]; dup {
		d.invalid(path, "duplicate %s ID %q (first at line %d)", what, id, d.lineOf(first))
		return
	}
	seen[id] = path
}

// checkLevel accepts only the notified levels: the file speaks of the
// levels a portal may demand, not of eIDAS not-notified schemes.
func (d *decoder) checkLevel(path string, l assurance.Level, required bool) {
	switch {
	case l == assurance.Unspecified:
		if required {
			d.invalid(path, "required (low, substantial or high)")
		}
	case !l.Notified():
		d.invalid(path, "invalid level %q (want low, substantial or high)", l.String())
	}
}

func (d *decoder) checkURIList(path string, uris []string) {
	seen := map[string]bool{}
	for i, u := range uris {
		p := joinIndex(path, i)
		if seen[u] {
			d.invalid(p, "duplicate URI")
			continue
		}
		seen[u] = true
		d.checkURL(p, u, true)
	}
}

// checkURL validates an issuer (no query) or a redirect URI (query allowed).
// Both must be absolute, without fragment or user info, and https unless
// the host is a loopback name (local development).
func (d *decoder) checkURL(path, raw string, allowQuery bool) {
	if raw == "" {
		d.invalid(path, "required")
		return
	}
	if msg := urlProblem(raw, allowQuery); msg != "" {
		d.invalid(path, "%s", msg)
	}
}

func urlProblem(raw string, allowQuery bool) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "invalid URL: " + err.Error()
	case u.Scheme == "" || u.Host == "" || u.Opaque != "":
		return "must be an absolute URL (scheme://host/path)"
	case u.User != nil:
		return "must not contain user info"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not have a fragment"
	case !allowQuery && (u.RawQuery != "" || u.ForceQuery):
		return "must not have a query"
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		return "must use https (http only for localhost, 127.0.0.1 or [::1])"
	default:
		return "must use https"
	}
	if u.Hostname() == "" {
		return "must be an absolute URL (scheme://host/path)"
	}
	return ""
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// applyDefaults fills in what a valid file left out. It runs only after
// validation succeeded.
func (c *Config) applyDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Log == "" {
		c.Log = DefaultLog
	}
	c.Limits.applyDefaults()
	if c.Store.Type == "" {
		c.Store.Type = DefaultStore
	}
	if c.SecureCookies == nil {
		t := true
		c.SecureCookies = &t
	}
	if c.Sessions.Low == 0 {
		c.Sessions.Low = Duration(MaxSessionLow)
	}
	if c.Sessions.Substantial == 0 {
		c.Sessions.Substantial = Duration(MaxSessionSubstantial)
	}
	if c.Sessions.High == 0 {
		c.Sessions.High = Duration(MaxSessionHigh)
	}
	for i := range c.Keys.Signing {
		if c.Keys.Signing[i].Alg == "" {
			c.Keys.Signing[i].Alg = AlgES256
		}
	}
	if len(c.Keys.Signing) == 1 {
		c.Keys.Signing[0].Active = true
	}
	if len(c.Keys.DataKeys) == 1 {
		c.Keys.DataKeys[0].Active = true
	}
	for i := range c.Clients {
		cl := &c.Clients[i]
		if cl.Name == "" {
			cl.Name = cl.ID
		}
		if cl.AuthMethod == "" {
			cl.AuthMethod = DefaultAuthMethod
		}
		if cl.IDTokenAlg == "" {
			cl.IDTokenAlg = DefaultIDTokenAlg
		}
		if cl.Consent == "" {
			cl.Consent = DefaultConsent
		}
		if cl.Sector == "" && len(cl.RedirectURIs) > 0 {
			if u, err := url.Parse(cl.RedirectURIs[0]); err == nil {
				cl.Sector = u.Hostname()
			}
		}
		for j := range cl.Services {
			if cl.Services[j].Name == "" {
				cl.Services[j].Name = cl.Services[j].ID
			}
		}
	}
}
