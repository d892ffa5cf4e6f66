package eidasservice

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"strings"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// Natural-person attribute Name URIs (eIDAS SAML Attribute Profile v1.4
// §2.2). Attributes are always keyed on Name, never on FriendlyName.
const (
	naturalPrefix = "http://eidas.europa.eu/attributes/naturalperson/"

	AttrPersonIdentifier = naturalPrefix + "PersonIdentifier"
	AttrFamilyName       = naturalPrefix + "CurrentFamilyName"
	AttrFirstName        = naturalPrefix + "CurrentGivenName"
	AttrDateOfBirth      = naturalPrefix + "DateOfBirth"
	AttrBirthName        = naturalPrefix + "BirthName"
	AttrPlaceOfBirth     = naturalPrefix + "PlaceOfBirth"
	AttrCurrentAddress   = naturalPrefix + "CurrentAddress"
	AttrGender           = naturalPrefix + "Gender"
	AttrNationality      = naturalPrefix + "Nationality"
)

// attrDef describes one attribute the service knows.
type attrDef struct {
	Name         string
	FriendlyName string
	// XSIType is the value type in the natural-person namespace (prefix
	// eidas-natural), written as xsi:type on every value.
	XSIType string
	// Claims are the adapters.Claims (OIDC names) the eID adapter must read
	// to produce the attribute; PersonIdentifier needs only the pseudonym,
	// which the adapter always reads.
	Claims []string
	// Published attributes are listed in the metadata and may be requested.
	// Gender is mapped when an identity carries it, but the German eID card
	// holds no sex data (TR-03130-3), so it is not offered.
	Published bool
	Label     adapters.Text
}

// attrDefs is the table of supported attributes, in the order the consent
// page and the metadata list them.
var attrDefs = []attrDef{
	{Name: AttrPersonIdentifier, FriendlyName: "PersonIdentifier", XSIType: "PersonIdentifierType", Published: true,
		Label: adapters.Text{DE: "Personenkennung (für diesen Dienst)", EN: "Person identifier (for this service)"}},
	{Name: AttrFamilyName, FriendlyName: "FamilyName", XSIType: "CurrentFamilyNameType", Claims: []string{"family_name"}, Published: true,
		Label: adapters.Text{DE: "Familienname", EN: "Family name"}},
	{Name: AttrFirstName, FriendlyName: "FirstName", XSIType: "CurrentGivenNameType", Claims: []string{"given_name"}, Published: true,
		Label: adapters.Text{DE: "Vorname(n)", EN: "Given name(s)"}},
	{Name: AttrDateOfBirth, FriendlyName: "DateOfBirth", XSIType: "DateOfBirthType", Claims: []string{"birthdate"}, Published: true,
		Label: adapters.Text{DE: "Geburtsdatum", EN: "Date of birth"}},
	{Name: AttrBirthName, FriendlyName: "BirthName", XSIType: "BirthNameType", Claims: []string{"given_name", "family_name", "birth_family_name"}, Published: true,
		Label: adapters.Text{DE: "Geburtsname (Vornamen und Familienname bei Geburt)", EN: "Birth name (given and family names at birth)"}},
	{Name: AttrPlaceOfBirth, FriendlyName: "PlaceOfBirth", XSIType: "PlaceOfBirthType", Claims: []string{"place_of_birth"}, Published: true,
		Label: adapters.Text{DE: "Geburtsort", EN: "Place of birth"}},
	{Name: AttrCurrentAddress, FriendlyName: "CurrentAddress", XSIType: "CurrentAddressType", Claims: []string{"address"}, Published: true,
		Label: adapters.Text{DE: "Anschrift", EN: "Current address"}},
	{Name: AttrNationality, FriendlyName: "Nationality", XSIType: "NationalityType", Claims: []string{"nationalities"}, Published: true,
		Label: adapters.Text{DE: "Staatsangehörigkeit", EN: "Nationality"}},
	{Name: AttrGender, FriendlyName: "Gender", XSIType: "GenderType", Claims: []string{"gender"}, Published: false,
		Label: adapters.Text{DE: "Geschlecht", EN: "Gender"}},
}

func lookupAttr(name string) (attrDef, bool) {
	for _, d := range attrDefs {
		if d.Name == name {
			return d, true
		}
	}
	return attrDef{}, false
}

// attrValue is one attribute ready for release: the values as they go into
// the assertion and a human-readable form for the consent page.
type attrValue struct {
	Name    string   `json:"n"`
	Values  []string `json:"v"`
	Display string   `json:"d"`
}

// pseudonym derives the per-connector identifier from the eID card's
// restricted identification: lower-case hex of HMAC-SHA256 keyed with the
// configured secret over the connector's entity ID and the restricted ID.
//
// Why: the restricted identification is already specific to our terminal
// sector, but every connector of every member state would see the same
// value. Keying it per connector keeps connectors from linking their
// users (eIDAS Attribute Profile §2.5 allows hashed identifiers) and the
// secret keeps anyone without it from computing the value from a
// restricted ID. Hex keeps the identifier within the character set every
// implementation accepts (no whitespace, case-insensitive safe, 64
// characters, far below the 256-character limit).
func pseudonym(secret []byte, connectorEntityID, restrictedID string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("eidas-service-person-identifier\x00"))
	m.Write([]byte(connectorEntityID))
	m.Write([]byte{0})
	m.Write([]byte(restrictedID))
	return hex.EncodeToString(m.Sum(nil))
}

// personIdentifier builds "XX/YY/zzz" (Attribute Profile §2.2.3): XX is our
// node country, YY the connector's country.
func personIdentifier(nodeCountry, connectorCountry, pseudo string) string {
	return nodeCountry + "/" + connectorCountry + "/" + pseudo
}

// eidasDate turns the claims' birthdate (YYYY-MM-DD, YYYY-MM or YYYY) into
// the eIDAS DateOfBirth. Unknown month or day are written as "00", as the
// German eIDAS middleware does for partial dates from the chip (its blanks
// become zeros); an unknown year yields "" (attribute not available).
func eidasDate(d string) (string, error) {
	switch len(d) {
	case 0:
		return "", nil
	case 4:
		if !digits(d) {
			return "", fmt.Errorf("map date of birth: %w: malformed year", ErrAuthentication)
		}
		return d + "-00-00", nil
	case 7:
		if !digits(d[:4]) || d[4] != '-' || !digits(d[5:]) {
			return "", fmt.Errorf("map date of birth: %w: malformed year-month", ErrAuthentication)
		}
		return d + "-00", nil
	case 10:
		if !digits(d[:4]) || d[4] != '-' || !digits(d[5:7]) || d[7] != '-' || !digits(d[8:]) {
			return "", fmt.Errorf("map date of birth: %w: malformed date", ErrAuthentication)
		}
		return d, nil
	}
	return "", fmt.Errorf("map date of birth: %w: malformed date", ErrAuthentication)
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// addressXML renders an address as the eIDAS CurrentAddress value: the
// base64 of an XML fragment of eidas-natural elements without a root or
// namespace declarations (Attribute Profile §2.6), one element per line in
// the order the profile's type lists them. The chip's street line keeps its
// house number (the eID does not separate them), so it goes to
// Thoroughfare whole; a free-text address goes to FullCvaddress.
func addressXML(a *adapters.Address) string {
	if a == nil {
		return ""
	}
	var b strings.Builder
	el := func(name, v string) {
		v = strings.TrimSpace(v)
		if v == "" {
			return
		}
		b.WriteString("<eidas-natural:" + name + ">" + html.EscapeString(v) + "</eidas-natural:" + name + ">\n")
	}
	structured := a.StreetAddress != "" || a.Locality != "" || a.PostalCode != ""
	if structured {
		el("Thoroughfare", a.StreetAddress)
		el("PostName", a.Locality)
		el("AdminunitFirstline", a.Country)
		el("AdminunitSecondline", a.Region)
		el("PostCode", a.PostalCode)
	} else {
		el("FullCvaddress", a.Formatted)
		el("AdminunitFirstline", a.Country)
	}
	if b.Len() == 0 {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(strings.TrimSuffix(b.String(), "\n")))
}

func displayAddress(a *adapters.Address) string {
	if a.Formatted != "" {
		return strings.ReplaceAll(a.Formatted, "\n", ", ")
	}
	var parts []string
	for _, p := range []string{a.StreetAddress, strings.TrimSpace(a.PostalCode + " " + a.Locality), a.Region, a.Country} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// eidasGender maps the claims' gender to the profile's three values.
func eidasGender(g string) string {
	switch strings.ToLower(strings.TrimSpace(g)) {
	case "":
		return ""
	case "male", "m":
		return "Male"
	case "female", "f", "w":
		return "Female"
	}
	return "Unspecified"
}

// mapAttribute produces one attribute from a verified identity. An empty
// result means the identity does not carry it.
func mapAttribute(d attrDef, id adapters.Identity, personID string) (attrValue, error) {
	c := id.Claims
	one := func(v string) attrValue {
		v = strings.TrimSpace(v)
		if v == "" {
			return attrValue{}
		}
		return attrValue{Name: d.Name, Values: []string{v}, Display: v}
	}
	switch d.Name {
	case AttrPersonIdentifier:
		return one(personID), nil
	case AttrFamilyName:
		return one(c.FamilyName), nil
	case AttrFirstName:
		return one(c.GivenName), nil
	case AttrDateOfBirth:
		v, err := eidasDate(c.Birthdate)
		if err != nil {
			return attrValue{}, err
		}
		return one(v), nil
	case AttrBirthName:
		// Given names plus the family name at birth; a card without a birth
		// name (DG13 absent because it equals the family name) yields the
		// current family name, as the German middleware does.
		fam := c.BirthFamilyName
		if fam == "" {
			fam = c.FamilyName
		}
		if c.GivenName == "" || fam == "" {
			return attrValue{}, nil
		}
		return one(c.GivenName + " " + fam), nil
	case AttrPlaceOfBirth:
		if p := c.PlaceOfBirth; p != nil {
			if p.Locality != "" {
				return one(p.Locality), nil
			}
			return one(strings.Join(nonEmpty(p.Region, p.Country), ", ")), nil
		}
		return attrValue{}, nil
	case AttrCurrentAddress:
		if c.Address == nil {
			return attrValue{}, nil
		}
		v := addressXML(c.Address)
		if v == "" {
			return attrValue{}, nil
		}
		return attrValue{Name: d.Name, Values: []string{v}, Display: displayAddress(c.Address)}, nil
	case AttrNationality:
		if len(c.Nationalities) == 0 {
			return attrValue{}, nil
		}
		// The claims hold ISO codes; eIDAS writes Greece as "EL", as the
		// German eIDAS middleware does for the card's "GRC".
		vals := make([]string, len(c.Nationalities))
		for i, n := range c.Nationalities {
			vals[i] = samlxml.CountryCode(n)
		}
		return attrValue{Name: d.Name, Values: vals, Display: strings.Join(c.Nationalities, ", ")}, nil
	case AttrGender:
		return one(eidasGender(c.Gender)), nil
	}
	return attrValue{}, nil
}

func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
