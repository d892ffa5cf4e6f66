package eidassim

import (
	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// Citizen is a test identity of a simulated member state. All data is
// invented.
type Citizen struct {
	// ID is the form value on the simulator page.
	ID    string
	Label string
	// Local is the part of the PersonIdentifier after "XX/YY/".
	Local        string
	FamilyName   Value
	FirstName    Value
	DateOfBirth  string
	BirthName    Value
	PlaceOfBirth string
	Gender       string // Male, Female, Unspecified
	Nationality  []string
	Address      *Address
	// Company, when set, is the legal person this citizen may represent;
	// such a citizen is offered when the connector asks for the legal
	// person's data set.
	Company *Company
}

// Address is a postal address in eIDAS elements.
type Address struct {
	Thoroughfare      string
	LocatorDesignator string
	PostCode          string
	PostName          string
	Country           string // AdminunitFirstline
}

// Company is a legal person.
type Company struct {
	Name  Value
	Local string // LegalPersonIdentifier after "XX/YY/"
	LEI   string
}

// Country is one simulated proxy-service.
type Country struct {
	// Code is the country's code as eIDAS writes it: ISO 3166-1 alpha-2,
	// "EL" for Greece ("GR" is accepted and read as "EL").
	Code  string
	Names adapters.Text
	// Level is the level the country's eID scheme proves.
	Level    assurance.Level
	Citizens []Citizen
	// KeyType selects the generated signing key: "rsa" (RSA-3072, RSASSA-
	// PSS) or "ec" (P-256, ECDSA; default).
	KeyType string
	// RedirectOnly makes the metadata offer only the HTTP-Redirect binding.
	RedirectOnly bool
}

// DefaultCountries are the demo's member states: Austria (high, RSA keys),
// Sweden (substantial), Greece (substantial, names in Greek script with
// Latin transliteration) and Italy (low), so the login page shows how the
// required level filters countries.
func DefaultCountries() []Country {
	return []Country{
		{
			Code: "AT", Names: adapters.Text{DE: "Österreich (Simulator)", EN: "Austria (simulator)"},
			Level: assurance.High, KeyType: "rsa",
			Citizens: []Citizen{
				{
					ID: "anna", Label: "Anna Maria Müller, Wien", Local: "1234567890abc",
					FamilyName: Value{Latin: "Müller"}, FirstName: Value{Latin: "Anna Maria"}, DateOfBirth: "1985-03-21",
					BirthName: Value{Latin: "Anna Maria Huber"}, PlaceOfBirth: "Graz", Gender: "Female", Nationality: []string{"AT"},
					Address: &Address{Thoroughfare: "Praterstraße", LocatorDesignator: "12", PostCode: "1020", PostName: "Wien", Country: "AT"},
				},
				{
					ID: "franz", Label: "Franz Gruber, Linz – vertritt / represents Gruber Bau GmbH", Local: "7781X22AB",
					FamilyName: Value{Latin: "Gruber"}, FirstName: Value{Latin: "Franz"}, DateOfBirth: "1971-11-02",
					Gender: "Male", Nationality: []string{"AT"},
					Address: &Address{Thoroughfare: "Landstraße", LocatorDesignator: "5", PostCode: "4020", PostName: "Linz", Country: "AT"},
					Company: &Company{Name: Value{Latin: "Gruber Bau GmbH"}, Local: "FN123456a", LEI: "529900T8BM49AURSDO55"},
				},
			},
		},
		{
			Code: "SE", Names: adapters.Text{DE: "Schweden (Simulator)", EN: "Sweden (simulator)"},
			Level: assurance.Substantial,
			Citizens: []Citizen{
				{
					ID: "sven", Label: "Sven Svensson, Göteborg", Local: "198001011234",
					FamilyName: Value{Latin: "Svensson"}, FirstName: Value{Latin: "Sven"}, DateOfBirth: "1980-01-01",
					Gender: "Male", Nationality: []string{"SE"},
				},
				{
					ID: "karin", Label: "Karin Lind, Malmö – vertritt / represents Lind Design AB", Local: "197605054321",
					FamilyName: Value{Latin: "Lind"}, FirstName: Value{Latin: "Karin"}, DateOfBirth: "1976-05-05",
					Gender: "Female", Nationality: []string{"SE"},
					Company: &Company{Name: Value{Latin: "Lind Design AB"}, Local: "5560001234"},
				},
			},
		},
		{
			Code: "EL", Names: adapters.Text{DE: "Griechenland (Simulator)", EN: "Greece (simulator)"},
			Level: assurance.Substantial,
			Citizens: []Citizen{
				{
					ID: "eleni", Label: "Ελένη Παπαδοπούλου (Eleni Papadopoulou), Αθήνα", Local: "GR55512345",
					FamilyName: Value{Latin: "Papadopoulou", Native: "Παπαδοπούλου"}, FirstName: Value{Latin: "Eleni", Native: "Ελένη"},
					DateOfBirth: "1990-07-14", BirthName: Value{Latin: "Eleni Georgiou", Native: "Ελένη Γεωργίου"},
					PlaceOfBirth: "Athina", Gender: "Female", Nationality: []string{"GR"},
					Address: &Address{Thoroughfare: "Odos Ermou", LocatorDesignator: "44", PostCode: "10563", PostName: "Athina", Country: "GR"},
				},
			},
		},
		{
			Code: "IT", Names: adapters.Text{DE: "Italien (Simulator)", EN: "Italy (simulator)"},
			Level: assurance.Low,
			Citizens: []Citizen{
				{
					ID: "mario", Label: "Mario Rossi, Roma", Local: "RSSMRA80A01H501U",
					FamilyName: Value{Latin: "Rossi"}, FirstName: Value{Latin: "Mario"}, DateOfBirth: "1980-01-01",
					Gender: "Male", Nationality: []string{"IT"},
				},
			},
		},
	}
}
