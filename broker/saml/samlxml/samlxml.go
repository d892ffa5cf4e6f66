package samlxml

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/beevik/etree"
)

// Is reports whether e is the element {ns}local. The prefix plays no part.
func Is(e *etree.Element, ns, local string) bool {
	return e != nil && e.Tag == local && e.NamespaceURI() == ns
}

// Children returns e's child elements named {ns}local, in document order.
func Children(e *etree.Element, ns, local string) []*etree.Element {
	if e == nil {
		return nil
	}
	var out []*etree.Element
	for _, t := range e.Child {
		if c, ok := t.(*etree.Element); ok && Is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// First returns the first child {ns}local of e, or nil. It does not say
// whether there were more; where a message allows only one, count Children.
func First(e *etree.Element, ns, local string) *etree.Element {
	if cs := Children(e, ns, local); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// Descendants returns every element {ns}local below e (e excluded), at any
// depth, in document order. Wrapping attacks hide assertions in Extensions
// or other unexpected places, so counting only children is not enough.
func Descendants(e *etree.Element, ns, local string) []*etree.Element {
	if e == nil {
		return nil
	}
	return appendDescendants(nil, e, ns, local)
}

func appendDescendants(out []*etree.Element, e *etree.Element, ns, local string) []*etree.Element {
	for _, t := range e.Child {
		if c, ok := t.(*etree.Element); ok {
			if Is(c, ns, local) {
				out = append(out, c)
			}
			out = appendDescendants(out, c, ns, local)
		}
	}
	return out
}

// Text returns the character data directly inside e (CDATA included),
// concatenated across comments and trimmed of XML white space. Comments are
// skipped, so "a<!---->b" reads as "ab", never as "a": comment-injection
// attacks rely on readers that stop at a comment.
func Text(e *etree.Element) string {
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

// Attr returns the value of the unqualified attribute key of e and whether
// it is present. A prefixed attribute of the same local name does not count.
func Attr(e *etree.Element, key string) (string, bool) {
	if e == nil {
		return "", false
	}
	for _, a := range e.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// AttrValue is Attr for callers that treat a missing attribute as empty.
func AttrValue(e *etree.Element, key string) string {
	v, _ := Attr(e, key)
	return v
}

// NSAttr returns the value of the attribute {ns}key of e and whether it is
// present. Only a prefixed attribute whose prefix is bound to ns counts;
// namespace declarations (xmlns:key) never do.
func NSAttr(e *etree.Element, ns, key string) (string, bool) {
	if e == nil {
		return "", false
	}
	for i := range e.Attr {
		a := &e.Attr[i]
		if a.Key == key && a.Space != "" && a.Space != "xmlns" && a.NamespaceURI() == ns {
			return a.Value, true
		}
	}
	return "", false
}

// NewID returns a fresh SAML ID: an NCName (it starts with "_", never with
// a digit) carrying 160 random bits in hex, so it is unguessable and never
// repeats.
func NewID() string {
	var b [20]byte
	// Since Go 1.24 crypto/rand.Read never returns an error (it crashes the
	// program if the system's source fails), so there is nothing to handle.
	_, _ = rand.Read(b[:])
	return "_" + hex.EncodeToString(b[:])
}

// AddEntityAttribute appends to an mdattr:EntityAttributes element a
// saml2:Attribute with URI name format and one saml2:AttributeValue per
// value. The caller declares the saml2 prefix (NSAssertion).
func AddEntityAttribute(ea *etree.Element, name string, values ...string) {
	at := ea.CreateElement("saml2:Attribute")
	at.CreateAttr("Name", name)
	at.CreateAttr("NameFormat", AttrNameFormatURI)
	for _, v := range values {
		at.CreateElement("saml2:AttributeValue").SetText(v)
	}
}

// AddKeyDescriptor appends to a role descriptor an md:KeyDescriptor for use
// ("signing" or "encryption") carrying cert, followed by one
// md:EncryptionMethod per method. The caller declares the md (NSMetadata)
// and ds (NSDSig) prefixes.
func AddKeyDescriptor(role *etree.Element, use string, cert *x509.Certificate, methods ...string) {
	kd := role.CreateElement("md:KeyDescriptor")
	kd.CreateAttr("use", use)
	kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
		SetText(base64.StdEncoding.EncodeToString(cert.Raw))
	for _, m := range methods {
		kd.CreateElement("md:EncryptionMethod").CreateAttr("Algorithm", m)
	}
}
