package eidasservice

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/config"
)

// TestAttributeNamesInStep keeps config's list of allowed attribute names
// equal to the attributes the service publishes.
func TestAttributeNamesInStep(t *testing.T) {
	var published []string
	for _, d := range attrDefs {
		if d.Published {
			published = append(published, d.FriendlyName)
		}
	}
	if !slices.Equal(published, config.EIDASAttributeNames) {
		t.Errorf("config.EIDASAttributeNames = %v, published %v", config.EIDASAttributeNames, published)
	}
}

// TestConfigFromFile loads the valid example file and opens the service.
func TestConfigFromFile(t *testing.T) {
	dir, _ := os.Getwd()
	root := filepath.Join(dir, "..", "..")
	reg := config.Registry{"eid": func() config.AdapterSpec { return &noSpec{} }}
	cfg, err := config.Load(filepath.Join(root, "testdata/config/valid/eidas-service.yaml"), reg)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ConfigFromFile(cfg.EIDASService, cfg.Issuer+"/", highAdapter{}, memory.New(), make([]byte, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sc.BaseURL != "https://login.example.de" || sc.AdapterID != "eid" || len(sc.Connectors) != 2 || sc.EncryptionCert == nil {
		t.Fatalf("config %+v", sc)
	}
	if got := sc.Connectors[1].AllowedAttributes; len(got) != 4 || got[0] != AttrPersonIdentifier {
		t.Errorf("allowed attributes %v", got)
	}
	// The AT fixture metadata is valid until 2035 with certificates from
	// 2025: the service opens with it now.
	svc, err := New(sc)
	if err != nil {
		t.Fatal(err)
	}
	if svc.EntityID() != "https://login.example.de"+MetadataPath || !strings.HasSuffix(svc.SSOURL(), SSOPath) {
		t.Errorf("entity %s sso %s", svc.EntityID(), svc.SSOURL())
	}
}

type noSpec struct{}

func (*noSpec) Validate() []config.Problem { return nil }
