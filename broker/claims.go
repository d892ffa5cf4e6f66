package broker

import (
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// scopeClaims says which claims a standard scope asks for. Identity
// assurance claims ride on "profile" because portals ask for a person's
// identity as a whole; the client's allowed_claims still limit what is sent.
var scopeClaims = map[string][]string{
	"profile": {"given_name", "family_name", "birth_family_name", "birth_name", "birthdate",
		"place_of_birth", "nationalities", "gender", "title"},
	"address":      {"address"},
	"legal_entity": {"legal_entity"},
}

// SupportedClaims lists every claim the broker can release (discovery).
// Language-tagged forms of these ("family_name#el") are not listed.
func SupportedClaims() []string {
	set := map[string]bool{"sub": true, "acr": true, "amr": true, "auth_time": true,
		"document_type": true, "issuing_state": true, "postbox_reference": true}
	for _, cs := range scopeClaims {
		for _, c := range cs {
			set[c] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// identityClaims flattens an identity into claim values. Absent values are
// left out, so "released" never lists a claim the person does not have.
func identityClaims(c adapters.Claims) map[string]any {
	out := map[string]any{}
	eachIdentityClaim(c, nil, func(k string, v any) { out[k] = v })
	return out
}

// eachIdentityClaim calls put with each claim value of an identity, as
// identityClaims lists them, without building the map (releasedClaims
// keeps only a few of them, several times per login). A claim keep
// refuses (keep may be nil: all) is skipped before its value is boxed.
func eachIdentityClaim(c adapters.Claims, keep func(k string) bool, put func(k string, v any)) {
	kept := func(k string) bool { return keep == nil || keep(k) }
	str := func(k, v string) {
		if v != "" && kept(k) {
			put(k, v)
		}
	}
	str("given_name", c.GivenName)
	str("family_name", c.FamilyName)
	str("birth_family_name", c.BirthFamilyName)
	str("birthdate", c.Birthdate)
	str("gender", c.Gender)
	str("title", c.Title)
	if c.PlaceOfBirth != nil && kept("place_of_birth") {
		put("place_of_birth", c.PlaceOfBirth)
	}
	if c.Address != nil && kept("address") {
		put("address", c.Address)
	}
	if len(c.Nationalities) > 0 && kept("nationalities") {
		put("nationalities", c.Nationalities)
	}
	if c.LegalEntity != nil && kept("legal_entity") {
		put("legal_entity", c.LegalEntity)
	}
	for k, v := range c.Extra {
		str(k, v)
	}
	// Values also written in a non-Latin script become language-tagged
	// claims (OIDC Core §5.2): "family_name#el" beside "family_name".
	for tag, sc := range c.Scripts {
		if !languageTag.MatchString(tag) {
			continue // an adapter bug; never let it shape claim names
		}
		sc.Scripts = nil
		eachIdentityClaim(sc, func(k string) bool { return kept(k + "#" + tag) }, func(k string, v any) { put(k+"#"+tag, v) })
	}
}

// languageTag is the shape of a BCP 47 tag as it may follow "#" in a
// claim name: alphanumeric subtags of up to 8 characters joined by "-".
var languageTag = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)

// baseClaim is the claim a language-tagged claim belongs to
// ("family_name#el" → "family_name"); other names are returned as they are.
func baseClaim(name string) string {
	base, _, _ := strings.Cut(name, "#")
	return base
}

// askedFor reports whether a claims-parameter target (id_token or
// userinfo) asks for name: by its own name or, for a language-tagged
// claim, by the claim it belongs to.
func askedFor(target map[string]*claimRequest, name string) bool {
	if _, ok := target[name]; ok {
		return true
	}
	_, ok := target[baseClaim(name)]
	return ok
}

// claimRequested reports whether the portal asked for the claim name: by
// a scope or in the claims parameter (either target). It is asked a
// handful of times per step of a login, so it builds no set.
func claimRequested(scopes []string, rc requestedClaims, name string) bool {
	for _, s := range scopes {
		if slices.Contains(scopeClaims[s], name) {
			return true
		}
	}
	if _, ok := rc.IDToken[name]; ok {
		return true
	}
	_, ok := rc.Userinfo[name]
	return ok
}

// releasedClaims applies data minimisation: a claim is released only if the
// portal asked for it, the client is allowed it, and the person has it. A
// language-tagged claim ("family_name#el") is the same datum in another
// script: it goes with its claim (asked for and allowed by the claim's
// name), or alone when the portal asked for exactly it.
func releasedClaims(id adapters.Claims, scopes []string, rc requestedClaims, allowed map[string]bool) map[string]any {
	out := map[string]any{}
	eachIdentityClaim(id, func(name string) bool {
		base := baseClaim(name)
		return allowed[base] && (claimRequested(scopes, rc, name) || base != name && claimRequested(scopes, rc, base))
	}, func(name string, v any) { out[name] = v })
	return out
}

// sortedKeys returns the claim names of m, sorted (consent page, logs).
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
