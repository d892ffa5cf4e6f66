package democonnector

import (
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/beevik/etree"

	es "github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// Result is a verified Response as the demo page shows it.
type Result struct {
	ResponseID   string
	InResponseTo string
	Status       string
	SubStatus    string
	Message      string
	// Success only.
	NameID       string
	NameIDFormat string
	Level        string
	Attributes   []Attribute
	// AssertionSigned reports the assertion carried a valid signature.
	AssertionSigned bool
	// DataAlgorithm and KeyAlgorithm are the encryption algorithms used.
	DataAlgorithm, KeyAlgorithm string
}

// Attribute is one released attribute.
type Attribute struct {
	Name, FriendlyName string
	Values             []string
	// Decoded holds the decoded XML of a CurrentAddress value.
	Decoded string
}

// Success reports a Success status.
func (r *Result) Success() bool { return r.Status == samlxml.StatusSuccess }

// Attr returns the values of an attribute by Name URI.
func (r *Result) Attr(name string) []string {
	for _, a := range r.Attributes {
		if a.Name == name {
			return a.Values
		}
	}
	return nil
}

// ErrResponse wraps every refusal of ReadResponse.
var ErrResponse = errors.New("demo connector: response refused")

// ReadResponse verifies a SAMLResponse form value the way a connector must:
// the Response signature with the service's certificates, Destination =
// our ACS, Issuer = the service, InResponseTo = a pending request of ours
// (which it consumes); on success exactly one EncryptedAssertion that
// decrypts with our key, whose signature verifies and whose subject
// confirmation, audience and time window fit.
func (c *Connector) ReadResponse(samlResponse string) (*Result, error) {
	fail := func(format string, args ...any) (*Result, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrResponse}, args...)...)
	}
	svc := c.service()
	raw, err := samlxml.DecodeBase64(samlResponse)
	if err != nil {
		return fail("not base64")
	}
	doc, err := xmlsec.Parse(raw, xmlsec.Limits{})
	if err != nil {
		return fail("%w", err)
	}
	now := c.cfg.Now()
	resp, _, err := xmlsec.Verify(doc.Root(), xmlsec.VerifyOptions{Trusted: svc.Certs, Now: func() time.Time { return now }})
	if err != nil {
		return fail("response signature: %w", err)
	}
	if !samlxml.Is(resp, samlxml.NSProtocol, "Response") {
		return fail("not a Response")
	}
	if resp.SelectAttrValue("Destination", "") != c.acs {
		return fail("Destination")
	}
	if samlxml.Text(child(resp, samlxml.NSAssertion, "Issuer")) != svc.EntityID {
		return fail("Issuer")
	}
	irt := resp.SelectAttrValue("InResponseTo", "")
	c.mu.Lock()
	_, ok := c.pending[irt]
	delete(c.pending, irt)
	c.mu.Unlock()
	if !ok {
		return fail("InResponseTo names no pending request (unsolicited or replayed)")
	}
	res := &Result{ResponseID: resp.SelectAttrValue("ID", ""), InResponseTo: irt}
	st := child(resp, samlxml.NSProtocol, "Status")
	sc := child(st, samlxml.NSProtocol, "StatusCode")
	res.Status = sc.SelectAttrValue("Value", "")
	res.SubStatus = child(sc, samlxml.NSProtocol, "StatusCode").SelectAttrValue("Value", "")
	res.Message = samlxml.Text(child(st, samlxml.NSProtocol, "StatusMessage"))
	encs := samlxml.Children(resp, samlxml.NSAssertion, "EncryptedAssertion")
	plain := samlxml.Children(resp, samlxml.NSAssertion, "Assertion")
	if !res.Success() {
		if len(encs)+len(plain) > 0 {
			return fail("error response with an assertion")
		}
		return res, nil
	}
	if len(encs) != 1 || len(plain) != 0 {
		return fail("want exactly one EncryptedAssertion, got %d (+%d plain)", len(encs), len(plain))
	}
	ed := child(encs[0], samlxml.NSXMLEnc, "EncryptedData")
	res.DataAlgorithm = child(ed, samlxml.NSXMLEnc, "EncryptionMethod").SelectAttrValue("Algorithm", "")
	if am := encs[0].FindElement(".//AgreementMethod"); am != nil {
		res.KeyAlgorithm = am.SelectAttrValue("Algorithm", "")
	} else if ek := encs[0].FindElement(".//EncryptedKey/EncryptionMethod"); ek != nil {
		res.KeyAlgorithm = ek.SelectAttrValue("Algorithm", "")
	}
	as, err := xmlsec.Decrypt(encs[0], c.cfg.Keys.Encryption.Key, xmlsec.DecryptOptions{})
	if err != nil {
		return fail("decrypt: %w", err)
	}
	as, _, err = xmlsec.Verify(as, xmlsec.VerifyOptions{Trusted: svc.Certs, Now: func() time.Time { return now }})
	if err != nil {
		return fail("assertion signature: %w", err)
	}
	res.AssertionSigned = true
	if samlxml.Text(child(as, samlxml.NSAssertion, "Issuer")) != svc.EntityID {
		return fail("assertion Issuer")
	}
	subj := child(as, samlxml.NSAssertion, "Subject")
	nid := child(subj, samlxml.NSAssertion, "NameID")
	res.NameID, res.NameIDFormat = samlxml.Text(nid), nid.SelectAttrValue("Format", "")
	scd := child(child(subj, samlxml.NSAssertion, "SubjectConfirmation"), samlxml.NSAssertion, "SubjectConfirmationData")
	if scd.SelectAttrValue("Recipient", "") != c.acs || scd.SelectAttrValue("InResponseTo", "") != irt {
		return fail("subject confirmation")
	}
	if t, err := time.Parse(time.RFC3339Nano, scd.SelectAttrValue("NotOnOrAfter", "")); err != nil || !now.Before(t) {
		return fail("subject confirmation expired")
	}
	cond := child(as, samlxml.NSAssertion, "Conditions")
	nb, err1 := time.Parse(time.RFC3339Nano, cond.SelectAttrValue("NotBefore", ""))
	na, err2 := time.Parse(time.RFC3339Nano, cond.SelectAttrValue("NotOnOrAfter", ""))
	if err1 != nil || err2 != nil || now.Add(time.Minute).Before(nb) || !now.Before(na) {
		return fail("conditions time window")
	}
	if samlxml.Text(child(child(cond, samlxml.NSAssertion, "AudienceRestriction"), samlxml.NSAssertion, "Audience")) != c.entityID {
		return fail("audience")
	}
	stmt := child(as, samlxml.NSAssertion, "AuthnStatement")
	res.Level = samlxml.Text(child(child(stmt, samlxml.NSAssertion, "AuthnContext"), samlxml.NSAssertion, "AuthnContextClassRef"))
	for _, a := range samlxml.Children(child(as, samlxml.NSAssertion, "AttributeStatement"), samlxml.NSAssertion, "Attribute") {
		at := Attribute{Name: a.SelectAttrValue("Name", ""), FriendlyName: a.SelectAttrValue("FriendlyName", "")}
		for _, v := range samlxml.Children(a, samlxml.NSAssertion, "AttributeValue") {
			at.Values = append(at.Values, samlxml.Text(v))
		}
		if at.Name == es.AttrCurrentAddress && len(at.Values) > 0 {
			if b, err := base64.StdEncoding.DecodeString(at.Values[0]); err == nil {
				at.Decoded = string(b)
			}
		}
		res.Attributes = append(res.Attributes, at)
	}
	return res, nil
}

// child returns the first child or an empty element, so chains of lookups
// on a malformed message fail the checks instead of panicking (the page
// calls element methods on the result, which samlxml.First's nil would
// not survive).
func child(e *etree.Element, ns, local string) *etree.Element {
	if c := samlxml.First(e, ns, local); c != nil {
		return c
	}
	return etree.NewElement("missing")
}
