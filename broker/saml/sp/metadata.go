package sp

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// Metadata is what the SP core reads from one entity of SAML metadata: an
// identity provider (eIDAS proxy-service, NEZO, BundID: IDPSSODescriptor)
// or a service provider (eIDAS connector: SPSSODescriptor).
type Metadata struct {
	EntityID string
	// ValidUntil is the earlier of the entity's and its enclosing
	// EntitiesDescriptor's validUntil; zero when neither has one.
	ValidUntil time.Time
	// IDP is true for an IDPSSODescriptor, false for an SPSSODescriptor.
	IDP bool
	// SigningCerts and EncryptionCerts come from KeyDescriptors; one without
	// use="…" counts as both.
	SigningCerts    []*x509.Certificate
	EncryptionCerts []*x509.Certificate
	// SSO (IdP) or ACS (SP) endpoints in document order.
	SSO []Endpoint
	ACS []Endpoint
	// WantAuthnRequestsSigned / AuthnRequestsSigned of the role descriptor.
	WantAuthnRequestsSigned bool
	AuthnRequestsSigned     bool
	NameIDFormats           []string
	// eIDAS extensions.
	NodeCountry      string
	SPType           string
	ProtocolVersions []string
	ApplicationID    []string
	// AssuranceCertifications are the LoA URIs the service supports.
	AssuranceCertifications []string
	// RequesterIDRequired is the entity-category flag that asks for
	// Scoping/RequesterID from private SPs.
	RequesterIDRequired bool
	SigningMethods      []string
	DigestMethods       []string
	// Attributes are the Name URIs a proxy-service says it supports.
	Attributes []string
	// RequestedAttributes are those of an SP's AttributeConsumingService
	// elements (what the SP asks an identity provider to release).
	RequestedAttributes []RequestedAttribute
	// CertificateErrors lists KeyDescriptor certificates that could not be
	// parsed (unsupported curves, explicit parameters, encoding errors).
	// Parsing goes on so that one bad entity does not hide an aggregate;
	// the trust policy refuses an entity that has any.
	CertificateErrors []error
}

// Endpoint is one SAML endpoint.
type Endpoint struct {
	Binding  string
	Location string
}

// ParseMetadata parses SAML metadata (an EntityDescriptor or an
// EntitiesDescriptor) into its entities. It checks structure only: it
// neither verifies the signature nor applies the key or time policy; the
// caller does that before it trusts metadata (LoadMetadata, Peer), and the
// admin tools use this to show what a file contains.
func ParseMetadata(data []byte) ([]*Metadata, error) {
	doc, err := xmlsec.Parse(data, xmlsec.Limits{})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	return ParseMetadataElement(doc.Root())
}

// ParseMetadataElement is ParseMetadata for an already parsed (and, for
// trusted use, verified) root element.
func ParseMetadataElement(root *etree.Element) ([]*Metadata, error) {
	var out []*Metadata
	switch {
	case samlxml.Is(root, samlxml.NSMetadata, "EntityDescriptor"):
		m, err := parseEntity(root, time.Time{})
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	case samlxml.Is(root, samlxml.NSMetadata, "EntitiesDescriptor"):
		until, err := validUntil(root, time.Time{})
		if err != nil {
			return nil, err
		}
		if err := walkEntities(root, until, &out); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: root is %s, not EntityDescriptor or EntitiesDescriptor", ErrMetadata, root.Tag)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no entity", ErrMetadata)
	}
	return out, nil
}

func walkEntities(e *etree.Element, until time.Time, out *[]*Metadata) error {
	for _, c := range e.ChildElements() {
		switch {
		case samlxml.Is(c, samlxml.NSMetadata, "EntityDescriptor"):
			m, err := parseEntity(c, until)
			if err != nil {
				return err
			}
			*out = append(*out, m)
		case samlxml.Is(c, samlxml.NSMetadata, "EntitiesDescriptor"):
			u, err := validUntil(c, until)
			if err != nil {
				return err
			}
			if err := walkEntities(c, u, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// validUntil returns the earlier of e's validUntil and outer.
func validUntil(e *etree.Element, outer time.Time) (time.Time, error) {
	v, ok := samlxml.Attr(e, "validUntil")
	if !ok {
		return outer, nil
	}
	t, err := parseTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: validUntil: %w", ErrMetadata, err)
	}
	if outer.IsZero() || t.Before(outer) {
		return t, nil
	}
	return outer, nil
}

func parseEntity(ed *etree.Element, outer time.Time) (*Metadata, error) {
	m := &Metadata{EntityID: strings.TrimSpace(samlxml.AttrValue(ed, "entityID"))}
	if m.EntityID == "" {
		return nil, fmt.Errorf("%w: entityID missing", ErrMetadata)
	}
	var err error
	if m.ValidUntil, err = validUntil(ed, outer); err != nil {
		return nil, err
	}
	if ext, ok, err := Child(ed, samlxml.NSMetadata, "Extensions"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	} else if ok {
		m.readExtensions(ext)
	}
	idps := samlxml.Children(ed, samlxml.NSMetadata, "IDPSSODescriptor")
	sps := samlxml.Children(ed, samlxml.NSMetadata, "SPSSODescriptor")
	var role *etree.Element
	switch {
	case len(idps) == 1 && len(sps) == 0:
		role, m.IDP = idps[0], true
	case len(sps) == 1 && len(idps) == 0:
		role = sps[0]
	default:
		return nil, fmt.Errorf("%w: entity %q needs exactly one IDPSSODescriptor or SPSSODescriptor", ErrMetadata, samlxml.Truncate(m.EntityID, 80))
	}
	if !slices.Contains(strings.Fields(samlxml.AttrValue(role, "protocolSupportEnumeration")), samlxml.ProtocolSAML2) {
		return nil, fmt.Errorf("%w: role descriptor does not support SAML 2.0", ErrMetadata)
	}
	if ru, ok := samlxml.Attr(role, "validUntil"); ok {
		t, err := parseTime(ru)
		if err != nil {
			return nil, fmt.Errorf("%w: validUntil: %w", ErrMetadata, err)
		}
		if m.ValidUntil.IsZero() || t.Before(m.ValidUntil) {
			m.ValidUntil = t
		}
	}
	m.WantAuthnRequestsSigned = samlxml.AttrValue(role, "WantAuthnRequestsSigned") == "true"
	m.AuthnRequestsSigned = samlxml.AttrValue(role, "AuthnRequestsSigned") == "true"
	if ext, ok, err := Child(role, samlxml.NSMetadata, "Extensions"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	} else if ok {
		m.readExtensions(ext)
	}
	for _, kd := range samlxml.Children(role, samlxml.NSMetadata, "KeyDescriptor") {
		certs, errs, err := keyDescriptorCerts(kd)
		if err != nil {
			return nil, err
		}
		m.CertificateErrors = append(m.CertificateErrors, errs...)
		switch samlxml.AttrValue(kd, "use") {
		case "signing":
			m.SigningCerts = append(m.SigningCerts, certs...)
		case "encryption":
			m.EncryptionCerts = append(m.EncryptionCerts, certs...)
		case "":
			m.SigningCerts = append(m.SigningCerts, certs...)
			m.EncryptionCerts = append(m.EncryptionCerts, certs...)
		default:
			return nil, fmt.Errorf("%w: KeyDescriptor use %q", ErrMetadata, samlxml.Truncate(samlxml.AttrValue(kd, "use"), 20))
		}
	}
	for _, f := range samlxml.Children(role, samlxml.NSMetadata, "NameIDFormat") {
		m.NameIDFormats = append(m.NameIDFormats, samlxml.Text(f))
	}
	for _, s := range samlxml.Children(role, samlxml.NSMetadata, "SingleSignOnService") {
		m.SSO = append(m.SSO, Endpoint{Binding: samlxml.AttrValue(s, "Binding"), Location: strings.TrimSpace(samlxml.AttrValue(s, "Location"))})
	}
	for _, s := range samlxml.Children(role, samlxml.NSMetadata, "AssertionConsumerService") {
		m.ACS = append(m.ACS, Endpoint{Binding: samlxml.AttrValue(s, "Binding"), Location: strings.TrimSpace(samlxml.AttrValue(s, "Location"))})
	}
	for _, acs := range samlxml.Children(role, samlxml.NSMetadata, "AttributeConsumingService") {
		for _, ra := range samlxml.Children(acs, samlxml.NSMetadata, "RequestedAttribute") {
			m.RequestedAttributes = append(m.RequestedAttributes, RequestedAttribute{
				Name: samlxml.AttrValue(ra, "Name"), NameFormat: samlxml.AttrValue(ra, "NameFormat"),
				FriendlyName: samlxml.AttrValue(ra, "FriendlyName"), Required: samlxml.AttrValue(ra, "isRequired") == "true",
			})
		}
	}
	for _, a := range samlxml.Children(role, samlxml.NSAssertion, "Attribute") {
		if n := samlxml.AttrValue(a, "Name"); n != "" {
			m.Attributes = append(m.Attributes, n)
		}
	}
	return m, nil
}

// readExtensions collects the eIDAS metadata extensions (other peers have
// none, and the fields stay empty), wherever the
// producer put them (EntityDescriptor or role descriptor Extensions).
func (m *Metadata) readExtensions(ext *etree.Element) {
	for _, c := range ext.ChildElements() {
		switch {
		case samlxml.Is(c, samlxml.NSEIDAS, "NodeCountry"):
			m.NodeCountry = samlxml.Text(c)
		case samlxml.Is(c, samlxml.NSEIDAS, "SPType"):
			m.SPType = samlxml.Text(c)
		case samlxml.Is(c, samlxml.NSAlgSupport, "SigningMethod"):
			m.SigningMethods = append(m.SigningMethods, samlxml.AttrValue(c, "Algorithm"))
		case samlxml.Is(c, samlxml.NSAlgSupport, "DigestMethod"):
			m.DigestMethods = append(m.DigestMethods, samlxml.AttrValue(c, "Algorithm"))
		case samlxml.Is(c, samlxml.NSMDAttr, "EntityAttributes"):
			for _, a := range samlxml.Children(c, samlxml.NSAssertion, "Attribute") {
				var values []string
				for _, v := range samlxml.Children(a, samlxml.NSAssertion, "AttributeValue") {
					values = append(values, samlxml.Text(v))
				}
				switch samlxml.AttrValue(a, "Name") {
				case samlxml.EntityAttrProtocolVersion:
					for _, v := range values {
						m.ProtocolVersions = append(m.ProtocolVersions, strings.Fields(v)...)
					}
				case samlxml.EntityAttrApplicationID:
					m.ApplicationID = append(m.ApplicationID, values...)
				case samlxml.EntityAttrAssuranceCert:
					m.AssuranceCertifications = append(m.AssuranceCertifications, values...)
				case samlxml.EntityAttrEntityCategory:
					if slices.Contains(values, samlxml.EntityCategoryRequesterID) {
						m.RequesterIDRequired = true
					}
				}
			}
		}
	}
}

func keyDescriptorCerts(kd *etree.Element) ([]*x509.Certificate, []error, error) {
	ki, err := MustChild(kd, samlxml.NSDSig, "KeyInfo")
	if err != nil {
		return nil, nil, fmt.Errorf("%w: KeyDescriptor: %w", ErrMetadata, err)
	}
	var out []*x509.Certificate
	var errs []error
	n := 0
	for _, xd := range samlxml.Children(ki, samlxml.NSDSig, "X509Data") {
		for _, xc := range samlxml.Children(xd, samlxml.NSDSig, "X509Certificate") {
			n++
			c, err := parseCertBase64(samlxml.Text(xc))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, c)
		}
	}
	if n == 0 {
		return nil, nil, fmt.Errorf("%w: KeyDescriptor without X509Certificate", ErrMetadata)
	}
	return out, errs, nil
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

// decodeBase64 is samlxml.DecodeBase64 with the package's error class.
func decodeBase64(s string) ([]byte, error) {
	b, err := samlxml.DecodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b, nil
}

// CheckEntityKeys applies the key policy (RSA ≥ 3072 bits, EC ≥ 256 bits
// on a named curve) to every certificate of an entity; an entity with a
// certificate that could not be parsed is refused.
func CheckEntityKeys(m *Metadata) error {
	if len(m.CertificateErrors) > 0 {
		return m.CertificateErrors[0]
	}
	for _, c := range m.SigningCerts {
		if err := xmlsec.CheckPublicKey(c.PublicKey); err != nil {
			return fmt.Errorf("%w: signing certificate: %w", ErrMetadata, err)
		}
	}
	for _, c := range m.EncryptionCerts {
		if err := xmlsec.CheckPublicKey(c.PublicKey); err != nil {
			return fmt.Errorf("%w: encryption certificate: %w", ErrMetadata, err)
		}
	}
	return nil
}

// PickSSO chooses the endpoint for AuthnRequests: the preferred binding
// when the identity provider offers it, else the other of HTTP-POST and
// HTTP-Redirect. Its Location must pass checkURL (https, or http on a
// loopback host for tests and the demo).
func PickSSO(m *Metadata, prefer string, checkURL func(string) error) (Endpoint, error) {
	order := []string{samlxml.BindingPOST, samlxml.BindingRedirect}
	if prefer == samlxml.BindingRedirect {
		order = []string{samlxml.BindingRedirect, samlxml.BindingPOST}
	}
	for _, want := range order {
		for _, e := range m.SSO {
			if e.Binding == want {
				if err := checkURL(e.Location); err != nil {
					return Endpoint{}, fmt.Errorf("%w: SingleSignOnService %v", ErrMetadata, err)
				}
				return e, nil
			}
		}
	}
	return Endpoint{}, fmt.Errorf("%w: no SingleSignOnService with HTTP-POST or HTTP-Redirect", ErrMetadata)
}
