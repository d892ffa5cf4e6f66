package eidas

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
)

// Metadata is one entity of SAML metadata as the SP core reads it (see
// sp.Metadata); the eIDAS extensions are among its fields.
type Metadata = sp.Metadata

// Endpoint is one SAML endpoint.
type Endpoint = sp.Endpoint

// ParseMetadata parses SAML metadata (an EntityDescriptor or an
// EntitiesDescriptor) into its entities, checking structure only (see
// sp.ParseMetadata); the admin tools use it to show what a file contains.
func ParseMetadata(data []byte) ([]*Metadata, error) { return sp.ParseMetadata(data) }

func parseMetadataElement(root *etree.Element) ([]*Metadata, error) {
	return sp.ParseMetadataElement(root)
}

func parseCertBase64(s string) (*x509.Certificate, error) {
	der, err := decodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate: %w", ErrMetadata, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate: %w", ErrMetadata, err)
	}
	return c, nil
}

// decodeBase64 is samlxml.DecodeBase64 with the adapter's error class.
func decodeBase64(s string) ([]byte, error) {
	b, err := samlxml.DecodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b, nil
}

// checkProxyService applies the trust policy to a proxy-service entity:
// eIDAS key sizes for every certificate, a usable SSO endpoint, an HTTPS
// entity ID, a validUntil in the future, and a NodeCountry (if any) that
// names the configured country.
func checkProxyService(m *Metadata, country string, now time.Time) error {
	if !m.IDP {
		return fmt.Errorf("%w: entity is not a proxy-service (no IDPSSODescriptor)", ErrMetadata)
	}
	if err := checkURL(m.EntityID); err != nil {
		return fmt.Errorf("%w: entityID %q %v", ErrMetadata, samlxml.Truncate(m.EntityID, 80), err)
	}
	if m.ValidUntil.IsZero() {
		return fmt.Errorf("%w: no validUntil (eIDAS requires one)", ErrMetadata)
	}
	if !now.Before(m.ValidUntil) {
		return fmt.Errorf("%w: valid until %s", ErrMetadataExpired, m.ValidUntil.UTC().Format(time.RFC3339))
	}
	if err := checkEntityKeys(m); err != nil {
		return err
	}
	if len(m.SigningCerts) == 0 {
		return fmt.Errorf("%w: no signing certificate", ErrMetadata)
	}
	if _, err := pickSSO(m, samlxml.BindingPOST); err != nil {
		return err
	}
	if m.NodeCountry != "" && !sameCountry(m.NodeCountry, country) {
		return fmt.Errorf("%w: NodeCountry %q, configured for %s", ErrMetadata, samlxml.Truncate(m.NodeCountry, 8), country)
	}
	return nil
}

// checkEntityKeys applies the eIDAS key policy (RSA ≥ 3072 bits, EC ≥ 256
// bits on a named curve) to every certificate of an entity.
func checkEntityKeys(m *Metadata) error { return sp.CheckEntityKeys(m) }

// pickSSO chooses the endpoint for AuthnRequests: the preferred binding
// when the proxy-service offers it, else the other of HTTP-POST and
// HTTP-Redirect (eIDAS services must support both, but not every node
// publishes both).
func pickSSO(m *Metadata, prefer string) (Endpoint, error) { return sp.PickSSO(m, prefer, checkURL) }
