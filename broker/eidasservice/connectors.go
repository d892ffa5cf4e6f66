package eidasservice

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// spMetadata is what the service uses from a connector's verified metadata.
type spMetadata struct {
	EntityID   string
	ValidUntil time.Time
	// SigningCerts verify AuthnRequests; EncryptionKeys receive assertions.
	SigningCerts   []*x509.Certificate
	EncryptionKeys []encKey
	// ACS are the HTTP-POST assertion consumer services (Responses are
	// only ever sent with HTTP-POST, to a location listed here).
	ACS []endpoint
	// SPType and NodeCountry as stated in the metadata ("" if absent).
	SPType      string
	NodeCountry string
	// SigningMethods the connector lists (alg:SigningMethod); empty means
	// it does not say, and then any eIDAS method is acceptable.
	SigningMethods   []string
	ProtocolVersions []string
	NameIDFormats    []string
	// AuthnRequestsSigned as the metadata says it (eIDAS: "true").
	AuthnRequestsSigned bool
}

type encKey struct {
	Cert    *x509.Certificate
	Methods []string // md:EncryptionMethod algorithms, if listed
}

type endpoint struct {
	Location  string
	Index     int
	HasIndex  bool
	IsDefault bool
}

// defaultACS is the ACS a Response goes to when the request names none:
// the one marked isDefault, else the one with the lowest index, else the
// first (SAML metadata §2.2.3).
func (m *spMetadata) defaultACS() endpoint {
	best := m.ACS[0]
	for _, e := range m.ACS {
		if e.IsDefault {
			return e
		}
	}
	for _, e := range m.ACS {
		if e.HasIndex && (!best.HasIndex || e.Index < best.Index) {
			best = e
		}
	}
	return best
}

// verifyConnectorMetadata parses connector metadata, verifies its signature
// against the bilateral trust anchors and reads it. The signer is either an
// anchor itself or a certificate in the signature's KeyInfo that chains to
// an anchor.
func verifyConnectorMetadata(data []byte, anchors []*x509.Certificate, now time.Time) (*spMetadata, error) {
	limits := xmlsec.Limits{MaxBytes: maxMetadataBytes}
	doc, err := xmlsec.Parse(data, limits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	root := doc.Root()
	if !samlxml.Is(root, samlxml.NSMetadata, "EntityDescriptor") {
		return nil, fmt.Errorf("%w: root must be a single md:EntityDescriptor", ErrMetadata)
	}
	verified, _, err := xmlsec.Verify(root, xmlsec.VerifyOptions{
		Trusted:       signerCandidates(root, anchors, now),
		Now:           func() time.Time { return now },
		AllowEmptyURI: true,
		Limits:        limits,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrMetadata, err)
	}
	return readSPMetadata(verified, now)
}

// signerCandidates returns the anchors plus every KeyInfo certificate of
// root's signature that chains to one of them. KeyInfo is untrusted input;
// the chain check is what makes a certificate from it acceptable.
func signerCandidates(root *etree.Element, anchors []*x509.Certificate, now time.Time) []*x509.Certificate {
	out := append([]*x509.Certificate(nil), anchors...)
	sig := samlxml.First(root, samlxml.NSDSig, "Signature")
	var certs []*x509.Certificate
	for _, xd := range samlxml.Children(samlxml.First(sig, samlxml.NSDSig, "KeyInfo"), samlxml.NSDSig, "X509Data") {
		for _, xc := range samlxml.Children(xd, samlxml.NSDSig, "X509Certificate") {
			if c, err := parseCertBase64(samlxml.Text(xc)); err == nil {
				certs = append(certs, c)
			}
		}
	}
	if len(certs) == 0 {
		return out
	}
	roots := x509.NewCertPool()
	for _, a := range anchors {
		roots.AddCert(a)
	}
	inter := x509.NewCertPool()
	for _, c := range certs {
		inter.AddCert(c)
	}
	for _, c := range certs {
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// readSPMetadata reads a (verified) EntityDescriptor of a connector and
// applies the eIDAS key policy to every certificate in it.
func readSPMetadata(ed *etree.Element, now time.Time) (*spMetadata, error) {
	m := &spMetadata{EntityID: samlxml.AttrValue(ed, "entityID")}
	if m.EntityID == "" {
		return nil, fmt.Errorf("%w: entityID missing", ErrMetadata)
	}
	vu, ok := samlxml.Attr(ed, "validUntil")
	if !ok {
		return nil, fmt.Errorf("%w: validUntil missing (eIDAS requires it)", ErrMetadata)
	}
	t, err := samlxml.ParseTime(vu)
	if err != nil {
		return nil, fmt.Errorf("%w: validUntil: %w", ErrMetadata, err)
	}
	m.ValidUntil = t
	if !now.Before(t) {
		return nil, fmt.Errorf("%w: valid until %s", ErrMetadataExpired, samlxml.FormatTime(t))
	}
	m.readExtensions(samlxml.First(ed, samlxml.NSMetadata, "Extensions"))

	sps := samlxml.Children(ed, samlxml.NSMetadata, "SPSSODescriptor")
	if len(sps) != 1 {
		return nil, fmt.Errorf("%w: want exactly one SPSSODescriptor, found %d", ErrMetadata, len(sps))
	}
	sp := sps[0]
	if !strings.Contains(" "+samlxml.AttrValue(sp, "protocolSupportEnumeration")+" ", " "+samlxml.ProtocolSAML2+" ") {
		return nil, fmt.Errorf("%w: SPSSODescriptor does not support SAML 2.0", ErrMetadata)
	}
	m.AuthnRequestsSigned = samlxml.AttrValue(sp, "AuthnRequestsSigned") == "true"
	m.readExtensions(samlxml.First(sp, samlxml.NSMetadata, "Extensions"))

	for _, kd := range samlxml.Children(sp, samlxml.NSMetadata, "KeyDescriptor") {
		use := samlxml.AttrValue(kd, "use")
		var certs []*x509.Certificate
		for _, xd := range samlxml.Children(samlxml.First(kd, samlxml.NSDSig, "KeyInfo"), samlxml.NSDSig, "X509Data") {
			for _, xc := range samlxml.Children(xd, samlxml.NSDSig, "X509Certificate") {
				c, err := parseCertBase64(samlxml.Text(xc))
				if err != nil {
					return nil, fmt.Errorf("%w: KeyDescriptor certificate: %w", ErrMetadata, err)
				}
				if err := xmlsec.CheckPublicKey(c.PublicKey); err != nil {
					return nil, fmt.Errorf("%w: %s certificate: %w", ErrMetadata, orDefault(use, "KeyDescriptor"), err)
				}
				certs = append(certs, c)
			}
		}
		var methods []string
		for _, em := range samlxml.Children(kd, samlxml.NSMetadata, "EncryptionMethod") {
			if a := samlxml.AttrValue(em, "Algorithm"); a != "" {
				methods = append(methods, a)
			}
		}
		switch use {
		case "signing":
			m.SigningCerts = append(m.SigningCerts, certs...)
		case "encryption":
			for _, c := range certs {
				m.EncryptionKeys = append(m.EncryptionKeys, encKey{Cert: c, Methods: methods})
			}
		case "":
			m.SigningCerts = append(m.SigningCerts, certs...)
			for _, c := range certs {
				m.EncryptionKeys = append(m.EncryptionKeys, encKey{Cert: c, Methods: methods})
			}
		default:
			return nil, fmt.Errorf("%w: KeyDescriptor use %q", ErrMetadata, samlxml.Truncate(use, 20))
		}
	}
	if len(m.SigningCerts) == 0 {
		return nil, fmt.Errorf("%w: no signing certificate", ErrMetadata)
	}
	if len(m.EncryptionKeys) == 0 {
		return nil, fmt.Errorf("%w: no encryption certificate (assertions must be encrypted)", ErrMetadata)
	}
	for _, f := range samlxml.Children(sp, samlxml.NSMetadata, "NameIDFormat") {
		m.NameIDFormats = append(m.NameIDFormats, samlxml.Text(f))
	}
	for _, acs := range samlxml.Children(sp, samlxml.NSMetadata, "AssertionConsumerService") {
		if samlxml.AttrValue(acs, "Binding") != samlxml.BindingPOST {
			continue
		}
		loc := samlxml.AttrValue(acs, "Location")
		if u, err := url.Parse(loc); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
			return nil, fmt.Errorf("%w: AssertionConsumerService location is not an http(s) URL", ErrMetadata)
		}
		e := endpoint{Location: loc, IsDefault: samlxml.AttrValue(acs, "isDefault") == "true"}
		if v, ok := samlxml.Attr(acs, "index"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 65535 {
				return nil, fmt.Errorf("%w: AssertionConsumerService index malformed", ErrMetadata)
			}
			e.Index, e.HasIndex = n, true
		}
		m.ACS = append(m.ACS, e)
	}
	if len(m.ACS) == 0 {
		return nil, fmt.Errorf("%w: no HTTP-POST AssertionConsumerService", ErrMetadata)
	}
	switch m.SPType {
	case "", SPTypePublic, SPTypePrivate:
	default:
		return nil, fmt.Errorf("%w: SPType %q", ErrMetadata, samlxml.Truncate(m.SPType, 20))
	}
	if m.NodeCountry != "" && !countryPattern.MatchString(m.NodeCountry) {
		return nil, fmt.Errorf("%w: NodeCountry malformed", ErrMetadata)
	}
	return m, nil
}

// readExtensions collects the eIDAS and algorithm-support extensions, which
// implementations put on the EntityDescriptor or the SPSSODescriptor.
func (m *spMetadata) readExtensions(ext *etree.Element) {
	if ext == nil {
		return
	}
	for _, e := range ext.ChildElements() {
		switch {
		case samlxml.Is(e, samlxml.NSAlgSupport, "SigningMethod"):
			if a := samlxml.AttrValue(e, "Algorithm"); a != "" {
				m.SigningMethods = append(m.SigningMethods, a)
			}
		case samlxml.Is(e, samlxml.NSEIDAS, "SPType"):
			m.SPType = samlxml.Text(e)
		case samlxml.Is(e, samlxml.NSEIDAS, "NodeCountry"):
			m.NodeCountry = samlxml.Text(e)
		case samlxml.Is(e, samlxml.NSMDAttr, "EntityAttributes"):
			for _, a := range samlxml.Children(e, samlxml.NSAssertion, "Attribute") {
				if samlxml.AttrValue(a, "Name") != samlxml.EntityAttrProtocolVersion {
					continue
				}
				for _, v := range samlxml.Children(a, samlxml.NSAssertion, "AttributeValue") {
					m.ProtocolVersions = append(m.ProtocolVersions, strings.Fields(samlxml.Text(v))...)
				}
			}
		}
	}
}

func parseCertBase64(s string) (*x509.Certificate, error) {
	b, err := samlxml.DecodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("certificate base64: %w", err)
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return c, nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// connector is one configured connector with its current metadata.
type connector struct {
	cfg      Connector
	entityID string

	mu        sync.Mutex
	md        *spMetadata
	fetchedAt time.Time
	lastErr   error
}

// retryAfterFailure spaces out re-fetches of unreachable metadata.
const retryAfterFailure = time.Minute

// metadata returns the connector's current verified metadata, fetching or
// refreshing it when it comes from a URL. A failed refresh keeps metadata
// that is still valid (and logs); expired metadata is never used.
func (s *Service) metadata(ctx context.Context, c *connector) (*spMetadata, error) {
	now := s.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg.MetadataURL != "" && (c.md == nil || !now.Before(c.fetchedAt.Add(s.cfg.MetadataRefresh)) || !now.Before(c.md.ValidUntil)) {
		md, err := s.fetchMetadata(ctx, c, now)
		if err != nil {
			c.lastErr = err
			c.fetchedAt = now.Add(-s.cfg.MetadataRefresh + retryAfterFailure)
			s.log.WarnContext(ctx, "eidas service: connector metadata refresh failed", "connector", c.entityID, "err", err)
		} else {
			c.md, c.fetchedAt, c.lastErr = md, now, nil
		}
	}
	if c.md == nil {
		if c.lastErr != nil {
			return nil, c.lastErr
		}
		return nil, fmt.Errorf("%w: not loaded", ErrMetadataFetch)
	}
	if !now.Before(c.md.ValidUntil) {
		return nil, fmt.Errorf("%w: valid until %s", ErrMetadataExpired, samlxml.FormatTime(c.md.ValidUntil))
	}
	return c.md, nil
}

func (s *Service) fetchMetadata(ctx context.Context, c *connector, now time.Time) (*spMetadata, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.MetadataURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadataFetch, err)
	}
	// Some national nodes refuse requests without a User-Agent.
	req.Header.Set("User-Agent", "eidas-broker-service/1.0")
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml, text/xml")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadataFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP status %d", ErrMetadataFetch, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadataFetch, err)
	}
	if len(body) > maxMetadataBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMetadata, maxMetadataBytes)
	}
	md, err := verifyConnectorMetadata(body, c.cfg.TrustAnchors, now)
	if err != nil {
		return nil, err
	}
	if err := checkConnectorMetadata(c, md); err != nil {
		return nil, err
	}
	return md, nil
}

// checkConnectorMetadata ties verified metadata to the configuration: the
// expected entity ID, the configured country and SP type.
func checkConnectorMetadata(c *connector, md *spMetadata) error {
	if c.entityID != "" && md.EntityID != c.entityID {
		return fmt.Errorf("%w: entityID %q, configured %q", ErrMetadata, samlxml.Truncate(md.EntityID, 100), samlxml.Truncate(c.entityID, 100))
	}
	if md.NodeCountry != "" && !samlxml.SameCountry(md.NodeCountry, c.cfg.Country) {
		return fmt.Errorf("%w: NodeCountry %s, configured country %s", ErrMetadata, md.NodeCountry, c.cfg.Country)
	}
	if md.SPType != "" && c.cfg.SPType != "" && md.SPType != c.cfg.SPType {
		return fmt.Errorf("%w: metadata SPType %s contradicts the configured %s", ErrSPType, md.SPType, c.cfg.SPType)
	}
	return nil
}

// Refresh re-fetches the metadata of every connector configured with a
// URL. Call it at start and periodically if the first requests should not
// wait for a fetch; it returns the errors of connectors that have no usable
// metadata afterwards.
func (s *Service) Refresh(ctx context.Context) error {
	var errs []error
	for _, c := range s.connectors {
		if c.cfg.MetadataURL != "" {
			c.mu.Lock()
			c.fetchedAt = time.Time{}
			c.mu.Unlock()
		}
		if _, err := s.metadata(ctx, c); err != nil {
			errs = append(errs, fmt.Errorf("connector %s: %w", c.entityID, err))
		}
	}
	return errors.Join(errs...)
}

// CheckHealth reports connectors without usable metadata (for readiness).
func (s *Service) CheckHealth(ctx context.Context) error {
	var errs []error
	for _, c := range s.connectors {
		if _, err := s.metadata(ctx, c); err != nil {
			errs = append(errs, fmt.Errorf("connector %s: %w", c.entityID, err))
		}
	}
	return errors.Join(errs...)
}
