package eidas

import "github.com/ozg-broker/eidas-broker/adapters"

// countryNames are the German and English names of the EU and EEA member
// states, so a configuration may give only the code.
var countryNames = map[string]adapters.Text{
	"AT": {DE: "Österreich", EN: "Austria"},
	"BE": {DE: "Belgien", EN: "Belgium"},
	"BG": {DE: "Bulgarien", EN: "Bulgaria"},
	"CY": {DE: "Zypern", EN: "Cyprus"},
	"CZ": {DE: "Tschechien", EN: "Czechia"},
	"DE": {DE: "Deutschland", EN: "Germany"},
	"DK": {DE: "Dänemark", EN: "Denmark"},
	"EE": {DE: "Estland", EN: "Estonia"},
	"ES": {DE: "Spanien", EN: "Spain"},
	"FI": {DE: "Finnland", EN: "Finland"},
	"FR": {DE: "Frankreich", EN: "France"},
	"GR": {DE: "Griechenland", EN: "Greece"},
	"HR": {DE: "Kroatien", EN: "Croatia"},
	"HU": {DE: "Ungarn", EN: "Hungary"},
	"IE": {DE: "Irland", EN: "Ireland"},
	"IS": {DE: "Island", EN: "Iceland"},
	"IT": {DE: "Italien", EN: "Italy"},
	"LI": {DE: "Liechtenstein", EN: "Liechtenstein"},
	"LT": {DE: "Litauen", EN: "Lithuania"},
	"LU": {DE: "Luxemburg", EN: "Luxembourg"},
	"LV": {DE: "Lettland", EN: "Latvia"},
	"MT": {DE: "Malta", EN: "Malta"},
	"NL": {DE: "Niederlande", EN: "Netherlands"},
	"NO": {DE: "Norwegen", EN: "Norway"},
	"PL": {DE: "Polen", EN: "Poland"},
	"PT": {DE: "Portugal", EN: "Portugal"},
	"RO": {DE: "Rumänien", EN: "Romania"},
	"SE": {DE: "Schweden", EN: "Sweden"},
	"SI": {DE: "Slowenien", EN: "Slovenia"},
	"SK": {DE: "Slowakei", EN: "Slovakia"},
}

// CountryName returns the built-in names of an ISO 3166-1 alpha-2 code.
func CountryName(code string) (adapters.Text, bool) {
	t, ok := countryNames[code]
	return t, ok
}

// EIDASCountryCode maps an ISO 3166-1 alpha-2 code to the code eIDAS uses
// in PersonIdentifier and NodeCountry: "EL" for Greece (the EU's own
// convention), the ISO code otherwise.
func EIDASCountryCode(iso string) string {
	if iso == "GR" {
		return "EL"
	}
	return iso
}

// isoCountryCode is the inverse of EIDASCountryCode, for claims that are
// ISO 3166-1 alpha-2 by definition (nationalities, address country).
func isoCountryCode(code string) string {
	if code == "EL" {
		return "GR"
	}
	return code
}

// sameCountry reports whether an eIDAS country code in a message (which
// for Greece may be "EL" or, from careless producers, "GR") names the
// configured ISO country.
func sameCountry(inMessage, iso string) bool {
	return inMessage == iso || inMessage == EIDASCountryCode(iso)
}
