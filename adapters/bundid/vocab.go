package bundid

import "github.com/ozg-broker/eidas-broker/broker/assurance"

// Namespaces of the AKDB request extension (version 2).
const (
	NSAKDB      = "https://www.akdb.de/request/2018/09"
	NSClassicUI = "https://www.akdb.de/request/2018/09/classic-ui/v1"
	AKDBVersion = "2"
)

// Attribute names (urn:oid) of the BundID interface. Attributes are always
// matched on Name, never on FriendlyName.
const (
	AttrGivenName        = "urn:oid:2.5.4.42"
	AttrSurname          = "urn:oid:2.5.4.4"
	AttrBirthdate        = "urn:oid:1.2.40.0.10.2.1.1.55"
	AttrPlaceOfBirth     = "urn:oid:1.3.6.1.5.5.7.9.2"
	AttrBirthName        = "urn:oid:1.2.40.0.10.2.1.1.225566"
	AttrStreet           = "urn:oid:2.5.4.16"
	AttrPostalCode       = "urn:oid:2.5.4.17"
	AttrLocality         = "urn:oid:2.5.4.7"
	AttrCountry          = "urn:oid:1.2.40.0.10.2.1.1.225599"
	AttrNationality      = "urn:oid:1.2.40.0.10.2.1.1.225577"
	AttrTitle            = "urn:oid:0.9.2342.19200300.100.1.40"
	AttrGender           = "urn:oid:1.3.6.1.4.1.33592.1.3.5"
	AttrDocumentType     = "urn:oid:1.2.40.0.10.2.1.1.552255"
	AttrEIDASCountry     = "urn:oid:1.3.6.1.4.1.25484.494450.10.1"
	AttrBPK2             = "urn:oid:1.3.6.1.4.1.25484.494450.3"
	AttrTrustLevel       = "urn:oid:1.2.40.0.10.2.1.1.261.94"
	AttrProvedBy         = "urn:oid:1.3.6.1.4.1.25484.494450.2"
	AttrPostboxHandle    = "urn:oid:2.5.4.18"
	AttrInterfaceVersion = "urn:oid:1.3.6.1.4.1.25484.494450.1"
)

// ClaimPostbox is the claim that carries BundID's postbox handle
// (legacyPostkorbHandle): the address of the person's BundID postbox, not
// an identifier of the person. A portal receives it only when its client
// lists it in allowed_claims and asks for it (claims parameter).
const ClaimPostbox = "postbox_reference"

// STORK QAA values: BundID's AuthnContextClassRef and trust-level
// attribute vocabulary.
const (
	STORK1 = "STORK-QAA-Level-1"
	STORK2 = "STORK-QAA-Level-2"
	STORK3 = "STORK-QAA-Level-3"
	STORK4 = "STORK-QAA-Level-4"
)

// DefaultLevels maps BundID's STORK QAA values to levels. Level 1 (the
// basic registration with self-asserted data) has no eIDAS level and is
// deliberately absent: an answer at level 1 is refused.
func DefaultLevels() []LevelEntry {
	return []LevelEntry{
		{Value: STORK2, Level: assurance.Low},
		{Value: STORK3, Level: assurance.Substantial},
		{Value: STORK4, Level: assurance.High},
	}
}

// DefaultTrustLevels maps the per-attribute akdb:TrustLevel words.
// UNTERGEORDNET (self-asserted) is absent: such an attribute is dropped.
func DefaultTrustLevels() map[string]assurance.Level {
	return map[string]assurance.Level{"NORMAL": assurance.Low, "SUBSTANTIELL": assurance.Substantial, "HOCH": assurance.High}
}

// AuthnMethods are the login means the AKDB extension can switch on and
// off, in the order the extension lists them.
var AuthnMethods = []string{"Authega", "Benutzername", "Diia", "eID", "eIDAS", "Elster", "FINK"}

// DefaultAuthnMethods are the means offered by default with the highest
// level each can reach; Benutzername (username and password, STORK 1) is
// listed without a level, so it is always sent disabled.
func DefaultAuthnMethods() []MethodEntry {
	return []MethodEntry{
		{Name: "eID", Level: assurance.High},
		{Name: "eIDAS", Level: assurance.High},
		{Name: "Elster", Level: assurance.Substantial},
		{Name: "Benutzername"},
	}
}

// provedBy maps AssertionProvedBy values to amr values.
var provedBy = map[string]string{
	"eID": "eid", "Smart-eID": "smart-eid", "eIDAS": "eidas", "Elster": "elster",
	"Benutzername": "pwd", "FINK": "fink", "Diia": "diia", "Authega": "authega",
}

// DefaultAttributes is BundID's attribute table: which urn:oid becomes
// which claim, and whether the login fails without it. bPK2, the trust
// level and the means used are protocol data the adapter always requests.
func DefaultAttributes() []AttributeEntry {
	return []AttributeEntry{
		{Name: AttrGivenName, Claim: "given_name", Required: true},
		{Name: AttrSurname, Claim: "family_name", Required: true},
		{Name: AttrBirthdate, Claim: "birthdate"},
		{Name: AttrBirthName, Claim: "birth_family_name"},
		{Name: AttrPlaceOfBirth, Claim: "place_of_birth"},
		{Name: AttrStreet, Claim: "address.street_address"},
		{Name: AttrPostalCode, Claim: "address.postal_code"},
		{Name: AttrLocality, Claim: "address.locality"},
		{Name: AttrCountry, Claim: "address.country"},
		{Name: AttrNationality, Claim: "nationalities"},
		{Name: AttrTitle, Claim: "title"},
		{Name: AttrGender, Claim: "gender"},
		{Name: AttrDocumentType, Claim: "document_type"},
		{Name: AttrPostboxHandle, Claim: ClaimPostbox},
	}
}
