package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/broker/logtest"
	"github.com/ozg-broker/eidas-broker/config"
)

// TestServeEIDASServiceLogsEachKeyOnce wires the eIDAS-Service as serve
// does and sends it a signed AuthnRequest: every log line it writes
// carries each attribute once (serve's own scoping and the service's must
// not both add component=eidas-service).
func TestServeEIDASServiceLogsEachKeyOnce(t *testing.T) {
	td, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	// The issuer is the fixtures' service base URL, so the fixture request's
	// Destination is this service and it is refused only for its time.
	p := writeConfig(t, fmt.Sprintf(`issuer: https://broker.test.example
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
	var logs bytes.Buffer
	// newLogger is serve's logger (and becomes the default the wiring
	// scopes); restore the test binary's default afterwards.
	defer newLogger(os.Stderr, "warn")
	b := startBroker(t, cfg, newLogger(&logs, "debug"), nil)
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()

	req, err := os.ReadFile(filepath.Join(td, "eidasservice", "requests", "request-at-pss-sha256.xml"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(srv.URL+"/saml/service/sso", url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(req)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	var service []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "component=eidas-service") {
			service = append(service, line)
		}
	}
	if len(service) == 0 {
		t.Fatalf("the request left no eIDAS-Service log line:\n%s", logs.String())
	}
	if bad := logtest.Repeated(logs.String()); bad != nil {
		t.Errorf("log lines carry an attribute twice: %v\n%s", bad, logs.String())
	}
}
