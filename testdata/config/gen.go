//go:build ignore

// gen writes the key and secret fixtures of the config tests. Run from the
// repository root:
//
//	go run ./testdata/config/gen.go
//
// The fixtures are test-only material; regenerating them changes nothing a
// test asserts except the keys themselves.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log"
	"os"
	"path/filepath"

	"github.com/go-jose/go-jose/v4"
)

func main() {
	dir := "testdata/config"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	keys, secrets := filepath.Join(dir, "keys"), filepath.Join(dir, "secrets")
	for _, d := range []string{keys, secrets} {
		must(os.MkdirAll(d, 0o755))
	}

	ec := must1(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	writePEM(filepath.Join(keys, "signing-es256.pem"), "PRIVATE KEY", must1(x509.MarshalPKCS8PrivateKey(ec)))
	ec2 := must1(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	writePEM(filepath.Join(keys, "signing-es256-sec1.pem"), "EC PRIVATE KEY", must1(x509.MarshalECPrivateKey(ec2)))
	ec384 := must1(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
	writePEM(filepath.Join(keys, "signing-p384.pem"), "PRIVATE KEY", must1(x509.MarshalPKCS8PrivateKey(ec384)))
	rsaKey := must1(rsa.GenerateKey(rand.Reader, 2048))
	writePEM(filepath.Join(keys, "signing-rs256.pem"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))
	small := must1(rsa.GenerateKey(rand.Reader, 1024))
	writePEM(filepath.Join(keys, "signing-rsa1024.pem"), "PRIVATE KEY", must1(x509.MarshalPKCS8PrivateKey(small)))

	// A portal's private_key_jwt keys: the broker gets the public half.
	client := must1(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	pub := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &client.PublicKey, KeyID: "portal-b-1", Algorithm: "ES256", Use: "sig"}}}
	writeJSON(filepath.Join(keys, "client-jwks.json"), pub)
	// The mistake the broker must refuse: a JWKS with the private key.
	priv := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: client, KeyID: "portal-b-1", Algorithm: "ES256", Use: "sig"}}}
	writeJSON(filepath.Join(keys, "client-jwks-private.json"), priv)

	writeFile(filepath.Join(secrets, "subject_secret"), base64.RawURLEncoding.EncodeToString(random(36))+"\n")
	writeFile(filepath.Join(secrets, "data_key"), base64.StdEncoding.EncodeToString(random(32))+"\n")
	writeFile(filepath.Join(secrets, "portal_secret"), base64.RawURLEncoding.EncodeToString(random(24))+"\n")
	writeFile(filepath.Join(secrets, "adapter_key"), base64.RawURLEncoding.EncodeToString(random(24))+"\r\n")
	writeFile(filepath.Join(secrets, "empty"), "\n")
}

func random(n int) []byte {
	b := make([]byte, n)
	must1(rand.Read(b))
	return b
}

func writePEM(name, typ string, der []byte) {
	writeFile(name, string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})))
}

func writeJSON(name string, v any) {
	b := must1(json.MarshalIndent(v, "", "  "))
	writeFile(name, string(b)+"\n")
}

func writeFile(name, s string) { must(os.WriteFile(name, []byte(s), 0o600)) }

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func must1[T any](v T, err error) T {
	must(err)
	return v
}
