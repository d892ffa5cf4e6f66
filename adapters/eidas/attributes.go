package eidas

import (
	"strings"
)

// PersonType is the kind of subject an eIDAS request asks about. eIDAS
// v1.4 forbids mixing natural- and legal-person attributes in one request.
type PersonType string

// The person types.
const (
	Natural PersonType = "natural"
	Legal   PersonType = "legal"
)

// AttributeDef describes one eIDAS attribute of the attribute profile. The
// registry keys on the Name URI (never on FriendlyName, which differs
// between implementations).
type AttributeDef struct {
	// FriendlyName as the EU eIDAS-Node uses it; it is also the name used
	// in our configuration.
	FriendlyName string
	// Name is the attribute's URI.
	Name string
	// Type says which data set it belongs to.
	Type PersonType
	// Mandatory marks the attributes of the minimum data set; a request for
	// the data set must ask for all of them with isRequired="true".
	Mandatory bool
	// Claim is the OIDC claim the attribute feeds; an optional attribute is
	// requested only when a portal may receive and asked for this claim.
	Claim string
}

const (
	naturalPrefix = "http://eidas.europa.eu/attributes/naturalperson/"
	legalPrefix   = "http://eidas.europa.eu/attributes/legalperson/"
	// Representative attributes carry these prefixes (Attribute Profile
	// §2.8). They are never requested; a proxy-service may add them.
	naturalRepPrefix = naturalPrefix + "representative/"
	legalRepPrefix   = legalPrefix + "representative/"
)

// Attribute Name URIs used in code.
const (
	AttrPersonIdentifier      = naturalPrefix + "PersonIdentifier"
	AttrFamilyName            = naturalPrefix + "CurrentFamilyName"
	AttrFirstName             = naturalPrefix + "CurrentGivenName"
	AttrDateOfBirth           = naturalPrefix + "DateOfBirth"
	AttrBirthName             = naturalPrefix + "BirthName"
	AttrPlaceOfBirth          = naturalPrefix + "PlaceOfBirth"
	AttrCurrentAddress        = naturalPrefix + "CurrentAddress"
	AttrGender                = naturalPrefix + "Gender"
	AttrNationality           = naturalPrefix + "Nationality"
	AttrCountryOfBirth        = naturalPrefix + "CountryOfBirth"
	AttrTownOfBirth           = naturalPrefix + "TownOfBirth"
	AttrCountryOfResidence    = naturalPrefix + "CountryOfResidence"
	AttrPhoneNumber           = naturalPrefix + "PhoneNumber"
	AttrEmailAddress          = naturalPrefix + "EmailAddress"
	AttrLegalPersonIdentifier = legalPrefix + "LegalPersonIdentifier"
	AttrLegalName             = legalPrefix + "LegalName"
	AttrLegalAddress          = legalPrefix + "LegalPersonAddress"
	AttrVATRegistration       = legalPrefix + "VATRegistrationNumber"
	AttrTaxReference          = legalPrefix + "TaxReference"
	AttrEUIdentifier          = legalPrefix + "D-2012-17-EUIdentifier"
	AttrLEI                   = legalPrefix + "LEI"
	AttrEORI                  = legalPrefix + "EORI"
	AttrSEED                  = legalPrefix + "SEED"
	AttrSIC                   = legalPrefix + "SIC"
)

// Attributes is the registry of attributes this adapter can request and
// map. Unknown attributes in a response are ignored.
func Attributes() []AttributeDef {
	return []AttributeDef{
		{"PersonIdentifier", AttrPersonIdentifier, Natural, true, "sub"},
		{"FamilyName", AttrFamilyName, Natural, true, "family_name"},
		{"FirstName", AttrFirstName, Natural, true, "given_name"},
		{"DateOfBirth", AttrDateOfBirth, Natural, true, "birthdate"},
		{"BirthName", AttrBirthName, Natural, false, ClaimBirthName},
		{"PlaceOfBirth", AttrPlaceOfBirth, Natural, false, "place_of_birth"},
		{"TownOfBirth", AttrTownOfBirth, Natural, false, "place_of_birth"},
		{"CountryOfBirth", AttrCountryOfBirth, Natural, false, "place_of_birth"},
		{"CurrentAddress", AttrCurrentAddress, Natural, false, "address"},
		{"Gender", AttrGender, Natural, false, "gender"},
		{"Nationality", AttrNationality, Natural, false, "nationalities"},
		{"CountryOfResidence", AttrCountryOfResidence, Natural, false, "country_of_residence"},
		{"PhoneNumber", AttrPhoneNumber, Natural, false, "phone_number"},
		{"EmailAddress", AttrEmailAddress, Natural, false, "email"},
		{"LegalPersonIdentifier", AttrLegalPersonIdentifier, Legal, true, "legal_entity"},
		{"LegalName", AttrLegalName, Legal, true, "legal_entity"},
		{"LegalAddress", AttrLegalAddress, Legal, false, "legal_entity"},
		{"VATRegistration", AttrVATRegistration, Legal, false, "legal_entity"},
		{"TaxReference", AttrTaxReference, Legal, false, "legal_entity"},
		{"D-2012-17-EUIdentifier", AttrEUIdentifier, Legal, false, "legal_entity"},
		{"LEI", AttrLEI, Legal, false, "legal_entity"},
		{"EORI", AttrEORI, Legal, false, "legal_entity"},
		{"SEED", AttrSEED, Legal, false, "legal_entity"},
		{"SIC", AttrSIC, Legal, false, "legal_entity"},
	}
}

// LookupAttribute finds an attribute by FriendlyName (case-insensitive) or
// by its Name URI.
func LookupAttribute(name string) (AttributeDef, bool) {
	for _, d := range Attributes() {
		if d.Name == name || strings.EqualFold(d.FriendlyName, name) {
			return d, true
		}
	}
	return AttributeDef{}, false
}

func attributeByURI(uri string) (AttributeDef, bool) {
	for _, d := range Attributes() {
		if d.Name == uri {
			return d, true
		}
	}
	return AttributeDef{}, false
}

// RequestedAttribute is one entry of requested_attributes.
type RequestedAttribute struct {
	// Name is the FriendlyName from the registry (e.g. "BirthName") or the
	// attribute's Name URI.
	Name string `yaml:"name"`
	// Required becomes isRequired in the request. The mandatory attributes
	// of a minimum data set must be required.
	Required bool `yaml:"required"`
}

// defaultRequested is the request when the configuration lists none: the
// minimum data set plus the optional attributes the broker has claims for.
func defaultRequested(t PersonType) []RequestedAttribute {
	if t == Legal {
		return []RequestedAttribute{
			{Name: "LegalPersonIdentifier", Required: true},
			{Name: "LegalName", Required: true},
		}
	}
	return []RequestedAttribute{
		{Name: "PersonIdentifier", Required: true},
		{Name: "FamilyName", Required: true},
		{Name: "FirstName", Required: true},
		{Name: "DateOfBirth", Required: true},
		{Name: "BirthName"},
		{Name: "PlaceOfBirth"},
		{Name: "CurrentAddress"},
		{Name: "Gender"},
		{Name: "Nationality"},
	}
}
