package nezo

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// NEZO attribute names (the Name of saml:Attribute; NEZO uses plain German
// names, not URIs). Sources: the public NEZO integrations of the City of
// Munich and the Bavarian portal (attribute mappers); see the package doc.
const (
	AttrPseudonym             = "DatenuebermittlerPseudonymId"
	AttrLevel                 = "ElsterVertrauensniveauAuthentifizierung"
	AttrLevelIdentification   = "ElsterVertrauensniveauIdentifizierung"
	AttrIstTestkonto          = "IstTestkonto"
	AttrVorname               = "Vorname"
	AttrName                  = "Name"
	AttrGeburtsdatum          = "Geburtsdatum"
	AttrGeburtsname           = "Geburtsname"
	AttrGeburtsort            = "Geburtsort"
	AttrAkademischerGrad      = "AkademischerGrad"
	AttrAnschrift             = "Anschrift"
	AttrHandelndePerson       = "HandelndePerson"
	AttrFirmenname            = "Firmenname"
	AttrStNr                  = "StNr"
	AttrUmsatzsteuerID        = "umsatzsteuerId"
	AttrRechtsform            = "Rechtsform"
	AttrRechtsformText        = "RechtsformText"
	AttrRegisterart           = "Registerart"
	AttrRegisternummer        = "Registernummer"
	AttrRegistergericht       = "Registergericht"
	AttrUnternehmensanschrift = "Unternehmensanschrift"
	AttrPersTyp               = "PersTyp"
	AttrDatenkranzTyp         = "DatenkranzTyp"
)

// KnownAttributes may be requested in the configuration.
var KnownAttributes = []string{
	AttrPseudonym, AttrLevel, AttrLevelIdentification, AttrIstTestkonto, AttrVorname, AttrName,
	AttrGeburtsdatum, AttrGeburtsname, AttrGeburtsort, AttrAkademischerGrad, AttrAnschrift,
	AttrHandelndePerson, AttrFirmenname, AttrStNr, AttrUmsatzsteuerID, AttrRechtsform, AttrRechtsformText,
	AttrRegisterart, AttrRegisternummer, AttrRegistergericht, AttrUnternehmensanschrift, AttrPersTyp,
	AttrDatenkranzTyp,
}

// Parser limits: NEZO values are short master data.
const (
	maxAttributes = 100
	maxValueLen   = 512
	maxFields     = 16
)

// ErrEkona is wrapped by every refusal of the attribute parser.
var ErrEkona = errors.New("nezo: attribute statement not acceptable")

// Value is one parsed AttributeValue: a simple value has Text; a value of
// an ekona: structured type (xsi:type "ekona:…" with child elements) has
// Type (the local type name) and Fields, keyed on the children's local
// names. Nothing is flattened into one string.
type Value struct {
	Text   string
	Type   string
	Fields map[string]string
}

// Attributes are the attributes of one assertion, keyed on Name.
type Attributes map[string]Value

// ParseAttributes reads a saml:AttributeStatement structurally. Rules:
// each Attribute has a Name and exactly one AttributeValue (a second value
// or a duplicate Name is refused, never guessed between); a value is
// either text or (for xsi:type in the ekona: vocabulary) a flat list of
// child elements with text, each child at most once; values are valid
// UTF-8 without control characters and at most maxValueLen bytes; an
// empty value counts as absent. Attribute names outside KnownAttributes
// are ignored (ELSTER may add attributes). It never returns values in
// errors.
func ParseAttributes(stmt *etree.Element) (Attributes, error) {
	out := Attributes{}
	attrs := samlxml.Children(stmt, samlxml.NSAssertion, "Attribute")
	if len(attrs) > maxAttributes {
		return nil, fmt.Errorf("%w: %d attributes", ErrEkona, len(attrs))
	}
	for _, a := range attrs {
		name := samlxml.AttrValue(a, "Name")
		if name == "" {
			return nil, fmt.Errorf("%w: Attribute without Name", ErrEkona)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%w: attribute %q twice", ErrEkona, samlxml.Truncate(name, 60))
		}
		vals := samlxml.Children(a, samlxml.NSAssertion, "AttributeValue")
		if len(vals) != 1 {
			return nil, fmt.Errorf("%w: attribute %q has %d values, need one", ErrEkona, samlxml.Truncate(name, 60), len(vals))
		}
		v, err := parseValue(vals[0])
		if err != nil {
			return nil, fmt.Errorf("%w: attribute %q: %w", ErrEkona, samlxml.Truncate(name, 60), err)
		}
		out[name] = v
	}
	return out, nil
}

// parseValue reads one AttributeValue.
func parseValue(e *etree.Element) (Value, error) {
	typ, _ := samlxml.NSAttr(e, samlxml.NSXSI, "type")
	local := typ
	if i := strings.IndexByte(typ, ':'); i >= 0 {
		local = typ[i+1:]
	}
	kids := e.ChildElements()
	if len(kids) == 0 {
		t, err := cleanText(samlxml.Text(e))
		return Value{Text: t, Type: local}, err
	}
	if strings.TrimSpace(ownText(e)) != "" {
		return Value{}, errors.New("mixed content")
	}
	if len(kids) > maxFields {
		return Value{}, fmt.Errorf("%d fields", len(kids))
	}
	v := Value{Type: local, Fields: map[string]string{}}
	for _, k := range kids {
		if len(k.ChildElements()) > 0 {
			return Value{}, fmt.Errorf("field %q is nested", samlxml.Truncate(k.Tag, 40))
		}
		if _, dup := v.Fields[k.Tag]; dup {
			return Value{}, fmt.Errorf("field %q twice", samlxml.Truncate(k.Tag, 40))
		}
		t, err := cleanText(samlxml.Text(k))
		if err != nil {
			return Value{}, fmt.Errorf("field %q: %w", samlxml.Truncate(k.Tag, 40), err)
		}
		v.Fields[k.Tag] = t
	}
	return v, nil
}

// ownText is the element's direct character data (not its children's).
func ownText(e *etree.Element) string {
	var b strings.Builder
	for _, t := range e.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return b.String()
}

func cleanText(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case len(s) > maxValueLen:
		return "", fmt.Errorf("value longer than %d bytes", maxValueLen)
	case !utf8.ValidString(s):
		return "", errors.New("value is not UTF-8")
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", errors.New("value contains control characters")
	}
	return s, nil
}

// text returns a simple attribute's value ("" when absent or structured).
func (as Attributes) text(name string) string {
	v, ok := as[name]
	if !ok || v.Fields != nil {
		return ""
	}
	return v.Text
}

// address reads an ekona address value (Strasse, Hausnummer, PLZ, Ort,
// Ortsteil, Adressergaenzung, Land) as an OIDC address; nil when absent.
// A simple (text) value is taken as the formatted address.
func (as Attributes) address(name string) *adapters.Address {
	v, ok := as[name]
	if !ok {
		return nil
	}
	if v.Fields == nil {
		if v.Text == "" {
			return nil
		}
		return &adapters.Address{Formatted: v.Text}
	}
	f := v.Fields
	street := strings.TrimSpace(f["Strasse"] + " " + f["Hausnummer"])
	locality := f["Ort"]
	if f["Ortsteil"] != "" && locality != "" {
		locality += "-" + f["Ortsteil"]
	}
	a := &adapters.Address{StreetAddress: street, PostalCode: f["PLZ"], Locality: locality, Country: countryCode(f["Land"])}
	if f["Adressergaenzung"] != "" {
		a.StreetAddress = strings.TrimSpace(a.StreetAddress + "\n" + f["Adressergaenzung"])
	}
	var lines []string
	for _, l := range []string{a.StreetAddress, strings.TrimSpace(a.PostalCode + " " + a.Locality), landName(f["Land"])} {
		if l != "" {
			lines = append(lines, l)
		}
	}
	a.Formatted = strings.Join(lines, "\n")
	if *a == (adapters.Address{}) {
		return nil
	}
	return a
}

var alpha2 = regexp.MustCompile(`^[A-Z]{2}$`)

// countryCode turns ELSTER's Land into ISO 3166-1 alpha-2 where it is one
// already or the usual German spellings of Germany; otherwise "" (the
// formatted address keeps the original).
func countryCode(land string) string {
	switch l := strings.TrimSpace(land); {
	case alpha2.MatchString(l):
		return l
	case l == "D", strings.EqualFold(l, "Deutschland"), strings.EqualFold(l, "Germany"):
		return "DE"
	}
	return ""
}

func landName(land string) string {
	if c := countryCode(land); c == "DE" || land == "" {
		return ""
	}
	return land
}

// birthdate accepts YYYY-MM-DD (xsd:date) and DD.MM.YYYY (German notation)
// and returns YYYY-MM-DD; "" with an error for anything else.
func birthdate(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	for _, layout := range []string{time.DateOnly, "02.01.2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(time.DateOnly), nil
		}
	}
	return "", errors.New("birth date is neither YYYY-MM-DD nor DD.MM.YYYY")
}
