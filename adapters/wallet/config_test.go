package wallet_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/wallet"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/walletsim"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/config"
)

// simFiles writes a simulator's access certificate, key and anchors.
func simFiles(t *testing.T) (string, *walletsim.Sim) {
	t.Helper()
	dir := t.TempDir()
	sim, err := walletsim.New(walletsim.Options{BaseURL: "https://broker.example/sim/wallet", VerifierDNS: "broker.example"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	return dir, sim
}

func fileConfig(dir string) *wallet.Config {
	c := wallet.NewConfig()
	c.AccessCertificate = config.Path(filepath.Join(dir, "access.pem"))
	c.AccessKey = config.Path(filepath.Join(dir, "access-key.pem"))
	c.TrustLists.SDJWT = []config.Path{config.Path(filepath.Join(dir, "pid-ca.pem"))}
	c.TrustLists.MDoc = []config.Path{config.Path(filepath.Join(dir, "iaca.pem"))}
	return c
}

func TestConfigValidate(t *testing.T) {
	dir, _ := simFiles(t)
	p := func(name string) config.Path { return config.Path(filepath.Join(dir, name)) }
	for _, tc := range []struct {
		name   string
		edit   func(c *wallet.Config)
		wantAt []string
	}{
		{"valid", func(*wallet.Config) {}, nil},
		{"nothing", func(c *wallet.Config) { *c = *wallet.NewConfig() }, []string{"access_certificate", "access_key", "trust_lists.sd_jwt_vc", "trust_lists.mso_mdoc"}},
		{"key is a certificate", func(c *wallet.Config) { c.AccessKey = p("access.pem") }, []string{"access_key"}},
		{"access certificate is a CA", func(c *wallet.Config) { c.AccessCertificate = p("pid-ca.pem") }, []string{"access_certificate"}},
		{"trust list not a CA", func(c *wallet.Config) { c.TrustLists.MDoc = []config.Path{p("access.pem")} }, []string{"trust_lists.mso_mdoc[0]"}},
		{"missing file", func(c *wallet.Config) { c.TrustLists.SDJWT = append(c.TrustLists.SDJWT, p("none.pem")) }, []string{"trust_lists.sd_jwt_vc[1]"}},
		{"only sd-jwt needs only its list", func(c *wallet.Config) { c.Formats = []string{wallet.FormatSDJWT}; c.TrustLists.MDoc = nil }, nil},
		{"bad format", func(c *wallet.Config) { c.Formats = []string{"jwt_vc_json", wallet.FormatMDoc, wallet.FormatMDoc} }, []string{"formats[0]", "formats[2]"}},
		{"bad prefix", func(c *wallet.Config) { c.ClientIDPrefix = "redirect_uri" }, []string{"client_id_prefix"}},
		{"bad status policy", func(c *wallet.Config) { c.Status.Unreachable = "maybe"; c.Status.MaxLists = 0 }, []string{"status.unreachable", "status.max_lists"}},
		{"durations", func(c *wallet.Config) {
			c.RequestTTL = config.Duration(time.Hour)
			c.Status.CacheTTL = config.Duration(48 * time.Hour)
			c.Status.Timeout = config.Duration(time.Millisecond)
		}, []string{"request_ttl", "status.cache_ttl", "status.timeout"}},
		{"plain http wallet url", func(c *wallet.Config) { c.WalletURL = "http://wallet.example/authorize" }, []string{"wallet_url"}},
		{"wallet url with query", func(c *wallet.Config) { c.WalletURL = "openid4vp://?x=1" }, []string{"wallet_url"}},
		{"universal link", func(c *wallet.Config) { c.WalletURL = "https://wallet.example/authorize" }, nil},
		{"empty vct", func(c *wallet.Config) { c.VCTValues = []string{""} }, []string{"vct_values[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fileConfig(dir)
			tc.edit(c)
			var got []string
			for _, pr := range c.Validate() {
				got = append(got, pr.Path)
			}
			slices.Sort(got)
			want := slices.Clone(tc.wantAt)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("problems at %v, want %v (%v)", got, want, c.Validate())
			}
		})
	}
}

func TestConfigOpenFromFiles(t *testing.T) {
	dir, _ := simFiles(t)
	a, err := fileConfig(dir).Open("wallet", adapters.Deps{BaseURL: "https://broker.example", Store: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.ClientID(), "x509_hash:") {
		t.Fatalf("client id %q", a.ClientID())
	}
	c := fileConfig(dir)
	c.ClientIDPrefix = wallet.PrefixX509SanDNS
	a, err = c.Open("wallet", adapters.Deps{BaseURL: "https://broker.example", Store: memory.New()})
	if err != nil || a.ClientID() != "x509_san_dns:broker.example" {
		t.Fatalf("%v %v", a, err)
	}
	if _, err := fileConfig(dir).Open("wallet", adapters.Deps{BaseURL: "https://broker.example"}); err == nil {
		t.Fatal("opened without a store")
	}
	// A key that does not belong to the certificate.
	other, _ := simFiles(t)
	c = fileConfig(dir)
	c.AccessKey = config.Path(filepath.Join(other, "access-key.pem"))
	if _, err := c.Open("wallet", adapters.Deps{BaseURL: "https://broker.example", Store: memory.New()}); err == nil {
		t.Fatal("opened with a foreign key")
	}
}

func TestConfigParse(t *testing.T) {
	dir, _ := simFiles(t)
	reg := config.Registry{wallet.Type: func() config.AdapterSpec { return wallet.NewConfig() }}
	head := "issuer: https://login.example.de\nclients:\n  - id: portal\n    redirect_uris: [https://portal.example.de/cb]\n    secret: \"0123456789abcdef\"\nadapters:\n  - id: wallet\n    type: eudi-wallet\n    max_level: high\n    config:\n" +
		"      access_certificate: access.pem\n      access_key: access-key.pem\n"
	t.Run("valid", func(t *testing.T) {
		yaml := head + "      trust_lists: {sd_jwt_vc: [pid-ca.pem], mso_mdoc: [iaca.pem]}\n" +
			"      status: {unreachable: allow, cache_ttl: 2m}\n      relying_party: {name: Bürgerportal}\n"
		c, err := config.Parse(filepath.Join(dir, "broker.yaml"), []byte(yaml), reg)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		wc := c.Adapters[0].Spec.(*wallet.Config)
		if string(wc.TrustLists.MDoc[0]) != filepath.Join(dir, "iaca.pem") || wc.Status.CacheTTL.D() != 2*time.Minute ||
			!wc.Status.Require || wc.ClientIDPrefix != wallet.PrefixX509Hash || len(wc.Formats) != 2 {
			t.Fatalf("decoded %+v", wc)
		}
	})
	t.Run("typo and bad value", func(t *testing.T) {
		yaml := head + "      trust_list: {sd_jwt_vc: [pid-ca.pem]}\n      request_ttl: 1h\n"
		_, err := config.Parse(filepath.Join(dir, "broker.yaml"), []byte(yaml), reg)
		if err == nil {
			t.Fatal("Parse accepted a typo")
		}
		for _, want := range []string{"adapters[0].config.trust_list", "adapters[0].config.request_ttl"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %s:\n%s", want, err)
			}
		}
	})
}
