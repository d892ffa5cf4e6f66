package elstersim

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters/elster"
	"github.com/ozg-broker/eidas-broker/config"
)

// DefaultValidity is how long the CRLs and OCSP responses the simulator
// signs are valid (their nextUpdate).
const DefaultValidity = time.Hour

// Manifest is the index of a test PKI directory (manifest.json, written by
// testdata/elster/gen).
type Manifest struct {
	Comment string     `json:"comment"`
	CAs     []CAEntry  `json:"cas"`
	Files   []CertFile `json:"files"`
}

// CAEntry describes one CA (or the delegated OCSP responder) of the PKI.
type CAEntry struct {
	Name      string `json:"name"`
	Cert      string `json:"cert"`
	Key       string `json:"key,omitempty"`
	Issuer    string `json:"issuer,omitempty"`
	Trusted   bool   `json:"trusted"`
	Responder bool   `json:"responder,omitempty"`
}

// CertFile is one downloadable PKCS#12 file with its PIN and the outcome a
// login with it must have.
type CertFile struct {
	File          string `json:"file"`
	PIN           string `json:"pin"`
	Kind          string `json:"kind"`   // person | organisation
	Issuer        string `json:"issuer"` // CAEntry name
	Serial        string `json:"serial"` // hex
	Expect        string `json:"expect"` // ok | revoked | expired | untrusted | key_usage
	RevokedAt     string `json:"revoked_at,omitempty"`
	Format        string `json:"format"` // modern | legacy
	DescriptionDE string `json:"description_de"`
	DescriptionEN string `json:"description_en"`
}

// CA is a certificate authority of the simulated PKI. Only CAs whose key is
// in the directory can sign (CRLs, OCSP responses, new certificates).
type CA struct {
	Name string
	Cert *x509.Certificate
	// Key is nil for CAs whose key is not kept (the foreign CA).
	Key crypto.Signer
	// Responder, if set, signs this CA's OCSP responses (delegated).
	Responder *CA

	sim *Sim
}

// Sim is the simulated ELSTER test PKI: CAs, certificate files, revocation
// state, and the HTTP endpoints that publish it. Safe for concurrent use.
type Sim struct {
	dir      string
	manifest Manifest
	cas      map[string]*CA
	order    []string // CA names in manifest order
	now      func() time.Time
	validity time.Duration

	mu      sync.Mutex
	issued  map[string]map[string]bool      // CA name → serial hex → known
	revoked map[string]map[string]time.Time // CA name → serial hex → when
}

// Option configures Load.
type Option func(*Sim)

// WithClock sets the clock used for CRL and OCSP validity times.
func WithClock(now func() time.Time) Option { return func(s *Sim) { s.now = now } }

// WithValidity sets how long signed CRLs and OCSP responses are valid.
func WithValidity(d time.Duration) Option { return func(s *Sim) { s.validity = d } }

// LoadDir reads the test PKI from dir (testdata/elster in this repository).
func LoadDir(dir string, opts ...Option) (*Sim, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("load elster sim: %w", err)
	}
	s := &Sim{
		dir:      abs,
		cas:      map[string]*CA{},
		now:      time.Now,
		validity: DefaultValidity,
		issued:   map[string]map[string]bool{},
		revoked:  map[string]map[string]time.Time{},
	}
	for _, o := range opts {
		o(s)
	}
	raw, err := os.ReadFile(filepath.Join(abs, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("load elster sim: read manifest: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s.manifest); err != nil {
		return nil, fmt.Errorf("load elster sim: parse manifest: %w", err)
	}
	for _, e := range s.manifest.CAs {
		ca, err := s.loadCA(e)
		if err != nil {
			return nil, fmt.Errorf("load elster sim: ca %s: %w", e.Name, err)
		}
		s.cas[e.Name] = ca
		s.order = append(s.order, e.Name)
	}
	for _, e := range s.manifest.CAs {
		ca := s.cas[e.Name]
		if e.Issuer != "" {
			parent, ok := s.cas[e.Issuer]
			if !ok {
				return nil, fmt.Errorf("load elster sim: ca %s: unknown issuer %q", e.Name, e.Issuer)
			}
			if err := ca.Cert.CheckSignatureFrom(parent.Cert); err != nil {
				return nil, fmt.Errorf("load elster sim: ca %s: not signed by %s: %w", e.Name, e.Issuer, err)
			}
			s.markIssued(e.Issuer, ca.Cert.SerialNumber)
			if e.Responder {
				parent.Responder = ca
			}
		}
	}
	for _, f := range s.manifest.Files {
		if _, ok := s.cas[f.Issuer]; !ok {
			return nil, fmt.Errorf("load elster sim: file %s: unknown issuer %q", f.File, f.Issuer)
		}
		serial, ok := new(big.Int).SetString(f.Serial, 16)
		if !ok {
			return nil, fmt.Errorf("load elster sim: file %s: bad serial", f.File)
		}
		s.markIssued(f.Issuer, serial)
		if f.RevokedAt != "" {
			at, err := time.Parse(time.RFC3339, f.RevokedAt)
			if err != nil {
				return nil, fmt.Errorf("load elster sim: file %s: revoked_at: %w", f.File, err)
			}
			s.revoke(f.Issuer, serial, at)
		}
	}
	return s, nil
}

func (s *Sim) loadCA(e CAEntry) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(s.dir, filepath.Base(e.Cert)))
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("certificate file is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	ca := &CA{Name: e.Name, Cert: cert, sim: s}
	if e.Key == "" {
		return ca, nil
	}
	keyPEM, err := os.ReadFile(filepath.Join(s.dir, filepath.Base(e.Key)))
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil || kb.Type != "PRIVATE KEY" {
		return nil, errors.New("key file is not a PEM PKCS#8 key")
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("key cannot sign")
	}
	ca.Key = signer
	return ca, nil
}

// Dir is the absolute directory the PKI was loaded from.
func (s *Sim) Dir() string { return s.dir }

// Files lists the certificate files, in manifest order.
func (s *Sim) Files() []CertFile { return append([]CertFile(nil), s.manifest.Files...) }

// File returns the entry for a file name ("person.pfx").
func (s *Sim) File(name string) (CertFile, bool) {
	for _, f := range s.manifest.Files {
		if f.File == name {
			return f, true
		}
	}
	return CertFile{}, false
}

// PFX returns the bytes of a certificate file.
func (s *Sim) PFX(name string) ([]byte, error) {
	if _, ok := s.File(name); !ok {
		return nil, fmt.Errorf("read pfx: unknown file %q", name)
	}
	data, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		return nil, fmt.Errorf("read pfx: %w", err)
	}
	return data, nil
}

// CA returns a CA by manifest name ("root", "issuing", "foreign").
func (s *Sim) CA(name string) *CA { return s.cas[name] }

// TrustAnchorFiles are the absolute paths of the certificates an adapter
// for this PKI trusts (the root).
func (s *Sim) TrustAnchorFiles() []config.Path {
	var out []config.Path
	for _, e := range s.manifest.CAs {
		if e.Trusted {
			out = append(out, config.Path(filepath.Join(s.dir, filepath.Base(e.Cert))))
		}
	}
	return out
}

// CRLURLs are the CRL endpoints of the CAs that can sign, for a simulator
// mounted at base (e.g. "http://127.0.0.1:8080/sim/elster").
func (s *Sim) CRLURLs(base string) []string {
	var out []string
	for _, name := range s.order {
		e := s.entry(name)
		if ca := s.cas[name]; ca.Key != nil && ca.Cert.IsCA && !e.Responder {
			out = append(out, base+"/crl/"+name+".crl")
		}
	}
	return out
}

// OCSPURL is the responder endpoint for a simulator mounted at base.
func (s *Sim) OCSPURL(base string) string { return base + "/ocsp" }

// AdapterConfig returns an ELSTER adapter configuration that trusts this
// PKI and checks revocation against the simulator mounted at base (the
// certificates name an unresolvable host, so the endpoints are overrides).
func (s *Sim) AdapterConfig(base string) *elster.Config {
	c := elster.NewConfig()
	c.TrustAnchors = s.TrustAnchorFiles()
	c.Revocation.CRLURLs = s.CRLURLs(base)
	c.Revocation.OCSPURL = s.OCSPURL(base)
	return c
}

func (s *Sim) entry(name string) CAEntry {
	for _, e := range s.manifest.CAs {
		if e.Name == name {
			return e
		}
	}
	return CAEntry{}
}

func (s *Sim) markIssued(ca string, serial *big.Int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.issued[ca] == nil {
		s.issued[ca] = map[string]bool{}
	}
	s.issued[ca][serial.Text(16)] = true
}

func (s *Sim) revoke(ca string, serial *big.Int, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked[ca] == nil {
		s.revoked[ca] = map[string]time.Time{}
	}
	s.revoked[ca][serial.Text(16)] = at
}

// Revoke marks a certificate issued by ca as revoked from at on; the next
// CRL and OCSP answers say so.
func (ca *CA) Revoke(serial *big.Int, at time.Time) { ca.sim.revoke(ca.Name, serial, at) }

// Issue signs a certificate from tmpl for pub (tests use it for cases the
// fixture files do not cover). A missing serial number is filled in.
func (ca *CA) Issue(tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	if ca.Key == nil {
		return nil, fmt.Errorf("issue certificate: ca %s has no key", ca.Name)
	}
	t := *tmpl
	if t.SerialNumber == nil {
		n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		if err != nil {
			return nil, fmt.Errorf("issue certificate: serial: %w", err)
		}
		t.SerialNumber = n.Add(n, big.NewInt(1))
	}
	der, err := x509.CreateCertificate(rand.Reader, &t, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("issue certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("issue certificate: parse: %w", err)
	}
	ca.sim.markIssued(ca.Name, cert.SerialNumber)
	return cert, nil
}

// CRL returns a freshly signed DER CRL of ca listing its revoked
// certificates.
func (ca *CA) CRL() ([]byte, error) {
	if ca.Key == nil {
		return nil, fmt.Errorf("sign crl: ca %s has no key", ca.Name)
	}
	now := ca.sim.now().UTC().Truncate(time.Second)
	ca.sim.mu.Lock()
	var entries []x509.RevocationListEntry
	for hexSerial, at := range ca.sim.revoked[ca.Name] {
		n, _ := new(big.Int).SetString(hexSerial, 16)
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: at})
	}
	ca.sim.mu.Unlock()
	sort.Slice(entries, func(i, j int) bool { return entries[i].SerialNumber.Cmp(entries[j].SerialNumber) < 0 })
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(now.Unix()),
		ThisUpdate:                now,
		NextUpdate:                now.Add(ca.sim.validity),
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign crl: %w", err)
	}
	return der, nil
}

// spkiBits returns the subjectPublicKey BIT STRING content, which OCSP
// CertIDs hash.
func spkiBits(cert *x509.Certificate) ([]byte, error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, fmt.Errorf("parse public key info: %w", err)
	}
	return spki.PublicKey.RightAlign(), nil
}
