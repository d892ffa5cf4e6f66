package eid

import (
	"encoding/xml"
	"strings"
)

// Namespaces and SOAP actions of the TR-03130 eID-Interface.
const (
	NamespaceEID = "http://bsi.bund.de/eID/"
	NamespaceDSS = "urn:oasis:names:tc:dss:1.0:core:schema"

	ActionUseID         = "http://bsi.bund.de/eID/useID"
	ActionGetResult     = "http://bsi.bund.de/eID/getResult"
	ActionGetServerInfo = "http://bsi.bund.de/eID/getServerInfo"
)

// The message types below mirror the eID-Interface schema (TR-03130-1 §3.2,
// schema 2.0.2 plus the 2.4 additions). Field tags name the root element's
// namespace only: children inherit it as the default namespace when
// marshalled, and match in any namespace when unmarshalled. That tolerance
// is deliberate (the TR's own examples leave dss:ResultMajor unqualified);
// authenticity comes from the WS-Security signature over the whole Body,
// and the client checks the payload element's namespace before decoding.
// Text values are kept as sent; consumers trim them.

// Selection is the value of one operation in UseOperations (REQUIRED,
// ALLOWED, PROHIBITED), in OperationsAllowedByUser (ALLOWED, PROHIBITED,
// NOTONCHIP) and in DocumentVerificationRights (ALLOWED, PROHIBITED). An
// empty element means the schema default, PROHIBITED.
type Selection string

// Selection values.
const (
	Required   Selection = "REQUIRED"
	Allowed    Selection = "ALLOWED"
	Prohibited Selection = "PROHIBITED"
	NotOnChip  Selection = "NOTONCHIP"
)

// Normalize trims the value and maps the empty default to PROHIBITED.
func (s Selection) Normalize() Selection {
	v := Selection(strings.TrimSpace(string(s)))
	if v == "" {
		return Prohibited
	}
	return v
}

// Operations is OperationsRequestorType, OperationsResponderType and
// OperationsSelectorType in one: the same element names in the same order.
// The 2.0.2-only elements are pointers so that a 2.4 message round-trips
// without gaining elements.
type Operations struct {
	DocumentType      Selection  `xml:"DocumentType"`
	IssuingState      Selection  `xml:"IssuingState"`
	DateOfExpiry      Selection  `xml:"DateOfExpiry"`
	GivenNames        Selection  `xml:"GivenNames"`
	FamilyNames       Selection  `xml:"FamilyNames"`
	ArtisticName      Selection  `xml:"ArtisticName"`
	AcademicTitle     Selection  `xml:"AcademicTitle"`
	DateOfBirth       Selection  `xml:"DateOfBirth"`
	PlaceOfBirth      Selection  `xml:"PlaceOfBirth"`
	Nationality       Selection  `xml:"Nationality"`
	Sex               *Selection `xml:"Sex,omitempty"`
	BirthName         Selection  `xml:"BirthName"`
	PlaceOfResidence  Selection  `xml:"PlaceOfResidence"`
	CommunityID       *Selection `xml:"CommunityID,omitempty"`
	MunicipalityID    *Selection `xml:"MunicipalityID,omitempty"`
	ResidencePermitI  Selection  `xml:"ResidencePermitI"`
	ResidencePermitII *Selection `xml:"ResidencePermitII,omitempty"`
	RestrictedID      Selection  `xml:"RestrictedID"`
	AgeVerification   Selection  `xml:"AgeVerification"`
	PlaceVerification Selection  `xml:"PlaceVerification"`
}

// Field names the operations this package knows, in schema order; they are
// also the keys of the attribute selection in Config (snake_case there).
var operationNames = []string{
	"DocumentType", "IssuingState", "DateOfExpiry", "GivenNames", "FamilyNames",
	"ArtisticName", "AcademicTitle", "DateOfBirth", "PlaceOfBirth", "Nationality",
	"BirthName", "PlaceOfResidence", "CommunityID", "ResidencePermitI",
	"RestrictedID", "AgeVerification", "PlaceVerification",
}

// OperationNames returns the operation names of schema 2.4 in schema order.
func OperationNames() []string { return append([]string(nil), operationNames...) }

// Get returns the normalised selection of the named operation ("" for an
// unknown name). CommunityID falls back to 2.0.2's MunicipalityID.
func (o *Operations) Get(name string) Selection {
	if o == nil {
		return Prohibited
	}
	p := o.field(name)
	if p == nil {
		if name == "CommunityID" && o.MunicipalityID != nil {
			return o.MunicipalityID.Normalize()
		}
		if name == "CommunityID" {
			return Prohibited
		}
		return ""
	}
	return p.Normalize()
}

// Set sets the named operation; it reports false for an unknown name.
func (o *Operations) Set(name string, s Selection) bool {
	if name == "CommunityID" {
		o.CommunityID = &s
		return true
	}
	p := o.field(name)
	if p == nil {
		return false
	}
	*p = s
	return true
}

func (o *Operations) field(name string) *Selection {
	switch name {
	case "DocumentType":
		return &o.DocumentType
	case "IssuingState":
		return &o.IssuingState
	case "DateOfExpiry":
		return &o.DateOfExpiry
	case "GivenNames":
		return &o.GivenNames
	case "FamilyNames":
		return &o.FamilyNames
	case "ArtisticName":
		return &o.ArtisticName
	case "AcademicTitle":
		return &o.AcademicTitle
	case "DateOfBirth":
		return &o.DateOfBirth
	case "PlaceOfBirth":
		return &o.PlaceOfBirth
	case "Nationality":
		return &o.Nationality
	case "BirthName":
		return &o.BirthName
	case "PlaceOfResidence":
		return &o.PlaceOfResidence
	case "CommunityID":
		return o.CommunityID
	case "ResidencePermitI":
		return &o.ResidencePermitI
	case "RestrictedID":
		return &o.RestrictedID
	case "AgeVerification":
		return &o.AgeVerification
	case "PlaceVerification":
		return &o.PlaceVerification
	}
	return nil
}

// UseIDRequest starts an online authentication (TR-03130-1 §3.2.1.1).
type UseIDRequest struct {
	XMLName                       xml.Name                       `xml:"http://bsi.bund.de/eID/ useIDRequest"`
	UseOperations                 Operations                     `xml:"UseOperations"`
	AgeVerificationRequest        *AgeVerificationRequest        `xml:"AgeVerificationRequest,omitempty"`
	PlaceVerificationRequest      *PlaceVerificationRequest      `xml:"PlaceVerificationRequest,omitempty"`
	TransactionInfo               string                         `xml:"TransactionInfo,omitempty"`
	TransactionAttestationRequest *TransactionAttestationRequest `xml:"TransactionAttestationRequest,omitempty"`
	LevelOfAssuranceRequest       string                         `xml:"LevelOfAssuranceRequest,omitempty"`
	EIDTypeRequest                *EIDTypes                      `xml:"EIDTypeRequest,omitempty"`
	PSK                           *PSK                           `xml:"PSK,omitempty"`
}

// AgeVerificationRequest asks whether the holder has completed Age years.
type AgeVerificationRequest struct {
	Age int `xml:"Age"`
}

// PlaceVerificationRequest asks whether the holder lives in CommunityID.
type PlaceVerificationRequest struct {
	CommunityID string `xml:"CommunityID"`
}

// TransactionAttestationRequest (2.4) asks for an attestation.
type TransactionAttestationRequest struct {
	TransactionAttestationFormat string `xml:"TransactionAttestationFormat"`
	TransactionContext           string `xml:"TransactionContext,omitempty"`
}

// EIDTypes is EIDTypeRequestType (ALLOWED/DENIED) and EIDTypeResponseType
// (USED) of schema 2.4.
type EIDTypes struct {
	CardCertified string `xml:"CardCertified,omitempty"`
	SECertified   string `xml:"SECertified,omitempty"`
	SEEndorsed    string `xml:"SEEndorsed,omitempty"`
	HWKeyStore    string `xml:"HWKeyStore,omitempty"`
}

// Used returns the name of the eID type marked USED, or "".
func (t *EIDTypes) Used() string {
	if t == nil {
		return ""
	}
	for _, c := range []struct{ name, v string }{
		{"CardCertified", t.CardCertified}, {"SECertified", t.SECertified},
		{"SEEndorsed", t.SEEndorsed}, {"HWKeyStore", t.HWKeyStore},
	} {
		if strings.TrimSpace(c.v) == "USED" {
			return c.name
		}
	}
	return ""
}

// PSK is the pre-shared key of the eID-Client's TLS channel to the eID-Server.
// ID becomes the TC Token's SessionIdentifier, Key (hex) its PSK.
type PSK struct {
	ID  string `xml:"ID"`
	Key string `xml:"Key"`
}

// Session identifies an online authentication at the eID-Server.
type Session struct {
	ID string `xml:"ID"`
}

// Result is the OASIS DSS result element.
type Result struct {
	XMLName       xml.Name       `xml:"urn:oasis:names:tc:dss:1.0:core:schema Result"`
	ResultMajor   string         `xml:"ResultMajor"`
	ResultMinor   string         `xml:"ResultMinor,omitempty"`
	ResultMessage *ResultMessage `xml:"ResultMessage,omitempty"`
}

// ResultMessage is a human-readable error text.
type ResultMessage struct {
	Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	Text string `xml:",chardata"`
}

// UseIDResponse answers useID (TR-03130-1 §3.2.1.2).
type UseIDResponse struct {
	XMLName            xml.Name `xml:"http://bsi.bund.de/eID/ useIDResponse"`
	Session            *Session `xml:"Session,omitempty"`
	ECardServerAddress string   `xml:"eCardServerAddress,omitempty"`
	PSK                *PSK     `xml:"PSK,omitempty"`
	Result             Result   `xml:"Result"`
}

// GetResultRequest asks for the result of a session (TR-03130-1 §3.2.2.1).
type GetResultRequest struct {
	XMLName        xml.Name `xml:"http://bsi.bund.de/eID/ getResultRequest"`
	Session        Session  `xml:"Session"`
	RequestCounter int      `xml:"RequestCounter"`
}

// GetResultResponse carries the data read from the card (TR-03130-1 §3.2.2.2).
type GetResultResponse struct {
	XMLName                        xml.Name                        `xml:"http://bsi.bund.de/eID/ getResultResponse"`
	PersonalData                   *PersonalData                   `xml:"PersonalData,omitempty"`
	FulfilsAgeVerification         *VerificationResult             `xml:"FulfilsAgeVerification,omitempty"`
	FulfilsPlaceVerification       *VerificationResult             `xml:"FulfilsPlaceVerification,omitempty"`
	OperationsAllowedByUser        *Operations                     `xml:"OperationsAllowedByUser,omitempty"`
	TransactionAttestationResponse *TransactionAttestationResponse `xml:"TransactionAttestationResponse,omitempty"`
	LevelOfAssuranceResult         string                          `xml:"LevelOfAssuranceResult,omitempty"`
	// LevelOfAssuranceResponse is the name the TR-03130-1 v2.4 example
	// (Example 6) uses instead of LevelOfAssuranceResult; both are read.
	LevelOfAssuranceResponse string    `xml:"LevelOfAssuranceResponse,omitempty"`
	EIDTypeResponse          *EIDTypes `xml:"EIDTypeResponse,omitempty"`
	Result                   Result    `xml:"Result"`
}

// LevelOfAssurance returns the trimmed LoA URI the server reported, if any.
func (r *GetResultResponse) LevelOfAssurance() string {
	if v := strings.TrimSpace(r.LevelOfAssuranceResult); v != "" {
		return v
	}
	return strings.TrimSpace(r.LevelOfAssuranceResponse)
}

// VerificationResult is the outcome of an age or place verification.
type VerificationResult struct {
	FulfilsRequest bool `xml:"FulfilsRequest"`
}

// TransactionAttestationResponse carries an attestation (2.4).
type TransactionAttestationResponse struct {
	TransactionAttestationFormat string `xml:"TransactionAttestationFormat"`
	TransactionAttestationData   string `xml:"TransactionAttestationData"`
}

// PersonalData holds the data groups read from the eID document.
type PersonalData struct {
	DocumentType     string        `xml:"DocumentType,omitempty"`
	IssuingState     string        `xml:"IssuingState,omitempty"`
	DateOfExpiry     string        `xml:"DateOfExpiry,omitempty"`
	GivenNames       string        `xml:"GivenNames,omitempty"`
	FamilyNames      string        `xml:"FamilyNames,omitempty"`
	ArtisticName     *string       `xml:"ArtisticName,omitempty"`
	AcademicTitle    *string       `xml:"AcademicTitle,omitempty"`
	DateOfBirth      *GeneralDate  `xml:"DateOfBirth,omitempty"`
	PlaceOfBirth     *GeneralPlace `xml:"PlaceOfBirth,omitempty"`
	Nationality      string        `xml:"Nationality,omitempty"`
	BirthName        *string       `xml:"BirthName,omitempty"`
	PlaceOfResidence *GeneralPlace `xml:"PlaceOfResidence,omitempty"`
	CommunityID      string        `xml:"CommunityID,omitempty"`
	MunicipalityID   string        `xml:"MunicipalityID,omitempty"`
	ResidencePermitI string        `xml:"ResidencePermitI,omitempty"`
	RestrictedID     *RestrictedID `xml:"RestrictedID,omitempty"`
}

// GeneralDate is a date as read from the chip: DateString is YYYYMMDD with
// blanks for unknown parts; DateValue is present only for complete dates.
type GeneralDate struct {
	DateString string `xml:"DateString"`
	DateValue  string `xml:"DateValue,omitempty"`
}

// GeneralPlace is one of a structured place, free text, or a note that no
// place is recorded (e.g. "keine Wohnung in Deutschland").
type GeneralPlace struct {
	StructuredPlace *Place `xml:"StructuredPlace,omitempty"`
	FreetextPlace   string `xml:"FreetextPlace,omitempty"`
	NoPlaceInfo     string `xml:"NoPlaceInfo,omitempty"`
}

// Place is a structured address; Country is an ICAO code ("D").
type Place struct {
	Street  string `xml:"Street,omitempty"`
	City    string `xml:"City"`
	State   string `xml:"State,omitempty"`
	Country string `xml:"Country"`
	ZipCode string `xml:"ZipCode,omitempty"`
}

// RestrictedID is the card- and sector-specific pseudonym (hexBinary).
type RestrictedID struct {
	ID  string `xml:"ID"`
	ID2 string `xml:"ID2,omitempty"`
}

// GetServerInfoRequest is the empty request of getServerInfo. It decodes in
// any namespace, because the TR's own example (Example 7) leaves it
// unqualified, and always encodes in the eID namespace.
type GetServerInfoRequest struct {
	XMLName xml.Name `xml:"getServerInfoRequest"`
}

// MarshalXML writes the element in the eID namespace.
func (GetServerInfoRequest) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	start := xml.StartElement{Name: xml.Name{Space: NamespaceEID, Local: "getServerInfoRequest"}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

// GetServerInfoResponse reports the interface version and the rights of the
// configured terminal authorisation certificate.
type GetServerInfoResponse struct {
	XMLName                    xml.Name   `xml:"http://bsi.bund.de/eID/ getServerInfoResponse"`
	ServerVersion              Version    `xml:"ServerVersion"`
	DocumentVerificationRights Operations `xml:"DocumentVerificationRights"`
}

// Version is the eID-Interface version.
type Version struct {
	VersionString string `xml:"VersionString"`
	Major         int    `xml:"Major"`
	Minor         int    `xml:"Minor"`
	Bugfix        *int   `xml:"Bugfix,omitempty"`
}
