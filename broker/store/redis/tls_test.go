package redisstore_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozg-broker/eidas-broker/broker/ratelimit"
	"github.com/ozg-broker/eidas-broker/broker/store"
	redisstore "github.com/ozg-broker/eidas-broker/broker/store/redis"
	"github.com/ozg-broker/eidas-broker/broker/store/storetest"
)

// TestTLSAndACL runs the store against a real redis-server that speaks TLS
// (certificates made here) and has an ACL user limited to the broker's
// prefix: the store and the rate limit counters work; a wrong password, an
// untrusted server certificate, plain TCP and keys outside the prefix fail
// as ErrUnavailable.
func TestTLSAndACL(t *testing.T) {
	dir := t.TempDir()
	caPool, files := makeTLSFiles(t, dir)
	tlsPort := freePort(t)
	srv := storetest.StartRedisServer(t, "--tls-port", strconv.Itoa(tlsPort),
		"--tls-cert-file", files["cert"], "--tls-key-file", files["key"], "--tls-ca-cert-file", files["ca"],
		"--tls-auth-clients", "no")
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	const password = "correct-horse-battery-staple-4711"
	args := []any{"ACL", "SETUSER", "broker", "on", ">" + password}
	for _, f := range splitFields(redisstore.ACLRule("broker")) {
		args = append(args, f)
	}
	if err := admin.Do(t.Context(), args...).Err(); err != nil {
		t.Fatalf("acl setuser: %v", err)
	}
	tlsAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort))
	open := func(user, pass, prefix string, tc *tls.Config) *redisstore.Store {
		s, err := redisstore.NewFromOptions(&redis.UniversalOptions{Addrs: []string{tlsAddr}, Username: user,
			Password: pass, TLSConfig: tc, MaxRetries: -1, ContextTimeoutEnabled: true}, prefix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	good := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: caPool}

	s := open("broker", password, "broker", good)
	ctx := t.Context()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping over TLS as ACL user: %v", err)
	}
	if err := s.Create(ctx, store.KindCode, "c1", []byte("v1"), time.Minute); err != nil {
		t.Fatalf("create: %v", err)
	}
	e, err := s.Get(ctx, store.KindCode, "c1")
	if err != nil || string(e.Value) != "v1" {
		t.Fatalf("get = %q, %v", e.Value, err)
	}
	if err := s.Swap(ctx, store.KindCode, "c1", e.Revision, []byte("v2"), time.Minute); err != nil {
		t.Fatalf("swap (script): %v", err)
	}
	if v, err := s.Take(ctx, store.KindCode, "c1"); err != nil || string(v) != "v2" {
		t.Fatalf("take = %q, %v", v, err)
	}
	if err := s.Delete(ctx, store.KindCode, "c1"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	counter := ratelimit.RedisCounters(s.Client(), s.Prefix())("addr")
	counter.Config(10, time.Minute)
	w := time.Now().Truncate(time.Minute)
	if err := counter.IncrementBy("k", w, 2); err != nil {
		t.Fatalf("rate limit counter increment: %v", err)
	}
	if cur, _, err := counter.Get("k", w, w.Add(-time.Minute)); err != nil || cur != 2 {
		t.Fatalf("rate limit counter get = %d, %v", cur, err)
	}

	otherCA, _ := makeTLSFiles(t, t.TempDir())
	refused := []struct {
		name string
		s    *redisstore.Store
	}{
		{"wrong password", open("broker", "wrong", "broker", good)},
		{"untrusted server certificate", open("broker", password, "broker", &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: otherCA})},
		{"plain TCP to the TLS port", open("broker", password, "broker", nil)},
		{"prefix outside the ACL", open("broker", password, "other", good)},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Create(ctx, store.KindCode, "c2", []byte("v"), time.Minute)
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("create = %v, want ErrUnavailable", err)
			}
		})
	}
}

func splitFields(s string) []string {
	var out []string
	start := -1
	for i, r := range s + " " {
		if r == ' ' {
			if start >= 0 {
				out = append(out, s[start:i])
			}
			start = -1
		} else if start < 0 {
			start = i
		}
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// makeTLSFiles writes a CA and a server certificate for 127.0.0.1 signed
// by it; it returns a pool with the CA and the file names (ca, cert, key).
func makeTLSFiles(t *testing.T, dir string) (*x509.CertPool, map[string]string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test redis CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "redis"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	files := map[string]string{"ca": filepath.Join(dir, "ca.pem"), "cert": filepath.Join(dir, "cert.pem"), "key": filepath.Join(dir, "key.pem")}
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(files[name], pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca", "CERTIFICATE", caDER)
	write("cert", "CERTIFICATE", der)
	write("key", "PRIVATE KEY", keyDER)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, files
}
