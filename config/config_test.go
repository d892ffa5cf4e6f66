package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/config/invalid")

const (
	validDir   = "../testdata/config/valid"
	invalidDir = "../testdata/config/invalid"
)

// testSpec stands in for an adapter's config struct: nested mapping,
// list of structs, Secret, Duration, Path and Level fields, and a default
// pre-filled by the constructor.
type testSpec struct {
	Metadata  *testMetadata `yaml:"metadata"`
	Countries []testCountry `yaml:"countries"`
	Key       Secret        `yaml:"key"`
	CertFile  Path          `yaml:"cert_file"`
	Timeout   Duration      `yaml:"timeout"`
}

type testMetadata struct {
	URL     string   `yaml:"url"`
	Refresh Duration `yaml:"refresh"`
}

type testCountry struct {
	Code  string          `yaml:"code"`
	Level assurance.Level `yaml:"level"`
}

func (s *testSpec) Validate() []Problem {
	var ps []Problem
	switch {
	case s.Metadata == nil:
		ps = append(ps, Problem{Path: "metadata", Msg: "required"})
	case s.Metadata.URL == "":
		ps = append(ps, Problem{Path: "metadata.url", Msg: "required"})
	case !strings.HasPrefix(s.Metadata.URL, "https://") && !strings.HasPrefix(s.Metadata.URL, "http://localhost"):
		ps = append(ps, Problem{Path: "metadata.url", Msg: "must be https"})
	}
	if s.Timeout <= 0 {
		ps = append(ps, Problem{Path: "timeout", Msg: "must be positive"})
	}
	for i, c := range s.Countries {
		if len(c.Code) != 2 {
			ps = append(ps, Problem{Path: fmt.Sprintf("countries[%d].code", i), Msg: "want a two-letter country code"})
		}
		if c.Level == assurance.Unspecified {
			ps = append(ps, Problem{Path: fmt.Sprintf("countries[%d].level", i), Msg: "required"})
		}
	}
	return ps
}

// otherSpec is a second registered type with an empty, valid config.
type otherSpec struct {
	Name    string             `yaml:"name"`
	Retries int8               `yaml:"retries"`
	Ratio   float64            `yaml:"ratio"`
	Ratios  map[string]float32 `yaml:"ratios"`
	Extra   any                `yaml:"extra"`
}

func (*otherSpec) Validate() []Problem { return nil }

func testRegistry() Registry {
	return Registry{
		"test":  func() AdapterSpec { return &testSpec{Timeout: Duration(10 * time.Second)} },
		"other": func() AdapterSpec { return &otherSpec{} },
	}
}

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func readSecret(t *testing.T, name string) Secret {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/config/secrets", name))
	if err != nil {
		t.Fatal(err)
	}
	return NewSecret(strings.TrimRight(string(b), "\r\n"))
}

func TestLoadValidFull(t *testing.T) {
	t.Setenv("BROKER_TEST_REDIS_PASSWORD", "redis-pass")
	t.Setenv("BROKER_TEST_SUBJECT_SECRET", "subject-secret-of-at-least-32-bytes!")
	c, err := Load(filepath.Join(validDir, "broker.yaml"), testRegistry())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	if c.Clients[1].JWKS == nil || len(c.Clients[1].JWKS.Keys) != 1 || c.Clients[1].JWKS.Keys[0].KeyID != "portal-b-1" {
		t.Fatalf("portal-b JWKS = %+v, want the one key portal-b-1", c.Clients[1].JWKS)
	}
	c.Clients[1].JWKS = nil

	tru := true
	want := &Config{
		Issuer: "https://login.example.de/broker",
		Listen: "0.0.0.0:8443",
		Store: Store{Type: "redis", Redis: &Redis{
			Addrs:      []string{"redis-1.internal:6379", "redis-2.internal:6379"},
			MasterName: "broker-primary",
			Username:   "broker",
			Password:   NewSecret("redis-pass"),
			DB:         2,
			TLS:        true,
			KeyPrefix:  "broker:",
		}},
		Keys: Keys{
			Signing: []SigningKey{
				{ID: "2026-01", File: abs(t, "../testdata/config/keys/signing-es256.pem"), Alg: "ES256", Active: true},
				{ID: "2025-rsa", File: abs(t, "../testdata/config/keys/signing-rs256.pem"), Alg: "RS256"},
			},
			SubjectSecret: NewSecret("subject-secret-of-at-least-32-bytes!"),
			DataKey:       readSecret(t, "data_key"),
		},
		Sessions: Sessions{
			Low:         Duration(8 * time.Hour),
			Substantial: Duration(90 * time.Minute),
			High:        Duration(15 * time.Minute),
		},
		Clients: []Client{
			{
				ID:   "portal-a",
				Name: "Bürgerportal A",
				RedirectURIs: []string{
					"https://portal-a.example.de/oidc/callback",
					"https://portal-a.example.de/oidc/callback-mobile",
				},
				PostLogoutRedirectURIs: []string{"https://portal-a.example.de/"},
				AuthMethod:             "client_secret_basic",
				Secret:                 readSecret(t, "portal_secret"),
				IDTokenAlg:             "ES256",
				MinLevel:               assurance.Substantial,
				Sector:                 "portal-a.example.de",
				AllowedClaims:          []string{"given_name", "family_name", "birthdate", "address"},
				Consent:                "required",
				Services: []Service{
					{ID: "wohngeld", Name: "Wohngeld beantragen", MinLevel: assurance.High},
					{ID: "hundesteuer", Name: "Hundesteuer anmelden", MinLevel: assurance.Substantial},
				},
			},
			{
				ID:            "portal-b",
				Name:          "Unternehmensportal B",
				RedirectURIs:  []string{"https://b.example.org/cb?tenant=1"},
				AuthMethod:    "private_key_jwt",
				JWKSFile:      abs(t, "../testdata/config/keys/client-jwks.json"),
				IDTokenAlg:    "RS256",
				Sector:        "unternehmen.example.org",
				AllowedClaims: []string{"given_name", "family_name", "legal_entity"},
				Consent:       "implicit",
				Services:      []Service{{ID: "gewerbe", Name: "gewerbe", MinLevel: assurance.Substantial}},
			},
		},
		Adapters: []Adapter{
			{ID: "eid", Type: "test", MaxLevel: assurance.High, Spec: &testSpec{
				Metadata: &testMetadata{URL: "https://eid.example.de/metadata", Refresh: Duration(time.Hour)},
				Key:      readSecret(t, "adapter_key"),
				CertFile: Path(abs(t, "../testdata/config/keys/signing-es256.pem")),
				Timeout:  Duration(10 * time.Second),
			}},
			{ID: "eu", Type: "test", MaxLevel: assurance.Substantial, Spec: &testSpec{
				Metadata: &testMetadata{URL: "https://connector.example.eu/metadata"},
				Countries: []testCountry{
					{Code: "AT", Level: assurance.High},
					{Code: "SE", Level: assurance.Substantial},
					{Code: "XX", Level: assurance.NotNotifiedLow},
				},
				Timeout: Duration(10 * time.Second),
			}},
		},
		SecureCookies: &tru,
		Log:           "warn",
		Limits:        defaultLimits(),
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("config differs\n got: %s\nwant: %s", dump(c), dump(want))
	}
	// The adapter_key fixture ends in CRLF; both characters must be gone.
	if v := c.Adapters[0].Spec.(*testSpec).Key.Value(); strings.ContainsAny(v, "\r\n") || v == "" {
		t.Errorf("adapter key not trimmed: %d bytes", len(v))
	}
	if k, ok := c.Keys.ActiveSigningKey(); !ok || k.ID != "2026-01" {
		t.Errorf("ActiveSigningKey = %v, %v", k.ID, ok)
	}
	for _, k := range c.Keys.Signing {
		if _, err := k.Load(); err != nil {
			t.Errorf("signing key %s: %v", k.ID, err)
		}
	}
	if b, err := c.Keys.DataKeyBytes(); err != nil || len(b) != DataKeyLen {
		t.Errorf("DataKeyBytes = %d bytes, %v", len(b), err)
	}
	if got := c.Sessions.Lifetime(assurance.Substantial); got != 90*time.Minute {
		t.Errorf("Lifetime(substantial) = %v", got)
	}
	if got := c.Sessions.Lifetime(assurance.NotNotifiedHigh); got != 0 {
		t.Errorf("Lifetime(notnotified-high) = %v, want 0", got)
	}
}

// dump prints a config for a failure message; secrets stay redacted, so
// a difference in a secret shows only as a DeepEqual failure.
func dump(c *Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%+v", *c)
	for _, a := range c.Adapters {
		fmt.Fprintf(&b, "\n  spec %s: %+v", a.ID, a.Spec)
	}
	return b.String()
}

func TestLoadValidMinimalDefaults(t *testing.T) {
	c, err := Load(filepath.Join(validDir, "minimal.yaml"), testRegistry())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	cl := c.Clients[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, DefaultListen},
		{"log", c.Log, "info"},
		{"store", c.Store.Type, "memory"},
		{"store.memory.max_mb", c.Store.MaxBytes(), int64(DefaultMemoryMaxMB) << 20},
		{"secure_cookies", *c.SecureCookies, true},
		{"sessions.low", c.Sessions.Low.D(), 12 * time.Hour},
		{"sessions.substantial", c.Sessions.Substantial.D(), 2 * time.Hour},
		{"sessions.high", c.Sessions.High.D(), 30 * time.Minute},
		{"keys.signing", len(c.Keys.Signing), 0},
		{"keys.subject_secret", c.Keys.SubjectSecret.IsSet(), false},
		{"auth_method", cl.AuthMethod, "client_secret_basic"},
		{"id_token_alg", cl.IDTokenAlg, "ES256"},
		{"consent", cl.Consent, "required"},
		{"sector", cl.Sector, "127.0.0.1"},
		{"name", cl.Name, "demo-portal"},
		{"min_level", cl.MinLevel, assurance.Unspecified},
		{"secret", cl.Secret.Value(), "literal-secret-only-for-demos"},
		{"spec timeout default", c.Adapters[0].Spec.(*testSpec).Timeout.D(), 10 * time.Second},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			if ch.got != ch.want {
				t.Errorf("got %v, want %v", ch.got, ch.want)
			}
		})
	}
}

// TestGolden runs Check on every invalid file and compares its output with
// the .golden file beside it; go test ./config -update rewrites them.
func TestGolden(t *testing.T) {
	t.Setenv("BROKER_TEST_EMPTY", "")
	for _, name := range []string{"BROKER_TEST_UNSET", "BROKER_TEST_UNSET_TOO"} {
		t.Setenv(name, "x") // restores the original value after the test
		os.Unsetenv(name)
	}
	t.Chdir(invalidDir)
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid fixtures: %v", err)
	}
	goldens, _ := filepath.Glob("*.golden")
	for _, g := range goldens {
		if _, err := os.Stat(strings.TrimSuffix(g, ".golden") + ".yaml"); err != nil && !*update {
			t.Errorf("stale golden file %s without its .yaml", g)
		}
	}
	sort.Strings(files)
	for _, f := range files {
		t.Run(strings.TrimSuffix(f, ".yaml"), func(t *testing.T) {
			var out bytes.Buffer
			code := Check(f, testRegistry(), &out)
			if code != 1 {
				t.Errorf("Check exit code = %d, want 1", code)
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test ./config -update): %v", err)
			}
			if out.String() != string(want) {
				t.Errorf("output differs from %s\n--- got\n%s--- want\n%s", golden, out.String(), want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Chdir(validDir)
	tests := []struct {
		name string
		file string
		code int
		out  string
	}{
		{"valid", "minimal.yaml", 0, "minimal.yaml: ok\n"},
		{"missing file", "nope.yaml", 2, "read config nope.yaml: no such file or directory\n"},
		{"directory", ".", 2, "read config .: not a regular file\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := Check(tt.file, testRegistry(), &out); code != tt.code || out.String() != tt.out {
				t.Errorf("Check = %d %q, want %d %q", code, out.String(), tt.code, tt.out)
			}
		})
	}
}

func TestErrorsAreSortedAndComplete(t *testing.T) {
	_, err := Load(filepath.Join(invalidDir, "several-errors.yaml"), testRegistry())
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %T is not Errors", err)
	}
	if len(errs) < 10 {
		t.Errorf("got %d errors, want every problem of the file (at least 10):\n%v", len(errs), errs)
	}
	for i := 1; i < len(errs); i++ {
		if errs[i-1].Line > errs[i].Line {
			t.Errorf("errors not sorted by line: %d before %d", errs[i-1].Line, errs[i].Line)
		}
	}
	for _, e := range errs {
		if e.File == "" || e.Line == 0 || e.Path == "" || e.Msg == "" {
			t.Errorf("incomplete error %+v", e)
		}
	}
}

func TestErrorsUnwrap(t *testing.T) {
	_, err := Load(filepath.Join(invalidDir, "missing-secret-file.yaml"), testRegistry())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Errorf("errors.As(*FieldError) failed")
	}
}

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		e    FieldError
		want string
	}{
		{FieldError{File: "broker.yaml", Line: 14, Path: "adapters[1].config.metadata", Msg: "required"}, "broker.yaml:14: adapters[1].config.metadata: required"},
		{FieldError{File: "broker.yaml", Line: 1, Msg: "empty file"}, "broker.yaml:1: empty file"},
		{FieldError{File: "broker.yaml", Msg: "syntax error: x"}, "broker.yaml: syntax error: x"},
		{FieldError{Line: 3, Path: "issuer", Msg: "required"}, "line 3: issuer: required"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.e.Error(); got != tt.want {
				t.Errorf("got %q", got)
			}
		})
	}
}

// base is a valid file that table tests extend.
const base = `issuer: https://login.example.de
clients:
  - id: portal
    redirect_uris: [https://portal.example.de/cb]
    secret: "0123456789abcdef"
adapters:
  - {id: eid, type: test, max_level: high, config: {metadata: {url: https://eid.example.de/m}}}
`

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		// want is the complete error text; "" means valid.
		want string
		// check runs on the config of a valid file.
		check func(t *testing.T, c *Config)
		noReg bool
	}{
		{name: "base", yaml: base},
		{
			name: "merge keys",
			yaml: `issuer: https://login.example.de
clients:
  - &client
    id: portal
    redirect_uris: [https://portal.example.de/cb]
    secret: "0123456789abcdef"
    services: [&svc {id: steuer, min_level: high}]
  - <<: *client
    id: portal2
    services: [*svc, {id: wohngeld}]
adapters:
  - {id: eid, type: test, max_level: high, config: {metadata: {url: https://eid.example.de/m}}}
`,
			check: func(t *testing.T, c *Config) {
				p2 := c.Clients[1]
				if p2.ID != "portal2" || p2.Secret.Value() != "0123456789abcdef" || len(p2.Services) != 2 || p2.Services[0].MinLevel != assurance.High {
					t.Errorf("merged client = %+v", p2)
				}
			},
		},
		{
			name: "duplicate beside a merge",
			yaml: base + `sessions: &s {low: 1h}
log: info
log: debug
`,
			want: "t.yaml:10: log: duplicate key (first at line 9)",
		},
		{
			name: "self-referencing alias",
			yaml: base + "x: &a [*a]\n",
			want: "t.yaml:8: x: unknown key (want one of: issuer, listen, admin_listen, admin_listen_allow_remote, store, keys, sessions, clients, adapters, eidas_service, secure_cookies, log, branding, audit, environment, test_host, limits)",
		},
		{
			name: "alias bomb",
			yaml: base + `sessions:
  low: &a [x, x, x, x, x, x, x, x, x, x]
  high: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
  substantial: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
`,
			want: "t.yaml:9: sessions.low: want a duration such as 30m, 2h or 90s, got a list\n" +
				"t.yaml:10: sessions.high: want a duration such as 30m, 2h or 90s, got a list\n" +
				"t.yaml:11: sessions.substantial: want a duration such as 30m, 2h or 90s, got a list",
		},
		{
			name: "secret forms",
			yaml: base + `keys:
  subject_secret: ${BROKER_TEST_SUBJECT}
  data_key: {file: ../testdata/config/secrets/data_key}
`,
			check: func(t *testing.T, c *Config) {
				if c.Keys.SubjectSecret.Value() != "from-the-environment-32-bytes-long!!" {
					t.Errorf("subject secret not expanded")
				}
				if b, err := c.Keys.DataKeyBytes(); err != nil || len(b) != 32 {
					t.Errorf("data key: %v", err)
				}
			},
		},
		{
			name: "literal that only contains a dollar",
			yaml: strings.Replace(base, `"0123456789abcdef"`, `"abc${X}defghijklmnop"`, 1),
			check: func(t *testing.T, c *Config) {
				if c.Clients[0].Secret.Value() != "abc${X}defghijklmnop" {
					t.Errorf("literal secret changed")
				}
			},
		},
		{
			name: "bad data key",
			yaml: base + `keys:
  subject_secret: ${BROKER_TEST_SUBJECT}
  data_key: "c2hvcnQ="
`,
			want: "t.yaml:10: keys.data_key: want 32 random bytes in base64",
		},
		{
			name: "integer types",
			yaml: base + `  - {id: o1, type: other, max_level: low, config: {retries: 300}}
  - {id: o2, type: other, max_level: low, config: {retries: 1.5}}
  - {id: o3, type: other, max_level: low, config: {retries: 99999999999999999999}}
  - {id: o4, type: other, max_level: low, config: {retries: 0x7f, ratio: 2, ratios: {a: 1e3}}}
`,
			want: "t.yaml:8: adapters[1].config.retries: integer 300 out of range\n" +
				"t.yaml:9: adapters[2].config.retries: want an integer, got a number\n" +
				"t.yaml:10: adapters[3].config.retries: want an integer, got a number",
		},
		{
			name: "issuer with query and fragment",
			yaml: strings.Replace(base, "https://login.example.de", "https://login.example.de/#x", 1),
			want: "t.yaml:1: issuer: must not have a fragment",
		},
		{
			name: "issuer on loopback http",
			yaml: strings.Replace(base, "https://login.example.de", "http://[::1]:8080/broker", 1),
		},
		{
			name: "issuer relative",
			yaml: strings.Replace(base, "https://login.example.de", "login.example.de", 1),
			want: "t.yaml:1: issuer: must be an absolute URL (scheme://host/path)",
		},
		{
			name: "adapter spec null config",
			yaml: strings.Replace(base, "config: {metadata: {url: https://eid.example.de/m}}", "config: null", 1),
			want: "t.yaml:7: adapters[0].config.metadata: required",
		},
		{
			name: "adapter config not a mapping",
			yaml: strings.Replace(base, "config: {metadata: {url: https://eid.example.de/m}}", "config: [1]", 1),
			want: "t.yaml:7: adapters[0].config: want a mapping, got a list",
		},
		{
			name: "string wanted, boolean given",
			yaml: strings.Replace(base, "id: portal", "id: true", 1),
			want: `t.yaml:3: clients[0].id: want a string, got a boolean (quote it: "true")`,
		},
		{
			name: "timestamp as string",
			yaml: strings.Replace(base, "id: portal", "id: 2026-01-01", 1),
			want: `t.yaml:3: clients[0].id: want a string, got a timestamp (quote it: "2026-01-01")`,
		},
		{
			name: "custom tag",
			yaml: strings.Replace(base, "id: portal", "id: !vault portal", 1),
			want: `t.yaml:3: clients[0].id: want a string, got a value tagged !vault (quote it: "portal")`,
		},
		{
			name: "non-string key",
			yaml: base + "[a]: 1\n",
			want: "t.yaml:8: mapping key must be a string, got a list",
		},
		{
			name: "no adapters, no clients",
			yaml: "issuer: https://login.example.de\n",
			want: "t.yaml:1: clients: required: at least one client\nt.yaml:1: adapters: required: at least one adapter",
		},
		{
			name:  "nil registry",
			yaml:  base,
			noReg: true,
			want:  `t.yaml:7: adapters[0].type: unknown adapter type "test" (no adapter types are registered)`,
		},
	}
	t.Setenv("BROKER_TEST_SUBJECT", "from-the-environment-32-bytes-long!!")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := testRegistry()
			if tt.noReg {
				reg = nil
			}
			c, err := Parse("t.yaml", []byte(tt.yaml), reg)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("Parse error:\n got: %s\nwant: %s", got, tt.want)
			}
			if err == nil && c == nil {
				t.Fatal("nil config without error")
			}
			if err != nil && c != nil {
				t.Fatal("config returned with error")
			}
			if tt.check != nil && c != nil {
				tt.check(t, c)
			}
		})
	}
}

// TestHostileInput checks that expansion bombs and deep nesting end in an
// error instead of exhausting memory or the stack.
func TestHostileInput(t *testing.T) {
	var merge strings.Builder
	merge.WriteString(base + "sessions: &a0 {low: 1h}\n")
	for i := 1; i <= 7; i++ {
		fmt.Fprintf(&merge, "x%d: &a%d {<<: [%s]}\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	merge.WriteString("store: {<<: *a7}\n")

	var alias strings.Builder
	alias.WriteString("x0: &a0 [a, b, c, d, e, f, g, h, i, j]\n")
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&alias, "x%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	alias.WriteString(base)
	alias.WriteString("  - {id: o, type: other, max_level: low, config: {extra: *a8}}\n")

	deep := base + "store: " + strings.Repeat("{a: ", 5000) + "1" + strings.Repeat("}", 5000) + "\n"
	self := base + "store: &s {<<: *s}\n"

	tests := []struct {
		name, yaml, want string
	}{
		{"merge bomb", merge.String(), "document too large or too deeply nested"},
		// Config's own types are too shallow to expand an alias bomb; an
		// `any` field in an adapter spec goes to yaml.v3, which refuses it.
		{"alias bomb", alias.String(), "adapters[1].config.extra: yaml: document contains excessive aliasing"},
		{"deep nesting", deep, "store.a: unknown key"},
		{"self reference", self, "document too large or too deeply nested"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.yaml), testRegistry())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	const value = "hunter2-very-secret"
	s := NewSecret(value)
	type holder struct {
		S Secret
		P *Secret
	}
	h := holder{S: s, P: &s}
	outputs := map[string]string{
		"%v":  fmt.Sprintf("%v", s),
		"%s":  fmt.Sprintf("%s", s),
		"%q":  fmt.Sprintf("%q", s),
		"%x":  fmt.Sprintf("%x", s),
		"%#v": fmt.Sprintf("%#v", s),
		"%+v": fmt.Sprintf("%+v", h),
		"h%v": fmt.Sprintf("%v", h),
		"h#v": fmt.Sprintf("%#v", h),
		"%d":  fmt.Sprintf("%d", s),
	}
	j, _ := s.MarshalJSON()
	outputs["json"] = string(j)
	txt, _ := s.MarshalText()
	outputs["text"] = string(txt)
	y, _ := s.MarshalYAML()
	outputs["yaml"] = fmt.Sprint(y)
	for name, out := range outputs {
		if strings.Contains(out, value) || !strings.Contains(out, "[redacted]") {
			t.Errorf("%s printed %q", name, out)
		}
	}
	if !s.Equal(value) || s.Equal(value+"x") || s.Equal("") || (Secret{}).Equal("") {
		t.Error("Equal is wrong")
	}
	if (Secret{}).String() != "" || (Secret{}).IsSet() {
		t.Error("unset secret")
	}
}

func TestErrorMessagesHideSecrets(t *testing.T) {
	t.Setenv("BROKER_TEST_SUBJECT", "short-secret-from-env")
	in := base + "keys:\n  subject_secret: ${BROKER_TEST_SUBJECT}\n  data_key: \"not*base64-secret-value\"\n"
	_, err := Parse("t.yaml", []byte(in), testRegistry())
	if err == nil {
		t.Fatal("want errors")
	}
	for _, v := range []string{"short-secret-from-env", "not*base64", "0123456789abcdef"} {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error text reveals a secret: %v", err)
		}
	}
}

func TestDuration(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("1h30m")); err != nil || d.D() != 90*time.Minute {
		t.Errorf("UnmarshalText = %v, %v", d, err)
	}
	if err := d.UnmarshalText([]byte("soon")); err == nil {
		t.Error("bad duration accepted")
	}
	if b, _ := d.MarshalText(); string(b) != "1h30m0s" {
		t.Errorf("MarshalText = %s", b)
	}
}

func TestParseSigner(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("../testdata/config/keys", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		file, alg, wantErr string
	}{
		{"signing-es256.pem", "", ""},
		{"signing-es256-sec1.pem", "ES256", ""},
		{"signing-rs256.pem", "RS256", ""},
		{"signing-rs256.pem", "PS256", ""},
		{"signing-rs256.pem", "ES256", "ES256 needs an EC P-256 key, got an RSA key"},
		{"signing-p384.pem", "ES256", "ES256 needs an EC P-256 key, got an EC P-384 key"},
		{"signing-rsa1024.pem", "RS256", "RSA key has 1024 bits, want at least 2048"},
		{"client-jwks.json", "ES256", "no PEM private key found"},
		{"signing-es256.pem", "HS256", `unsupported alg "HS256" (want ES256, RS256 or PS256)`},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.alg, func(t *testing.T) {
			_, err := parseSigner(read(tt.file), tt.alg)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("got %q, want %q", got, tt.wantErr)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, dir := range []string{validDir, invalidDir} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(base))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("<<: [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data, testRegistry())
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", c != nil, err)
		}
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error is not a non-empty Errors: %T", err)
			}
			_ = err.Error()
		}
	})
}

func BenchmarkParse(b *testing.B) {
	b.Setenv("BROKER_TEST_REDIS_PASSWORD", "redis-pass")
	b.Setenv("BROKER_TEST_SUBJECT_SECRET", "subject-secret-of-at-least-32-bytes!")
	name := filepath.Join(validDir, "broker.yaml")
	data, err := os.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	reg := testRegistry()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(name, data, reg); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMemoryStoreLimit(t *testing.T) {
	base, err := os.ReadFile(filepath.Join(validDir, "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "memory.yaml")
	if err := os.WriteFile(p, append(base, "\nstore:\n  type: memory\n  memory:\n    max_mb: 64\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p, testRegistry())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := c.Store.MaxBytes(); got != 64<<20 {
		t.Fatalf("MaxBytes = %d, want 64 MiB", got)
	}
	if err := os.WriteFile(p, append(base, "\nstore:\n  type: redis\n  memory: {max_mb: 64}\n  redis: {addrs: [\"r:6379\"]}\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, testRegistry()); err == nil || !strings.Contains(err.Error(), "store.memory: only allowed with type memory") {
		t.Fatalf("memory section with redis: %v", err)
	}
}
