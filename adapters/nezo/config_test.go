package nezo_test

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters/nezo"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/config"
)

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestConfigFromYAML: the block decodes strictly; every problem is reported
// with its path (and the loader adds file and line).
func TestConfigFromYAML(t *testing.T) {
	f := getFixture(t)
	dir := t.TempDir()
	for name, k := range map[string]any{"sign.key": f.mat.SigningKey, "enc.key": f.mat.DecryptionKey} {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		writePEM(t, filepath.Join(dir, name), "PRIVATE KEY", der)
	}
	writePEM(t, filepath.Join(dir, "sign.crt"), "CERTIFICATE", f.mat.SigningCert.Raw)
	writePEM(t, filepath.Join(dir, "enc.crt"), "CERTIFICATE", f.mat.EncryptionCert.Raw)
	writePEM(t, filepath.Join(dir, "anchor.crt"), "CERTIFICATE", f.sim.TrustAnchor().Raw)
	reg := config.Registry{nezo.Type: func() config.AdapterSpec { return nezo.NewConfig() }}
	head := "issuer: https://login.example.de\nclients:\n  - id: portal\n    redirect_uris: [https://portal.example.de/cb]\n    secret: \"0123456789abcdef\"\n" +
		"adapters:\n  - id: elster-nezo\n    type: elster-nezo\n    max_level: high\n    config:\n" +
		"      metadata_url: https://e4k-portal.een.elster.de/ekona/metadata\n      trust_anchor_file: anchor.crt\n" +
		"      signing_key_file: sign.key\n      signing_cert_file: sign.crt\n      encryption_key_file: enc.key\n      encryption_cert_file: enc.crt\n"
	t.Run("valid", func(t *testing.T) {
		yaml := head + "      levels: {substanziell: substantial, hoch: substantial}\n      max_level: substantial\n" +
			"      requested_attributes: [Firmenname, StNr, HandelndePerson]\n      binding: redirect\n      clock_skew: 90s\n" +
			"      algorithms: {allow_aes_cbc: true}\n"
		c, err := config.Parse(filepath.Join(dir, "broker.yaml"), []byte(yaml), reg)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		nc := c.Adapters[0].Spec.(*nezo.Config)
		if string(nc.SigningKeyFile) != filepath.Join(dir, "sign.key") || nc.Levels["hoch"] != assurance.Substantial || nc.MaxLevel != assurance.Substantial ||
			len(nc.RequestedAttributes) != 3 || nc.Binding != "redirect" || nc.ClockSkew.D() != 90*time.Second || !nc.Algorithms.AllowAESCBC ||
			nc.Algorithms.AllowRSASHA256 || nc.AllowTestAccounts {
			t.Errorf("decoded %+v", nc)
		}
	})
	t.Run("typo and bad values", func(t *testing.T) {
		yaml := head + "      allow_testaccounts: true\n      binding: soap\n      requested_attributes: [Firmenname, Schuhgröße]\n" +
			"      levels: {normal: medium}\n      clock_skew: 1h\n"
		_, err := config.Parse(filepath.Join(dir, "broker.yaml"), []byte(yaml), reg)
		if err == nil {
			t.Fatal("Parse accepted a broken block")
		}
		for _, want := range []string{"adapters[0].config.allow_testaccounts", "adapters[0].config.binding", "adapters[0].config.requested_attributes[1]",
			"adapters[0].config.levels.normal", "adapters[0].config.clock_skew", "broker.yaml:"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %s:\n%v", want, err)
			}
		}
	})
	t.Run("required", func(t *testing.T) {
		ps := nezo.NewConfig().Validate()
		got := map[string]bool{}
		for _, p := range ps {
			got[p.Path] = true
		}
		for _, want := range []string{"metadata_url", "trust_anchor_file", "signing_key_file", "signing_cert_file", "encryption_key_file", "encryption_cert_file"} {
			if !got[want] {
				t.Errorf("no problem reported at %s: %v", want, ps)
			}
		}
		c := nezo.NewConfig()
		c.MetadataURL = "http://nezo.example/metadata"
		if !strings.Contains(problems(c.Validate()), "metadata_url: must be https") {
			t.Errorf("plain http metadata accepted: %v", c.Validate())
		}
	})
}

func problems(ps []config.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Path + ": " + p.Msg + "\n")
	}
	return b.String()
}
