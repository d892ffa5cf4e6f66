package eid

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// Keys of adapters.Claims.Extra filled by this adapter.
const (
	ExtraDocumentType       = "document_type"
	ExtraIssuingState       = "issuing_state"
	ExtraDateOfExpiry       = "date_of_expiry"
	ExtraArtisticName       = "artistic_name"
	ExtraCommunityID        = "community_id"
	ExtraResidencePermit    = "residence_permit_i"
	ExtraResidenceNote      = "place_of_residence_note"
	ExtraNationalityICAO    = "nationality_icao"
	ExtraPlaceVerification  = "place_verification"
	ExtraAgeVerificationFmt = "age_over_%d"
	ExtraEIDType            = "eid_type"
)

// ErrData: the personal data in a verified response cannot be mapped (a
// malformed date or pseudonym). Signed but unusable data fails the login.
// Error texts never quote the data itself: they end up in logs.
var ErrData = errors.New("eid personal data malformed")

// ICAOToISO maps an ICAO 9303 nationality or state code (as read from the
// chip) to ISO 3166-1 alpha-2. Germany is "D" in ICAO; most other codes are
// ISO alpha-3. Codes without an ISO country (stateless XXA, refugees XXB/XXC,
// unspecified XXX, UN and EU organisations) report ok=false.
func ICAOToISO(code string) (string, bool) {
	c := strings.ToUpper(strings.TrimSpace(code))
	switch c {
	case "D":
		return "DE", true
	case "GBD", "GBN", "GBO", "GBP", "GBS":
		return "GB", true // British nationality classes
	case "RKS":
		return "XK", true // Kosovo (user-assigned code used in the EU)
	}
	if len(c) != 3 || strings.HasPrefix(c, "XX") || strings.HasPrefix(c, "UN") || c == "EUE" {
		return "", false
	}
	r, err := language.ParseRegion(c)
	if err != nil || !r.IsCountry() {
		return "", false
	}
	return r.String(), true
}

// partialDate turns a chip date (YYYYMMDD, blanks for unknown parts) into
// YYYY-MM-DD, YYYY-MM or YYYY. An unknown year yields "".
func partialDate(d *GeneralDate) (string, error) {
	s := d.DateString
	if t := strings.TrimSpace(s); len(t) == 8 {
		s = t
	}
	if len(s) != 8 {
		return "", fmt.Errorf("%w: date string is not 8 characters", ErrData)
	}
	for _, r := range s {
		if r != ' ' && (r < '0' || r > '9') {
			return "", fmt.Errorf("%w: date string has invalid characters", ErrData)
		}
	}
	known := func(p string) bool { return !strings.Contains(p, " ") }
	y, m, dd := s[0:4], s[4:6], s[6:8]
	if !known(y) {
		return "", nil
	}
	out := y
	if known(m) {
		if m < "01" || m > "12" {
			return "", fmt.Errorf("%w: month out of range", ErrData)
		}
		out += "-" + m
		if known(dd) {
			full := out + "-" + dd
			if _, err := time.Parse("2006-01-02", full); err != nil {
				return "", fmt.Errorf("%w: day out of range", ErrData)
			}
			out = full
		}
	}
	if v := strings.TrimSpace(d.DateValue); v != "" && len(out) == 10 && v != out {
		return "", fmt.Errorf("%w: DateValue contradicts DateString", ErrData)
	}
	return out, nil
}

// restrictedID normalises the pseudonym to lower-case hex.
func restrictedID(r *RestrictedID) (string, error) {
	if r == nil {
		return "", fmt.Errorf("%w: no restricted identification", ErrData)
	}
	id := strings.ToLower(strings.Join(strings.Fields(r.ID), ""))
	if id == "" {
		return "", fmt.Errorf("%w: empty restricted identification", ErrData)
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", fmt.Errorf("%w: restricted identification is not hex", ErrData)
	}
	if len(id) < 16 || len(id) > 256 {
		return "", fmt.Errorf("%w: restricted identification of %d hex digits", ErrData, len(id))
	}
	return id, nil
}

func country(code string) string {
	if iso, ok := ICAOToISO(code); ok {
		return iso
	}
	return ""
}

// mapClaims turns verified personal data into normalised claims. Values are
// taken as the chip has them (upper case); only formats are normalised.
func mapClaims(resp *GetResultResponse, ageAsked int) (adapters.Claims, error) {
	var c adapters.Claims
	extra := map[string]string{}
	pd := resp.PersonalData
	if pd == nil {
		pd = &PersonalData{}
	}
	c.GivenName = strings.TrimSpace(pd.GivenNames)
	c.FamilyName = strings.TrimSpace(pd.FamilyNames)
	if pd.BirthName != nil {
		c.BirthFamilyName = strings.TrimSpace(*pd.BirthName)
	}
	if pd.AcademicTitle != nil {
		c.Title = strings.TrimSpace(*pd.AcademicTitle)
	}
	if pd.DateOfBirth != nil {
		d, err := partialDate(pd.DateOfBirth)
		if err != nil {
			return c, fmt.Errorf("map date of birth: %w", err)
		}
		c.Birthdate = d
	}
	if p := pd.PlaceOfBirth; p != nil {
		switch {
		case p.StructuredPlace != nil:
			sp := p.StructuredPlace
			c.PlaceOfBirth = &adapters.PlaceOfBirth{
				Locality: strings.TrimSpace(sp.City),
				Region:   strings.TrimSpace(sp.State),
				Country:  country(sp.Country),
			}
		case strings.TrimSpace(p.FreetextPlace) != "":
			c.PlaceOfBirth = &adapters.PlaceOfBirth{Locality: strings.TrimSpace(p.FreetextPlace)}
		}
	}
	if p := pd.PlaceOfResidence; p != nil {
		switch {
		case p.StructuredPlace != nil:
			sp := p.StructuredPlace
			a := &adapters.Address{
				StreetAddress: strings.TrimSpace(sp.Street),
				Locality:      strings.TrimSpace(sp.City),
				Region:        strings.TrimSpace(sp.State),
				PostalCode:    strings.TrimSpace(sp.ZipCode),
				Country:       country(sp.Country),
			}
			a.Formatted = formatAddress(a)
			c.Address = a
		case strings.TrimSpace(p.FreetextPlace) != "":
			c.Address = &adapters.Address{Formatted: strings.TrimSpace(p.FreetextPlace)}
		case strings.TrimSpace(p.NoPlaceInfo) != "":
			extra[ExtraResidenceNote] = strings.TrimSpace(p.NoPlaceInfo)
		}
	}
	if n := strings.TrimSpace(pd.Nationality); n != "" {
		if iso, ok := ICAOToISO(n); ok {
			c.Nationalities = []string{iso}
		} else {
			extra[ExtraNationalityICAO] = n
		}
	}
	if v := strings.TrimSpace(pd.DocumentType); v != "" {
		extra[ExtraDocumentType] = v
	}
	if v := strings.TrimSpace(pd.IssuingState); v != "" {
		if iso, ok := ICAOToISO(v); ok {
			extra[ExtraIssuingState] = iso
		} else {
			extra[ExtraIssuingState] = v
		}
	}
	if v := strings.TrimSpace(pd.DateOfExpiry); v != "" {
		extra[ExtraDateOfExpiry] = v
	}
	if pd.ArtisticName != nil && strings.TrimSpace(*pd.ArtisticName) != "" {
		extra[ExtraArtisticName] = strings.TrimSpace(*pd.ArtisticName)
	}
	if v := strings.TrimSpace(pd.CommunityID); v != "" {
		extra[ExtraCommunityID] = v
	} else if v := strings.TrimSpace(pd.MunicipalityID); v != "" {
		extra[ExtraCommunityID] = v
	}
	if v := strings.TrimSpace(pd.ResidencePermitI); v != "" {
		extra[ExtraResidencePermit] = v
	}
	if resp.FulfilsAgeVerification != nil && ageAsked > 0 {
		extra[fmt.Sprintf(ExtraAgeVerificationFmt, ageAsked)] = fmt.Sprint(resp.FulfilsAgeVerification.FulfilsRequest)
	}
	if resp.FulfilsPlaceVerification != nil {
		extra[ExtraPlaceVerification] = fmt.Sprint(resp.FulfilsPlaceVerification.FulfilsRequest)
	}
	if t := resp.EIDTypeResponse.Used(); t != "" {
		extra[ExtraEIDType] = t
	}
	if len(extra) > 0 {
		c.Extra = extra
	}
	return c, nil
}

// formatAddress renders a German-style postal address ("street\nzip city\ncountry").
func formatAddress(a *adapters.Address) string {
	var lines []string
	if a.StreetAddress != "" {
		lines = append(lines, a.StreetAddress)
	}
	if l := strings.TrimSpace(a.PostalCode + " " + a.Locality); l != "" {
		lines = append(lines, l)
	}
	if a.Region != "" {
		lines = append(lines, a.Region)
	}
	if a.Country != "" && a.Country != "DE" {
		lines = append(lines, a.Country)
	}
	return strings.Join(lines, "\n")
}
