package eid

import (
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ozg-broker/eidas-broker/config"
)

// maxPEMFile bounds a key or certificate file.
const maxPEMFile = 1 << 20

func readPEMFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPEMFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > maxPEMFile {
		return nil, fmt.Errorf("read %s: larger than %d bytes", name, maxPEMFile)
	}
	return b, nil
}

// ParseCertificates reads all CERTIFICATE blocks of a PEM file.
func ParseCertificates(b []byte) ([]*x509.Certificate, error) {
	return config.ParseCertificatesPEM(b)
}

// ParsePrivateKey reads the first private key block of a PEM file (PKCS#8,
// PKCS#1 or SEC 1).
func ParsePrivateKey(b []byte) (crypto.Signer, error) {
	return config.ParsePrivateKeyPEM(b)
}

func checkDates(c *x509.Certificate, now time.Time) error {
	if now.After(c.NotAfter) {
		return fmt.Errorf("certificate %q expired on %s", c.Subject.CommonName, c.NotAfter.Format(time.DateOnly))
	}
	if now.Before(c.NotBefore) {
		return fmt.Errorf("certificate %q is not valid before %s", c.Subject.CommonName, c.NotBefore.Format(time.DateOnly))
	}
	return nil
}

func loadCert(name string) (*x509.Certificate, error) {
	b, err := readPEMFile(name)
	if err != nil {
		return nil, err
	}
	cs, err := ParseCertificates(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := checkDates(cs[0], time.Now()); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return cs[0], nil
}

func loadPool(name string) (*x509.CertPool, error) {
	b, err := readPEMFile(name)
	if err != nil {
		return nil, err
	}
	cs, err := ParseCertificates(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	pool := x509.NewCertPool()
	for _, c := range cs {
		pool.AddCert(c)
	}
	return pool, nil
}

func loadTLSPair(certFile, keyFile string) (*tls.Certificate, error) {
	cb, err := readPEMFile(certFile)
	if err != nil {
		return nil, err
	}
	kb, err := readPEMFile(keyFile)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(cb, kb)
	if err != nil {
		return nil, fmt.Errorf("load TLS client key pair: %w", err)
	}
	if err := checkDates(pair.Leaf, time.Now()); err != nil {
		return nil, fmt.Errorf("%s: %w", certFile, err)
	}
	return &pair, nil
}

// loadSigningPair loads the WS-Security key and checks it matches its
// certificate and is RSA of at least 2048 bits (Basic256Sha256 is RSA-only).
func loadSigningPair(keyFile, certFile string) (crypto.Signer, *x509.Certificate, error) {
	kb, err := readPEMFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	key, err := ParsePrivateKey(kb)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", keyFile, err)
	}
	cert, err := loadCert(certFile)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckSigningPair(key, cert); err != nil {
		return nil, nil, err
	}
	return key, cert, nil
}

// CheckSigningPair reports whether key and cert form a usable WS-Security
// signing pair: RSA, at least 2048 bits, matching.
func CheckSigningPair(key crypto.Signer, cert *x509.Certificate) error {
	pub, ok := key.Public().(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("signing key is %T, want RSA", key.Public())
	}
	if pub.N.BitLen() < 2048 {
		return fmt.Errorf("signing key has %d bits, want at least 2048", pub.N.BitLen())
	}
	cp, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !cp.Equal(pub) {
		return errors.New("signing key does not match its certificate")
	}
	return nil
}
