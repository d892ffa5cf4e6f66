package statuslist

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// The Token Status List draft's examples: 1 bit per entry
// [1,0,0,1,1,1,0,1, 1,1,0,0,0,1,0,1] and 2 bits per entry
// [1,2,0,3,0,1,0,1,1,2,3,3].
func TestDraftExamples(t *testing.T) {
	cases := []struct {
		bits int
		lst  string
		want []byte
	}{
		{1, "eNrbuRgAAhcBXQ", []byte{1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1}},
		{2, "eNo76fITAAPfAgc", []byte{1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3}},
	}
	for _, c := range cases {
		l, err := Decode(c.bits, c.lst)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range c.want {
			if got, err := l.Get(i); err != nil || got != w {
				t.Fatalf("bits %d index %d: %d %v, want %d", c.bits, i, got, err, w)
			}
		}
		// Writing the same statuses gives the same bytes.
		n, _ := New(c.bits, len(c.want))
		for i, w := range c.want {
			if err := n.Set(i, w); err != nil {
				t.Fatal(err)
			}
		}
		enc, _ := n.Encode()
		back, err := Decode(c.bits, enc["lst"].(string))
		if err != nil || string(back.Bytes) != string(l.Bytes) {
			t.Fatalf("round trip %x vs %x (%v)", back.Bytes, l.Bytes, err)
		}
	}
}

func TestBounds(t *testing.T) {
	l, _ := New(2, 4)
	if _, err := l.Get(4); err == nil {
		t.Fatal("index past the end accepted")
	}
	if err := l.Set(0, 4); err == nil {
		t.Fatal("value wider than bits accepted")
	}
	if _, err := Decode(3, "eNrbuRgAAhcBXQ"); err == nil {
		t.Fatal("bits 3 accepted")
	}
	if _, err := Decode(1, "not-zlib"); err == nil {
		t.Fatal("garbage accepted")
	}
}

func testPKI(t *testing.T) (*ecdsa.PrivateKey, *x509.Certificate, *x509.CertPool) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "status"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return key, cert, pool
}

func TestCheckerCachesAndVerifies(t *testing.T) {
	key, cert, pool := testPKI(t)
	l, _ := New(1, 16)
	_ = l.Set(3, Invalid)
	var hits atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		tok, err := Sign(key, []*x509.Certificate{cert}, srv.URL+r.URL.Path, l, time.Now(), time.Now().Add(time.Hour), time.Minute)
		if err != nil {
			t.Error(err)
		}
		_, _ = w.Write([]byte(tok))
	}))
	defer srv.Close()
	c := &Checker{Client: srv.Client(), Now: time.Now, CacheTTL: time.Hour, MaxEntries: 2}
	ctx := context.Background()
	if v, err := c.Status(ctx, srv.URL+"/a", 3, pool, "p"); err != nil || v != Invalid {
		t.Fatalf("%d %v", v, err)
	}
	if v, err := c.Status(ctx, srv.URL+"/a", 2, pool, "p"); err != nil || v != Valid {
		t.Fatalf("%d %v", v, err)
	}
	if hits.Load() != 1 {
		t.Fatalf("fetched %d times, want 1 (cached)", hits.Load())
	}
	// The token names its own uri: a list served for another uri fails.
	if _, err := c.Status(ctx, srv.URL+"/a?x", 1, pool, "p"); !errors.Is(err, ErrInvalidList) {
		t.Fatalf("list for another uri: %v", err)
	}
	_, _, other := testPKI(t)
	if _, err := c.Status(ctx, srv.URL+"/b", 1, other, "q"); !errors.Is(err, ErrInvalidList) {
		t.Fatalf("untrusted list: %v", err)
	}
	if len(c.cache) > 2 {
		t.Fatalf("cache holds %d entries, bound 2", len(c.cache))
	}
	srv.Close()
	if _, err := c.Status(ctx, srv.URL+"/c", 1, pool, "p"); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("down: %v", err)
	}
}
