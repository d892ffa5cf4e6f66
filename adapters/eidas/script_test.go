package eidas

import (
	"strings"
	"testing"

	"github.com/beevik/etree"
)

func TestScriptTag(t *testing.T) {
	for _, tc := range []struct {
		value, country, want string
	}{
		{"Παπαδοπούλου", "EL", "el"},
		{"Παπαδοπούλου", "CY", "el"},
		{"Ελένη-Μαρία Γεωργίου", "EL", "el"},
		{"Иванова", "BG", "bg"},
		{"Иванова", "EE", "und-Cyrl"},
		{"Иванова Ivanova", "BG", "bg"}, // the script with most letters
		{"כהן", "AT", "und-Hebr"},
		{"Müller", "AT", "und"}, // marked non-Latin, but Latin
		{"1234", "EL", "und"},
		{"", "EL", "und"},
	} {
		if got := scriptTag(tc.value, tc.country); got != tc.want {
			t.Errorf("scriptTag(%q, %s) = %q, want %q", tc.value, tc.country, got, tc.want)
		}
	}
}

// TestMapNonLatinValues maps attribute statements with LatinScript="false"
// values the way proxy-services send them (a Latin and a non-Latin value
// per attribute, Attribute Profile §2.4): every non-Latin value lands
// under its language tag in Claims.Scripts, nothing in birth_family_name.
func TestMapNonLatinValues(t *testing.T) {
	const n = "http://eidas.europa.eu/attributes/naturalperson/"
	const l = "http://eidas.europa.eu/attributes/legalperson/"
	attr := func(name, latin, native string) string {
		s := `<saml2:Attribute Name="` + name + `" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"><saml2:AttributeValue>` + latin + `</saml2:AttributeValue>`
		if native != "" {
			s += `<saml2:AttributeValue eidas-natural:LatinScript="false">` + native + `</saml2:AttributeValue>`
		}
		return s + `</saml2:Attribute>`
	}
	statement := func(attrs ...string) *etree.Element {
		doc := etree.NewDocument()
		err := doc.ReadFromString(`<saml2:AttributeStatement xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:eidas-natural="http://eidas.europa.eu/attributes/naturalperson">` +
			strings.Join(attrs, "") + `</saml2:AttributeStatement>`)
		if err != nil {
			t.Fatal(err)
		}
		return doc.Root()
	}
	a := &Adapter{cfg: Config{NodeCountry: "DE"}}
	t.Run("natural person from Bulgaria", func(t *testing.T) {
		st := &loginState{Attrs: []string{AttrFamilyName, AttrFirstName, AttrBirthName, AttrPlaceOfBirth}}
		id, err := a.mapAttributes(statement(
			attr(AttrPersonIdentifier, "BG/DE/123", ""),
			attr(AttrFamilyName, "Ivanova", "Иванова"),
			attr(AttrFirstName, "Maria", "Мария"),
			attr(AttrBirthName, "Maria Petrova", "Мария Петрова"),
			attr(AttrPlaceOfBirth, "Sofia", "София"),
		), &country{code: "BG"}, st)
		if err != nil {
			t.Fatal(err)
		}
		c := id.Claims
		bg := c.Scripts["bg"]
		if len(c.Scripts) != 1 || c.FamilyName != "Ivanova" || bg.FamilyName != "Иванова" || bg.GivenName != "Мария" {
			t.Errorf("names %+v / %+v", c, c.Scripts)
		}
		if c.BirthFamilyName != "" || bg.BirthFamilyName != "" || c.Extra["birth_name"] != "Maria Petrova" || bg.Extra["birth_name"] != "Мария Петрова" {
			t.Errorf("birth name %+v / %+v", c, bg)
		}
		if c.PlaceOfBirth == nil || c.PlaceOfBirth.Locality != "Sofia" || bg.PlaceOfBirth == nil || bg.PlaceOfBirth.Locality != "София" {
			t.Errorf("place of birth %+v / %+v", c.PlaceOfBirth, bg.PlaceOfBirth)
		}
		for k := range c.Extra {
			if strings.HasSuffix(k, "_native") {
				t.Errorf("undocumented claim %s", k)
			}
		}
	})
	t.Run("representative of a Greek company", func(t *testing.T) {
		st := &loginState{Attrs: []string{AttrLegalPersonIdentifier, AttrLegalName}}
		id, err := a.mapAttributes(statement(
			attr(AttrLegalPersonIdentifier, "EL/DE/998877", ""),
			attr(l+"LegalName", "Etaireia AE", "Εταιρεία ΑΕ"),
			attr(n+"representative/PersonIdentifier", "EL/DE/123", ""),
			attr(n+"representative/CurrentFamilyName", "Papadopoulou", "Παπαδοπούλου"),
			attr(n+"representative/CurrentGivenName", "Eleni", ""),
			attr(n+"representative/DateOfBirth", "1990-07-14", ""),
		), &country{code: "EL"}, st)
		if err != nil {
			t.Fatal(err)
		}
		c := id.Claims
		el := c.Scripts["el"]
		if c.LegalEntity == nil || c.LegalEntity.Name != "Etaireia AE" || el.LegalEntity == nil || el.LegalEntity.Name != "Εταιρεία ΑΕ" || el.LegalEntity.Identifier != "" {
			t.Errorf("legal entity %+v / %+v", c.LegalEntity, el.LegalEntity)
		}
		if c.FamilyName != "Papadopoulou" || el.FamilyName != "Παπαδοπούλου" || el.GivenName != "" {
			t.Errorf("representative %+v / %+v", c, el)
		}
	})
}
