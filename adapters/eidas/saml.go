package eidas

import (
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters/eidas/samlxml"
)

const (
	samlVersion      = "2.0"
	maxStatusMessage = 160
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

// child returns the only child {ns}local of e; found is false when there is
// none, and err is set when there is more than one (never guess which).
func child(e *etree.Element, ns, local string) (c *etree.Element, found bool, err error) {
	cs := samlxml.Children(e, ns, local)
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
