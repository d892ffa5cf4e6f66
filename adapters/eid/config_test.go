package eid_test

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/eid"
	"github.com/ozg-broker/eidas-broker/adapters/eid/eidsim"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/config"
)

// fileConfig is a valid configuration that reads the project's fixtures.
func fileConfig(t *testing.T) *eid.Config {
	c := eid.NewConfig()
	c.Endpoint = "https://eid.example.org/eID-Interface"
	c.TLS = eid.TLSConfig{
		ClientCert: config.Path(fixtureDir(t, eidsim.FileClientTLSCert)),
		ClientKey:  config.Path(fixtureDir(t, eidsim.FileClientTLSKey)),
		ServerCA:   config.Path(fixtureDir(t, eidsim.FileCACert)),
	}
	c.WSSecurity = eid.WSSecurity{
		SigningKey:  config.Path(fixtureDir(t, eidsim.FileServiceSignKey)),
		SigningCert: config.Path(fixtureDir(t, eidsim.FileServiceSignCert)),
		ServerCert:  config.Path(fixtureDir(t, eidsim.FileServerSignCert)),
	}
	return c
}

func paths(ps []config.Problem) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Path)
	}
	sort.Strings(out)
	return out
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*eid.Config)
		want   []string
	}{
		{"valid", func(*eid.Config) {}, nil},
		{"valid full", func(c *eid.Config) {
			c.Attributes = eid.Attributes{RestrictedID: "required", GivenNames: "REQUIRED", DocumentType: "REQUIRED", PlaceOfResidence: "allowed"}
			c.LevelCaps = map[string]assurance.Level{"AF": assurance.Substantial, "OA": assurance.Low}
			c.AgeVerification = &eid.AgeVerification{Age: 18}
			c.PlaceVerification = &eid.PlaceVerification{CommunityID: "027605", Selection: "ALLOWED"}
			c.LevelOfAssurance = "none"
			c.ServerAddress = "https://eid.example.org/paos"
		}, nil},
		{"endpoint missing", func(c *eid.Config) { c.Endpoint = "" }, []string{"endpoint"}},
		{"endpoint not https", func(c *eid.Config) { c.Endpoint = "http://eid.example.org/x" }, []string{"endpoint"}},
		{"server address not https", func(c *eid.Config) { c.ServerAddress = "ftp://x/y" }, []string{"server_address"}},
		{"key files missing", func(c *eid.Config) {
			c.TLS = eid.TLSConfig{}
			c.WSSecurity = eid.WSSecurity{}
		}, []string{"tls.client_cert", "ws_security.server_cert", "ws_security.signing_cert", "ws_security.signing_key"}},
		{"key file absent", func(c *eid.Config) { c.TLS.ClientKey = config.Path(fixtureDir(t, "nope.pem")) }, []string{"tls.client_cert"}},
		{"signing key and certificate do not match", func(c *eid.Config) {
			c.WSSecurity.SigningCert = config.Path(fixtureDir(t, "rogue", eidsim.FileServiceSignCert))
		}, []string{"ws_security.signing_key"}},
		{"signing key is not RSA", func(c *eid.Config) {
			c.WSSecurity.SigningKey = config.Path(fixtureDir(t, eidsim.FileClientTLSKey))
			c.WSSecurity.SigningCert = config.Path(fixtureDir(t, eidsim.FileClientTLSCert))
		}, []string{"ws_security.signing_key"}},
		{"bad selection", func(c *eid.Config) { c.Attributes = eid.Attributes{GivenNames: "MAYBE"} }, []string{"attributes.given_names"}},
		{"restricted id optional", func(c *eid.Config) { c.Attributes = eid.Attributes{RestrictedID: "ALLOWED", GivenNames: "REQUIRED"} }, []string{"attributes.restricted_id"}},
		{"level", func(c *eid.Config) { c.LevelOfAssurance = "hoch" }, []string{"level_of_assurance"}},
		{"age", func(c *eid.Config) { c.AgeVerification = &eid.AgeVerification{Age: 0, Selection: "PROHIBITED"} }, []string{"age_verification.age", "age_verification.selection"}},
		{"community id", func(c *eid.Config) { c.PlaceVerification = &eid.PlaceVerification{CommunityID: "276"} }, []string{"place_verification.community_id"}},
		{"client url", func(c *eid.Config) { c.ClientURL = "javascript:alert(1)" }, []string{"client_url"}},
		{"mobile url", func(c *eid.Config) { c.MobileClientURL = "javascript:alert(1)" }, []string{"mobile_client_url"}},
		{"negative timeout", func(c *eid.Config) { c.Timeouts.Call = config.Duration(-time.Second) }, []string{"timeouts.call"}},
		{"level caps", func(c *eid.Config) {
			c.LevelCaps = map[string]assurance.Level{"personalausweis": assurance.High, "AR": assurance.Unspecified}
		}, []string{"level_caps.AR", "level_caps.personalausweis"}},
		{"caps need the document type", func(c *eid.Config) {
			c.LevelCaps = map[string]assurance.Level{"AR": assurance.Substantial}
			c.Attributes = eid.Attributes{RestrictedID: "REQUIRED", DocumentType: "ALLOWED"}
		}, []string{"attributes.document_type"}},
		{"incomplete material", func(c *eid.Config) { c.Material = &eid.Material{} }, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fileConfig(t)
			tt.mutate(c)
			got := paths(c.Validate())
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("problems at %v, want %v (%+v)", got, tt.want, c.Validate())
			}
		})
	}
}

func TestOpenFromFiles(t *testing.T) {
	c := fileConfig(t)
	st := memory.New()
	defer st.Close()
	a, err := c.Open("eid", adapters.Deps{Store: st, BaseURL: "https://broker.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Client() == nil {
		t.Fatal("no client")
	}
	if _, err := c.Open("eid", adapters.Deps{}); err == nil {
		t.Fatal("opened without a store")
	}
	c.Endpoint = ""
	if _, err := c.Open("eid", adapters.Deps{Store: st}); err == nil {
		t.Fatal("opened an invalid config")
	}
}

func TestExpiredCertificateRefused(t *testing.T) {
	p, err := eidsim.NewPKI(eidsim.PKIOptions{
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour), RSABits: 2048,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := p.WritePEM(dir); err != nil {
		t.Fatal(err)
	}
	c := fileConfig(t)
	c.WSSecurity.ServerCert = config.Path(filepath.Join(dir, eidsim.FileServerSignCert))
	if got := paths(c.Validate()); !reflect.DeepEqual(got, []string{"ws_security.server_cert"}) {
		t.Fatalf("expired server certificate: problems at %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, eidsim.FileServerSignKey)); err != nil {
		t.Fatal(err)
	}
}

// TestConfigFile decodes an adapter block through the broker's config
// parser, as cmd/broker will.
func TestConfigFile(t *testing.T) {
	reg := config.Registry{"eid": func() config.AdapterSpec { return eid.NewConfig() }}
	file := `issuer: http://localhost:8080
clients:
  - id: portal
    redirect_uris: [http://127.0.0.1:9000/callback]
    secret: "literal-secret-only-for-tests"
adapters:
  - id: eid
    type: eid
    max_level: high
    config:
      endpoint: https://eid.example.org/eID-Interface
      tls:
        client_cert: ` + fixtureDir(t, eidsim.FileClientTLSCert) + `
        client_key: ` + fixtureDir(t, eidsim.FileClientTLSKey) + `
        server_ca: ` + fixtureDir(t, eidsim.FileCACert) + `
      ws_security:
        signing_key: ` + fixtureDir(t, eidsim.FileServiceSignKey) + `
        signing_cert: ` + fixtureDir(t, eidsim.FileServiceSignCert) + `
        server_cert: ` + fixtureDir(t, eidsim.FileServerSignCert) + `
        clock_skew: 90s
      attributes:
        restricted_id: REQUIRED
        given_names: REQUIRED
        family_names: REQUIRED
        document_type: REQUIRED
        place_of_residence: ALLOWED
      age_verification: {age: 16}
      level_caps: {AF: substantial}
      timeouts: {call: 5s}
`
	c, err := config.Parse("broker.yaml", []byte(file), reg)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	spec, ok := c.Adapters[0].Spec.(*eid.Config)
	if !ok {
		t.Fatalf("spec %T", c.Adapters[0].Spec)
	}
	if spec.Attributes.PlaceOfResidence != eid.Allowed || spec.AgeVerification == nil || spec.AgeVerification.Age != 16 ||
		spec.LevelCaps["AF"] != assurance.Substantial || spec.Timeouts.Call.D() != 5*time.Second ||
		spec.WSSecurity.ClockSkew.D() != 90*time.Second || spec.ClientURL != eid.DefaultClientURL {
		t.Fatalf("decoded %+v", spec)
	}

	bad := strings.Replace(file, "        given_names: REQUIRED", "        given_name: REQUIRED", 1)
	bad = strings.Replace(bad, "restricted_id: REQUIRED", "restricted_id: ALLOWED", 1)
	_, err = config.Parse("broker.yaml", []byte(bad), reg)
	if err == nil {
		t.Fatal("invalid file accepted")
	}
	for _, want := range []string{"adapters[0].config.attributes.given_name", "adapters[0].config.attributes.restricted_id"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
