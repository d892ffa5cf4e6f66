package eidas

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
	"github.com/ozg-broker/eidas-broker/config"
)

// TestConfigValidate: every setting's rule reports its own path.
func TestConfigValidate(t *testing.T) {
	if ps := fxConfig(t, "rsa", "at-proxy").Validate(); len(ps) != 0 {
		t.Fatalf("fixture config invalid: %v", ps)
	}
	for _, tc := range []struct {
		name   string
		edit   func(c *Config)
		wantAt []string
	}{
		{"entity ID not https", func(c *Config) { c.EntityID = "http://broker.example/md" }, []string{"entity_id"}},
		{"keys missing", func(c *Config) { c.SigningKeyFile, c.EncryptionCertFile = "", "" }, []string{"signing_key_file", "encryption_cert_file"}},
		{"same key for both", func(c *Config) {
			c.EncryptionKeyFile, c.EncryptionCertFile = c.SigningKeyFile, c.SigningCertFile
		}, []string{"encryption_key_file"}},
		{"key and certificate apart", func(c *Config) { c.SigningCertFile = c.EncryptionCertFile }, []string{"signing_key_file"}},
		{"weak key", func(c *Config) {
			c.SigningKeyFile = config.Path(fixture(t, "keys/idp-at-weak-rsa2048.key.pem"))
			c.SigningCertFile = config.Path(fixture(t, "keys/idp-at-weak-rsa2048.cert.pem"))
		}, []string{"signing_key_file"}},
		{"enumerations", func(c *Config) {
			c.SPType, c.SPTypeIn, c.PersonType, c.NameIDFormat = "semi", "header", "robot", "email"
		}, []string{"sp_type", "sp_type_in", "person_type", "name_id_format"}},
		{"mixed data sets", func(c *Config) {
			c.RequestedAttributes = append(defaultRequested(Natural), RequestedAttribute{Name: "LegalName"})
		}, []string{"requested_attributes[9].name"}},
		{"representative requested", func(c *Config) {
			c.RequestedAttributes = append(defaultRequested(Natural), RequestedAttribute{Name: naturalRepPrefix + "PersonIdentifier"})
		}, []string{"requested_attributes[9].name"}},
		{"mandatory attribute optional", func(c *Config) {
			c.RequestedAttributes = defaultRequested(Natural)
			c.RequestedAttributes[3].Required = false
		}, []string{"requested_attributes[3].required"}},
		{"minimum data set incomplete", func(c *Config) {
			c.RequestedAttributes = defaultRequested(Natural)[1:]
		}, []string{"requested_attributes"}},
		{"unknown attribute", func(c *Config) {
			c.RequestedAttributes = append(defaultRequested(Natural), RequestedAttribute{Name: "ShoeSize"})
		}, []string{"requested_attributes[9].name"}},
		{"texts", func(c *Config) { c.ProviderName, c.RequesterID = "a\nb", strings.Repeat("x", 300) }, []string{"provider_name", "requester_id"}},
		{"node country", func(c *Config) { c.NodeCountry = "de" }, []string{"node_country"}},
		{"durations", func(c *Config) {
			c.ClockSkew, c.MetadataValidity = config.Duration(time.Hour), config.Duration(time.Minute)
		}, []string{"clock_skew", "metadata_validity"}},
		{"organisation", func(c *Config) {
			c.Organization = Organization{URL: "example", SupportEmail: "nobody", TechnicalEmail: "a b@c"}
		}, []string{"organization.url", "organization.support_email", "organization.technical_email"}},
		{"no countries", func(c *Config) { c.Countries = nil }, []string{"countries"}},
		{"country fields", func(c *Config) {
			c.Countries = append(c.Countries, Country{Code: "XX", Level: assurance.Unspecified, MetadataURL: "http://proxy.xx.example/md",
				MetadataFile: "x.xml", Binding: "artifact", RefreshInterval: config.Duration(time.Second), EntityID: "ftp://x"},
				Country{Code: "AT", Level: assurance.High})
		}, []string{"countries[1].name.de", "countries[1].name.en", "countries[1].level", "countries[1]", "countries[1].binding",
			"countries[1].refresh_interval", "countries[1].trust_anchor_file", "countries[1].entity_id", "countries[2].code",
			"countries[2].metadata_url", "countries[2].trust_anchor_file"}},
		{"metadata and anchor files", func(c *Config) {
			c.Countries[0].MetadataFile = "/nonexistent/md.xml"
			c.Countries[0].TrustAnchorFile = config.Path(fixture(t, "metadata/at-proxy.xml"))
		}, []string{"countries[0].metadata_file", "countries[0].trust_anchor_file"}},
		{"country metadata URL not https", func(c *Config) {
			c.Countries[0].MetadataFile, c.Countries[0].MetadataURL = "", "http://proxy.at.example/md"
		}, []string{"countries[0].metadata_url"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fxConfig(t, "rsa", "at-proxy")
			tc.edit(c)
			var paths []string
			for _, p := range c.Validate() {
				paths = append(paths, p.Path)
			}
			for _, w := range tc.wantAt {
				if !slices.Contains(paths, w) {
					t.Errorf("no problem at %s (got %v)", w, c.Validate())
				}
			}
		})
	}
}

// TestConfigFromYAML decodes the block through the broker's loader as
// check-config and serve do: yaml names, defaults, relative paths resolved
// against the file, strict keys, Validate's paths under the block.
func TestConfigFromYAML(t *testing.T) {
	reg := config.Registry{"eidas": func() config.AdapterSpec { return NewConfig() }}
	dir := t.TempDir()
	for _, f := range []string{"keys/connector-sign-p256.key.pem", "keys/connector-sign-p256.cert.pem", "keys/connector-enc-p256.key.pem",
		"keys/connector-enc-p256.cert.pem", "keys/anchor-ca.cert.pem", "metadata/at-proxy.xml"} {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), testfiles.Read(t, fixture(t, f)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	head := "issuer: https://login.example.de\nclients:\n  - id: portal\n    redirect_uris: [https://portal.example.de/cb]\n    secret: \"0123456789abcdef\"\n" +
		"adapters:\n  - id: eidas\n    type: eidas\n    max_level: high\n    config:\n" +
		"      signing_key_file: connector-sign-p256.key.pem\n      signing_cert_file: connector-sign-p256.cert.pem\n" +
		"      encryption_key_file: connector-enc-p256.key.pem\n      encryption_cert_file: connector-enc-p256.cert.pem\n"
	t.Run("valid", func(t *testing.T) {
		yaml := head +
			"      sp_type: private\n      sp_type_in: request\n      provider_name: Portal\n      requester_id: https://portal.example.de\n" +
			"      requested_attributes:\n        - {name: PersonIdentifier, required: true}\n        - {name: FamilyName, required: true}\n" +
			"        - {name: FirstName, required: true}\n        - {name: DateOfBirth, required: true}\n        - {name: CurrentAddress}\n" +
			"      clock_skew: 90s\n      organization: {name: Musterstadt, support_email: eid@musterstadt.example}\n" +
			"      countries:\n        - code: AT\n          level: high\n          metadata_file: at-proxy.xml\n          trust_anchor_file: anchor-ca.cert.pem\n" +
			"          binding: redirect\n          refresh_interval: 30m\n        - code: SE\n          level: substantial\n" +
			"          metadata_url: https://proxy.se.example/metadata\n          trust_anchor_file: anchor-ca.cert.pem\n"
		c, err := config.Parse(filepath.Join(dir, "broker.yaml"), []byte(yaml), reg)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		ec := c.Adapters[0].Spec.(*Config)
		if string(ec.SigningKeyFile) != filepath.Join(dir, "connector-sign-p256.key.pem") || string(ec.Countries[0].MetadataFile) != filepath.Join(dir, "at-proxy.xml") {
			t.Errorf("paths not resolved: %s %s", ec.SigningKeyFile, ec.Countries[0].MetadataFile)
		}
		if ec.SPType != "private" || ec.SPTypeIn != "request" || ec.ClockSkew.D() != 90*time.Second || ec.NameIDFormat != "persistent" ||
			ec.NodeCountry != "DE" || ec.Countries[0].Binding != "redirect" || ec.Countries[1].Level != assurance.Substantial || len(ec.RequestedAttributes) != 5 {
			t.Errorf("decoded %+v", ec)
		}
	})
	t.Run("typo and bad values", func(t *testing.T) {
		yaml := head + "      sp_typ: public\n      countries:\n        - code: AT\n          level: high\n          metadata_file: at-proxy.xml\n" +
			"          trust_anchor_file: anchor-ca.cert.pem\n          binding: soap\n"
		_, err := config.Parse(filepath.Join(dir, "broker.yaml"), []byte(yaml), reg)
		if err == nil {
			t.Fatal("Parse accepted a typo")
		}
		for _, want := range []string{"adapters[0].config.sp_typ", "adapters[0].config.countries[0].binding"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %s:\n%v", want, err)
			}
		}
	})
}
