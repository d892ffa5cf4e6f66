package main

import (
	"net/http"
	"net/url"
	"regexp"

	"github.com/ozg-broker/eidas-broker/adapters/oidcup/oidcsim"
)

// accountLegs are the load tool's interoperable-account methods; base is
// the demo's URL (the simulators' pages post to relative actions).
func accountLegs(base string) map[string]legFunc {
	return map[string]legFunc{
		"oidc-upstream": func(fetch fetchFunc, find findFunc, page string) (string, error) {
			return oidcUpstreamLeg(base, fetch, find, page)
		},
	}
}

var reSimRequest = regexp.MustCompile(`name="request" value="([^"]+)"`)

// oidcUpstreamLeg logs in through the Landeskonto OIDC simulator at
// "hoch": the broker redirected to the simulated OP, its page is answered,
// and the redirects run back through the adapter's callback to consent.
func oidcUpstreamLeg(base string, fetch fetchFunc, find findFunc, page string) (string, error) {
	id, err := find(reSimRequest, page, "Landeskonto simulator form")
	if err != nil {
		return "", err
	}
	_, page, err = fetch(http.MethodPost, base+"/sim/landeskonto/authorize",
		url.Values{"request": {id}, "person": {"erika"}, "acr": {oidcsim.ACRHoch}})
	return page, err
}
