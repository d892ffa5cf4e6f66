package xmlsec

import (
	"strings"

	"github.com/beevik/etree"
)

// is reports whether e is the element {ns}local.
func is(e *etree.Element, ns, local string) bool {
	return e != nil && e.Tag == local && e.NamespaceURI() == ns
}

// children returns e's child elements named {ns}local.
func children(e *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range e.ChildElements() {
		if is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// onlyChild returns the single child {ns}local of e and the number of such
// children; the element is nil unless there is exactly one.
func onlyChild(e *etree.Element, ns, local string) (*etree.Element, int) {
	cs := children(e, ns, local)
	if len(cs) != 1 {
		return nil, len(cs)
	}
	return cs[0], 1
}

// text returns the concatenated character data directly inside e, trimmed of
// XML white space. Comments are skipped, so "a<!---->b" reads as "ab", never
// as "a".
func text(e *etree.Element) string {
	var b strings.Builder
	for _, t := range e.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return strings.Trim(b.String(), " \t\r\n")
}

// attr returns the value of the unqualified attribute key of e.
func attr(e *etree.Element, key string) string {
	for _, a := range e.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value
		}
	}
	return ""
}

// hasAttr reports whether e carries the unqualified attribute key.
func hasAttr(e *etree.Element, key string) bool {
	for _, a := range e.Attr {
		if a.Space == "" && a.Key == key {
			return true
		}
	}
	return false
}

// top returns the outermost element above e (the document node if e sits in
// a document).
func top(e *etree.Element) *etree.Element {
	for e.Parent() != nil {
		e = e.Parent()
	}
	return e
}
