package broker

import (
	"maps"
	"slices"
	"sort"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// scopeClaims says which claims a standard scope asks for. Identity
// assurance claims ride on "profile" because portals ask for a person's
// identity as a whole; the client's allowed_claims still limit what is sent.
var scopeClaims = map[string][]string{
	"profile": {"given_name", "family_name", "birth_family_name", "birthdate",
		"place_of_birth", "nationalities", "gender", "title"},
	"address":      {"address"},
	"legal_entity": {"legal_entity"},
}

// SupportedClaims lists every claim the broker can release (discovery).
func SupportedClaims() []string {
	set := map[string]bool{"sub": true, "acr": true, "amr": true, "auth_time": true,
		"document_type": true, "issuing_state": true}
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
	put := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	put("given_name", c.GivenName)
	put("family_name", c.FamilyName)
	put("birth_family_name", c.BirthFamilyName)
	put("birthdate", c.Birthdate)
	put("gender", c.Gender)
	put("title", c.Title)
	if c.PlaceOfBirth != nil {
		out["place_of_birth"] = c.PlaceOfBirth
	}
	if c.Address != nil {
		out["address"] = c.Address
	}
	if len(c.Nationalities) > 0 {
		out["nationalities"] = c.Nationalities
	}
	if c.LegalEntity != nil {
		out["legal_entity"] = c.LegalEntity
	}
	for k, v := range c.Extra {
		put(k, v)
	}
	return out
}

// requestedClaimNames is everything the portal asked for: scope claims and
// the names in the claims parameter (both targets).
func requestedClaimNames(scopes []string, rc requestedClaims) map[string]bool {
	want := map[string]bool{}
	for _, s := range scopes {
		for _, c := range scopeClaims[s] {
			want[c] = true
		}
	}
	for name := range rc.IDToken {
		want[name] = true
	}
	for name := range rc.Userinfo {
		want[name] = true
	}
	return want
}

// releasedClaims applies data minimisation: a claim is released only if the
// portal asked for it, the client is allowed it, and the person has it.
func releasedClaims(id adapters.Claims, scopes []string, rc requestedClaims, allowed map[string]bool) map[string]any {
	want := requestedClaimNames(scopes, rc)
	out := map[string]any{}
	for name, v := range identityClaims(id) {
		if want[name] && allowed[name] {
			out[name] = v
		}
	}
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
