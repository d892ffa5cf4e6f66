package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/store/storetest"
	"github.com/ozg-broker/eidas-broker/config"
)

// TestServeWiresProductionConfig loads a production-shaped file (real
// redis-server, configured keys, an ELSTER adapter with the test CA as
// trust anchor) and serves discovery and readiness from it.
func TestServeWiresProductionConfig(t *testing.T) {
	addr := storetest.StartRedis(t)
	repo, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	p := writeConfig(t, fmt.Sprintf(`issuer: https://login.example.de
store:
  type: redis
  redis:
    addrs: [%q]
    key_prefix: "serve-test"
keys:
  signing:
    - id: k1
      file: %s/config/keys/signing-es256.pem
  subject_secret: {file: %s/config/secrets/subject_secret}
  data_key: {file: %s/config/secrets/data_key}
clients:
  - id: portal
    redirect_uris: [https://portal.example.de/cb]
    secret: "a-long-enough-client-secret"
    services:
      - {id: tax, name: Steuer, min_level: substantial}
adapters:
  - id: elster
    type: elster
    max_level: substantial
    config:
      trust_anchors: [%s/elster/root.pem]
`, addr, repo, repo, repo, repo))
	cfg, err := config.Load(p, serveRegistry())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	b := startBroker(t, cfg, newLogger(os.Stderr, "warn"), nil)
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || d["issuer"] != "https://login.example.de" {
		t.Fatalf("discovery: %v %v", err, d)
	}
	ready, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	ready.Body.Close()
	if ready.StatusCode != http.StatusOK {
		t.Fatalf("readyz = %d", ready.StatusCode)
	}
}

// TestServeWiresEIDASService: a production config with an eID adapter and
// an eidas_service block publishes the service's signed metadata.
func TestServeWiresEIDASService(t *testing.T) {
	td, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	p := writeConfig(t, fmt.Sprintf(`issuer: https://login.example.de
clients:
  - id: portal
    redirect_uris: [https://portal.example.de/cb]
    secret: "a-long-enough-client-secret"
adapters:
  - id: eid
    type: eid
    max_level: high
    config:
      endpoint: https://127.0.0.1:9/eID-Interface
      tls: {client_cert: %[1]s/eid/client-tls.cert.pem, client_key: %[1]s/eid/client-tls.key.pem, server_ca: %[1]s/eid/tls-ca.cert.pem}
      ws_security: {signing_key: %[1]s/eid/service-sign.key.pem, signing_cert: %[1]s/eid/service-sign.cert.pem, server_cert: %[1]s/eid/server-sign.cert.pem}
eidas_service:
  adapter: eid
  signing_key: %[1]s/eidasservice/keys/service-sign-ec.key.pem
  signing_cert: %[1]s/eidasservice/keys/service-sign-ec.cert.pem
  encryption_cert: %[1]s/eidasservice/keys/service-enc-rsa.cert.pem
  pseudonym_secret: {file: %[1]s/config/secrets/subject_secret}
  connectors:
    - metadata_file: %[1]s/eidasservice/metadata/connector-at.xml
      trust_anchor: %[1]s/eidasservice/keys/connector-at-sign.cert.pem
      country: AT
      sp_type: public
`, td))
	cfg, err := config.Load(p, serveRegistry())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	b := startBroker(t, cfg, newLogger(os.Stderr, "warn"), nil)
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/saml/service/metadata")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "https://login.example.de/saml/service/sso") || !strings.Contains(string(body), "Signature") {
		t.Fatalf("service metadata: %d %.300s", resp.StatusCode, body)
	}
}

// startBroker builds serve's broker for cfg on the store cfg names, both
// closed when the test ends.
func startBroker(t testing.TB, cfg *config.Config, log *slog.Logger, metrics *broker.Metrics) *broker.Server {
	t.Helper()
	st, err := openStore(cfg.Store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	b, err := buildBroker(cfg, st, log, metrics, nil)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}
