package elster

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// revocationFixture is a CA with one leaf, served by a CRL distribution
// point and an OCSP responder that answer only when the test opens the gate.
type revocationFixture struct {
	ca, leaf *x509.Certificate
	srv      *httptest.Server
	gate     chan struct{}
	hits     atomic.Int64
	arrived  chan struct{} // one value per request that reached the server
}

func newRevocationFixture(t *testing.T) *revocationFixture {
	t.Helper()
	now := time.Now()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Leaf"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour),
	}, ca, key)
	if err != nil {
		t.Fatal(err)
	}
	ocspResp, err := ocsp.CreateResponse(ca, ca, ocsp.Response{
		Status: ocsp.Good, SerialNumber: leaf.SerialNumber,
		ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour),
	}, crypto.Signer(key))
	if err != nil {
		t.Fatal(err)
	}
	f := &revocationFixture{ca: ca, leaf: leaf, gate: make(chan struct{}), arrived: make(chan struct{}, 16)}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		f.arrived <- struct{}{}
		select {
		case <-f.gate:
		case <-r.Context().Done():
			return
		}
		if r.URL.Path == "/ocsp" {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = w.Write(ocspResp)
			return
		}
		_, _ = w.Write(crl)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// TestSharedFetchSurvivesFirstCallerCancel: concurrent logins share one
// revocation download; when the login that started it goes away, the
// download goes on and the others get its answer.
func TestSharedFetchSurvivesFirstCallerCancel(t *testing.T) {
	for _, tc := range []struct {
		name string
		ask  func(ctx context.Context, rc *revocationChecker, f *revocationFixture) error
	}{
		{"crl", func(ctx context.Context, rc *revocationChecker, f *revocationFixture) error {
			_, err := rc.getCRL(ctx, f.srv.URL+"/crl")
			return err
		}},
		{"ocsp", func(ctx context.Context, rc *revocationChecker, f *revocationFixture) error {
			res := rc.ocspStatus(ctx, f.leaf, f.ca)
			if res.status != statusGood {
				return errors.Join(errors.New("status not good"), res.err)
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRevocationFixture(t)
			rc := newRevocationChecker(revocationOptions{
				mode: RevocationBoth, ocspURL: f.srv.URL + "/ocsp", cacheTTL: time.Minute,
				timeout: 10 * time.Second, client: f.srv.Client(), now: time.Now,
				log: slog.New(slog.DiscardHandler),
			})
			firstCtx, cancelFirst := context.WithCancel(context.Background())
			first := make(chan error, 1)
			go func() { first <- tc.ask(firstCtx, rc, f) }()
			<-f.arrived // the first caller's download is under way

			second := make(chan error, 1)
			go func() { second <- tc.ask(context.Background(), rc, f) }()
			// Give the second caller time to join the download in flight. If
			// it is late, it finds the cached answer: hits stays 1 either way.
			time.Sleep(50 * time.Millisecond)

			cancelFirst()
			select {
			case err := <-first:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("first caller: %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the cancelled caller kept waiting for the download")
			}
			close(f.gate)
			select {
			case err := <-second:
				if err != nil {
					t.Fatalf("second caller: %v, want the shared answer", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("second caller got no answer")
			}
			if n := f.hits.Load(); n != 1 {
				t.Fatalf("%d downloads, want one shared download", n)
			}
		})
	}
}

// TestSharedFetchIsTimeBounded: a detached download still ends at the
// configured timeout when the responder never answers.
func TestSharedFetchIsTimeBounded(t *testing.T) {
	f := newRevocationFixture(t) // the gate stays closed
	t.Cleanup(func() { close(f.gate) })
	rc := newRevocationChecker(revocationOptions{
		mode: RevocationCRL, cacheTTL: time.Minute, timeout: 200 * time.Millisecond,
		client: f.srv.Client(), now: time.Now, log: slog.New(slog.DiscardHandler),
	})
	start := time.Now()
	_, err := rc.getCRL(context.Background(), f.srv.URL+"/crl")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want a deadline", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %s", d)
	}
	rc.mu.Lock()
	n := len(rc.flights)
	rc.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d flights left behind", n)
	}
}
