package broker

import "github.com/ozg-broker/eidas-broker/adapters"

// methodGroups says which login methods the method page offers as one
// choice: adapters that declare the same adapters.Info.Family (ELSTER's
// certificate route and its NEZO login) appear under the family's name,
// each as a route underneath, where the first usable member of the family
// would have been. A family with a single configured member is shown as
// an ordinary method. The page template asks it per method (Grouped,
// Leads, Family); a nil *methodGroups groups nothing.
type methodGroups struct {
	families map[string]*methodFamily // by family key
	member   map[string]*methodFamily // by method ID, families of ≥ 2 only
}

// methodFamily is one grouped entry of the method page.
type methodFamily struct {
	Key  string
	Name adapters.Text
	// Routes are the members that can reach the floor, in page order.
	Routes []methodRoute
}

// methodRoute is one member of a family with its route's name.
type methodRoute struct {
	Method method
	Route  adapters.Text
}

// groupMethods groups ms by the family their adapter declares; info
// returns an adapter's Info by method ID.
func groupMethods(ms []method, info func(id string) (adapters.Info, bool)) *methodGroups {
	g := &methodGroups{families: map[string]*methodFamily{}, member: map[string]*methodFamily{}}
	count := map[string]int{}
	infos := map[string]adapters.Info{}
	for _, m := range ms {
		if in, ok := info(m.ID); ok && in.Family != "" && len(m.Options) == 0 && len(m.Below) == 0 {
			infos[m.ID] = in
			count[in.Family]++
		}
	}
	for _, m := range ms {
		in, ok := infos[m.ID]
		if !ok || count[in.Family] < 2 {
			continue
		}
		f := g.families[in.Family]
		if f == nil {
			f = &methodFamily{Key: in.Family, Name: in.FamilyName}
			if f.Name == (adapters.Text{}) {
				f.Name = adapters.Text{DE: in.Family, EN: in.Family}
			}
			g.families[in.Family] = f
		}
		g.member[m.ID] = f
		if !m.Insufficient {
			route := in.Route
			if route == (adapters.Text{}) {
				route = in.Name
			}
			f.Routes = append(f.Routes, methodRoute{Method: m, Route: route})
		}
	}
	return g
}

// Grouped reports whether the method is shown inside a family.
func (g *methodGroups) Grouped(id string) bool {
	return g != nil && g.member[id] != nil
}

// Leads reports whether the family entry is rendered at this method: its
// first member that can reach the floor.
func (g *methodGroups) Leads(id string) bool {
	f := g.Family(id)
	return f != nil && len(f.Routes) > 0 && f.Routes[0].Method.ID == id
}

// Family returns the method's family, or nil.
func (g *methodGroups) Family(id string) *methodFamily {
	if g == nil {
		return nil
	}
	return g.member[id]
}

// methodGroups groups the offered methods by their adapters' families.
func (s *Server) methodGroups(ms []method) *methodGroups {
	return groupMethods(ms, func(id string) (adapters.Info, bool) {
		a := s.byID[id]
		if a == nil {
			return adapters.Info{}, false
		}
		return a.Adapter.Info(), true
	})
}
