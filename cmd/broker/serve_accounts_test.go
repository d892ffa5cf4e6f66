package main

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters/bundid/bundidsim"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/config"
)

// TestServeWiresAccountAdapters: bundid, servicekonto and oidc blocks of a
// production-shaped file load, open and mount their routes (SP metadata at
// /saml/<id>/metadata, the OIDC redirect URI at /login/<id>/callback).
func TestServeWiresAccountAdapters(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key, cert, err := bundidsim.NewKeyPair("Broker SP")
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write("sp.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	write("sp.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	sim, err := bundidsim.New(bundidsim.Options{BaseURL: "https://idp.example/bundid"})
	if err != nil {
		t.Fatal(err)
	}
	md, err := sim.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	write("idp.xml", md)
	write("idp-anchor.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: sim.Anchor().Raw}))
	p := write("broker.yaml", []byte(`issuer: https://login.example.de
clients:
  - id: portal
    redirect_uris: [https://portal.example.de/cb]
    secret: "a-long-enough-client-secret"
    allowed_claims: [given_name, family_name, postbox_reference]
adapters:
  - id: bundid
    type: bundid
    max_level: high
    config:
      signing_key_file: sp.key
      signing_cert_file: sp.pem
      idp: {metadata_file: idp.xml, trust_anchors: [idp-anchor.pem]}
      display:
        default: {organization_display_name: "Stadt Musterstadt"}
        per_service: [{client: portal, online_service_id: "99123456760000"}]
  - id: sh
    type: servicekonto
    max_level: substantial
    config:
      signing_key_file: sp.key
      signing_cert_file: sp.pem
      idp: {metadata_file: idp.xml, trust_anchors: [idp-anchor.pem]}
      levels: [{value: "http://eidas.europa.eu/LoA/substantial", level: substantial}]
      attributes: [{name: "urn:oid:2.5.4.42", claim: given_name}]
  - id: landeskonto
    type: oidc
    max_level: high
    config:
      issuer: https://servicekonto.land.example/realms/buerger
      client_id: broker
      client_secret: "land-secret"
      levels: [{acr: "urn:land:loa:hoch", level: high}]
`))
	cfg, err := config.Load(p, serveRegistry())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	b, err := buildBroker(cfg, memory.New(), newLogger(io.Discard, "error"), nil, nil)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	defer b.Close()
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	for _, c := range []struct {
		path, want string
		status     int
	}{
		{"/saml/bundid/metadata", `entityID="https://login.example.de/saml/bundid/metadata"`, http.StatusOK},
		{"/saml/sh/metadata", `https://login.example.de/saml/sh/acs`, http.StatusOK},
		{"/login/landeskonto/callback?state=x", "", http.StatusBadRequest},
	} {
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %s", c.path, resp.StatusCode, body)
		}
	}
	var out strings.Builder
	if code := checkConfig(p, &out); code != 0 {
		t.Fatalf("check-config: %d %s", code, out.String())
	}
}
