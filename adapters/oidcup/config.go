package oidcup

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/config"
)

// Type is the adapter type in broker.yaml and the amr value in ID tokens.
const Type = "oidc"

// Defaults and bounds.
const (
	DefaultTimeout = 10 * time.Second
	minTimeout     = time.Second
	maxTimeout     = time.Minute
	maxText        = 256
)

// Config is the `config:` block of an adapter of type "oidc".
type Config struct {
	// Issuer is the upstream OP's issuer URL; discovery is read from
	// <issuer>/.well-known/openid-configuration. https, except on a
	// loopback host (tests, demo). Required.
	Issuer string `yaml:"issuer"`
	// ClientID and ClientSecret are the broker's registration at the
	// upstream (client_secret_basic or _post, whichever the OP announces).
	// Register <base>/login/<id>/callback as the redirect URI. Required.
	ClientID     string        `yaml:"client_id"`
	ClientSecret config.Secret `yaml:"client_secret"`
	// Scopes asked for; openid is always sent (default [openid, profile]).
	Scopes []string `yaml:"scopes"`
	// Name is shown on the login page (default Servicekonto (OIDC) /
	// Service account (OIDC)).
	Name Names `yaml:"name"`
	// Levels maps upstream acr values to levels. At least one; values are
	// compared exactly. Unlisted values are refused.
	Levels []LevelEntry `yaml:"levels"`
	// Claims maps upstream claim names to broker claim names (default: the
	// OIDC standard names onto themselves: given_name, family_name,
	// birthdate, gender, address). A table here replaces the default.
	Claims map[string]string `yaml:"claims"`
	// UserInfo also reads the userinfo endpoint (claims the ID token lacks).
	UserInfo bool `yaml:"userinfo"`
	// Timeout bounds each request to the upstream (default 10s).
	Timeout config.Duration `yaml:"timeout"`
}

// Names is a login-page name in German and English.
type Names struct {
	DE string `yaml:"de"`
	EN string `yaml:"en"`
}

// LevelEntry maps one upstream acr value to a level.
type LevelEntry struct {
	ACR   string          `yaml:"acr"`
	Level assurance.Level `yaml:"level"`
}

// NewConfig returns a Config with the defaults filled in.
func NewConfig() *Config {
	return &Config{
		Scopes:  []string{"openid", "profile"},
		Name:    Names{DE: "Servicekonto (OIDC)", EN: "Service account (OIDC)"},
		Timeout: config.Duration(DefaultTimeout),
	}
}

// DefaultClaims is the claim table used when the config has none.
func DefaultClaims() map[string]string {
	return map[string]string{
		"given_name": "given_name", "family_name": "family_name", "birthdate": "birthdate",
		"gender": "gender", "address": "address",
	}
}

// structuredClaims are the broker claims that are not plain strings.
var structuredClaims = map[string]bool{"nationalities": true, "address": true, "place_of_birth": true}

// stringClaims are the broker claims carried in a typed string field.
var stringClaims = map[string]bool{"given_name": true, "family_name": true, "birth_family_name": true,
	"birthdate": true, "gender": true, "title": true}

// reserved are claim names the broker sets itself; an upstream cannot
// supply them.
var reserved = map[string]bool{"sub": true, "acr": true, "amr": true, "auth_time": true, "iss": true,
	"aud": true, "exp": true, "iat": true, "nonce": true, "azp": true, "sid": true, "legal_entity": true}

var (
	claimName  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	upstreamCN = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
	scopeToken = regexp.MustCompile(`^[\x21\x23-\x5b\x5d-\x7e]{1,64}$`)
)

func (c *Config) effective() Config {
	e := *c
	d := NewConfig()
	if len(e.Scopes) == 0 {
		e.Scopes = d.Scopes
	}
	if !slices.Contains(e.Scopes, "openid") {
		e.Scopes = append([]string{"openid"}, e.Scopes...)
	}
	if e.Name.DE == "" && e.Name.EN == "" {
		e.Name = d.Name
	} else if e.Name.EN == "" {
		e.Name.EN = e.Name.DE
	} else if e.Name.DE == "" {
		e.Name.DE = e.Name.EN
	}
	if e.Claims == nil {
		e.Claims = DefaultClaims()
	}
	if e.Timeout == 0 {
		e.Timeout = d.Timeout
	}
	return e
}

// Validate checks the block and returns every problem.
func (c *Config) Validate() []config.Problem {
	e := c.effective()
	var ps []config.Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, config.Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if e.Issuer == "" {
		add("issuer", "required")
	} else if msg := issuerProblem(e.Issuer); msg != "" {
		add("issuer", "%s", msg)
	}
	if e.ClientID == "" {
		add("client_id", "required")
	} else if len(e.ClientID) > maxText {
		add("client_id", "longer than %d characters", maxText)
	}
	if !e.ClientSecret.IsSet() {
		add("client_secret", "required")
	}
	for i, s := range e.Scopes {
		if !scopeToken.MatchString(s) {
			add(fmt.Sprintf("scopes[%d]", i), "not a scope token")
		}
	}
	if len(e.Name.DE) > maxText || len(e.Name.EN) > maxText {
		add("name", "longer than %d characters", maxText)
	}
	if len(e.Levels) == 0 {
		add("levels", "required: at least one acr value and its level")
	}
	seen := map[string]bool{}
	for i, l := range e.Levels {
		p := fmt.Sprintf("levels[%d]", i)
		switch {
		case l.ACR == "":
			add(p+".acr", "required")
		case !upstreamCN.MatchString(l.ACR):
			add(p+".acr", "must be printable ASCII without spaces, at most 128 characters")
		case seen[l.ACR]:
			add(p+".acr", "listed twice")
		}
		seen[l.ACR] = true
		if l.Level == assurance.Unspecified {
			add(p+".level", "required (low, substantial or high)")
		}
	}
	for up, ours := range e.Claims {
		p := "claims." + up
		if !upstreamCN.MatchString(up) {
			add(p, "upstream claim name must be printable ASCII without spaces")
		}
		if reserved[up] {
			add(p, "%s is protocol data, not a person attribute", up)
		}
		if !claimName.MatchString(ours) {
			add(p, "broker claim name must be snake_case, not %q", ours)
		} else if reserved[ours] {
			add(p, "%s is set by the broker and cannot come from the upstream", ours)
		}
	}
	if t := e.Timeout.D(); t < minTimeout || t > maxTimeout {
		add("timeout", "must be between %s and %s", minTimeout, maxTimeout)
	}
	return ps
}

// issuerProblem accepts https URLs, and http only on loopback hosts.
func issuerProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "not an absolute URL"
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "must not contain user info, a query or a fragment"
	}
	switch u.Scheme {
	case "https":
	case "http":
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "must be https (http only on a loopback host)"
		}
	default:
		return "must be https"
	}
	return ""
}

// Open builds the adapter. Discovery happens on first use, so the broker
// starts even when the upstream is down (readiness reports it).
func (c *Config) Open(id string, deps adapters.Deps) (*Adapter, error) {
	if ps := c.Validate(); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = p.Path + ": " + p.Msg
		}
		slices.Sort(msgs)
		return nil, fmt.Errorf("open oidc adapter %q: invalid config: %s", id, strings.Join(msgs, "; "))
	}
	if id == "" || !regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`).MatchString(id) {
		return nil, fmt.Errorf("open oidc adapter: invalid id %q", id)
	}
	base := strings.TrimSuffix(deps.BaseURL, "/")
	if base == "" {
		return nil, fmt.Errorf("open oidc adapter %q: %w", id, errors.New("no base URL in deps"))
	}
	e := c.effective()
	client := deps.HTTP
	if client == nil {
		client = &http.Client{}
	}
	// Our own copy with our timeout: the shared client's may be longer.
	hc := *client
	hc.Timeout = e.Timeout.D()
	// Redirects are not followed: an OP's token or discovery endpoint
	// answering with one is misconfigured, and following it would send
	// the client secret elsewhere.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	levels := map[string]assurance.Level{}
	var order []LevelEntry
	var maxLevel assurance.Level
	for _, l := range e.Levels {
		levels[l.ACR] = l.Level
		order = append(order, l)
		if l.Level.Notified() && l.Level > maxLevel {
			maxLevel = l.Level
		}
	}
	slices.SortStableFunc(order, func(a, b LevelEntry) int { return int(a.Level) - int(b.Level) })
	a := &Adapter{
		id: id, issuer: e.Issuer, clientID: e.ClientID, secret: e.ClientSecret.Value(),
		scopes: e.Scopes, name: adapters.Text(e.Name), levels: levels, levelOrder: order, maxLevel: maxLevel,
		claims: e.Claims, userinfo: e.UserInfo, redirectURI: base + "/login/" + id + "/callback", base: base,
		http: &hc, now: deps.Now, log: deps.Logger,
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = discardLogger()
	}
	return a, nil
}
