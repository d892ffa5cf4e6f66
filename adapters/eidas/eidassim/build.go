package eidassim

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters/eidas"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// Value is one attribute value; Native, when set, is sent as a second
// value with LatinScript="false" (Attribute Profile §2.4).
type Value struct {
	Latin  string
	Native string
}

// Attribute is one attribute of an assertion.
type Attribute struct {
	Name         string // Name URI
	FriendlyName string
	Values       []Value
}

// Status is a non-success SAML status.
type Status struct {
	Top     string // e.g. samlxml.StatusResponder
	Sub     string // e.g. samlxml.StatusRequestDenied
	Message string
}

// ResponseParams describe a Response and its assertion. Zero times default
// to IssueInstant; IDs default to fresh random ones.
type ResponseParams struct {
	ResponseID   string
	AssertionID  string
	Issuer       string // proxy-service entity ID
	Destination  string // the connector's ACS
	Recipient    string // SubjectConfirmationData Recipient (default Destination)
	Audience     string // the connector's entity ID
	InResponseTo string
	IssueInstant time.Time
	// Lifetime is NotOnOrAfter − IssueInstant (default 5 minutes).
	Lifetime     time.Duration
	AuthnInstant time.Time
	LoA          string // AuthnContextClassRef
	NameID       string
	NameIDFormat string
	Attributes   []Attribute
	// Status, when set, makes an error response (no assertion is built by
	// Seal unless one is passed explicitly).
	Status *Status
}

func (p *ResponseParams) defaults() {
	if p.ResponseID == "" {
		p.ResponseID = samlxml.NewID()
	}
	if p.AssertionID == "" {
		p.AssertionID = samlxml.NewID()
	}
	if p.Recipient == "" {
		p.Recipient = p.Destination
	}
	if p.Lifetime == 0 {
		p.Lifetime = 5 * time.Minute
	}
	if p.AuthnInstant.IsZero() {
		p.AuthnInstant = p.IssueInstant
	}
	if p.NameIDFormat == "" {
		p.NameIDFormat = samlxml.NameIDPersistent
	}
}

func ts(t time.Time) string { return samlxml.FormatTime(t) }

// BuildAssertion returns an unsigned saml2:Assertion as an EU node builds
// it: Issuer, Subject with a bearer confirmation, Conditions with the
// audience, one AuthnStatement and one AttributeStatement.
func BuildAssertion(p ResponseParams) (*etree.Element, error) {
	p.defaults()
	end := p.IssueInstant.Add(p.Lifetime)
	as := etree.NewElement("saml2:Assertion")
	as.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	as.CreateAttr("ID", p.AssertionID)
	as.CreateAttr("IssueInstant", ts(p.IssueInstant))
	as.CreateAttr("Version", "2.0")
	iss := as.CreateElement("saml2:Issuer")
	iss.CreateAttr("Format", samlxml.NameIDEntity)
	iss.SetText(p.Issuer)
	subj := as.CreateElement("saml2:Subject")
	nid := subj.CreateElement("saml2:NameID")
	nid.CreateAttr("Format", p.NameIDFormat)
	nid.SetText(p.NameID)
	sc := subj.CreateElement("saml2:SubjectConfirmation")
	sc.CreateAttr("Method", samlxml.CMBearer)
	scd := sc.CreateElement("saml2:SubjectConfirmationData")
	scd.CreateAttr("InResponseTo", p.InResponseTo)
	scd.CreateAttr("NotOnOrAfter", ts(end))
	scd.CreateAttr("Recipient", p.Recipient)
	cond := as.CreateElement("saml2:Conditions")
	cond.CreateAttr("NotBefore", ts(p.IssueInstant))
	cond.CreateAttr("NotOnOrAfter", ts(end))
	cond.CreateElement("saml2:AudienceRestriction").CreateElement("saml2:Audience").SetText(p.Audience)
	authn := as.CreateElement("saml2:AuthnStatement")
	authn.CreateAttr("AuthnInstant", ts(p.AuthnInstant))
	authn.CreateElement("saml2:AuthnContext").CreateElement("saml2:AuthnContextClassRef").SetText(p.LoA)
	stmt := as.CreateElement("saml2:AttributeStatement")
	for _, a := range p.Attributes {
		at := stmt.CreateElement("saml2:Attribute")
		if a.FriendlyName != "" {
			at.CreateAttr("FriendlyName", a.FriendlyName)
		}
		at.CreateAttr("Name", a.Name)
		at.CreateAttr("NameFormat", samlxml.AttrNameFormatURI)
		ns, prefix := samlxml.NSNatural, "eidas-natural"
		if strings.HasPrefix(a.Name, "http://eidas.europa.eu/attributes/legalperson/") {
			ns, prefix = samlxml.NSLegal, "eidas-legal"
		}
		typ := prefix + ":" + typeName(a.Name)
		for _, v := range a.Values {
			for _, s := range []struct {
				text   string
				native bool
			}{{v.Latin, false}, {v.Native, true}} {
				if s.text == "" {
					continue
				}
				av := at.CreateElement("saml2:AttributeValue")
				av.CreateAttr("xmlns:"+prefix, ns)
				av.CreateAttr("xmlns:xsi", samlxml.NSXSI)
				if s.native {
					av.CreateAttr(prefix+":LatinScript", "false")
				}
				av.CreateAttr("xsi:type", typ)
				av.SetText(s.text)
			}
		}
	}
	return as, nil
}

// typeName is the eIDAS XML type of an attribute value (…/CurrentFamilyName
// → CurrentFamilyNameType).
func typeName(uri string) string {
	name := uri[strings.LastIndex(uri, "/")+1:]
	switch name {
	case "LegalPersonAddress":
		return "LegalPersonAddressType"
	case "":
		return "string"
	}
	return name + "Type"
}

// BuildResponse returns an unsigned samlp:Response with Status but
// without assertion.
func BuildResponse(p ResponseParams) (*etree.Element, error) {
	p.defaults()
	r := etree.NewElement("saml2p:Response")
	r.CreateAttr("xmlns:saml2p", samlxml.NSProtocol)
	r.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	r.CreateAttr("Consent", samlxml.ConsentObtained)
	r.CreateAttr("Destination", p.Destination)
	r.CreateAttr("ID", p.ResponseID)
	r.CreateAttr("InResponseTo", p.InResponseTo)
	r.CreateAttr("IssueInstant", ts(p.IssueInstant))
	r.CreateAttr("Version", "2.0")
	iss := r.CreateElement("saml2:Issuer")
	iss.CreateAttr("Format", samlxml.NameIDEntity)
	iss.SetText(p.Issuer)
	st := r.CreateElement("saml2p:Status")
	sc := st.CreateElement("saml2p:StatusCode")
	if p.Status == nil {
		sc.CreateAttr("Value", samlxml.StatusSuccess)
	} else {
		sc.CreateAttr("Value", p.Status.Top)
		if p.Status.Sub != "" {
			sc.CreateElement("saml2p:StatusCode").CreateAttr("Value", p.Status.Sub)
		}
		if p.Status.Message != "" {
			st.CreateElement("saml2p:StatusMessage").SetText(p.Status.Message)
		}
	}
	return r, nil
}

// Signer is a signing key with its certificate and XML signature method.
type Signer struct {
	Key       crypto.Signer
	Cert      *x509.Certificate
	Algorithm string // default: by key type (PSS-SHA256 or ECDSA)
}

func (s Signer) algorithm() (string, error) {
	if s.Algorithm != "" {
		return s.Algorithm, nil
	}
	return eidas.SignatureMethodFor(s.Key.Public())
}

// Sign signs el (enveloped, after its Issuer) with s.
func (s Signer) Sign(el *etree.Element) error {
	alg, err := s.algorithm()
	if err != nil {
		return err
	}
	var certs []*x509.Certificate
	if s.Cert != nil {
		certs = []*x509.Certificate{s.Cert}
	}
	return xmlsec.Sign(el, s.Key, certs, alg)
}

// Seal completes a Response: it optionally signs the assertion, encrypts
// it to recipient (AES-256-GCM; RSA-OAEP or ECDH-ES by the certificate's
// key) inside a saml2:EncryptedAssertion placed after Status, signs the
// Response and serialises it. assertion may be nil (error responses).
func Seal(resp, assertion *etree.Element, signer Signer, recipient *x509.Certificate, signAssertion bool) ([]byte, error) {
	if assertion != nil {
		if signAssertion {
			if err := signer.Sign(assertion); err != nil {
				return nil, fmt.Errorf("sign assertion: %w", err)
			}
		}
		ed, err := xmlsec.Encrypt(assertion, recipient, xmlsec.EncryptOptions{})
		if err != nil {
			return nil, fmt.Errorf("encrypt assertion: %w", err)
		}
		ea := resp.CreateElement("saml2:EncryptedAssertion")
		ea.AddChild(ed)
	}
	if err := signer.Sign(resp); err != nil {
		return nil, fmt.Errorf("sign response: %w", err)
	}
	return Serialize(resp)
}

// Serialize writes el as a standalone document with an XML declaration,
// through xmlsec.Serialize so that signatures inside survive re-parsing.
func Serialize(el *etree.Element) ([]byte, error) {
	b, err := xmlsec.Serialize(el)
	if err != nil {
		return nil, err
	}
	return append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"), b...), nil
}

// EncodeAddress encodes address elements as eIDAS CurrentAddress does:
// base64 of the element sequence, prefixed, without a root.
func EncodeAddress(a Address) string {
	var b strings.Builder
	add := func(tag, v string) {
		if v != "" {
			fmt.Fprintf(&b, "<eidas-natural:%s>%s</eidas-natural:%s>\n", tag, xmlEscape(v), tag)
		}
	}
	add("LocatorDesignator", a.LocatorDesignator)
	add("Thoroughfare", a.Thoroughfare)
	add("PostName", a.PostName)
	add("AdminunitFirstline", a.Country)
	add("PostCode", a.PostCode)
	return base64.StdEncoding.EncodeToString([]byte(b.String()))
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xmlEscapeTo(&b, s)
	return b.String()
}

func xmlEscapeTo(b *strings.Builder, s string) error {
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return nil
}
