package xmlsec

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

// fixtureClock is inside the validity window of every generated document
// and certificate.
func fixtureClock() time.Time { return time.Date(2030, 6, 1, 12, 1, 0, 0, time.UTC) }

// fixture returns the path of a generated fixture under testdata/xmlsec.
func fixture(tb testing.TB, rel string) string {
	tb.Helper()
	return testfiles.Path(tb, "testdata", "xmlsec", filepath.FromSlash(rel))
}

// vectors returns the shared vector folder or skips the test.
func vectors(tb testing.TB) string {
	tb.Helper()
	return testfiles.VectorsCoveredBy(tb, "the generated fixtures in testdata/xmlsec still cover every algorithm and attack")
}

func parseFile(tb testing.TB, path string) *etree.Document {
	tb.Helper()
	doc, err := Parse(testfiles.Read(tb, path), Limits{})
	if err != nil {
		tb.Fatalf("parse %s: %v", filepath.Base(path), err)
	}
	return doc
}

func pemBlock(tb testing.TB, path string) []byte {
	tb.Helper()
	blk, _ := pem.Decode(testfiles.Read(tb, path))
	if blk == nil {
		tb.Fatalf("%s: no PEM block", path)
	}
	return blk.Bytes
}

func certFile(tb testing.TB, path string) *x509.Certificate {
	tb.Helper()
	c, err := x509.ParseCertificate(pemBlock(tb, path))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return c
}

func keyFile(tb testing.TB, path string) crypto.Signer {
	tb.Helper()
	k, err := x509.ParsePKCS8PrivateKey(pemBlock(tb, path))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return k.(crypto.Signer)
}

// fixtureKey loads testdata/xmlsec/keys/<name>.{key,cert}.pem.
func fixtureKey(tb testing.TB, name string) (crypto.Signer, *x509.Certificate) {
	tb.Helper()
	return keyFile(tb, fixture(tb, "keys/"+name+".key.pem")), certFile(tb, fixture(tb, "keys/"+name+".cert.pem"))
}

func fixtureCert(tb testing.TB, name string) *x509.Certificate {
	tb.Helper()
	return certFile(tb, fixture(tb, "keys/"+name+".cert.pem"))
}

// find returns the first element matching an etree path, failing the test
// when there is none.
func find(tb testing.TB, e *etree.Element, path string) *etree.Element {
	tb.Helper()
	f := e.FindElement(path)
	if f == nil {
		tb.Fatalf("no element at %s", path)
	}
	return f
}

// wantErr checks err against want (nil means success expected).
func wantErr(tb testing.TB, err, want error) {
	tb.Helper()
	switch {
	case want == nil && err != nil:
		tb.Fatalf("unexpected error: %v", err)
	case want != nil && !errors.Is(err, want):
		tb.Fatalf("error = %v, want %v", err, want)
	}
}

// signingCerts are the trusted certificates of the fixture IdP.
func signingCerts(tb testing.TB) []*x509.Certificate {
	tb.Helper()
	var out []*x509.Certificate
	for _, n := range []string{"sign-rsa3072", "sign-p256", "sign-p384", "sign-p521"} {
		out = append(out, fixtureCert(tb, n))
	}
	return out
}

func fixtureVerifyOptions(tb testing.TB) VerifyOptions {
	return VerifyOptions{Trusted: signingCerts(tb), Now: fixtureClock}
}

func parseCertPEM(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	return x509.ParseCertificate(blk.Bytes)
}

func errIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
