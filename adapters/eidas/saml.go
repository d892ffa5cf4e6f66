package eidas

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Namespaces of the SAML 2.0 and eIDAS vocabularies.
const (
	NSProtocol   = "urn:oasis:names:tc:SAML:2.0:protocol"
	NSAssertion  = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSMetadata   = "urn:oasis:names:tc:SAML:2.0:metadata"
	NSMDAttr     = "urn:oasis:names:tc:SAML:metadata:attribute"
	NSAlgSupport = "urn:oasis:names:tc:SAML:metadata:algsupport"
	NSEIDAS      = "http://eidas.europa.eu/saml-extensions"
	NSNatural    = "http://eidas.europa.eu/attributes/naturalperson"
	NSLegal      = "http://eidas.europa.eu/attributes/legalperson"
	NSXSI        = "http://www.w3.org/2001/XMLSchema-instance"
	NSDSig       = "http://www.w3.org/2000/09/xmldsig#"
	NSXMLEnc     = "http://www.w3.org/2001/04/xmlenc#"
)

// Bindings, formats and status codes.
const (
	BindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	BindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

	NameIDPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	NameIDTransient   = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	NameIDUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	NameIDEntity      = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"

	AttrNameFormatURI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	CMBearer          = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

	StatusSuccess          = "urn:oasis:names:tc:SAML:2.0:status:Success"
	StatusRequester        = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	StatusResponder        = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	StatusVersionMismatch  = "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch"
	StatusAuthnFailed      = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
	StatusRequestDenied    = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
	StatusInvalidAttrName  = "urn:oasis:names:tc:SAML:2.0:status:InvalidAttrNameOrValue"
	StatusInvalidNameIDPol = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"
	StatusNoAuthnContext   = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"

	// Entity attributes of eIDAS metadata (eIDAS SAML Message Format §3.3).
	EntityAttrProtocolVersion = "http://eidas.europa.eu/entity-attributes/protocol-version"
	EntityAttrApplicationID   = "http://eidas.europa.eu/entity-attributes/application-identifier"
	EntityAttrAssuranceCert   = "urn:oasis:names:tc:SAML:attribute:assurance-certification"
	EntityAttrEntityCategory  = "http://macedir.org/entity-category"
	EntityCategoryRequesterID = "http://eidas.europa.eu/entity-attributes/termsofaccess/requesterid"
	protocolSAML2             = "urn:oasis:names:tc:SAML:2.0:protocol"
	samlVersion               = "2.0"
	maxStatusMessage          = 160
)

// samlTimeLayout is how we write xs:dateTime (UTC, milliseconds), as the
// EU eIDAS-Node does.
const samlTimeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(samlTimeLayout) }

// parseTime reads an xs:dateTime that carries a time zone. A value without
// one is refused: its instant would depend on the reader's zone.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: time %q is not an xs:dateTime with a time zone", ErrMalformed, truncate(s, 40))
	}
	return t, nil
}

// newID returns a fresh SAML ID: an NCName (starts with "_") carrying 160
// random bits, so it is unguessable and never repeats.
func newID() (string, error) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return "_" + hex.EncodeToString(b[:]), nil
}

// is reports whether e is the element {ns}local.
func is(e *etree.Element, ns, local string) bool {
	return e != nil && e.Tag == local && e.NamespaceURI() == ns
}

// children returns e's child elements named {ns}local.
func children(e *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	if e == nil {
		return nil
	}
	for _, c := range e.ChildElements() {
		if is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// child returns the only child {ns}local of e; found is false when there is
// none, and err is set when there is more than one (never guess which).
func child(e *etree.Element, ns, local string) (c *etree.Element, found bool, err error) {
	cs := children(e, ns, local)
	switch len(cs) {
	case 0:
		return nil, false, nil
	case 1:
		return cs[0], true, nil
	}
	return nil, false, fmt.Errorf("%w: %d %s elements, at most one allowed", ErrMalformed, len(cs), local)
}

// mustChild is child for an element that is required.
func mustChild(e *etree.Element, ns, local string) (*etree.Element, error) {
	c, found, err := child(e, ns, local)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: %s missing", ErrMalformed, local)
	}
	return c, nil
}

// descendants counts all elements {ns}local below e (e excluded), at any
// depth: wrapping attacks hide assertions in Extensions or elsewhere.
func descendants(e *etree.Element, ns, local string) int {
	n := 0
	for _, c := range e.ChildElements() {
		if is(c, ns, local) {
			n++
		}
		n += descendants(c, ns, local)
	}
	return n
}

// text returns the character data directly inside e, concatenated across
// comments and CDATA (a comment never cuts a value short), trimmed of XML
// white space.
func text(e *etree.Element) string {
	if e == nil {
		return ""
	}
	var b strings.Builder
	for _, t := range e.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return strings.Trim(b.String(), " \t\r\n")
}

// attr returns the value of the unqualified attribute key of e and whether
// it is present.
func attr(e *etree.Element, key string) (string, bool) {
	for _, a := range e.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

func attrValue(e *etree.Element, key string) string {
	v, _ := attr(e, key)
	return v
}

// nsAttr returns the attribute {ns}key of e.
func nsAttr(e *etree.Element, ns, key string) (string, bool) {
	for i := range e.Attr {
		a := &e.Attr[i]
		if a.Key == key && a.Space != "" && a.Space != "xmlns" && a.NamespaceURI() == ns {
			return a.Value, true
		}
	}
	return "", false
}

// truncate shortens s for error messages; foreign text is never echoed in
// full.
func truncate(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
