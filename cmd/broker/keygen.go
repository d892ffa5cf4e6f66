package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
)

func cmdKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	alg := fs.String("alg", "ES256", "signing key algorithm: ES256 or RS256 (RSA-3072, also usable for PS256)")
	dataKey := fs.Bool("data-key", false, "print a random 32-byte data key (base64, for keys.data_key or a keys.data_keys[].key) instead")
	subject := fs.Bool("subject-secret", false, "print a random 32-byte pairwise subject secret (base64) instead")
	if !parseFlags(fs, args, stderr) {
		return 2
	}
	if *dataKey || *subject {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			fmt.Fprintln(stderr, "keygen:", err)
			return 1
		}
		fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(b))
		return 0
	}
	var key any
	var err error
	switch *alg {
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256", "PS256":
		key, err = rsa.GenerateKey(rand.Reader, 3072)
	default:
		fmt.Fprintf(stderr, "keygen: unsupported --alg %q (ES256, RS256, PS256)\n", *alg)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "keygen:", err)
		return 1
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		fmt.Fprintln(stderr, "keygen:", err)
		return 1
	}
	_ = pem.Encode(stdout, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return 0
}
