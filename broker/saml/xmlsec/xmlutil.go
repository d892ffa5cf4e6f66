package xmlsec

import (
	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// onlyChild returns the single child {ns}local of e and the number of such
// children; the element is nil unless there is exactly one.
func onlyChild(e *etree.Element, ns, local string) (*etree.Element, int) {
	cs := samlxml.Children(e, ns, local)
	if len(cs) != 1 {
		return nil, len(cs)
	}
	return cs[0], 1
}

// top returns the outermost element above e (the document node if e sits in
// a document).
func top(e *etree.Element) *etree.Element {
	for e.Parent() != nil {
		e = e.Parent()
	}
	return e
}
