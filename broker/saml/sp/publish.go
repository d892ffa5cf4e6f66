package sp

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// Organization is the optional md:Organization and contacts of our
// metadata.
type Organization struct {
	Name, DisplayName, URL       string
	SupportEmail, TechnicalEmail string
}

// SPMetadata describes our service-provider metadata.
type SPMetadata struct {
	EntityID string
	ACSURL   string
	Signer   Signer
	// EncryptionCert is published with use="encryption".
	EncryptionCert *x509.Certificate
	// NameIDFormats in order of preference.
	NameIDFormats []string
	// WantAssertionsSigned is published as is (eIDAS and NEZO: false, the
	// Response is signed and the assertion encrypted).
	WantAssertionsSigned bool
	// ID and ValidUntil: some federations want neither (BundID); zero
	// values leave them out.
	ID         string
	ValidUntil time.Time
	// Unsigned leaves the metadata unsigned (peers that refuse signed SP
	// metadata); by default it is signed with Signer.
	Unsigned     bool
	Organization Organization
	// RequestedAttributes, when set, are published as the default
	// md:AttributeConsumingService (index 0) named ServiceName: the SAML
	// metadata way to tell an identity provider what we need.
	RequestedAttributes []RequestedAttribute
	ServiceName         string
	// EntityExtensions and RoleExtensions, when set, fill the
	// md:Extensions of the EntityDescriptor and of the SPSSODescriptor
	// (eIDAS entity attributes, NodeCountry, SPType).
	EntityExtensions func(ext *etree.Element)
	RoleExtensions   func(ext *etree.Element)
}

// RequestedAttribute is one md:RequestedAttribute of our metadata.
type RequestedAttribute struct {
	Name, NameFormat, FriendlyName string
	Required                       bool
}

// EncryptionMethods are the methods we can decrypt with a key of the
// certificate's type, published in the encryption KeyDescriptor.
func EncryptionMethods(cert *x509.Certificate) []string {
	switch cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return []string{xmlsec.EncAES256GCM, xmlsec.EncAES128GCM, xmlsec.EncAES192GCM, xmlsec.KeyTransportRSAOAEP}
	case *ecdsa.PublicKey:
		return []string{xmlsec.EncAES256GCM, xmlsec.EncAES128GCM, xmlsec.EncAES192GCM, xmlsec.KeyAgreementECDHES, xmlsec.KeyWrapAES256, xmlsec.KeyWrapAES128}
	}
	return nil
}

// Build returns our (signed) SP metadata document.
func (m SPMetadata) Build() ([]byte, error) {
	ed := etree.NewElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", samlxml.NSMetadata)
	ed.CreateAttr("xmlns:ds", samlxml.NSDSig)
	ed.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	if m.EntityExtensions != nil || m.RoleExtensions != nil {
		ed.CreateAttr("xmlns:eidas", samlxml.NSEIDAS)
	}
	if m.ID != "" {
		ed.CreateAttr("ID", m.ID)
	}
	ed.CreateAttr("entityID", m.EntityID)
	if !m.ValidUntil.IsZero() {
		ed.CreateAttr("validUntil", samlxml.FormatTime(m.ValidUntil))
	}
	if m.EntityExtensions != nil {
		m.EntityExtensions(ed.CreateElement("md:Extensions"))
	}
	sp := ed.CreateElement("md:SPSSODescriptor")
	sp.CreateAttr("AuthnRequestsSigned", "true")
	sp.CreateAttr("WantAssertionsSigned", fmt.Sprint(m.WantAssertionsSigned))
	sp.CreateAttr("protocolSupportEnumeration", samlxml.ProtocolSAML2)
	if m.RoleExtensions != nil {
		m.RoleExtensions(sp.CreateElement("md:Extensions"))
	}
	samlxml.AddKeyDescriptor(sp, "signing", m.Signer.Cert)
	samlxml.AddKeyDescriptor(sp, "encryption", m.EncryptionCert, EncryptionMethods(m.EncryptionCert)...)
	for _, f := range m.NameIDFormats {
		sp.CreateElement("md:NameIDFormat").SetText(f)
	}
	acs := sp.CreateElement("md:AssertionConsumerService")
	acs.CreateAttr("Binding", samlxml.BindingPOST)
	acs.CreateAttr("Location", m.ACSURL)
	acs.CreateAttr("index", "0")
	acs.CreateAttr("isDefault", "true")
	if len(m.RequestedAttributes) > 0 {
		acs := sp.CreateElement("md:AttributeConsumingService")
		acs.CreateAttr("index", "0")
		acs.CreateAttr("isDefault", "true")
		sn := acs.CreateElement("md:ServiceName")
		sn.CreateAttr("xml:lang", "de")
		sn.SetText(orDefault(m.ServiceName, m.EntityID))
		for _, ra := range m.RequestedAttributes {
			e := acs.CreateElement("md:RequestedAttribute")
			e.CreateAttr("Name", ra.Name)
			if ra.NameFormat != "" {
				e.CreateAttr("NameFormat", ra.NameFormat)
			}
			if ra.FriendlyName != "" {
				e.CreateAttr("FriendlyName", ra.FriendlyName)
			}
			e.CreateAttr("isRequired", fmt.Sprint(ra.Required))
		}
	}

	if o := m.Organization; o.Name != "" {
		org := ed.CreateElement("md:Organization")
		for _, kv := range [][2]string{{"md:OrganizationName", o.Name}, {"md:OrganizationDisplayName", orDefault(o.DisplayName, o.Name)}, {"md:OrganizationURL", o.URL}} {
			if kv[1] == "" {
				continue
			}
			e := org.CreateElement(kv[0])
			e.CreateAttr("xml:lang", "en")
			e.SetText(kv[1])
		}
	}
	for _, c := range [][2]string{{"support", m.Organization.SupportEmail}, {"technical", m.Organization.TechnicalEmail}} {
		if c[1] == "" {
			continue
		}
		cp := ed.CreateElement("md:ContactPerson")
		cp.CreateAttr("contactType", c[0])
		cp.CreateElement("md:EmailAddress").SetText("mailto:" + strings.TrimPrefix(c[1], "mailto:"))
	}
	if !m.Unsigned {
		if m.ID == "" {
			return nil, fmt.Errorf("signed metadata needs an ID")
		}
		if err := xmlsec.Sign(ed, m.Signer.Key, []*x509.Certificate{m.Signer.Cert}, m.Signer.Alg); err != nil {
			return nil, fmt.Errorf("sign metadata: %w", err)
		}
	}
	return Serialize(ed)
}

func orDefault(v, d string) string {
	if v != "" {
		return v
	}
	return d
}
