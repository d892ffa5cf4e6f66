package broker

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// claimRequest is one entry of the OIDC claims request parameter (Core 5.5.1).
type claimRequest struct {
	Essential bool     `json:"essential,omitempty"`
	Value     string   `json:"value,omitempty"`
	Values    []string `json:"values,omitempty"`
}

// requestedClaims is the parsed claims parameter.
type requestedClaims struct {
	IDToken  map[string]*claimRequest `json:"id_token,omitempty"`
	Userinfo map[string]*claimRequest `json:"userinfo,omitempty"`
}

// parseClaimsParam parses the claims parameter strictly enough to refuse
// garbage (invalid_request) but ignores members it does not know, as Core
// 5.5 requires.
func parseClaimsParam(raw string) (requestedClaims, error) {
	var rc requestedClaims
	if raw == "" {
		return rc, nil
	}
	if err := json.Unmarshal([]byte(raw), &rc); err != nil {
		return rc, fmt.Errorf("claims parameter is not valid JSON: %w", err)
	}
	return rc, nil
}

// acrValues returns the values of a claim request (value and values).
func (c *claimRequest) acrValues() []string {
	if c == nil {
		return nil
	}
	out := slices.Clone(c.Values)
	if c.Value != "" {
		out = append(out, c.Value)
	}
	return out
}

// floorInput is everything that contributes to the required level.
type floorInput struct {
	ClientMin   assurance.Level
	ServiceMins []assurance.Level
	ACRValues   []string // acr_values, voluntary, in preference order
	Claims      requestedClaims
}

// computeFloor implements DESIGN §2: the floor is the highest of the
// client's minimum, every requested service's minimum, and the lowest level
// the request itself accepts (acr_values, essential acr). A request can
// raise the floor, never lower it. It also returns the essential acr values
// the ID token must carry one of (nil when acr is not essential).
func computeFloor(in floorInput) (assurance.Level, []string, error) {
	floor := in.ClientMin
	for _, m := range in.ServiceMins {
		floor = assurance.Max(floor, m)
	}
	if l, ok := lowestNotified(in.ACRValues); ok {
		floor = assurance.Max(floor, l)
	}
	var essential []string
	for _, c := range []*claimRequest{in.Claims.IDToken["acr"], in.Claims.Userinfo["acr"]} {
		if c == nil {
			continue
		}
		vals := c.acrValues()
		if l, ok := lowestNotified(vals); ok {
			floor = assurance.Max(floor, l)
		}
		if c.Essential && len(vals) > 0 {
			essential = append(essential, vals...)
		}
	}
	if len(essential) > 0 {
		if _, ok := lowestNotified(essential); !ok {
			return floor, essential, fmt.Errorf("none of the essential acr values %q is supported", essential)
		}
	}
	if floor == assurance.Unspecified {
		floor = assurance.Low
	}
	return floor, essential, nil
}

// lowestNotified returns the lowest notified level among acr URIs; unknown
// values are ignored (acr_values are voluntary).
func lowestNotified(uris []string) (assurance.Level, bool) {
	lowest, found := assurance.Unspecified, false
	for _, u := range uris {
		l, err := assurance.ParseURI(u)
		if err != nil || !l.Notified() {
			continue
		}
		if !found || l < lowest {
			lowest, found = l, true
		}
	}
	return lowest, found
}

// acrFor picks the acr to put in the ID token for a proved level. Without
// essential values it is the proved level itself. With them it is the
// highest essential value the proved level satisfies; false when none is.
func acrFor(proved assurance.Level, essential []string) (string, bool) {
	if len(essential) == 0 {
		return proved.URI(), proved != assurance.Unspecified
	}
	best, found := assurance.Unspecified, false
	for _, u := range essential {
		l, err := assurance.ParseURI(u)
		if err != nil || !proved.Satisfies(l) {
			continue
		}
		if !found || l > best {
			best, found = l, true
		}
	}
	return best.URI(), found
}

// serviceScopePrefix marks a scope that names an administrative service.
const serviceScopePrefix = "service:"

// splitServiceScopes returns the service IDs named in scopes.
func splitServiceScopes(scopes []string) []string {
	var ids []string
	for _, s := range scopes {
		if id, ok := strings.CutPrefix(s, serviceScopePrefix); ok {
			ids = append(ids, id)
		}
	}
	return ids
}
