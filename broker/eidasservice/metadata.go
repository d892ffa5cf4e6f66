package eidasservice

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// Metadata returns the service's signed metadata. It is rebuilt (new ID,
// new validUntil) once half of its validity has passed, so a cached copy
// is always valid for at least half the configured validity.
func (s *Service) Metadata() ([]byte, error) {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	now := s.cfg.Now()
	if s.metaBytes != nil && !now.Before(s.metaBuilt) && now.Before(s.metaBuilt.Add(s.cfg.MetadataValidity/2)) {
		return s.metaBytes, nil
	}
	b, err := s.buildMetadata(now)
	if err != nil {
		return nil, err
	}
	s.metaBytes, s.metaBuilt = b, now
	return b, nil
}

// buildMetadata writes the IdP metadata an eIDAS-Service publishes (eIDAS
// SAML Message Format v1.4 §2.1.1, §3): validUntil, algorithm support,
// protocol version and application identifier, the level it certifies,
// NodeCountry, both bindings of the SSO service, every attribute it offers,
// signed with our key.
func (s *Service) buildMetadata(now time.Time) ([]byte, error) {
	ed := etree.NewElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", samlxml.NSMetadata)
	ed.CreateAttr("xmlns:ds", samlxml.NSDSig)
	ed.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	ed.CreateAttr("xmlns:eidas", samlxml.NSEIDAS)
	ed.CreateAttr("xmlns:alg", samlxml.NSAlgSupport)
	ed.CreateAttr("xmlns:mdattr", samlxml.NSMDAttr)
	ed.CreateAttr("ID", samlxml.NewID())
	ed.CreateAttr("entityID", s.cfg.entityID)
	ed.CreateAttr("validUntil", samlxml.FormatTime(now.Add(s.cfg.MetadataValidity)))

	ext := ed.CreateElement("md:Extensions")
	ea := ext.CreateElement("mdattr:EntityAttributes")
	samlxml.AddEntityAttribute(ea, samlxml.EntityAttrProtocolVersion, ProtocolVersion)
	samlxml.AddEntityAttribute(ea, samlxml.EntityAttrApplicationID, ApplicationIdentifier)
	samlxml.AddEntityAttribute(ea, samlxml.EntityAttrAssuranceCert, s.cfg.Adapter.Info().MaxLevel.URI())
	if !s.cfg.RequesterIDOptional {
		samlxml.AddEntityAttribute(ea, samlxml.EntityAttrEntityCategory, samlxml.EntityCategoryRequesterID)
	}
	for _, d := range []string{xmlsec.DigestSHA256, xmlsec.DigestSHA384, xmlsec.DigestSHA512} {
		ext.CreateElement("alg:DigestMethod").CreateAttr("Algorithm", d)
	}
	// The methods we accept on requests; our own signatures use one of them.
	for _, m := range ecdsaAlgs {
		sm := ext.CreateElement("alg:SigningMethod")
		sm.CreateAttr("Algorithm", m)
		sm.CreateAttr("MinKeySize", fmt.Sprint(xmlsec.MinECBits))
	}
	for _, m := range pssAlgs {
		sm := ext.CreateElement("alg:SigningMethod")
		sm.CreateAttr("Algorithm", m)
		sm.CreateAttr("MinKeySize", fmt.Sprint(xmlsec.MinRSABits))
	}

	idp := ed.CreateElement("md:IDPSSODescriptor")
	idp.CreateAttr("WantAuthnRequestsSigned", "true")
	idp.CreateAttr("protocolSupportEnumeration", samlxml.ProtocolSAML2)
	idp.CreateElement("md:Extensions").CreateElement("eidas:NodeCountry").SetText(s.cfg.NodeCountry)
	samlxml.AddKeyDescriptor(idp, "signing", s.cfg.SigningCert)
	if s.cfg.EncryptionCert != nil {
		samlxml.AddKeyDescriptor(idp, "encryption", s.cfg.EncryptionCert, xmlsec.EncAES256GCM, xmlsec.EncAES128GCM)
	}
	for _, f := range []string{samlxml.NameIDPersistent, samlxml.NameIDTransient, samlxml.NameIDUnspecified} {
		idp.CreateElement("md:NameIDFormat").SetText(f)
	}
	for _, b := range []string{samlxml.BindingPOST, samlxml.BindingRedirect} {
		sso := idp.CreateElement("md:SingleSignOnService")
		sso.CreateAttr("Binding", b)
		sso.CreateAttr("Location", s.cfg.ssoURL)
	}
	for _, d := range attrDefs {
		if !d.Published {
			continue
		}
		at := idp.CreateElement("saml2:Attribute")
		at.CreateAttr("FriendlyName", d.FriendlyName)
		at.CreateAttr("Name", d.Name)
		at.CreateAttr("NameFormat", samlxml.AttrNameFormatURI)
	}

	if o := s.cfg.Organization; o != nil && o.Name != "" {
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
	if o := s.cfg.Organization; o != nil {
		for _, c := range [][2]string{{"support", o.SupportEmail}, {"technical", o.TechnicalEmail}} {
			if c[1] == "" {
				continue
			}
			cp := ed.CreateElement("md:ContactPerson")
			cp.CreateAttr("contactType", c[0])
			cp.CreateElement("md:EmailAddress").SetText("mailto:" + strings.TrimPrefix(c[1], "mailto:"))
		}
	}
	if err := xmlsec.SignWithOptions(ed, s.cfg.SigningKey, []*x509.Certificate{s.cfg.SigningCert}, xmlsec.SignOptions{Algorithm: s.cfg.sigAlg}); err != nil {
		return nil, fmt.Errorf("sign metadata: %w", err)
	}
	out, err := xmlsec.Serialize(ed)
	if err != nil {
		return nil, fmt.Errorf("serialise metadata: %w", err)
	}
	return append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"), out...), nil
}
