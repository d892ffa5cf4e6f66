package broker

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

func TestGroupMethods(t *testing.T) {
	elster := func(route string) adapters.Info {
		return adapters.Info{Family: "elster", FamilyName: adapters.Text{DE: "ELSTER", EN: "ELSTER"}, Route: adapters.Text{DE: route, EN: route}}
	}
	infos := map[string]adapters.Info{"eid": {}, "elster": elster("Zertifikatsdatei"), "elster-nezo": elster("Mein ELSTER"), "eidas": {Family: "solo"}}
	info := func(id string) (adapters.Info, bool) { i, ok := infos[id]; return i, ok }
	ms := []method{
		{ID: "eid", Level: assurance.High},
		{ID: "elster", Level: assurance.Substantial},
		{ID: "eidas", Level: assurance.High},
		{ID: "elster-nezo", Level: assurance.Substantial},
	}
	g := groupMethods(ms, info)
	if g.Grouped("eid") || g.Grouped("eidas") || !g.Grouped("elster") || !g.Grouped("elster-nezo") {
		t.Fatal("wrong members: only the two ELSTER methods form a family (a family of one stays alone)")
	}
	if !g.Leads("elster") || g.Leads("elster-nezo") {
		t.Fatal("the family must be rendered at its first member")
	}
	f := g.Family("elster-nezo")
	if f == nil || f.Name.DE != "ELSTER" || len(f.Routes) != 2 || f.Routes[1].Route.DE != "Mein ELSTER" {
		t.Fatalf("family %+v", f)
	}
	// A member that cannot reach the floor is not a route; the family
	// moves to the next member.
	ms[1].Insufficient = true
	g = groupMethods(ms, info)
	if !g.Leads("elster-nezo") || len(g.Family("elster").Routes) != 1 {
		t.Fatalf("insufficient member still offered: %+v", g.Family("elster"))
	}
	var none *methodGroups
	if none.Grouped("elster") || none.Leads("elster") || none.Family("elster") != nil {
		t.Fatal("nil groups must group nothing")
	}
}

// TestMethodsPageFamily: the method page shows the ELSTER family once,
// with both routes underneath, and the other methods as before; without
// groups the page is unchanged.
func TestMethodsPageFamily(t *testing.T) {
	p, err := newPages(&Server{})
	if err != nil {
		t.Fatal(err)
	}
	elster := func(route string) adapters.Info {
		return adapters.Info{Family: "elster", FamilyName: adapters.Text{DE: "ELSTER", EN: "ELSTER"}, Route: adapters.Text{DE: route, EN: route}}
	}
	infos := map[string]adapters.Info{"elster": elster("Mit Zertifikatsdatei"), "elster-nezo": elster("Über Mein ELSTER")}
	ms := []method{
		{ID: "eid", Name: adapters.Text{DE: "Online-Ausweis"}, Level: assurance.High},
		{ID: "elster", Name: adapters.Text{DE: "ELSTER-Zertifikat"}, Level: assurance.Substantial},
		{ID: "elster-nezo", Name: adapters.Text{DE: "ELSTER (Mein Unternehmenskonto)"}, Level: assurance.Substantial},
	}
	render := func(groups *methodGroups) string {
		data := map[string]any{"Lang": "de", "Tx": "tx1", "Client": "Portal", "Floor": assurance.Substantial, "Methods": ms, "AnyUsable": true,
			"Brand": p.brand, "Levels": levelHelp, "TTLMinutes": 30, "Title": titleMethods}
		if groups != nil {
			data["Groups"] = groups
		}
		var buf bytes.Buffer
		if err := p.tmpl.ExecuteTemplate(&buf, "methods.html", data); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	page := render(groupMethods(ms, func(id string) (adapters.Info, bool) { i, ok := infos[id]; return i, ok }))
	for _, want := range []string{`id="family-elster"`, `id="route-elster"`, `id="route-elster-nezo"`, "Mit Zertifikatsdatei", "Über Mein ELSTER", `id="start-elster-nezo"`, `id="method-eid"`} {
		if !strings.Contains(page, want) {
			t.Errorf("grouped page lacks %s", want)
		}
	}
	if strings.Count(page, `id="start-elster"`) != 1 || strings.Contains(page, `id="method-elster"`) {
		t.Error("an ELSTER method is shown outside its family")
	}
	plain := render(nil)
	if strings.Contains(plain, "family-") || !strings.Contains(plain, `id="method-elster"`) || !strings.Contains(plain, `id="method-elster-nezo"`) {
		t.Error("without groups the page must list every method on its own")
	}
}
