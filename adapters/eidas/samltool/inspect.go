package samltool

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// Inspect returns a readable summary of the message in input (any form
// Decode reads). It verifies nothing and prints no NameID or attribute
// value; it does show what a message claims: who issued it for whom, when,
// with which status, level, requested attributes, algorithms and keys.
func Inspect(input []byte) (string, error) {
	m, err := Decode(input)
	if err != nil {
		return "", err
	}
	root, err := m.parse()
	if err != nil {
		return "", err
	}
	w := &summary{}
	w.line("message", "%s (%s)", kind(root), root.NamespaceURI())
	enc := map[string]string{"xml": "XML", "base64": "base64 (HTTP-POST binding)", "deflate": "DEFLATE + base64 (HTTP-Redirect binding)"}[m.Form]
	if m.Param != "" {
		enc += ", parameter " + m.Param
	}
	w.line("encoding", "%s, %d bytes of XML", enc, len(m.XML))
	if m.RelayState != "" {
		w.line("RelayState", "%q", m.RelayState)
	}
	if m.SigAlg != "" || m.Signature != nil {
		w.line("query signature", "%s, %d bytes", orDash(m.SigAlg), len(m.Signature))
	}
	switch kind(root) {
	case "Response":
		inspectResponse(w, root)
	case "AuthnRequest":
		inspectRequest(w, root)
	case "EntityDescriptor":
		w.signature(root)
		inspectEntity(w, root, "")
	case "EntitiesDescriptor":
		w.signature(root)
		w.line("validUntil", "%s", orDash(samlxml.AttrValue(root, "validUntil")))
		for _, ed := range samlxml.Descendants(root, samlxml.NSMetadata, "EntityDescriptor") {
			inspectEntity(w, ed, "  ")
		}
	case "Assertion":
		inspectAssertion(w, root, "")
	default:
		w.line("note", "not a SAML protocol message or metadata")
	}
	return w.b.String(), nil
}

type summary struct{ b strings.Builder }

func (s *summary) line(key, format string, args ...any) {
	fmt.Fprintf(&s.b, "%-22s %s\n", key+":", fmt.Sprintf(format, args...))
}

func (s *summary) indent(prefix, key, format string, args ...any) {
	s.line(prefix+key, format, args...)
}

func orDash(v string) string {
	if v == "" {
		return "-"
	}
	return v
}

// common prints the attributes every protocol message has.
func common(w *summary, e *etree.Element) {
	for _, k := range []string{"ID", "IssueInstant", "Destination", "InResponseTo"} {
		if v := samlxml.AttrValue(e, k); v != "" {
			w.line(k, "%s", v)
		}
	}
	if iss := samlxml.First(e, samlxml.NSAssertion, "Issuer"); iss != nil {
		w.line("Issuer", "%s", samlxml.Text(iss))
	}
}

// signature describes the enveloped signature of e, if any.
func (s *summary) signature(e *etree.Element) {
	sigs := samlxml.Children(e, xmlsecNS, "Signature")
	if len(sigs) == 0 {
		s.line("signature", "none")
		return
	}
	if len(sigs) > 1 {
		s.line("signature", "%d signatures (refused by the broker)", len(sigs))
		return
	}
	si := samlxml.First(sigs[0], xmlsecNS, "SignedInfo")
	sm := samlxml.AttrValue(samlxml.First(si, xmlsecNS, "SignatureMethod"), "Algorithm")
	ref := samlxml.First(si, xmlsecNS, "Reference")
	dm := samlxml.AttrValue(samlxml.First(ref, xmlsecNS, "DigestMethod"), "Algorithm")
	s.line("signature", "%s, digest %s, reference %q", orDash(sm), orDash(dm), samlxml.AttrValue(ref, "URI"))
	for _, xc := range samlxml.Descendants(samlxml.First(sigs[0], xmlsecNS, "KeyInfo"), xmlsecNS, "X509Certificate") {
		s.line("  KeyInfo certificate", "%s", describeCert(samlxml.Text(xc)))
	}
}

func describeCert(b64 string) string {
	c, err := parseCert(b64)
	if err != nil {
		return "unparsable (" + err.Error() + ")"
	}
	return certSummary(c)
}

func certSummary(c *x509.Certificate) string {
	key := "?"
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		key = fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		key = "EC " + k.Curve.Params().Name
	}
	fp := sha256.Sum256(c.Raw)
	return fmt.Sprintf("%q, %s, %s to %s, SHA-256 %s…", c.Subject.String(), key,
		c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02"), hex.EncodeToString(fp[:8]))
}

func inspectResponse(w *summary, r *etree.Element) {
	common(w, r)
	w.signature(r)
	st := samlxml.First(r, samlxml.NSProtocol, "Status")
	code := samlxml.First(st, samlxml.NSProtocol, "StatusCode")
	status := samlxml.AttrValue(code, "Value")
	for sub := samlxml.First(code, samlxml.NSProtocol, "StatusCode"); sub != nil; sub = samlxml.First(sub, samlxml.NSProtocol, "StatusCode") {
		status += " / " + samlxml.AttrValue(sub, "Value")
	}
	w.line("status", "%s", orDash(status))
	if msg := samlxml.First(st, samlxml.NSProtocol, "StatusMessage"); msg != nil {
		w.line("status message", "%q", samlxml.Text(msg))
	}
	encs := samlxml.Descendants(r, samlxml.NSAssertion, "EncryptedAssertion")
	plain := samlxml.Descendants(r, samlxml.NSAssertion, "Assertion")
	w.line("assertions", "%d encrypted, %d plain", len(encs), len(plain))
	for i, ea := range encs {
		p := fmt.Sprintf("  encrypted[%d] ", i)
		ed := samlxml.First(ea, samlxml.NSXMLEnc, "EncryptedData")
		w.indent(p, "content", "%s", orDash(samlxml.AttrValue(samlxml.First(ed, samlxml.NSXMLEnc, "EncryptionMethod"), "Algorithm")))
		for _, ek := range samlxml.Descendants(ea, samlxml.NSXMLEnc, "EncryptedKey") {
			em := samlxml.First(ek, samlxml.NSXMLEnc, "EncryptionMethod")
			line := orDash(samlxml.AttrValue(em, "Algorithm"))
			if dm := samlxml.First(em, xmlsecNS, "DigestMethod"); dm != nil {
				line += ", digest " + samlxml.AttrValue(dm, "Algorithm")
			}
			if mgf := samlxml.First(em, "http://www.w3.org/2009/xmlenc11#", "MGF"); mgf != nil {
				line += ", MGF " + samlxml.AttrValue(mgf, "Algorithm")
			}
			if am := samlxml.Descendants(ek, samlxml.NSXMLEnc, "AgreementMethod"); len(am) > 0 {
				line += ", agreement " + samlxml.AttrValue(am[0], "Algorithm")
			}
			w.indent(p, "key", "%s", line)
			for _, xc := range samlxml.Descendants(ek, xmlsecNS, "X509Certificate") {
				w.indent(p, "recipient", "%s", describeCert(samlxml.Text(xc)))
			}
		}
	}
	for i, as := range plain {
		inspectAssertion(w, as, fmt.Sprintf("  plain[%d] ", i))
	}
}

func inspectAssertion(w *summary, as *etree.Element, p string) {
	w.indent(p, "ID", "%s", samlxml.AttrValue(as, "ID"))
	w.indent(p, "Issuer", "%s", samlxml.Text(samlxml.First(as, samlxml.NSAssertion, "Issuer")))
	w.indent(p, "signed", "%v", len(samlxml.Children(as, xmlsecNS, "Signature")) > 0)
	subj := samlxml.First(as, samlxml.NSAssertion, "Subject")
	if nid := samlxml.First(subj, samlxml.NSAssertion, "NameID"); nid != nil {
		w.indent(p, "NameID", "format %s (value not shown)", orDash(samlxml.AttrValue(nid, "Format")))
	}
	if scd := samlxml.First(samlxml.First(subj, samlxml.NSAssertion, "SubjectConfirmation"), samlxml.NSAssertion, "SubjectConfirmationData"); scd != nil {
		w.indent(p, "confirmation", "Recipient %s, InResponseTo %s, NotOnOrAfter %s",
			orDash(samlxml.AttrValue(scd, "Recipient")), orDash(samlxml.AttrValue(scd, "InResponseTo")), orDash(samlxml.AttrValue(scd, "NotOnOrAfter")))
	}
	if c := samlxml.First(as, samlxml.NSAssertion, "Conditions"); c != nil {
		var aud []string
		for _, a := range samlxml.Descendants(c, samlxml.NSAssertion, "Audience") {
			aud = append(aud, samlxml.Text(a))
		}
		w.indent(p, "conditions", "%s to %s, audience %s", orDash(samlxml.AttrValue(c, "NotBefore")), orDash(samlxml.AttrValue(c, "NotOnOrAfter")), orDash(strings.Join(aud, ", ")))
	}
	if a := samlxml.First(as, samlxml.NSAssertion, "AuthnStatement"); a != nil {
		w.indent(p, "authentication", "%s, level %s", orDash(samlxml.AttrValue(a, "AuthnInstant")),
			orDash(samlxml.Text(samlxml.First(samlxml.First(a, samlxml.NSAssertion, "AuthnContext"), samlxml.NSAssertion, "AuthnContextClassRef"))))
	}
	for _, at := range samlxml.Descendants(as, samlxml.NSAssertion, "Attribute") {
		w.indent(p, "attribute", "%s (%d value(s) not shown)", samlxml.AttrValue(at, "Name"), len(samlxml.Children(at, samlxml.NSAssertion, "AttributeValue")))
	}
}

func inspectRequest(w *summary, r *etree.Element) {
	common(w, r)
	w.signature(r)
	for _, k := range []string{"ForceAuthn", "IsPassive", "ProviderName", "AssertionConsumerServiceURL", "ProtocolBinding"} {
		if v := samlxml.AttrValue(r, k); v != "" {
			w.line(k, "%s", v)
		}
	}
	if nip := samlxml.First(r, samlxml.NSProtocol, "NameIDPolicy"); nip != nil {
		w.line("NameIDPolicy", "%s (AllowCreate %s)", orDash(samlxml.AttrValue(nip, "Format")), orDash(samlxml.AttrValue(nip, "AllowCreate")))
	}
	if rac := samlxml.First(r, samlxml.NSProtocol, "RequestedAuthnContext"); rac != nil {
		var refs []string
		for _, c := range samlxml.Children(rac, samlxml.NSAssertion, "AuthnContextClassRef") {
			refs = append(refs, samlxml.Text(c))
		}
		w.line("level", "%s %s", orDash(samlxml.AttrValue(rac, "Comparison")), strings.Join(refs, ", "))
	}
	ext := samlxml.First(r, samlxml.NSProtocol, "Extensions")
	if sp := samlxml.First(ext, samlxml.NSEIDAS, "SPType"); sp != nil {
		w.line("SPType", "%s (in the request)", samlxml.Text(sp))
	}
	for _, ra := range samlxml.Descendants(ext, samlxml.NSEIDAS, "RequestedAttribute") {
		w.line("requested", "%s required=%s", samlxml.AttrValue(ra, "Name"), orDash(samlxml.AttrValue(ra, "isRequired")))
	}
	for _, rid := range samlxml.Descendants(samlxml.First(r, samlxml.NSProtocol, "Scoping"), samlxml.NSProtocol, "RequesterID") {
		w.line("RequesterID", "%s", samlxml.Text(rid))
	}
}

func inspectEntity(w *summary, ed *etree.Element, p string) {
	w.indent(p, "entityID", "%s", samlxml.AttrValue(ed, "entityID"))
	if v := samlxml.AttrValue(ed, "validUntil"); v != "" {
		w.indent(p, "validUntil", "%s", v)
	}
	var ext []*etree.Element
	if e := samlxml.First(ed, samlxml.NSMetadata, "Extensions"); e != nil {
		ext = append(ext, e)
	}
	for _, role := range ed.ChildElements() {
		if role.NamespaceURI() != samlxml.NSMetadata || !strings.HasSuffix(role.Tag, "SSODescriptor") {
			continue
		}
		w.indent(p, "role", "%s", role.Tag)
		if e := samlxml.First(role, samlxml.NSMetadata, "Extensions"); e != nil {
			ext = append(ext, e)
		}
		for _, kd := range samlxml.Children(role, samlxml.NSMetadata, "KeyDescriptor") {
			for _, xc := range samlxml.Descendants(kd, xmlsecNS, "X509Certificate") {
				w.indent(p, "  key "+orDash(samlxml.AttrValue(kd, "use")), "%s", describeCert(samlxml.Text(xc)))
			}
		}
		for _, tag := range []string{"SingleSignOnService", "AssertionConsumerService"} {
			for _, s := range samlxml.Children(role, samlxml.NSMetadata, tag) {
				w.indent(p, "  "+tag, "%s %s", samlxml.AttrValue(s, "Binding"), samlxml.AttrValue(s, "Location"))
			}
		}
	}
	for _, e := range ext {
		for _, c := range e.ChildElements() {
			switch {
			case samlxml.Is(c, samlxml.NSEIDAS, "NodeCountry"), samlxml.Is(c, samlxml.NSEIDAS, "SPType"):
				w.indent(p, c.Tag, "%s", samlxml.Text(c))
			case c.Tag == "SigningMethod" || c.Tag == "DigestMethod":
				w.indent(p, c.Tag, "%s", samlxml.AttrValue(c, "Algorithm"))
			case c.Tag == "EntityAttributes":
				for _, a := range samlxml.Children(c, samlxml.NSAssertion, "Attribute") {
					var vals []string
					for _, v := range samlxml.Children(a, samlxml.NSAssertion, "AttributeValue") {
						vals = append(vals, samlxml.Text(v))
					}
					w.indent(p, "entity attribute", "%s = %s", samlxml.AttrValue(a, "Name"), strings.Join(vals, ", "))
				}
			}
		}
	}
}
