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
		w.line("validUntil", "%s", orDash(attr(root, "validUntil")))
		for _, ed := range descendants(root, nsMetadata, "EntityDescriptor") {
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
		if v := attr(e, k); v != "" {
			w.line(k, "%s", v)
		}
	}
	if iss := first(e, nsAssertion, "Issuer"); iss != nil {
		w.line("Issuer", "%s", text(iss))
	}
}

// signature describes the enveloped signature of e, if any.
func (s *summary) signature(e *etree.Element) {
	sigs := children(e, xmlsecNS, "Signature")
	if len(sigs) == 0 {
		s.line("signature", "none")
		return
	}
	if len(sigs) > 1 {
		s.line("signature", "%d signatures (refused by the broker)", len(sigs))
		return
	}
	si := first(sigs[0], xmlsecNS, "SignedInfo")
	sm := attr(first(si, xmlsecNS, "SignatureMethod"), "Algorithm")
	ref := first(si, xmlsecNS, "Reference")
	dm := attr(first(ref, xmlsecNS, "DigestMethod"), "Algorithm")
	s.line("signature", "%s, digest %s, reference %q", orDash(sm), orDash(dm), attr(ref, "URI"))
	for _, xc := range descendants(first(sigs[0], xmlsecNS, "KeyInfo"), xmlsecNS, "X509Certificate") {
		s.line("  KeyInfo certificate", "%s", describeCert(text(xc)))
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
	st := first(r, nsProtocol, "Status")
	code := first(st, nsProtocol, "StatusCode")
	status := attr(code, "Value")
	for sub := first(code, nsProtocol, "StatusCode"); sub != nil; sub = first(sub, nsProtocol, "StatusCode") {
		status += " / " + attr(sub, "Value")
	}
	w.line("status", "%s", orDash(status))
	if msg := first(st, nsProtocol, "StatusMessage"); msg != nil {
		w.line("status message", "%q", text(msg))
	}
	encs := descendants(r, nsAssertion, "EncryptedAssertion")
	plain := descendants(r, nsAssertion, "Assertion")
	w.line("assertions", "%d encrypted, %d plain", len(encs), len(plain))
	for i, ea := range encs {
		p := fmt.Sprintf("  encrypted[%d] ", i)
		ed := first(ea, "http://www.w3.org/2001/04/xmlenc#", "EncryptedData")
		w.indent(p, "content", "%s", orDash(attr(first(ed, "http://www.w3.org/2001/04/xmlenc#", "EncryptionMethod"), "Algorithm")))
		for _, ek := range descendants(ea, "http://www.w3.org/2001/04/xmlenc#", "EncryptedKey") {
			em := first(ek, "http://www.w3.org/2001/04/xmlenc#", "EncryptionMethod")
			line := orDash(attr(em, "Algorithm"))
			if dm := first(em, xmlsecNS, "DigestMethod"); dm != nil {
				line += ", digest " + attr(dm, "Algorithm")
			}
			if mgf := first(em, "http://www.w3.org/2009/xmlenc11#", "MGF"); mgf != nil {
				line += ", MGF " + attr(mgf, "Algorithm")
			}
			if am := descendants(ek, "http://www.w3.org/2001/04/xmlenc#", "AgreementMethod"); len(am) > 0 {
				line += ", agreement " + attr(am[0], "Algorithm")
			}
			w.indent(p, "key", "%s", line)
			for _, xc := range descendants(ek, xmlsecNS, "X509Certificate") {
				w.indent(p, "recipient", "%s", describeCert(text(xc)))
			}
		}
	}
	for i, as := range plain {
		inspectAssertion(w, as, fmt.Sprintf("  plain[%d] ", i))
	}
}

func inspectAssertion(w *summary, as *etree.Element, p string) {
	w.indent(p, "ID", "%s", attr(as, "ID"))
	w.indent(p, "Issuer", "%s", text(first(as, nsAssertion, "Issuer")))
	w.indent(p, "signed", "%v", len(children(as, xmlsecNS, "Signature")) > 0)
	subj := first(as, nsAssertion, "Subject")
	if nid := first(subj, nsAssertion, "NameID"); nid != nil {
		w.indent(p, "NameID", "format %s (value not shown)", orDash(attr(nid, "Format")))
	}
	if scd := first(first(subj, nsAssertion, "SubjectConfirmation"), nsAssertion, "SubjectConfirmationData"); scd != nil {
		w.indent(p, "confirmation", "Recipient %s, InResponseTo %s, NotOnOrAfter %s",
			orDash(attr(scd, "Recipient")), orDash(attr(scd, "InResponseTo")), orDash(attr(scd, "NotOnOrAfter")))
	}
	if c := first(as, nsAssertion, "Conditions"); c != nil {
		var aud []string
		for _, a := range descendants(c, nsAssertion, "Audience") {
			aud = append(aud, text(a))
		}
		w.indent(p, "conditions", "%s to %s, audience %s", orDash(attr(c, "NotBefore")), orDash(attr(c, "NotOnOrAfter")), orDash(strings.Join(aud, ", ")))
	}
	if a := first(as, nsAssertion, "AuthnStatement"); a != nil {
		w.indent(p, "authentication", "%s, level %s", orDash(attr(a, "AuthnInstant")),
			orDash(text(first(first(a, nsAssertion, "AuthnContext"), nsAssertion, "AuthnContextClassRef"))))
	}
	for _, at := range descendants(as, nsAssertion, "Attribute") {
		w.indent(p, "attribute", "%s (%d value(s) not shown)", attr(at, "Name"), len(children(at, nsAssertion, "AttributeValue")))
	}
}

func inspectRequest(w *summary, r *etree.Element) {
	common(w, r)
	w.signature(r)
	for _, k := range []string{"ForceAuthn", "IsPassive", "ProviderName", "AssertionConsumerServiceURL", "ProtocolBinding"} {
		if v := attr(r, k); v != "" {
			w.line(k, "%s", v)
		}
	}
	if nip := first(r, nsProtocol, "NameIDPolicy"); nip != nil {
		w.line("NameIDPolicy", "%s (AllowCreate %s)", orDash(attr(nip, "Format")), orDash(attr(nip, "AllowCreate")))
	}
	if rac := first(r, nsProtocol, "RequestedAuthnContext"); rac != nil {
		var refs []string
		for _, c := range children(rac, nsAssertion, "AuthnContextClassRef") {
			refs = append(refs, text(c))
		}
		w.line("level", "%s %s", orDash(attr(rac, "Comparison")), strings.Join(refs, ", "))
	}
	ext := first(r, nsProtocol, "Extensions")
	if sp := first(ext, nsEIDAS, "SPType"); sp != nil {
		w.line("SPType", "%s (in the request)", text(sp))
	}
	for _, ra := range descendants(ext, nsEIDAS, "RequestedAttribute") {
		w.line("requested", "%s required=%s", attr(ra, "Name"), orDash(attr(ra, "isRequired")))
	}
	for _, rid := range descendants(first(r, nsProtocol, "Scoping"), nsProtocol, "RequesterID") {
		w.line("RequesterID", "%s", text(rid))
	}
}

func inspectEntity(w *summary, ed *etree.Element, p string) {
	w.indent(p, "entityID", "%s", attr(ed, "entityID"))
	if v := attr(ed, "validUntil"); v != "" {
		w.indent(p, "validUntil", "%s", v)
	}
	var ext []*etree.Element
	if e := first(ed, nsMetadata, "Extensions"); e != nil {
		ext = append(ext, e)
	}
	for _, role := range ed.ChildElements() {
		if role.NamespaceURI() != nsMetadata || !strings.HasSuffix(role.Tag, "SSODescriptor") {
			continue
		}
		w.indent(p, "role", "%s", role.Tag)
		if e := first(role, nsMetadata, "Extensions"); e != nil {
			ext = append(ext, e)
		}
		for _, kd := range children(role, nsMetadata, "KeyDescriptor") {
			for _, xc := range descendants(kd, xmlsecNS, "X509Certificate") {
				w.indent(p, "  key "+orDash(attr(kd, "use")), "%s", describeCert(text(xc)))
			}
		}
		for _, tag := range []string{"SingleSignOnService", "AssertionConsumerService"} {
			for _, s := range children(role, nsMetadata, tag) {
				w.indent(p, "  "+tag, "%s %s", attr(s, "Binding"), attr(s, "Location"))
			}
		}
	}
	for _, e := range ext {
		for _, c := range e.ChildElements() {
			switch {
			case is(c, nsEIDAS, "NodeCountry"), is(c, nsEIDAS, "SPType"):
				w.indent(p, c.Tag, "%s", text(c))
			case c.Tag == "SigningMethod" || c.Tag == "DigestMethod":
				w.indent(p, c.Tag, "%s", attr(c, "Algorithm"))
			case c.Tag == "EntityAttributes":
				for _, a := range children(c, nsAssertion, "Attribute") {
					var vals []string
					for _, v := range children(a, nsAssertion, "AttributeValue") {
						vals = append(vals, text(v))
					}
					w.indent(p, "entity attribute", "%s = %s", attr(a, "Name"), strings.Join(vals, ", "))
				}
			}
		}
	}
}
