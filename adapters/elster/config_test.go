package elster_test

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/elster"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
	"github.com/ozg-broker/eidas-broker/config"
)

func rootPEM(t *testing.T) config.Path {
	return config.Path(testfiles.Path(t, "testdata", "elster", "root.pem"))
}

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	leafPEM := filepath.Join(dir, "leaf.pem")
	// A leaf certificate where a CA belongs: the person file's leaf.
	e := newEnv(t, nil)
	if err := os.WriteFile(leafPEM, pemCert(e.open12("person.pfx").leaf.Raw), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		edit   func(c *elster.Config)
		zero   bool // start from a zero Config instead of NewConfig
		wantAt []string
	}{
		{"defaults with an anchor", func(c *elster.Config) {}, false, nil},
		{"zero value with an anchor", func(c *elster.Config) {}, true, nil},
		{"no anchors", func(c *elster.Config) { c.TrustAnchors = nil }, false, []string{"trust_anchors"}},
		{"missing anchor file", func(c *elster.Config) { c.TrustAnchors = []config.Path{config.Path(filepath.Join(dir, "none.pem"))} }, false, []string{"trust_anchors[0]"}},
		{"anchor not PEM", func(c *elster.Config) { c.TrustAnchors = append(c.TrustAnchors, config.Path(garbage)) }, false, []string{"trust_anchors[1]"}},
		{"anchor not a CA", func(c *elster.Config) { c.TrustAnchors = []config.Path{config.Path(leafPEM)} }, false, []string{"trust_anchors[0]"}},
		{"bad mode", func(c *elster.Config) { c.Revocation.Mode = "sometimes" }, false, []string{"revocation.mode"}},
		{"urls with mode none", func(c *elster.Config) {
			c.Revocation.Mode = elster.RevocationNone
			c.Revocation.OCSPURL = "http://ocsp.example"
		}, false, []string{"revocation.mode"}},
		{"bad urls", func(c *elster.Config) {
			c.Revocation.CRLURLs = []string{"http://ok.example/a.crl", "ldap://dir.example/cn=crl"}
			c.Revocation.OCSPURL = "ocsp.example"
		}, false, []string{"revocation.crl_urls[1]", "revocation.ocsp_url"}},
		{"cache ttl too long", func(c *elster.Config) { c.Revocation.CacheTTL = config.Duration(48 * time.Hour) }, false, []string{"revocation.cache_ttl"}},
		{"bad policy", func(c *elster.Config) { c.Revocation.Unreachable = "maybe" }, false, []string{"revocation.unreachable"}},
		{"timeout too short", func(c *elster.Config) { c.Revocation.Timeout = config.Duration(time.Millisecond) }, false, []string{"revocation.timeout"}},
		{"challenge ttl too long", func(c *elster.Config) { c.ChallengeTTL = config.Duration(time.Hour) }, false, []string{"challenge_ttl"}},
		{"bad alg", func(c *elster.Config) { c.SignatureAlg = "ES256" }, false, []string{"signature_alg"}},
		{"bad eku", func(c *elster.Config) { c.ExtKeyUsage = "server" }, false, []string{"ext_key_usage"}},
		{"bad subject id", func(c *elster.Config) { c.SubjectID = "cn" }, false, []string{"subject_id"}},
		{"bad attribute", func(c *elster.Config) {
			c.Mapping.Person.GivenName = []string{"GN", "firstname"}
			c.Mapping.Organisation.Identifier = []string{"2.5.4.97", "2.x"}
		}, false, []string{"mapping.person.given_name[1]", "mapping.organisation.identifier[1]"}},
		{"mtls without proxies", func(c *elster.Config) { c.MTLS.Enabled = true }, false, []string{"mtls.trusted_proxies"}},
		{"mtls bad proxy and header", func(c *elster.Config) {
			c.MTLS = elster.MTLS{Enabled: true, TrustedProxies: []string{"10.0.0.1"}, Header: "X Client"}
		}, false, []string{"mtls.trusted_proxies[0]", "mtls.header"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := elster.NewConfig()
			if tc.zero {
				c = &elster.Config{}
			}
			c.TrustAnchors = []config.Path{rootPEM(t)}
			tc.edit(c)
			var got []string
			for _, p := range c.Validate() {
				got = append(got, p.Path)
				if p.Msg == "" {
					t.Errorf("problem at %s has no message", p.Path)
				}
			}
			slices.Sort(got)
			want := slices.Clone(tc.wantAt)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("problems at %v, want %v (%+v)", got, want, c.Validate())
			}
		})
	}
}

func TestConfigOpen(t *testing.T) {
	good := func() *elster.Config {
		c := elster.NewConfig()
		c.TrustAnchors = []config.Path{rootPEM(t)}
		return c
	}
	deps := adapters.Deps{BaseURL: testBaseURL, Store: memory.New()}
	if _, err := good().Open("elster", deps); err != nil {
		t.Fatalf("Open: %v", err)
	}
	for _, tc := range []struct {
		name string
		cfg  *elster.Config
		id   string
		deps adapters.Deps
	}{
		{"invalid config", &elster.Config{}, "elster", deps},
		{"no store", good(), "elster", adapters.Deps{BaseURL: testBaseURL}},
		{"no base url", good(), "elster", adapters.Deps{Store: memory.New()}},
		{"base url with query", good(), "elster", adapters.Deps{BaseURL: testBaseURL + "/?x=1", Store: memory.New()}},
		{"id with slash", good(), "a/b", deps},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.cfg.Open(tc.id, tc.deps); err == nil {
				t.Fatal("Open succeeded")
			}
		})
	}
	t.Run("info", func(t *testing.T) {
		a, err := good().Open("elster", deps)
		if err != nil {
			t.Fatal(err)
		}
		info := a.Info()
		if info.Type != "elster" || info.MaxLevel.String() != "substantial" || info.Name.DE == "" || info.Name.EN == "" {
			t.Fatalf("info %+v", info)
		}
	})
}

func TestBeginNeedsCallback(t *testing.T) {
	e := newEnv(t, nil)
	req := request("tx")
	req.CallbackURL = ""
	if _, _, err := e.adapter.Begin(t.Context(), req); err == nil {
		t.Fatal("Begin without callback succeeded")
	}
	req = request("")
	if _, _, err := e.adapter.Begin(t.Context(), req); err == nil {
		t.Fatal("Begin without transaction id succeeded")
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestConfigFromYAML decodes the adapter block through the broker's config
// loader, as check-config and serve do: defaults survive, keys are strict,
// and Validate's paths come out under the block.
func TestConfigFromYAML(t *testing.T) {
	reg := config.Registry{"elster": func() config.AdapterSpec { return elster.NewConfig() }}
	dir := t.TempDir()
	anchor := filepath.Join(dir, "elster-ca.pem")
	data, err := os.ReadFile(string(rootPEM(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(anchor, data, 0o600); err != nil {
		t.Fatal(err)
	}
	head := "issuer: https://login.example.de\nclients:\n  - id: portal\n    redirect_uris: [https://portal.example.de/cb]\n    secret: \"0123456789abcdef\"\nadapters:\n  - id: elster\n    type: elster\n    max_level: substantial\n    config:\n"
	t.Run("valid", func(t *testing.T) {
		yaml := head + "      trust_anchors: [elster-ca.pem]\n" +
			"      revocation: {mode: ocsp, cache_ttl: 5m}\n" +
			"      mapping: {organisation: {identifier: [organizationIdentifier, serialNumber]}}\n" +
			"      mtls: {enabled: true, trusted_proxies: [10.0.0.0/8]}\n"
		c, err := config.Parse(filepath.Join(dir, "broker.yaml"), []byte(yaml), reg)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		ec := c.Adapters[0].Spec.(*elster.Config)
		if string(ec.TrustAnchors[0]) != anchor {
			t.Errorf("anchor %q not resolved against the file's directory", ec.TrustAnchors[0])
		}
		if ec.Revocation.Mode != elster.RevocationOCSP || ec.Revocation.CacheTTL.D() != 5*time.Minute ||
			ec.Revocation.Unreachable != elster.UnreachableRefuse || ec.ChallengeTTL.D() != elster.DefaultChallengeTTL {
			t.Errorf("decoded %+v", ec)
		}
		if ec.MTLS.Header != elster.DefaultMTLSHeader || len(ec.Mapping.Person.GivenName) == 0 {
			t.Errorf("defaults lost: %+v", ec)
		}
	})
	t.Run("typo and bad value", func(t *testing.T) {
		yaml := head + "      trust_anchors: [elster-ca.pem]\n" +
			"      revocaton: {mode: ocsp}\n" +
			"      challenge_ttl: 1h\n"
		_, err := config.Parse("broker.yaml", []byte(yaml), reg)
		if err == nil {
			t.Fatal("Parse accepted a typo")
		}
		msg := err.Error()
		for _, want := range []string{"adapters[0].config.revocaton", "adapters[0].config.challenge_ttl"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error lacks %s:\n%s", want, msg)
			}
		}
	})
}
