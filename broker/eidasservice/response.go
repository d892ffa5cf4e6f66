package eidasservice

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// answer is everything a Response is built from. It is what a transaction
// keeps between the request and the consent decision, so it holds only what
// is released (never the whole identity).
type answer struct {
	RequestID  string   `json:"rid"`
	Connector  string   `json:"c"`
	ACS        string   `json:"acs"`
	RelayState string   `json:"rs,omitempty"`
	SigAlg     string   `json:"sa"`
	EncCert    []byte   `json:"ec"` // DER
	DataAlg    string   `json:"da"`
	NameIDFmt  string   `json:"nf"`
	Level      levelReq `json:"lr"`

	// Success.
	PersonID string      `json:"pid,omitempty"`
	Proved   string      `json:"pl,omitempty"` // level name
	AuthTime int64       `json:"at,omitempty"`
	Attrs    []attrValue `json:"av,omitempty"`
}

// statusOf is the status of an error Response.
type status struct{ Top, Sub, Message string }

// buildResponse returns the signed Response XML: a success with exactly one
// EncryptedAssertion (itself signed inside), or, when st is non-nil, an
// error Response without any assertion.
func (s *Service) buildResponse(a *answer, st *status, now time.Time) ([]byte, error) {
	resp := etree.NewElement("saml2p:Response")
	resp.CreateAttr("xmlns:saml2p", samlxml.NSProtocol)
	resp.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	if st == nil {
		resp.CreateAttr("Consent", samlxml.ConsentObtained)
	}
	resp.CreateAttr("Destination", a.ACS)
	resp.CreateAttr("ID", samlxml.NewID())
	resp.CreateAttr("InResponseTo", a.RequestID)
	resp.CreateAttr("IssueInstant", samlxml.FormatTime(now))
	resp.CreateAttr("Version", "2.0")
	iss := resp.CreateElement("saml2:Issuer")
	iss.CreateAttr("Format", samlxml.NameIDEntity)
	iss.SetText(s.cfg.entityID)

	stEl := resp.CreateElement("saml2p:Status")
	sc := stEl.CreateElement("saml2p:StatusCode")
	if st == nil {
		sc.CreateAttr("Value", samlxml.StatusSuccess)
	} else {
		sc.CreateAttr("Value", st.Top)
		if st.Sub != "" {
			sc.CreateElement("saml2p:StatusCode").CreateAttr("Value", st.Sub)
		}
		if st.Message != "" {
			stEl.CreateElement("saml2p:StatusMessage").SetText(st.Message)
		}
	}

	if st == nil {
		assertion, err := s.buildAssertion(a, now)
		if err != nil {
			return nil, err
		}
		cert, err := x509.ParseCertificate(a.EncCert)
		if err != nil {
			return nil, fmt.Errorf("build response: encryption certificate: %w", err)
		}
		ed, err := xmlsec.Encrypt(assertion, cert, xmlsec.EncryptOptions{DataAlgorithm: a.DataAlg})
		if err != nil {
			return nil, fmt.Errorf("build response: encrypt assertion: %w", err)
		}
		resp.CreateElement("saml2:EncryptedAssertion").AddChild(ed)
	}
	if err := xmlsec.SignWithOptions(resp, s.cfg.SigningKey, []*x509.Certificate{s.cfg.SigningCert}, xmlsec.SignOptions{Algorithm: a.SigAlg}); err != nil {
		return nil, fmt.Errorf("build response: sign: %w", err)
	}
	out, err := xmlsec.Serialize(resp)
	if err != nil {
		return nil, fmt.Errorf("build response: serialise: %w", err)
	}
	return append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`), out...), nil
}

// buildAssertion makes the signed assertion: subject with the NameID per
// policy and a bearer confirmation bound to the ACS and the request,
// conditions with the connector as audience, the authentication statement
// with the proved level and the released attributes.
func (s *Service) buildAssertion(a *answer, now time.Time) (*etree.Element, error) {
	proved, err := assurance.ParseName(a.Proved)
	if err != nil || !proved.Notified() {
		return nil, fmt.Errorf("build assertion: proved level %q: %w", a.Proved, ErrLevel)
	}
	until := now.Add(s.cfg.ResponseValidity)
	as := etree.NewElement("saml2:Assertion")
	as.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	as.CreateAttr("xmlns:xsi", samlxml.NSXSI)
	as.CreateAttr("xmlns:eidas-natural", samlxml.NSNatural)
	as.CreateAttr("ID", samlxml.NewID())
	as.CreateAttr("IssueInstant", samlxml.FormatTime(now))
	as.CreateAttr("Version", "2.0")
	iss := as.CreateElement("saml2:Issuer")
	iss.CreateAttr("Format", samlxml.NameIDEntity)
	iss.SetText(s.cfg.entityID)

	subj := as.CreateElement("saml2:Subject")
	nid := subj.CreateElement("saml2:NameID")
	nid.CreateAttr("Format", a.NameIDFmt)
	nid.CreateAttr("NameQualifier", s.cfg.entityID)
	switch a.NameIDFmt {
	case samlxml.NameIDTransient:
		// A fresh value per response: nothing a connector could link.
		nid.SetText(samlxml.NewID())
	case samlxml.NameIDPersistent:
		nid.CreateAttr("SPNameQualifier", a.Connector)
		nid.SetText(a.PersonID)
	default:
		nid.SetText(a.PersonID)
	}
	sc := subj.CreateElement("saml2:SubjectConfirmation")
	sc.CreateAttr("Method", samlxml.CMBearer)
	scd := sc.CreateElement("saml2:SubjectConfirmationData")
	scd.CreateAttr("InResponseTo", a.RequestID)
	scd.CreateAttr("NotOnOrAfter", samlxml.FormatTime(until))
	scd.CreateAttr("Recipient", a.ACS)

	cond := as.CreateElement("saml2:Conditions")
	cond.CreateAttr("NotBefore", samlxml.FormatTime(now))
	cond.CreateAttr("NotOnOrAfter", samlxml.FormatTime(until))
	cond.CreateElement("saml2:AudienceRestriction").CreateElement("saml2:Audience").SetText(a.Connector)

	authTime := time.Unix(a.AuthTime, 0)
	if a.AuthTime == 0 {
		authTime = now
	}
	stmt := as.CreateElement("saml2:AuthnStatement")
	stmt.CreateAttr("AuthnInstant", samlxml.FormatTime(authTime))
	stmt.CreateElement("saml2:AuthnContext").CreateElement("saml2:AuthnContextClassRef").SetText(proved.URI())

	ats := as.CreateElement("saml2:AttributeStatement")
	for _, v := range a.Attrs {
		d, ok := lookupAttr(v.Name)
		if !ok || len(v.Values) == 0 {
			continue
		}
		at := ats.CreateElement("saml2:Attribute")
		at.CreateAttr("FriendlyName", d.FriendlyName)
		at.CreateAttr("Name", d.Name)
		at.CreateAttr("NameFormat", samlxml.AttrNameFormatURI)
		for _, val := range v.Values {
			av := at.CreateElement("saml2:AttributeValue")
			av.CreateAttr("xsi:type", "eidas-natural:"+d.XSIType)
			av.SetText(val)
		}
	}
	if len(ats.ChildElements()) == 0 {
		// The schema wants at least one attribute; a success without any
		// is never built (the flow refuses it before).
		return nil, fmt.Errorf("build assertion: %w: no attribute to release", ErrAttributes)
	}
	// eidas-natural appears only inside xsi:type values, which exclusive
	// c14n does not see; listing it keeps the declaration signed.
	if err := xmlsec.SignWithOptions(as, s.cfg.SigningKey, []*x509.Certificate{s.cfg.SigningCert}, xmlsec.SignOptions{
		Algorithm: a.SigAlg, InclusivePrefixes: []string{"eidas-natural"},
	}); err != nil {
		return nil, fmt.Errorf("build assertion: sign: %w", err)
	}
	return as, nil
}

// encodeResponse is the SAMLResponse form value.
func encodeResponse(xml []byte) string { return base64.StdEncoding.EncodeToString(xml) }
