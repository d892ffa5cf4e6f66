package config

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// EIDASAttributeNames are the FriendlyNames allowed in
// eidas_service.connectors[].allowed_attributes: the natural-person
// attributes the eIDAS-Service offers (its tests keep this list in step).
var EIDASAttributeNames = []string{
	"PersonIdentifier", "FamilyName", "FirstName", "DateOfBirth",
	"BirthName", "PlaceOfBirth", "CurrentAddress", "Nationality",
}

// eIDAS key policy (Cryptographic Requirements v1.4 §3.4).
const (
	minEIDASRSABits = 3072
	minEIDASECBits  = 256
)

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// validateEIDASService checks the eidas_service block, reading its key,
// certificate and metadata files so check-config finds broken material.
func (d *decoder) validateEIDASService(c *Config) {
	s := c.EIDASService
	if s == nil {
		return
	}
	const p = "eidas_service"
	switch {
	case s.Adapter == "":
		d.invalid(p+".adapter", "required: the ID of an adapter of type eid")
	default:
		found := false
		for _, a := range c.Adapters {
			if a.ID == s.Adapter {
				found = true
				if a.Type != "eid" {
					d.invalid(p+".adapter", "adapter %q has type %q, want an adapter of type eid", s.Adapter, a.Type)
				}
			}
		}
		if !found {
			d.invalid(p+".adapter", "no adapter with ID %q", s.Adapter)
		}
	}
	var signPub crypto.PublicKey
	switch {
	case s.SigningKey == "":
		d.invalid(p+".signing_key", "required")
	default:
		if k, err := s.LoadSigningKey(); err != nil {
			d.invalidErr(p+".signing_key", err, "%v", err)
		} else {
			signPub = k.Public()
			if err := eidasKeyPolicy(signPub); err != nil {
				d.invalid(p+".signing_key", "%v", err)
			}
		}
	}
	if s.SigningCert == "" {
		d.invalid(p+".signing_cert", "required")
	} else if cs, err := loadCertificates(string(s.SigningCert)); err != nil {
		d.invalidErr(p+".signing_cert", err, "%v", err)
	} else if eq, ok := signPub.(interface{ Equal(crypto.PublicKey) bool }); ok && !eq.Equal(cs[0].PublicKey) {
		d.invalid(p+".signing_cert", "does not hold the public key of signing_key")
	}
	if s.EncryptionCert != "" {
		if cs, err := loadCertificates(string(s.EncryptionCert)); err != nil {
			d.invalidErr(p+".encryption_cert", err, "%v", err)
		} else if err := eidasKeyPolicy(cs[0].PublicKey); err != nil {
			d.invalid(p+".encryption_cert", "%v", err)
		}
	}
	switch s.SignatureAlgorithm {
	case "", "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1", "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1",
		"http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
		"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512":
	default:
		d.invalid(p+".signature_algorithm", "want an RSASSA-PSS (…xmldsig-more#sha256-rsa-MGF1) or ECDSA (…xmldsig-more#ecdsa-sha256) method URI")
	}
	if !s.PseudonymSecret.IsSet() {
		d.invalid(p+".pseudonym_secret", "required")
	} else if len(s.PseudonymSecret.Value()) < 32 {
		d.invalid(p+".pseudonym_secret", "too short: want at least 32 bytes")
	}
	if s.NodeCountry != "" && !countryCode.MatchString(s.NodeCountry) {
		d.invalid(p+".node_country", "want two upper-case letters (ISO 3166-1 alpha-2)")
	}
	for _, x := range []struct {
		key string
		v   Duration
	}{{"metadata_validity", s.MetadataValidity}, {"metadata_refresh", s.MetadataRefresh}, {"clock_skew", s.ClockSkew},
		{"request_max_age", s.RequestMaxAge}, {"response_validity", s.ResponseValidity}, {"transaction_ttl", s.TransactionTTL}} {
		if d.has(p+"."+x.key) && x.v <= 0 {
			d.invalid(p+"."+x.key, "must be positive")
		}
	}
	if o := s.Organization; o != nil && o.URL != "" {
		if u, err := url.Parse(o.URL); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			d.invalid(p+".organization.url", "must be an absolute URL")
		}
	}
	if len(s.Connectors) == 0 {
		d.invalid(p+".connectors", "required: at least one connector")
	}
	seen := map[string]string{}
	for i := range s.Connectors {
		d.validateEIDASConnector(joinIndex(p+".connectors", i), &s.Connectors[i], seen)
	}
}

func (d *decoder) validateEIDASConnector(p string, c *EIDASConnector, seen map[string]string) {
	switch {
	case c.MetadataFile == "" && c.MetadataURL == "":
		d.invalid(p, "set metadata_file or metadata_url")
	case c.MetadataFile != "" && c.MetadataURL != "":
		d.invalid(p+".metadata_url", "set either metadata_file or metadata_url, not both")
	case c.MetadataURL != "":
		d.checkURL(p+".metadata_url", c.MetadataURL, true)
	default:
		if _, err := readLimited(string(c.MetadataFile), maxSecretFile); err != nil {
			d.invalidErr(p+".metadata_file", err, "read metadata: %v", osCause(err))
		}
	}
	if c.EntityID != "" {
		if msg := urlProblem(c.EntityID, true); msg != "" {
			d.invalid(p+".entity_id", "%s", msg)
		}
	}
	if id := orString(c.EntityID, c.MetadataURL); id != "" {
		if first, dup := seen[id]; dup {
			d.invalid(p+".entity_id", "duplicate connector entity ID (first at line %d)", d.lineOf(first))
		} else {
			seen[id] = p
		}
	}
	if c.TrustAnchor == "" {
		d.invalid(p+".trust_anchor", "required")
	} else if _, err := c.LoadTrustAnchors(); err != nil {
		d.invalidErr(p+".trust_anchor", err, "%v", err)
	}
	switch {
	case c.Country == "":
		d.invalid(p+".country", "required")
	case !countryCode.MatchString(c.Country):
		d.invalid(p+".country", "want two upper-case letters (ISO 3166-1 alpha-2; EL or GR for Greece)")
	}
	switch c.SPType {
	case "", "public", "private":
	default:
		d.invalid(p+".sp_type", "want public or private")
	}
	names := map[string]bool{}
	for _, n := range EIDASAttributeNames {
		names[n] = true
	}
	for j, a := range c.AllowedAttributes {
		if !names[a] {
			d.invalid(joinIndex(p+".allowed_attributes", j), "unknown attribute %q (want one of: %s)", a, strings.Join(EIDASAttributeNames, ", "))
		}
	}
}

func orString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// LoadSigningKey reads the signing key (PEM: PKCS#8, PKCS#1 or SEC 1).
func (s *EIDASService) LoadSigningKey() (crypto.Signer, error) {
	b, err := readLimited(string(s.SigningKey), maxSecretFile)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", osCause(err))
	}
	return parsePrivateKey(b)
}

// LoadSigningCert reads the signing certificate (the first in the file).
func (s *EIDASService) LoadSigningCert() (*x509.Certificate, error) {
	cs, err := loadCertificates(string(s.SigningCert))
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// LoadEncryptionCert reads the optional encryption certificate (nil when
// not configured).
func (s *EIDASService) LoadEncryptionCert() (*x509.Certificate, error) {
	if s.EncryptionCert == "" {
		return nil, nil
	}
	cs, err := loadCertificates(string(s.EncryptionCert))
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// LoadTrustAnchors reads the connector's trust anchor certificates.
func (c *EIDASConnector) LoadTrustAnchors() ([]*x509.Certificate, error) {
	return loadCertificates(string(c.TrustAnchor))
}

// LoadMetadata reads metadata_file (nil when the connector uses a URL).
func (c *EIDASConnector) LoadMetadata() ([]byte, error) {
	if c.MetadataFile == "" {
		return nil, nil
	}
	b, err := readLimited(string(c.MetadataFile), maxSecretFile)
	if err != nil {
		return nil, fmt.Errorf("read metadata: %w", osCause(err))
	}
	return b, nil
}

// loadCertificates reads every CERTIFICATE block of a PEM file.
func loadCertificates(path string) ([]*x509.Certificate, error) {
	b, err := readLimited(path, maxSecretFile)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", osCause(err))
	}
	return ParseCertificatesPEM(b)
}

// parsePrivateKey decodes the first private key in PEM data. Errors never
// quote the data.
func parsePrivateKey(data []byte) (crypto.Signer, error) {
	return ParsePrivateKeyPEM(data)
}

// eidasKeyPolicy: RSA ≥ 3072 bits or EC on P-256/384/521.
func eidasKeyPolicy(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minEIDASRSABits {
			return fmt.Errorf("RSA key has %d bits, eIDAS needs at least %d", k.N.BitLen(), minEIDASRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("EC curve %s not allowed (want P-256, P-384 or P-521, at least %d bits)", k.Curve.Params().Name, minEIDASECBits)
	}
	return fmt.Errorf("key type %T not allowed (want RSA or EC)", pub)
}
