package wallet

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// pid is a verified PID's attributes in one shape for both formats.
type pid struct {
	FamilyName      string
	GivenName       string
	Birthdate       string
	IssuingCountry  string
	BirthFamilyName string
	PlaceOfBirth    *adapters.PlaceOfBirth
	Nationalities   []string
	Address         *adapters.Address
}

// subject is the stable upstream identifier. The PID has no identifier
// that every member state issues and that survives re-issuance (the
// personal administrative number is optional and absent in German PIDs),
// so the subject is a hash over the attributes that identify a person in
// the PID rulebook's mandatory set: issuing country, family name, given
// names (compared in canonical form) and birth date. A change of name
// yields a new subject; the broker
// makes it pairwise per sector anyway.
func (p *pid) subject() string {
	h := sha256.New()
	for _, s := range []string{"eudi-pid-v1", p.IssuingCountry, canonical(p.FamilyName), canonical(p.GivenName), p.Birthdate} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "pid:" + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// canonical makes a name independent of how one issuer spells it in the
// two formats: Unicode NFC, upper case, single spaces.
func canonical(s string) string {
	return strings.Join(strings.Fields(strings.ToUpper(norm.NFC.String(s))), " ")
}

// claims maps the PID to the OIDC claims the login asked for; names and
// birth date are always part of the identity (the broker filters by what
// the portal may receive).
func (p *pid) claims(asked []string) adapters.Claims {
	c := adapters.Claims{GivenName: p.GivenName, FamilyName: p.FamilyName, Birthdate: p.Birthdate}
	for _, name := range asked {
		switch name {
		case "place_of_birth":
			c.PlaceOfBirth = p.PlaceOfBirth
		case "nationalities":
			c.Nationalities = p.Nationalities
		case "birth_family_name":
			c.BirthFamilyName = p.BirthFamilyName
		case "address":
			c.Address = p.Address
		case "issuing_state":
			if p.IssuingCountry != "" {
				c.Extra = map[string]string{"issuing_state": p.IssuingCountry}
			}
		}
	}
	return c
}

// countryCode keeps an ISO 3166-1 alpha-2 code, upper case.
func countryCode(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return ""
	}
	return s
}
