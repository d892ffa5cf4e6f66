package broker

import (
	"slices"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// withLoginContext tells the adapter which portal and services the login
// is for (adapters.Request ClientID and Services), so that an upstream
// such as BundID can show the person the online service that asks. It is
// kept apart from adapterRequest so that the wiring is one call:
//
//	return withLoginContext(adapters.Request{…}, tx)
func withLoginContext(req adapters.Request, tx *transaction) adapters.Request {
	req.ClientID = tx.ClientID
	req.Services = slices.Clone(tx.Services)
	return req
}

// amrFor is the ID token's amr for an identity: the adapter type first,
// then what the upstream reported (without repeats), so a portal sees
// both the broker's method and the upstream's means, e.g. ["bundid",
// "eid"]. The wiring is t.AMR = amrFor(a.Adapter.Info().Type, ident).
func amrFor(adapterType string, ident adapters.Identity) []string {
	out := []string{adapterType}
	for _, m := range ident.AMR {
		if m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}
