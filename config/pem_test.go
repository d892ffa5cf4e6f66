package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

func TestParsePrivateKeyPEM(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(k)
	sec1, _ := x509.MarshalECPrivateKey(k)
	enc := func(typ string, b []byte, h map[string]string) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b, Headers: h}))
	}
	tests := []struct {
		name, data, wantErr string
	}{
		{"pkcs8", enc("PRIVATE KEY", p8, nil), ""},
		{"sec1 after a certificate block", enc("CERTIFICATE", []byte{1}, nil) + enc("EC PRIVATE KEY", sec1, nil), ""},
		{"encrypted pkcs8", enc("ENCRYPTED PRIVATE KEY", p8, nil), "encrypted"},
		{"legacy encrypted PEM", enc("EC PRIVATE KEY", sec1, map[string]string{"Proc-Type": "4,ENCRYPTED"}), "encrypted"},
		{"garbage in a key block", enc("PRIVATE KEY", []byte("nope"), nil), "parse PRIVATE KEY"},
		{"no key", "hello", "no PEM private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParsePrivateKeyPEM([]byte(tt.data))
			if tt.wantErr == "" {
				if err != nil || s == nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	if _, err := ParseCertificatesPEM([]byte(enc("PRIVATE KEY", p8, nil))); err == nil {
		t.Fatal("a key file parsed as certificates")
	}
}
