package eidas_test

import (
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters/eidas"
	"github.com/ozg-broker/eidas-broker/adapters/eidas/eidassim"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// TestRoundTripGreeceSpellings logs in through the simulated Greek
// proxy-service with every combination of spellings: the simulator's and
// the adapter's configuration saying "GR" or "EL", the login page option
// saying either, and the node writing the PersonIdentifier with "EL" (as
// eIDAS says) or "GR" (as some nodes do). Each is the same country.
func TestRoundTripGreeceSpellings(t *testing.T) {
	for _, simCode := range []string{"GR", "EL"} {
		for _, cfgCode := range []string{"GR", "EL"} {
			t.Run("sim "+simCode+", config "+cfgCode, func(t *testing.T) {
				var greece []eidassim.Country
				for _, c := range eidassim.DefaultCountries() {
					if c.Code == "EL" {
						c.Code = simCode
						greece = append(greece, c)
					}
				}
				if len(greece) != 1 {
					t.Fatal("the simulator has no Greece")
				}
				h := newHarness(t, harnessOptions{countries: greece, mutate: func(c *eidas.Config) { c.Countries[0].Code = cfgCode }})
				if opts := h.ad.Info().Options; len(opts) != 1 || opts[0].ID != "EL" || opts[0].Name.EN != "Greece (simulator)" {
					t.Fatalf("options %+v", opts)
				}
				for _, option := range []string{"EL", "GR"} {
					for _, pid := range []string{eidassim.TamperNone, eidassim.TamperISOCountry} {
						r := h.login(option, "eleni", "login", pid, assurance.Substantial, "nationalities")
						// One subject however the node spells the country,
						// so the portal's pairwise sub stays the same.
						if r.err != nil || r.id.Subject != "EL/DE/GR55512345" {
							t.Errorf("option %s, tamper %q: subject %q, err %v", option, pid, r.id.Subject, r.err)
							continue
						}
						if len(r.id.Claims.Nationalities) != 1 || r.id.Claims.Nationalities[0] != "GR" {
							t.Errorf("nationalities %v, want the ISO code GR", r.id.Claims.Nationalities)
						}
					}
				}
			})
		}
	}
}
