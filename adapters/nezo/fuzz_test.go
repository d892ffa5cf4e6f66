package nezo

import (
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

const fuzzStatement = `<saml2:AttributeStatement xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ekona="urn:x-ekona">` +
	`<saml2:Attribute Name="Firmenname"><saml2:AttributeValue xsi:type="xsd:string">Musterbau GmbH</saml2:AttributeValue></saml2:Attribute>` +
	`<saml2:Attribute Name="Unternehmensanschrift"><saml2:AttributeValue xsi:type="ekona:addresseType"><ekona:Strasse>Weg</ekona:Strasse><ekona:Hausnummer>1</ekona:Hausnummer><ekona:PLZ>80331</ekona:PLZ><ekona:Ort>München</ekona:Ort><ekona:Land>DE</ekona:Land></saml2:AttributeValue></saml2:Attribute>` +
	`<saml2:Attribute Name="HandelndePerson"><saml2:AttributeValue xsi:type="ekona:HandelndePersonType"><ekona:Vorname>Max</ekona:Vorname><ekona:Name>Mustermann</ekona:Name></saml2:AttributeValue></saml2:Attribute>` +
	`</saml2:AttributeStatement>`

// FuzzParseAttributes: the ekona: parser never panics, and whatever it
// accepts respects its limits and maps to claims without panicking.
func FuzzParseAttributes(f *testing.F) {
	f.Add([]byte(fuzzStatement))
	f.Add([]byte(strings.Replace(fuzzStatement, "<ekona:PLZ>80331</ekona:PLZ>", "<ekona:PLZ><x>1</x></ekona:PLZ>", 1)))
	f.Add([]byte(strings.Replace(fuzzStatement, "Musterbau GmbH", "a\x01b", 1)))
	f.Add([]byte(`<saml2:AttributeStatement xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion"><saml2:Attribute Name="Vorname"><saml2:AttributeValue>a</saml2:AttributeValue><saml2:AttributeValue>b</saml2:AttributeValue></saml2:Attribute></saml2:AttributeStatement>`))
	a := &Adapter{cfg: NewConfig().effective()}
	f.Fuzz(func(t *testing.T, raw []byte) {
		doc, err := xmlsec.Parse(raw, xmlsec.Limits{MaxBytes: 64 << 10})
		if err != nil || !samlxml.Is(doc.Root(), samlxml.NSAssertion, "AttributeStatement") {
			return
		}
		as, err := ParseAttributes(doc.Root())
		if err != nil {
			return
		}
		for name, v := range as {
			if name == "" || len(v.Text) > maxValueLen || len(v.Fields) > maxFields {
				t.Fatalf("accepted out of limits: %q %+v", name, v)
			}
			for _, fv := range v.Fields {
				if len(fv) > maxValueLen {
					t.Fatal("field out of limits")
				}
			}
		}
		_, _ = a.identity(as)
		_ = legalEntity(as)
	})
}

// TestParseAttributesRules: the structural rules, one refusal each.
func TestParseAttributesRules(t *testing.T) {
	parse := func(s string) (Attributes, error) {
		doc, err := xmlsec.Parse([]byte(s), xmlsec.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return ParseAttributes(doc.Root())
	}
	as, err := parse(fuzzStatement)
	if err != nil {
		t.Fatal(err)
	}
	if v := as["Unternehmensanschrift"]; v.Type != "addresseType" || v.Fields["Ort"] != "München" || v.Fields["PLZ"] != "80331" {
		t.Errorf("address value %+v", v)
	}
	if a := as.address("Unternehmensanschrift"); a == nil || a.StreetAddress != "Weg 1" || a.Country != "DE" {
		t.Errorf("address claim %+v", a)
	}
	if v := as["HandelndePerson"]; v.Fields["Vorname"] != "Max" || v.Fields["Name"] != "Mustermann" {
		t.Errorf("acting person %+v", v)
	}
	for name, bad := range map[string]string{
		"two values":     strings.Replace(fuzzStatement, `Musterbau GmbH</saml2:AttributeValue>`, `Musterbau GmbH</saml2:AttributeValue><saml2:AttributeValue>B</saml2:AttributeValue>`, 1),
		"duplicate name": strings.Replace(fuzzStatement, `Name="HandelndePerson"`, `Name="Firmenname"`, 1),
		"nested field":   strings.Replace(fuzzStatement, "<ekona:PLZ>80331</ekona:PLZ>", "<ekona:PLZ><ekona:x>1</ekona:x></ekona:PLZ>", 1),
		"field twice":    strings.Replace(fuzzStatement, "<ekona:PLZ>80331</ekona:PLZ>", "<ekona:PLZ>1</ekona:PLZ><ekona:PLZ>2</ekona:PLZ>", 1),
		"mixed content":  strings.Replace(fuzzStatement, "<ekona:PLZ>", "text<ekona:PLZ>", 1),
		"control char":   strings.Replace(fuzzStatement, "Musterbau GmbH", "a&#9;b", 1),
		"too long":       strings.Replace(fuzzStatement, "Musterbau GmbH", strings.Repeat("x", maxValueLen+1), 1),
		"nameless":       strings.Replace(fuzzStatement, `Name="Firmenname"`, ``, 1),
	} {
		if _, err := parse(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestBirthdate(t *testing.T) {
	for in, want := range map[string]string{"1985-11-03": "1985-11-03", "03.11.1985": "1985-11-03", "": ""} {
		if got, err := birthdate(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	for _, bad := range []string{"1985-13-01", "3.11.85", "yesterday"} {
		if _, err := birthdate(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
