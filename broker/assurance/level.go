package assurance

import (
	"errors"
	"fmt"
	"strconv"
)

// Level is a level of assurance. The zero value is Unspecified, which
// satisfies no floor: an identity whose level is unknown is treated as unproven.
//
// Notified levels are ordered (Low < Substantial < High). The not-notified eIDAS
// levels are distinct values outside that order: they never satisfy a notified
// floor unless an admin maps them (see Map), as DESIGN §2 decides.
type Level uint8

// The levels. The numeric values are part of no wire format: never persist them,
// persist String() and read back with ParseName.
const (
	Unspecified Level = iota
	Low
	Substantial
	High
	NotNotifiedLow
	NotNotifiedSubstantial
	NotNotifiedHigh
)

// eIDAS LoA URIs (eIDAS SAML Message Format v1.4 §3.1).
const (
	URILow                    = "http://eidas.europa.eu/LoA/low"
	URISubstantial            = "http://eidas.europa.eu/LoA/substantial"
	URIHigh                   = "http://eidas.europa.eu/LoA/high"
	URINotNotifiedLow         = "http://eidas.europa.eu/NotNotified/LoA/low"
	URINotNotifiedSubstantial = "http://eidas.europa.eu/NotNotified/LoA/substantial"
	URINotNotifiedHigh        = "http://eidas.europa.eu/NotNotified/LoA/high"
)

// BSI TR-03130 eID-Server level URIs.
const (
	BSINormal       = "http://bsi.bund.de/eID/LoA/normal"
	BSISubstantiell = "http://bsi.bund.de/eID/LoA/substantiell"
	BSIHoch         = "http://bsi.bund.de/eID/LoA/hoch"
)

// ErrUnknown is returned (wrapped) for a value no mapping knows.
var ErrUnknown = errors.New("unknown level of assurance")

// Notified reports whether l is one of the ordered, notified levels.
func (l Level) Notified() bool { return l == Low || l == Substantial || l == High }

// Satisfies reports whether an identity proved at l meets the floor min.
// Only notified levels satisfy anything; a not-notified level satisfies only
// the identical not-notified floor (an exact match, never an ordering), and
// Unspecified satisfies nothing.
func (l Level) Satisfies(min Level) bool {
	switch {
	case l == Unspecified:
		return false
	case min == Unspecified:
		return true
	case l.Notified() && min.Notified():
		return l >= min
	default:
		return l == min
	}
}

// Max returns the higher of two floors. Only notified levels order; a
// not-notified or unspecified argument is ignored. It is how floors combine:
// a request can raise a floor, never lower it.
func Max(a, b Level) Level {
	switch {
	case !b.Notified():
		return a
	case !a.Notified(), b > a:
		return b
	}
	return a
}

// String returns the config name (low, substantial, high, notnotified-low, …).
func (l Level) String() string {
	switch l {
	case Unspecified:
		return "unspecified"
	case Low:
		return "low"
	case Substantial:
		return "substantial"
	case High:
		return "high"
	case NotNotifiedLow:
		return "notnotified-low"
	case NotNotifiedSubstantial:
		return "notnotified-substantial"
	case NotNotifiedHigh:
		return "notnotified-high"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// URI returns the eIDAS LoA URI, which is also the OIDC acr value. Unspecified
// has none and returns "".
func (l Level) URI() string {
	switch l {
	case Low:
		return URILow
	case Substantial:
		return URISubstantial
	case High:
		return URIHigh
	case NotNotifiedLow:
		return URINotNotifiedLow
	case NotNotifiedSubstantial:
		return URINotNotifiedSubstantial
	case NotNotifiedHigh:
		return URINotNotifiedHigh
	case Unspecified:
	}
	return ""
}

// BSIURI returns the TR-03130 level URI; not-notified and unspecified levels
// have none and return "".
func (l Level) BSIURI() string {
	switch l {
	case Low:
		return BSINormal
	case Substantial:
		return BSISubstantiell
	case High:
		return BSIHoch
	case Unspecified, NotNotifiedLow, NotNotifiedSubstantial, NotNotifiedHigh:
	}
	return ""
}

// STORKQAA returns the STORK QAA number (2, 3, 4); 0 when there is none.
func (l Level) STORKQAA() int {
	switch l {
	case Low:
		return 2
	case Substantial:
		return 3
	case High:
		return 4
	case Unspecified, NotNotifiedLow, NotNotifiedSubstantial, NotNotifiedHigh:
	}
	return 0
}

// ParseURI maps an eIDAS LoA URI (notified or not) to a Level. Matching is
// exact: a trailing slash or a different case is a different URI.
func ParseURI(s string) (Level, error) {
	switch s {
	case URILow:
		return Low, nil
	case URISubstantial:
		return Substantial, nil
	case URIHigh:
		return High, nil
	case URINotNotifiedLow:
		return NotNotifiedLow, nil
	case URINotNotifiedSubstantial:
		return NotNotifiedSubstantial, nil
	case URINotNotifiedHigh:
		return NotNotifiedHigh, nil
	}
	return Unspecified, fmt.Errorf("%w: eIDAS URI %q", ErrUnknown, s)
}

// ParseBSIURI maps a TR-03130 eID-Server level URI to a Level.
func ParseBSIURI(s string) (Level, error) {
	switch s {
	case BSINormal:
		return Low, nil
	case BSISubstantiell:
		return Substantial, nil
	case BSIHoch:
		return High, nil
	}
	return Unspecified, fmt.Errorf("%w: BSI URI %q", ErrUnknown, s)
}

// ParseSTORKQAA maps a STORK QAA level. QAA 1 has no eIDAS equivalent and is
// refused rather than rounded.
func ParseSTORKQAA(n int) (Level, error) {
	switch n {
	case 2:
		return Low, nil
	case 3:
		return Substantial, nil
	case 4:
		return High, nil
	}
	return Unspecified, fmt.Errorf("%w: STORK QAA %d", ErrUnknown, n)
}

// ParseName maps a config name (the output of String, except "unspecified").
func ParseName(s string) (Level, error) {
	for l := Low; l <= NotNotifiedHigh; l++ {
		if l.String() == s {
			return l, nil
		}
	}
	return Unspecified, fmt.Errorf("%w: %q (want low, substantial or high)", ErrUnknown, s)
}

// Parse accepts any vocabulary: an eIDAS URI, a BSI URI or a config name.
func Parse(s string) (Level, error) {
	if l, err := ParseURI(s); err == nil {
		return l, nil
	}
	if l, err := ParseBSIURI(s); err == nil {
		return l, nil
	}
	if l, err := ParseName(s); err == nil {
		return l, nil
	}
	return Unspecified, fmt.Errorf("%w: %q", ErrUnknown, s)
}

// MarshalText writes the config name, so levels in JSON and YAML read as words.
func (l Level) MarshalText() ([]byte, error) {
	if l == Unspecified {
		return []byte{}, nil
	}
	return []byte(l.String()), nil
}

// UnmarshalText reads what MarshalText wrote (and the empty string as Unspecified).
func (l *Level) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*l = Unspecified
		return nil
	}
	v, err := ParseName(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Notified returns all notified levels, lowest first.
func NotifiedLevels() []Level { return []Level{Low, Substantial, High} }
