package samlxml

// Country codes. eIDAS names member states by ISO 3166-1 alpha-2 codes in
// NodeCountry, PersonIdentifier ("XX/YY/…") and LegalPersonIdentifier,
// with one exception: Greece is "EL", the code the EU institutions use
// (eIDAS SAML Message Format §2.3.3 and Attribute Profile §2.2.3), where
// ISO says "GR". Configuration accepts both and keeps "EL"; messages from
// other nodes are compared with SameCountry, because some producers write
// "GR" after all.

// CountryCode returns the eIDAS form of a member-state code: "EL" for
// "GR", any other code unchanged. It neither validates nor changes case:
// the callers' own checks refuse what is not two capital letters.
func CountryCode(code string) string {
	if code == "GR" {
		return "EL"
	}
	return code
}

// ISOCountryCode returns the ISO 3166-1 alpha-2 form: "GR" for "EL", any
// other code unchanged. For values that are ISO by definition (OIDC
// address.country, nationalities, place_of_birth.country).
func ISOCountryCode(code string) string {
	if code == "EL" {
		return "GR"
	}
	return code
}

// SameCountry reports whether two codes name the same member state, so
// "EL" and "GR" match each other in either order. Empty codes match
// nothing.
func SameCountry(a, b string) bool {
	return a != "" && CountryCode(a) == CountryCode(b)
}
