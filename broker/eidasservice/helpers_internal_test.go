package eidasservice

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

func deflateForTest(t testing.TB, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// fixtureRoot is testdata/eidasservice (generated fixtures, always present).
func fixtureRoot(t testing.TB) string {
	t.Helper()
	return testfiles.Path(t, "testdata", "eidasservice")
}

func readFixtureFile(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{fixtureRoot(t)}, parts...)...))
	if err != nil {
		t.Fatalf("read fixture (regenerate with go run ./testdata/eidasservice/gen): %v", err)
	}
	return b
}

func fixtureCert(t testing.TB, base string) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(readFixtureFile(t, "keys", base+".cert.pem"))
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fixtureKey(t testing.TB, base string) crypto.Signer {
	t.Helper()
	blk, _ := pem.Decode(readFixtureFile(t, "keys", base+".key.pem"))
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(crypto.Signer)
}

// fixtureNow is the generated fixtures' clock.
var fixtureNow = time.Date(2030, 6, 1, 12, 1, 0, 0, time.UTC)

// fixtureService opens a service on the generated fixtures (AT connector).
func fixtureService(t testing.TB, serviceKey string) *Service {
	t.Helper()
	s, err := New(Config{
		BaseURL: "https://broker.test.example", SigningKey: fixtureKey(t, serviceKey), SigningCert: fixtureCert(t, serviceKey),
		Adapter: highAdapter{}, Store: memory.New(), PseudonymSecret: make([]byte, 32), DataKey: make([]byte, 32),
		Now: func() time.Time { return fixtureNow },
		Connectors: []Connector{
			{Metadata: readFixtureFile(t, "metadata", "connector-at.xml"), TrustAnchors: []*x509.Certificate{fixtureCert(t, "connector-at-sign")}, Country: "AT"},
			{Metadata: readFixtureFile(t, "metadata", "connector-se.xml"), TrustAnchors: []*x509.Certificate{fixtureCert(t, "connector-se-sign")}, Country: "SE", SPType: SPTypePublic},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
