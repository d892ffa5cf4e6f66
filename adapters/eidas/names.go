package eidas

import (
	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// countryNames are the German and English names of the EU and EEA member
// states, so a configuration may give only the code. Keyed by ISO code;
// CountryName also finds Greece under "EL".
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

// CountryName returns the built-in names of a member-state code, in its
// ISO ("GR") or eIDAS ("EL") form.
func CountryName(code string) (adapters.Text, bool) {
	t, ok := countryNames[samlxml.ISOCountryCode(code)]
	return t, ok
}

// EIDASCountryCode maps a member-state code to the form eIDAS uses in
// NodeCountry and PersonIdentifier, which is also the form the
// configuration keeps: "EL" for Greece ("GR" is accepted), the ISO code
// otherwise.
func EIDASCountryCode(code string) string { return samlxml.CountryCode(code) }

// isoCountryCode is the inverse of EIDASCountryCode, for claims that are
// ISO 3166-1 alpha-2 by definition (nationalities, address country).
func isoCountryCode(code string) string { return samlxml.ISOCountryCode(code) }

// sameCountry reports whether a country code in a message names the
// configured country; for Greece "EL" and, from careless producers, "GR"
// both match.
func sameCountry(inMessage, configured string) bool {
	return samlxml.SameCountry(inMessage, configured)
}
