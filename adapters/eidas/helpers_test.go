package eidas

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
	"github.com/ozg-broker/eidas-broker/config"
)

// Fixed values of the generated fixtures (testdata/eidas/gen).
const (
	fxBase      = "https://broker.test.example"
	fxIdP       = "https://proxy.at.test.example/eidas/metadata"
	fxRequestID = "_req-0001"
	fxPID       = "AT/DE/1234567890abc"
	fxRef       = "fixture-ref-0123456789abcdef"
)

// fxClock is inside every fixture's validity window.
func fxClock() time.Time { return time.Date(2030, 6, 1, 12, 1, 0, 0, time.UTC) }

// fxIssued is when the fixtures' request was (notionally) issued.
var fxIssued = time.Date(2030, 6, 1, 11, 59, 0, 0, time.UTC)

func fixture(tb testing.TB, rel string) string {
	tb.Helper()
	return testfiles.Path(tb, "testdata", "eidas", filepath.FromSlash(rel))
}

// vectors returns the shared vector folder or skips the test.
func vectors(tb testing.TB) string {
	tb.Helper()
	return testfiles.VectorsCoveredBy(tb, "the generated fixtures in testdata/eidas still cover every algorithm and attack")
}

// fxConfig is the configuration of the fixtures: our keys of the given
// set ("rsa" or "ec") and the Austrian proxy-service.
func fxConfig(tb testing.TB, set, metadata string) *Config {
	tb.Helper()
	sign, enc := "connector-sign-rsa3072", "connector-enc-rsa3072"
	if set == "ec" {
		sign, enc = "connector-sign-p256", "connector-enc-p256"
	}
	c := NewConfig()
	c.SigningKeyFile = config.Path(fixture(tb, "keys/"+sign+".key.pem"))
	c.SigningCertFile = config.Path(fixture(tb, "keys/"+sign+".cert.pem"))
	c.EncryptionKeyFile = config.Path(fixture(tb, "keys/"+enc+".key.pem"))
	c.EncryptionCertFile = config.Path(fixture(tb, "keys/"+enc+".cert.pem"))
	c.Countries = []Country{{
		Code: "AT", Level: assurance.High,
		MetadataFile:    config.Path(fixture(tb, "metadata/"+metadata+".xml")),
		TrustAnchorFile: config.Path(fixture(tb, "keys/anchor-ca.cert.pem")),
	}}
	return c
}

// openFixture opens an adapter on the fixture configuration with the
// fixture clock and a fresh memory store.
func openFixture(tb testing.TB, c *Config) *Adapter {
	tb.Helper()
	st := memory.New(memory.WithClock(fxClock))
	tb.Cleanup(func() { _ = st.Close() })
	a, err := c.Open("eidas", adapters.Deps{BaseURL: fxBase, Store: st, Now: fxClock})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = a.Close() })
	return a
}

// fxState is the state Begin would have produced for the fixtures'
// request: floor substantial, the default natural-person attributes.
func fxState(tb testing.TB, a *Adapter) []byte {
	tb.Helper()
	st := loginState{V: stateVersion, ID: fxRequestID, Country: "AT", Floor: "substantial", Issued: fxIssued.Unix(), Ref: fxRef}
	for _, r := range a.requested {
		st.Attrs = append(st.Attrs, r.def.Name)
		if r.required {
			st.Required = append(st.Required, r.def.Name)
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// postResponse builds the browser's POST of a SAMLResponse to the callback.
func postResponse(xml []byte, relayState string) *http.Request {
	form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(xml)}, "RelayState": {relayState}}
	r := httptest.NewRequest(http.MethodPost, fxBase+"/login/cb/"+relayState, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}
