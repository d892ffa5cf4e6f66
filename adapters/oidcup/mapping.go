package oidcup

import (
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/ozg-broker/eidas-broker/adapters"
)

var birthdatePattern = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?$`)
var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// maxClaimLen bounds one mapped string value; longer values are dropped.
const maxClaimLen = 512

// mapClaims applies the claim table to the upstream claims. A value of the
// wrong shape is dropped, logged by claim name only.
func mapClaims(table map[string]string, in map[string]any, log *slog.Logger) adapters.Claims {
	var c adapters.Claims
	drop := func(up string) { log.Warn("upstream claim dropped: unexpected shape", "claim", up) }
	// Sorted, so that two upstream claims mapped onto one broker claim
	// resolve the same way every time (the first name wins).
	for _, up := range slices.Sorted(maps.Keys(table)) {
		ours := table[up]
		v, ok := in[up]
		if !ok || v == nil {
			continue
		}
		if stringClaims[ours] || !structuredClaims[ours] {
			s, ok := v.(string)
			if !ok || s == "" || len(s) > maxClaimLen || strings.ContainsAny(s, "\x00\r\n") {
				drop(up)
				continue
			}
			if ours == "birthdate" && !birthdatePattern.MatchString(s) {
				drop(up)
				continue
			}
			setString(&c, ours, s)
			continue
		}
		switch ours {
		case "nationalities":
			list, ok := stringList(v)
			if !ok {
				drop(up)
				continue
			}
			for _, n := range list {
				if !countryPattern.MatchString(n) {
					drop(up)
					list = nil
					break
				}
			}
			if c.Nationalities == nil {
				c.Nationalities = list
			}
		case "address":
			m, ok := v.(map[string]any)
			if !ok {
				drop(up)
				continue
			}
			a := &adapters.Address{
				Formatted: str(m, "formatted"), StreetAddress: str(m, "street_address"), Locality: str(m, "locality"),
				Region: str(m, "region"), PostalCode: str(m, "postal_code"), Country: str(m, "country"),
			}
			if *a != (adapters.Address{}) && c.Address == nil {
				c.Address = a
			}
		case "place_of_birth":
			m, ok := v.(map[string]any)
			if !ok {
				drop(up)
				continue
			}
			p := &adapters.PlaceOfBirth{Country: str(m, "country"), Region: str(m, "region"), Locality: str(m, "locality")}
			if *p != (adapters.PlaceOfBirth{}) && c.PlaceOfBirth == nil {
				c.PlaceOfBirth = p
			}
		}
	}
	return c
}

func setString(c *adapters.Claims, name, v string) {
	set := func(f *string) {
		if *f == "" {
			*f = v
		}
	}
	switch name {
	case "given_name":
		set(&c.GivenName)
	case "family_name":
		set(&c.FamilyName)
	case "birth_family_name":
		set(&c.BirthFamilyName)
	case "birthdate":
		set(&c.Birthdate)
	case "gender":
		set(&c.Gender)
	case "title":
		set(&c.Title)
	default:
		if c.Extra == nil {
			c.Extra = map[string]string{}
		}
		if _, ok := c.Extra[name]; !ok {
			c.Extra[name] = v
		}
	}
}

// str reads a string member of a JSON object; other shapes read as "".
func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	if len(s) > maxClaimLen || strings.ContainsRune(s, 0) {
		return ""
	}
	return s
}

// stringList accepts a JSON string or an array of strings.
func stringList(v any) ([]string, bool) {
	switch t := v.(type) {
	case string:
		return []string{t}, t != ""
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			s, ok := x.(string)
			if !ok || s == "" {
				return nil, false
			}
			out = append(out, s)
		}
		return out, len(out) > 0
	}
	return nil, false
}
