package nezosim

// Account is one ELSTER test account of the simulator. Values are
// invented; no real person, company or tax number.
type Account struct {
	ID    string // stable, URL-safe
	Label string // shown on the simulator page
	// Pseudonym is DatenuebermittlerPseudonymId (and the NameID).
	Pseudonym string
	// Level is ElsterVertrauensniveauAuthentifizierung as ELSTER sends it.
	Level     string
	Testkonto bool
	Person    Person
	// Company is set for an organisation account; Person is then the
	// acting person (HandelndePerson).
	Company *Company
}

// Person is a natural person's master data.
type Person struct {
	Vorname, Name, Geburtsdatum, Geburtsname, AkademischerGrad string
	Anschrift                                                  *Anschrift
}

// Company is an organisation's master data.
type Company struct {
	Firmenname, StNr, UmsatzsteuerID, Rechtsform, RechtsformText string
	Registerart, Registernummer, Registergericht                 string
	Anschrift                                                    Anschrift
}

// Anschrift is ELSTER's structured address.
type Anschrift struct {
	Strasse, Hausnummer, PLZ, Ort, Ortsteil, Adressergaenzung, Land string
}

// DefaultAccounts: a person at each level, a company with an acting
// employee, and a test account.
func DefaultAccounts() []Account {
	return []Account{
		{
			ID: "erika", Label: "Erika Musterfrau – Privatperson, substanziell", Pseudonym: "nezo-pseud-erika-7f3a9c",
			Level: "substanziell",
			Person: Person{Vorname: "Erika", Name: "Musterfrau", Geburtsdatum: "1964-08-12", Geburtsname: "Gabler",
				Anschrift: &Anschrift{Strasse: "Heidestraße", Hausnummer: "17", PLZ: "51147", Ort: "Köln", Land: "DE"}},
		},
		{
			ID: "hans", Label: "Dr. Hans Beispiel – Privatperson, hoch", Pseudonym: "nezo-pseud-hans-41bd02",
			Level: "hoch",
			Person: Person{Vorname: "Hans", Name: "Beispiel", Geburtsdatum: "1979-02-28", AkademischerGrad: "Dr.",
				Anschrift: &Anschrift{Strasse: "Marienplatz", Hausnummer: "8", PLZ: "80331", Ort: "München", Ortsteil: "Altstadt", Land: "DE"}},
		},
		{
			ID: "musterbau", Label: "Max Mustermann für Musterbau GmbH – Unternehmenskonto, substanziell", Pseudonym: "nezo-pseud-musterbau-mm-0c55e1",
			Level:  "substanziell",
			Person: Person{Vorname: "Max", Name: "Mustermann", Geburtsdatum: "1985-11-03"},
			Company: &Company{
				Firmenname: "Musterbau GmbH", StNr: "143/123/45678", UmsatzsteuerID: "DE999999999",
				Rechtsform: "GmbH", RechtsformText: "Gesellschaft mit beschränkter Haftung",
				Registerart: "HRB", Registernummer: "123456", Registergericht: "Amtsgericht München",
				Anschrift: Anschrift{Strasse: "Industriestraße", Hausnummer: "5a", PLZ: "80939", Ort: "München", Adressergaenzung: "Halle 3", Land: "DE"},
			},
		},
		{
			ID: "testkonto", Label: "Tim Testkonto – ELSTER-Testkonto (IstTestkonto=true)", Pseudonym: "nezo-pseud-test-99a1",
			Level: "substanziell", Testkonto: true,
			Person: Person{Vorname: "Tim", Name: "Testkonto", Geburtsdatum: "1990-01-01"},
		},
	}
}
