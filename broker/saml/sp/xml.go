package sp

import (
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

const (
	samlVersion      = "2.0"
	maxStatusMessage = 160
)

// parseTime is samlxml.ParseTime with the package's error class.
func parseTime(s string) (time.Time, error) {
	t, err := samlxml.ParseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return t, nil
}

// Child returns the only child {ns}local of e; found is false when there is
// none, and err (ErrMalformed) is set when there is more than one (never
// guess which).
func Child(e *etree.Element, ns, local string) (c *etree.Element, found bool, err error) {
	cs := samlxml.Children(e, ns, local)
	switch len(cs) {
	case 0:
		return nil, false, nil
	case 1:
		return cs[0], true, nil
	}
	return nil, false, fmt.Errorf("%w: %d %s elements, at most one allowed", ErrMalformed, len(cs), local)
}

// MustChild is Child for an element that is required.
func MustChild(e *etree.Element, ns, local string) (*etree.Element, error) {
	c, found, err := Child(e, ns, local)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: %s missing", ErrMalformed, local)
	}
	return c, nil
}

// Serialize writes a (signed) message as a document with an XML
// declaration. xmlsec.Serialize, unlike etree's writer, escapes the
// characters a receiving parser would normalise, so signatures survive.
func Serialize(el *etree.Element) ([]byte, error) {
	b, err := xmlsec.Serialize(el)
	if err != nil {
		return nil, fmt.Errorf("serialise: %w", err)
	}
	return append([]byte(xmlDeclaration), b...), nil
}

const xmlDeclaration = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
