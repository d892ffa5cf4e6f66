package eidsim

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters/eid"
)

// PKI is the key material of a simulated eID deployment: a TLS CA that
// issues the eID-Server's TLS certificate and the eService's client
// certificate, and one WS-Security signing pair for each side.
type PKI struct {
	CA    *x509.Certificate
	CAKey crypto.Signer
	// ServerTLS is the eID-Server's TLS certificate (127.0.0.1, ::1, localhost).
	ServerTLS tls.Certificate
	// ClientTLS is the eService's (broker's) mutual-TLS client certificate.
	ClientTLS tls.Certificate
	// ServiceSigning signs the eService's requests (initiator token).
	ServiceSigning KeyPair
	// ServerSigning signs the eID-Server's responses (recipient token).
	ServerSigning KeyPair
}

// KeyPair is an RSA signing key with its self-signed certificate.
type KeyPair struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

// PKIOptions sets validity and key size. Zero values: valid from one hour
// ago for one year, RSA-3072.
type PKIOptions struct {
	NotBefore, NotAfter time.Time
	RSABits             int
	// Name prefixes the subjects (default "eID simulator").
	Name string
}

func serial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate serial: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

// NewPKI generates fresh key material.
func NewPKI(opts PKIOptions) (*PKI, error) {
	if opts.NotBefore.IsZero() {
		opts.NotBefore = time.Now().Add(-time.Hour)
	}
	if opts.NotAfter.IsZero() {
		opts.NotAfter = opts.NotBefore.Add(366 * 24 * time.Hour)
	}
	if opts.RSABits == 0 {
		opts.RSABits = 3072
	}
	if opts.Name == "" {
		opts.Name = "eID simulator"
	}
	p := &PKI{}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: opts.Name + " TLS CA", Organization: []string{"eID simulator (test only)"}},
		NotBefore:             opts.NotBefore,
		NotAfter:              opts.NotAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	if p.CA, err = x509.ParseCertificate(der); err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	p.CAKey = caKey
	if p.ServerTLS, err = p.issueTLS(opts, opts.Name+" eID-Server", false); err != nil {
		return nil, err
	}
	if p.ClientTLS, err = p.issueTLS(opts, opts.Name+" eService", true); err != nil {
		return nil, err
	}
	if p.ServiceSigning, err = newSigningPair(opts, opts.Name+" eService signature"); err != nil {
		return nil, err
	}
	if p.ServerSigning, err = newSigningPair(opts, opts.Name+" eID-Server signature"); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *PKI) issueTLS(opts PKIOptions, cn string, client bool) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate TLS key: %w", err)
	}
	sn, err := serial()
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"eID simulator (test only)"}},
		NotBefore:    opts.NotBefore,
		NotAfter:     opts.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.CA, key.Public(), p.CAKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse TLS certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

func newSigningPair(opts PKIOptions, cn string) (KeyPair, error) {
	key, err := rsa.GenerateKey(rand.Reader, opts.RSABits)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate signing key: %w", err)
	}
	sn, err := serial()
	if err != nil {
		return KeyPair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"eID simulator (test only)"}},
		NotBefore:    opts.NotBefore,
		NotAfter:     opts.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return KeyPair{}, fmt.Errorf("create signing certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return KeyPair{}, fmt.Errorf("parse signing certificate: %w", err)
	}
	return KeyPair{Key: key, Cert: cert}, nil
}

// CAPool returns a pool holding the TLS CA.
func (p *PKI) CAPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.CA)
	return pool
}

// File names used by WritePEM and LoadPKI.
const (
	FileCACert          = "tls-ca.cert.pem"
	FileCAKey           = "tls-ca.key.pem"
	FileServerTLSCert   = "server-tls.cert.pem"
	FileServerTLSKey    = "server-tls.key.pem"
	FileClientTLSCert   = "client-tls.cert.pem"
	FileClientTLSKey    = "client-tls.key.pem"
	FileServiceSignCert = "service-sign.cert.pem"
	FileServiceSignKey  = "service-sign.key.pem"
	FileServerSignCert  = "server-sign.cert.pem"
	FileServerSignKey   = "server-sign.key.pem"
)

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func pemKey(k crypto.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// WritePEM writes the material to dir (certificates as X.509 PEM, keys as
// unencrypted PKCS#8, mode 0600): for test fixtures only.
func (p *PKI) WritePEM(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write pki: %w", err)
	}
	files := []struct {
		name string
		cert []byte
		key  crypto.PrivateKey
	}{
		{FileCACert, p.CA.Raw, nil},
		{FileCAKey, nil, p.CAKey},
		{FileServerTLSCert, p.ServerTLS.Certificate[0], nil},
		{FileServerTLSKey, nil, p.ServerTLS.PrivateKey},
		{FileClientTLSCert, p.ClientTLS.Certificate[0], nil},
		{FileClientTLSKey, nil, p.ClientTLS.PrivateKey},
		{FileServiceSignCert, p.ServiceSigning.Cert.Raw, nil},
		{FileServiceSignKey, nil, p.ServiceSigning.Key},
		{FileServerSignCert, p.ServerSigning.Cert.Raw, nil},
		{FileServerSignKey, nil, p.ServerSigning.Key},
	}
	for _, f := range files {
		var b []byte
		mode := os.FileMode(0o644)
		if f.cert != nil {
			b = pemCert(f.cert)
		} else {
			var err error
			if b, err = pemKey(f.key); err != nil {
				return fmt.Errorf("write pki: %s: %w", f.name, err)
			}
			mode = 0o600
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), b, mode); err != nil {
			return fmt.Errorf("write pki: %w", err)
		}
	}
	return nil
}

// LoadPKI reads what WritePEM wrote.
func LoadPKI(dir string) (*PKI, error) {
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("load pki: %w", err)
		}
		return b, nil
	}
	cert := func(name string) (*x509.Certificate, error) {
		b, err := read(name)
		if err != nil {
			return nil, err
		}
		cs, err := eid.ParseCertificates(b)
		if err != nil {
			return nil, fmt.Errorf("load pki: %s: %w", name, err)
		}
		return cs[0], nil
	}
	key := func(name string) (crypto.Signer, error) {
		b, err := read(name)
		if err != nil {
			return nil, err
		}
		k, err := eid.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("load pki: %s: %w", name, err)
		}
		return k, nil
	}
	pair := func(c, k string) (tls.Certificate, error) {
		cb, err := read(c)
		if err != nil {
			return tls.Certificate{}, err
		}
		kb, err := read(k)
		if err != nil {
			return tls.Certificate{}, err
		}
		t, err := tls.X509KeyPair(cb, kb)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("load pki: %s: %w", c, err)
		}
		return t, nil
	}
	signing := func(c, k string) (KeyPair, error) {
		cc, err := cert(c)
		if err != nil {
			return KeyPair{}, err
		}
		kk, err := key(k)
		if err != nil {
			return KeyPair{}, err
		}
		rk, ok := kk.(*rsa.PrivateKey)
		if !ok {
			return KeyPair{}, errors.New("load pki: signing key is not RSA")
		}
		return KeyPair{Key: rk, Cert: cc}, nil
	}
	p := &PKI{}
	var err error
	if p.CA, err = cert(FileCACert); err != nil {
		return nil, err
	}
	if p.CAKey, err = key(FileCAKey); err != nil {
		return nil, err
	}
	if p.ServerTLS, err = pair(FileServerTLSCert, FileServerTLSKey); err != nil {
		return nil, err
	}
	if p.ClientTLS, err = pair(FileClientTLSCert, FileClientTLSKey); err != nil {
		return nil, err
	}
	if p.ServiceSigning, err = signing(FileServiceSignCert, FileServiceSignKey); err != nil {
		return nil, err
	}
	if p.ServerSigning, err = signing(FileServerSignCert, FileServerSignKey); err != nil {
		return nil, err
	}
	return p, nil
}
