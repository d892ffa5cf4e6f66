package eidsim

import (
	"github.com/ozg-broker/eidas-broker/adapters/eid"
)

// Card is a simulated eID document with the data groups of its chip. Values
// are written as the chip holds them: upper case, ICAO country codes, dates
// as YYYYMMDD with blanks for unknown parts.
type Card struct {
	// ID is a stable, URL-safe key ("erika").
	ID string
	// Label and Note describe the card on the simulator page.
	Label, LabelEN string
	Note, NoteEN   string

	DocumentType     string // DG1: ID, AR, AS, AF, UB, OA
	IssuingState     string // DG2, ICAO
	DateOfExpiry     string // DG3, YYYY-MM-DD
	GivenNames       string // DG4
	FamilyNames      string // DG5
	ArtisticName     string // DG6
	AcademicTitle    string // DG7
	DateOfBirth      string // DG8, YYYYMMDD with blanks
	PlaceOfBirth     *eid.GeneralPlace
	Nationality      string // DG10, ICAO
	BirthName        string // DG13
	PlaceOfResidence *eid.GeneralPlace
	CommunityID      string // DG18, Wohnort-ID
	ResidencePermitI string // DG19

	// Secret stands in for the chip's restricted identification key: the
	// pseudonym is derived from it and the eService's sector, so each
	// eService sees a different, stable subject.
	Secret string
	// EIDType is the eID type used (CardCertified, SECertified, SEEndorsed,
	// HWKeyStore); empty means CardCertified.
	EIDType string
	// NotOnChip lists data groups (schema names) the chip does not hold.
	NotOnChip []string

	// Cancel: choosing this card means the person cancels in the eID-Client.
	Cancel bool
	// Blocked: the card is on the block list (invalidDocument).
	Blocked bool
}

// eidTypeLevel is the level the simulator assigns to each eID type. The TR
// leaves this to configuration; the simulator assumes card = hoch, secure
// element = substantiell, hardware keystore = normal.
func eidTypeLevel(t string) int {
	switch t {
	case "", "CardCertified":
		return 3
	case "SECertified", "SEEndorsed":
		return 2
	case "HWKeyStore":
		return 1
	}
	return 0
}

// TestCards returns the simulator's test persons. Erika Mustermann carries
// the data of the BSI's standard test card; the others cover a partial date
// of birth, a foreign resident with a residence permit, a person who
// cancels, a blocked card and a Smart-eID below level high.
func TestCards() []Card {
	return []Card{
		{
			ID: "erika", Label: "Erika Mustermann (Personalausweis)", LabelEN: "Erika Mustermann (German ID card)",
			Note: "Standard-Testausweis: Köln, geboren 1964 in Berlin, Doktortitel, Geburtsname Gabler.", NoteEN: "Standard test card: Cologne, born 1964 in Berlin, doctorate, birth name Gabler.",
			DocumentType: "ID", IssuingState: "D", DateOfExpiry: "2031-10-31",
			GivenNames: "ERIKA", FamilyNames: "MUSTERMANN", AcademicTitle: "DR.", BirthName: "GABLER",
			DateOfBirth:  "19640812",
			PlaceOfBirth: &eid.GeneralPlace{FreetextPlace: "BERLIN"},
			Nationality:  "D",
			PlaceOfResidence: &eid.GeneralPlace{StructuredPlace: &eid.Place{
				Street: "HEIDESTRASSE 17", City: "KÖLN", Country: "D", ZipCode: "51147",
			}},
			CommunityID: "02760503150000",
			Secret:      "erika-mustermann-test-card",
		},
		{
			ID: "partial-date", Label: "Ansgar Muster (Geburtsdatum nur Jahr)", LabelEN: "Ansgar Muster (year of birth only)",
			Note: "Tag und Monat der Geburt sind unbekannt; älterer Ausweis ohne Geburtsnamen auf dem Chip.", NoteEN: "Day and month of birth unknown; older card without birth name on the chip.",
			DocumentType: "ID", IssuingState: "D", DateOfExpiry: "2029-03-31",
			GivenNames: "ANSGAR", FamilyNames: "MUSTER",
			DateOfBirth:  "1957    ",
			PlaceOfBirth: &eid.GeneralPlace{FreetextPlace: "HAMBURG"},
			Nationality:  "D",
			PlaceOfResidence: &eid.GeneralPlace{StructuredPlace: &eid.Place{
				Street: "ELBCHAUSSEE 5", City: "HAMBURG", Country: "D", ZipCode: "22763",
			}},
			CommunityID: "02760200000000",
			NotOnChip:   []string{"BirthName"},
			Secret:      "ansgar-muster-test-card",
		},
		{
			ID: "residence-permit", Label: "Ayşe Yılmaz (Aufenthaltstitel)", LabelEN: "Ayşe Yılmaz (residence permit)",
			Note: "Türkische Staatsangehörige mit elektronischem Aufenthaltstitel (AR), wohnhaft in Berlin.", NoteEN: "Turkish national with an electronic residence permit (AR), living in Berlin.",
			DocumentType: "AR", IssuingState: "D", DateOfExpiry: "2030-05-14",
			GivenNames: "AYŞE", FamilyNames: "YILMAZ",
			DateOfBirth:  "19900315",
			PlaceOfBirth: &eid.GeneralPlace{StructuredPlace: &eid.Place{City: "İZMIR", Country: "TUR"}},
			Nationality:  "TUR",
			PlaceOfResidence: &eid.GeneralPlace{StructuredPlace: &eid.Place{
				Street: "ORANIENSTRASSE 12", City: "BERLIN", Country: "D", ZipCode: "10999",
			}},
			CommunityID:      "02761100000000",
			ResidencePermitI: "NIEDERLASSUNGSERLAUBNIS",
			NotOnChip:        []string{"ArtisticName", "AcademicTitle"},
			Secret:           "ayse-yilmaz-test-card",
		},
		{
			ID: "cancel", Label: "Abbrechen (die Person bricht in der App ab)", LabelEN: "Cancel (the person cancels in the app)",
			Note: "Simuliert den Abbruch im eID-Client.", NoteEN: "Simulates cancelling in the eID-Client.",
			Cancel: true,
		},
		{
			ID: "blocked", Label: "Gesperrter Ausweis (Sperrliste)", LabelEN: "Blocked card (block list)",
			Note: "Der Ausweis steht auf der Sperrliste; der eID-Server meldet invalidDocument.", NoteEN: "The card is on the block list; the eID-Server reports invalidDocument.",
			DocumentType: "ID", IssuingState: "D", DateOfExpiry: "2030-01-01",
			GivenNames: "MAX", FamilyNames: "GESPERRT", DateOfBirth: "19800101", Nationality: "D",
			Secret: "blocked-test-card", Blocked: true,
		},
		{
			ID: "smart-eid", Label: "Smart-eID (Vertrauensniveau normal)", LabelEN: "Smart-eID (level normal)",
			Note: "eID auf dem Smartphone mit Hardware-Schlüsselspeicher; bei angefordertem Niveau hoch meldet der eID-Server deniedDocument.", NoteEN: "Smartphone eID with a hardware key store; when level high is requested the eID-Server reports deniedDocument.",
			DocumentType: "OA", IssuingState: "D", DateOfExpiry: "2028-12-31",
			GivenNames: "ERIKA", FamilyNames: "MUSTERMANN", DateOfBirth: "19640812", Nationality: "D",
			Secret: "erika-smart-eid", EIDType: "HWKeyStore",
		},
	}
}
