package democonnector

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Key kinds for GenerateKey.
const (
	KindRSA = "rsa" // RSA-3072, the eIDAS minimum
	KindEC  = "ec"  // ECDSA P-256
)

// KeyPair is a private key with its self-signed certificate.
type KeyPair struct {
	Key  crypto.Signer
	Cert *x509.Certificate
}

// Keys are a connector's signing and encryption pairs (eIDAS wants them
// distinct).
type Keys struct {
	Signing    KeyPair
	Encryption KeyPair
}

// GenerateKey makes a key of the kind with a self-signed certificate for
// name, valid from notBefore to notAfter (zero: from an hour ago for a
// year). Signing certificates get digitalSignature, encryption
// certificates keyEncipherment (RSA) or keyAgreement (EC).
func GenerateKey(kind, name string, encryption bool, notBefore, notAfter time.Time) (KeyPair, error) {
	var key crypto.Signer
	var err error
	switch kind {
	case KindRSA:
		key, err = rsa.GenerateKey(rand.Reader, 3072)
	case KindEC:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return KeyPair{}, fmt.Errorf("generate key: unknown kind %q", kind)
	}
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate key: %w", err)
	}
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-time.Hour)
	}
	if notAfter.IsZero() {
		notAfter = notBefore.Add(366 * 24 * time.Hour)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate key: %w", err)
	}
	usage := x509.KeyUsageDigitalSignature
	if encryption {
		usage = x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment
		if kind == KindEC {
			usage = x509.KeyUsageKeyAgreement
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"eIDAS demo"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              usage,
		BasicConstraintsValid: true,
	}
	if kind == KindRSA {
		tmpl.SignatureAlgorithm = x509.SHA256WithRSAPSS
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate key: certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate key: certificate: %w", err)
	}
	return KeyPair{Key: key, Cert: cert}, nil
}

// GenerateKeys makes a signing and an encryption pair of the given kinds.
func GenerateKeys(signKind, encKind, name string) (*Keys, error) {
	s, err := GenerateKey(signKind, name+" signing", false, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	e, err := GenerateKey(encKind, name+" encryption", true, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	return &Keys{Signing: s, Encryption: e}, nil
}

// WritePEM writes the pair as <base>.key.pem (PKCS#8) and <base>.cert.pem.
// For test fixtures only.
func (k KeyPair) WritePEM(dir, base string) error {
	der, err := x509.MarshalPKCS8PrivateKey(k.Key)
	if err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, base+".key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, base+".cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Cert.Raw}), 0o644); err != nil {
		return fmt.Errorf("write certificate: %w", err)
	}
	return nil
}

// LoadKeyPair reads what WritePEM wrote.
func LoadKeyPair(dir, base string) (KeyPair, error) {
	kb, err := os.ReadFile(filepath.Join(dir, base+".key.pem"))
	if err != nil {
		return KeyPair{}, fmt.Errorf("load key: %w", err)
	}
	cb, err := os.ReadFile(filepath.Join(dir, base+".cert.pem"))
	if err != nil {
		return KeyPair{}, fmt.Errorf("load certificate: %w", err)
	}
	kblk, _ := pem.Decode(kb)
	cblk, _ := pem.Decode(cb)
	if kblk == nil || cblk == nil {
		return KeyPair{}, errors.New("load key pair: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(kblk.Bytes)
	if err != nil {
		return KeyPair{}, fmt.Errorf("load key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return KeyPair{}, fmt.Errorf("load key: %T is not a signer", k)
	}
	c, err := x509.ParseCertificate(cblk.Bytes)
	if err != nil {
		return KeyPair{}, fmt.Errorf("load certificate: %w", err)
	}
	return KeyPair{Key: signer, Cert: c}, nil
}
