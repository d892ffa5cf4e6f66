package eidas

import (
	"errors"
	"slices"
	"testing"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

// TestGreeceConfig: "EL" (the eIDAS code) and "GR" (ISO) are both
// accepted for Greece, with the built-in names, and load as "EL"; listing
// both is listing Greece twice.
func TestGreeceConfig(t *testing.T) {
	greece := func(t *testing.T, code string) Country {
		c := fxConfig(t, "rsa", "at-proxy").Countries[0]
		c.Code, c.Level = code, assurance.Substantial
		return c
	}
	for _, tc := range []struct {
		name      string
		codes     []string
		node      string
		wantCodes []string
		wantNode  string
		problemAt string
	}{
		{name: "EL", codes: []string{"AT", "EL"}, wantCodes: []string{"AT", "EL"}, wantNode: "DE"},
		{name: "GR", codes: []string{"AT", "GR"}, wantCodes: []string{"AT", "EL"}, wantNode: "DE"},
		{name: "node country GR", codes: []string{"AT"}, node: "GR", wantCodes: []string{"AT"}, wantNode: "EL"},
		{name: "GR and EL", codes: []string{"GR", "EL"}, problemAt: "countries[1].code"},
		{name: "EL and GR", codes: []string{"EL", "GR"}, problemAt: "countries[1].code"},
		{name: "lower case", codes: []string{"el"}, problemAt: "countries[0].code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fxConfig(t, "rsa", "at-proxy")
			c.Countries = nil
			for _, code := range tc.codes {
				c.Countries = append(c.Countries, greece(t, code))
			}
			if tc.node != "" {
				c.NodeCountry = tc.node
			}
			ps := c.Validate()
			if tc.problemAt != "" {
				var at []string
				for _, p := range ps {
					at = append(at, p.Path)
				}
				if !slices.Contains(at, tc.problemAt) {
					t.Fatalf("no problem at %s: %v", tc.problemAt, ps)
				}
				return
			}
			if len(ps) != 0 {
				t.Fatalf("Validate: %v", ps)
			}
			e := c.effective()
			var got []string
			for _, cc := range e.Countries {
				got = append(got, cc.Code)
				if cc.Code == "EL" && (cc.Name.DE != "Griechenland" || cc.Name.EN != "Greece") {
					t.Errorf("names of %s: %+v", cc.Code, cc.Name)
				}
			}
			if !slices.Equal(got, tc.wantCodes) || e.NodeCountry != tc.wantNode {
				t.Errorf("loaded codes %v node %s, want %v %s", got, e.NodeCountry, tc.wantCodes, tc.wantNode)
			}
		})
	}
}

// TestIdentifierCountry: a PersonIdentifier's first part must name the
// country that was asked, where "EL" and "GR" are the same; the second
// part our node country, likewise.
func TestIdentifierCountry(t *testing.T) {
	for _, tc := range []struct {
		asked, node, pid string
		ok               bool
	}{
		{"EL", "DE", "EL/DE/123", true},
		{"EL", "DE", "GR/DE/123", true},
		{"GR", "DE", "EL/DE/123", true},
		{"GR", "DE", "GR/DE/123", true},
		{"AT", "DE", "AT/DE/123", true},
		{"EL", "DE", "CY/DE/123", false},
		{"AT", "DE", "EL/DE/123", false},
		{"EL", "DE", "EL/AT/123", false},
		{"DE", "EL", "DE/GR/123", true},
		{"DE", "EL", "DE/EL/123", true},
		{"EL", "DE", "el/DE/123", false},
		{"EL", "DE", "EL/DE/", false},
	} {
		a := &Adapter{cfg: Config{NodeCountry: tc.node}}
		err := a.checkIdentifier(tc.pid, tc.asked)
		if (err == nil) != tc.ok {
			t.Errorf("asked %s, node %s, %q: err %v, want ok=%v", tc.asked, tc.node, tc.pid, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrPersonIdentifier) {
			t.Errorf("%q: error %v does not wrap ErrPersonIdentifier", tc.pid, err)
		}
	}
}

// TestProxyServiceNodeCountry: a proxy-service's metadata may say "EL" or
// "GR" for Greece, whichever spelling the configuration uses.
func TestProxyServiceNodeCountry(t *testing.T) {
	ents, err := ParseMetadata(testfiles.Read(t, fixture(t, "metadata/at-proxy.xml")))
	if err != nil || len(ents) != 1 {
		t.Fatalf("fixture metadata: %d entities, %v", len(ents), err)
	}
	md := ents[0]
	for _, tc := range []struct {
		inMetadata, configured string
		ok                     bool
	}{
		{"EL", "EL", true}, {"GR", "EL", true}, {"EL", "GR", true}, {"GR", "GR", true},
		{"AT", "EL", false}, {"EL", "AT", false},
	} {
		m := *md
		m.NodeCountry = tc.inMetadata
		err := checkProxyService(&m, tc.configured, fxClock())
		if (err == nil) != tc.ok {
			t.Errorf("NodeCountry %s, configured %s: %v", tc.inMetadata, tc.configured, err)
		}
	}
}
