package eidas

import (
	"unicode"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// A value marked LatinScript="false" says only that it is not in Latin
// script, not which language it is. Portals get it as an OIDC Core §5.2
// language-tagged claim ("family_name#el"), so it needs a BCP 47 tag; the
// tag is derived from the script of the value and, where a script serves
// several languages, from the country that sent it. It is never a guess
// beyond that: a script the table does not pin to a language gets the
// "undetermined language" tag with the ISO 15924 script ("und-Cyrl").
//
// In the eIDAS network non-Latin values come from Greece and Cyprus (Greek)
// and Bulgaria (Cyrillic); the other rows keep an unexpected script
// recognisable instead of mislabelled.
var scripts = []struct {
	table *unicode.RangeTable
	code  string // ISO 15924
	// lang is the language when the script alone decides it; byCountry
	// when the sending country does.
	lang      string
	byCountry map[string]string
}{
	{unicode.Greek, "Grek", "el", nil},
	{unicode.Cyrillic, "Cyrl", "", map[string]string{"BG": "bg"}},
	{unicode.Arabic, "Arab", "", nil},
	{unicode.Hebrew, "Hebr", "", nil},
	{unicode.Armenian, "Armn", "", nil},
	{unicode.Georgian, "Geor", "", nil},
	{unicode.Han, "Hani", "", nil},
}

// scriptTag returns the BCP 47 tag of a non-Latin value sent by country
// (eIDAS code): the language where script or country settles it ("el",
// "bg"), else "und-" and the script, else "und" (no letters of a known
// script, or a value marked non-Latin that is Latin after all).
func scriptTag(value, country string) string {
	counts := make([]int, len(scripts))
	for _, r := range value {
		if !unicode.IsLetter(r) {
			continue
		}
		for i, s := range scripts {
			if unicode.Is(s.table, r) {
				counts[i]++
				break
			}
		}
	}
	best := -1
	for i, n := range counts {
		if n > 0 && (best < 0 || n > counts[best]) {
			best = i
		}
	}
	if best < 0 {
		return "und"
	}
	s := scripts[best]
	if s.lang != "" {
		return s.lang
	}
	if l, ok := s.byCountry[samlxml.CountryCode(country)]; ok {
		return l
	}
	return "und-" + s.code
}
