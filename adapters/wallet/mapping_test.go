package wallet

import "testing"

func TestSubjectCanonical(t *testing.T) {
	a := &pid{IssuingCountry: "DE", FamilyName: "Müller", GivenName: "Anna  Maria", Birthdate: "1980-01-02"}
	b := &pid{IssuingCountry: "DE", FamilyName: "MU\u0308LLER", GivenName: "ANNA MARIA", Birthdate: "1980-01-02"}
	if a.subject() != b.subject() {
		t.Fatal("spelling variants of one name give different subjects")
	}
	for _, c := range []*pid{
		{IssuingCountry: "AT", FamilyName: "Müller", GivenName: "Anna Maria", Birthdate: "1980-01-02"},
		{IssuingCountry: "DE", FamilyName: "Müller", GivenName: "Anna", Birthdate: "1980-01-02"},
		{IssuingCountry: "DE", FamilyName: "Müller", GivenName: "Anna Maria", Birthdate: "1980-01-03"},
		// The separator keeps field boundaries: no shifting between names.
		{IssuingCountry: "DE", FamilyName: "Müller Anna", GivenName: "Maria", Birthdate: "1980-01-02"},
	} {
		if c.subject() == a.subject() {
			t.Errorf("%+v has the same subject", c)
		}
	}
}

func TestCountryCode(t *testing.T) {
	for in, want := range map[string]string{"de": "DE", " AT ": "AT", "DEU": "", "D1": "", "": ""} {
		if got := countryCode(in); got != want {
			t.Errorf("countryCode(%q) = %q, want %q", in, got, want)
		}
	}
}
