package config

import (
	"strings"
	"testing"
	"time"
)

// eidRegistry registers an "eid" type with an empty config block.
func eidRegistry() Registry {
	return Registry{"eid": func() AdapterSpec { return &otherSpec{} }}
}

func TestEIDASServiceValid(t *testing.T) {
	c, err := Load(validDir+"/eidas-service.yaml", eidRegistry())
	if err != nil {
		t.Fatal(err)
	}
	s := c.EIDASService
	if s == nil || s.Adapter != "eid" || s.TransactionTTL.D() != 20*time.Minute || len(s.Connectors) != 2 {
		t.Fatalf("decoded %+v", s)
	}
	if !strings.HasSuffix(string(s.SigningKey), "testdata/eidasservice/keys/service-sign-ec.key.pem") {
		t.Errorf("signing_key not resolved against the file: %s", s.SigningKey)
	}
	if k, err := s.LoadSigningKey(); err != nil || k == nil {
		t.Errorf("LoadSigningKey: %v", err)
	}
	if c, err := s.LoadSigningCert(); err != nil || c == nil {
		t.Errorf("LoadSigningCert: %v", err)
	}
	if c, err := s.LoadEncryptionCert(); err != nil || c == nil {
		t.Errorf("LoadEncryptionCert: %v", err)
	}
	at := s.Connectors[0]
	if md, err := at.LoadMetadata(); err != nil || !strings.Contains(string(md), "EntityDescriptor") {
		t.Errorf("LoadMetadata: %v", err)
	}
	if a, err := at.LoadTrustAnchors(); err != nil || len(a) != 1 {
		t.Errorf("LoadTrustAnchors: %d, %v", len(a), err)
	}
	if md, err := s.Connectors[1].LoadMetadata(); err != nil || md != nil {
		t.Errorf("URL connector LoadMetadata = %d bytes, %v", len(md), err)
	}
	if s.PseudonymSecret.String() != "[redacted]" {
		t.Error("secret printable")
	}
	// Without the block, nothing is required of it.
	c, err = Load(validDir+"/minimal.yaml", testRegistry())
	if err != nil || c.EIDASService != nil {
		t.Fatalf("minimal: %v, %+v", err, c.EIDASService)
	}
}
