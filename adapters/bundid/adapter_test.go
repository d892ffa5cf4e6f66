package bundid_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/bundid"
	"github.com/ozg-broker/eidas-broker/adapters/bundid/bundidsim"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

func TestLoginAtEveryLevel(t *testing.T) {
	h := newHarness(t, nil)
	for _, c := range []struct {
		name  string
		floor assurance.Level
		key   string
		want  assurance.Level
		amr   string
		err   error
	}{
		{"STORK 4 is high", assurance.High, "4", assurance.High, "eid", nil},
		{"STORK 3 is substantial", assurance.Substantial, "3", assurance.Substantial, "elster", nil},
		{"STORK 2 is low", assurance.Low, "2", assurance.Low, "eidas", nil},
		{"STORK 4 above a low floor", assurance.Low, "4", assurance.High, "eid", nil},
		// Below the floor: reported, the broker refuses it (unmet page).
		{"STORK 2 for a substantial floor stays low", assurance.Substantial, "2", assurance.Low, "eidas", nil},
		{"STORK 1 has no level", assurance.Low, "1", assurance.Unspecified, "", bundid.ErrLevel},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, err := h.login(request(c.floor), c.key)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if err != nil {
				return
			}
			if id.Level != c.want || !slices.Equal(id.AMR, []string{c.amr}) {
				t.Fatalf("level %v amr %v, want %v %v", id.Level, id.AMR, c.want, c.amr)
			}
			if id.Subject != h.sim.BPK2("erika", h.ad.EntityID()) || id.Claims.GivenName != "Erika" || id.Claims.FamilyName != "Mustermann" {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

// TestRequestedLevelAndMethods: the floor becomes STORK-QAA with
// Comparison minimum, and only the means able to reach it are enabled.
func TestRequestedLevelAndMethods(t *testing.T) {
	h := newHarness(t, nil)
	for _, c := range []struct {
		floor   assurance.Level
		stork   string
		enabled []string
	}{
		{assurance.Low, bundid.STORK2, []string{"eID", "eIDAS", "Elster"}},
		{assurance.Substantial, bundid.STORK3, []string{"eID", "eIDAS", "Elster"}},
		{assurance.High, bundid.STORK4, []string{"eID", "eIDAS"}},
	} {
		h.run(request(c.floor), "4")
		r := h.sim.LastRequest()
		if r.Level != c.stork || r.Comparison != "minimum" || !slices.Equal(r.EnabledMethods, c.enabled) ||
			!slices.Contains(r.DisabledMethods, "Benutzername") || !r.HasAKDB || r.AKDBVersion != "2" {
			t.Errorf("floor %v: request %+v", c.floor, r)
		}
	}
}

// TestDisplayPerService: OnlineServiceId and OrganizationDisplayName come
// from the login's client and service, falling back field by field.
func TestDisplayPerService(t *testing.T) {
	h := newHarness(t, nil)
	for _, c := range []struct {
		client   string
		services []string
		org, id  string
	}{
		{"portal", []string{"residence"}, "Bürgeramt Musterstadt", "99123456760000"},
		{"portal", []string{"certificate"}, "Bundesamt für Justiz", "99000000000004"},
		{"portal", []string{"library"}, "Bürgeramt Musterstadt", "default-99"},
		{"portal", nil, "Bürgeramt Musterstadt", "default-99"},
		{"other", []string{"residence"}, "Musterstadt", "other-1"},
		{"unknown", []string{"residence"}, "Musterstadt", "default-99"},
		{"", nil, "Musterstadt", "default-99"},
	} {
		req := request(assurance.Low)
		req.ClientID, req.Services = c.client, c.services
		h.run(req, "4")
		r := h.sim.LastRequest()
		if r.OrganizationDisplayName != c.org || r.OnlineServiceID != c.id {
			t.Errorf("%s %v: display %q %q, want %q %q", c.client, c.services, r.OrganizationDisplayName, r.OnlineServiceID, c.org, c.id)
		}
	}
}

// TestAttributeMinimisation: optional attributes (and the postbox handle)
// are asked for only when the portal may receive and asked for the claim.
func TestAttributeMinimisation(t *testing.T) {
	h := newHarness(t, nil)
	id, err := h.login(request(assurance.High), "4")
	if err != nil {
		t.Fatal(err)
	}
	r := h.sim.LastRequest()
	if slices.Contains(r.Attributes, bundid.AttrPostboxHandle) || slices.Contains(r.Attributes, bundid.AttrBirthdate) {
		t.Fatalf("requested without need: %v", r.Attributes)
	}
	if !slices.Contains(r.RequiredAttributes, bundid.AttrBPK2) || !slices.Contains(r.RequiredAttributes, bundid.AttrGivenName) {
		t.Fatalf("required attributes %v", r.RequiredAttributes)
	}
	if id.Claims.Extra[bundid.ClaimPostbox] != "" || id.Claims.Birthdate != "" {
		t.Fatalf("claims beyond the request: %+v", id.Claims)
	}
	id, err = h.login(request(assurance.High, bundid.ClaimPostbox, "birthdate", "address"), "4")
	if err != nil {
		t.Fatal(err)
	}
	if id.Claims.Extra[bundid.ClaimPostbox] != bundidsim.PostboxHandle("erika") || id.Claims.Birthdate != "1964-08-12" ||
		id.Claims.Address == nil || id.Claims.Address.Country != "DE" || id.Claims.Address.Locality != "Köln" {
		t.Fatalf("claims %+v", id.Claims)
	}
}

// TestStableSubject: the same person gets the same subject on every login
// (bPK2), and another SP entity ID gives another one.
func TestStableSubject(t *testing.T) {
	h := newHarness(t, nil)
	a, err := h.login(request(assurance.High), "4")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.login(request(assurance.Low), "2")
	if err != nil {
		t.Fatal(err)
	}
	if a.Subject == "" || a.Subject != b.Subject {
		t.Fatalf("subjects %q %q", a.Subject, b.Subject)
	}
	if h.sim.BPK2("erika", "https://other.example/sp") == a.Subject {
		t.Fatal("bPK2 does not depend on the SP")
	}
}

func TestCancel(t *testing.T) {
	h := newHarness(t, nil)
	_, err := h.login(request(assurance.Low), "")
	if !errors.Is(err, adapters.ErrCancelled) {
		t.Fatalf("err = %v", err)
	}
}

// TestAttributesBelowTheLevelDropped: a claim verified at a lower trust
// level than the login is not released under the login's acr.
func TestAttributesBelowTheLevelDropped(t *testing.T) {
	h := newHarness(t, nil)
	h.sim.SetTamper(bundidsim.Tamper{Assertion: func(as *etree.Element) {
		for _, at := range as.FindElements(".//Attribute") {
			if at.SelectAttrValue("Name", "") == bundid.AttrGivenName {
				at.CreateAttr("akdb:TrustLevel", "UNTERGEORDNET")
			}
		}
	}})
	id, err := h.login(request(assurance.High), "4")
	if err != nil {
		t.Fatal(err)
	}
	if id.Claims.GivenName != "" || id.Claims.FamilyName != "Mustermann" {
		t.Fatalf("claims %+v", id.Claims)
	}
}

// TestMaxLevelFromMeans: with only ELSTER offered, BundID can prove at most
// substantial; a high floor is refused before anything is sent.
func TestMaxLevelFromMeans(t *testing.T) {
	h := newHarness(t, func(c *bundid.Config) {
		c.AuthnMethods = []bundid.MethodEntry{{Name: "Elster", Level: assurance.Substantial}, {Name: "Benutzername"}}
	})
	if got := h.ad.Info().MaxLevel; got != assurance.Substantial {
		t.Fatalf("MaxLevel = %v", got)
	}
	if _, _, err := h.ad.Begin(t.Context(), request(assurance.High)); !errors.Is(err, bundid.ErrUnreachable) {
		t.Fatalf("Begin for high: %v", err)
	}
	h.run(request(assurance.Substantial), "3")
	if r := h.sim.LastRequest(); !slices.Equal(r.EnabledMethods, []string{"Elster"}) {
		t.Fatalf("enabled %v", r.EnabledMethods)
	}
}
