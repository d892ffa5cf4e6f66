package main

import (
	"fmt"
	"html"
	"net/url"
	"regexp"

	"github.com/ozg-broker/eidas-broker/adapters/oidcup/oidcsim"
)

// accountLegs are the load tool's interoperable-account methods; base is
// the demo's URL (the simulators' pages post to relative actions).
func accountLegs(base string) map[string]legFunc {
	return map[string]legFunc{
		"oidc-upstream": func(_ *loginDriver, b *loadBrowser, page string) (string, error) {
			return oidcUpstreamLeg(base, b, page)
		},
		"bundid": func(_ *loginDriver, b *loadBrowser, page string) (string, error) {
			return bundidLeg(base, b, page)
		},
	}
}

// loadAdapterID is the demo adapter a load method starts: the method's
// own name, except oidc-upstream, which is the Landeskonto.
func loadAdapterID(method string) string {
	if method == "oidc-upstream" {
		return demoLandID
	}
	return method
}

var (
	reSimRequest = regexp.MustCompile(`name="request" value="([^"]+)"`)
	// reFormAction finds a POST form whatever attributes come first (the
	// simulator's answer form has an id).
	reFormAction = regexp.MustCompile(`<form[^>]* method="post"[^>]* action="([^"]+)"`)
)

// oidcUpstreamLeg logs in through the Landeskonto OIDC simulator at
// "hoch": the broker redirected to the simulated OP, its page is answered,
// and the redirects run back through the adapter's callback to consent.
func oidcUpstreamLeg(base string, b *loadBrowser, page string) (string, error) {
	id, err := find(reSimRequest, page, "Landeskonto simulator form")
	if err != nil {
		return "", err
	}
	return b.post(base+"/sim/landeskonto/authorize", url.Values{"request": {id}, "person": {"erika"}, "acr": {oidcsim.ACRHoch}})
}

// postForm reads an auto-submitting form (the broker's SAML handoff, the
// simulator's answer): its action and hidden fields.
func postForm(page string) (string, url.Values, error) {
	m := reFormAction.FindStringSubmatch(page)
	if m == nil {
		return "", nil, fmt.Errorf("no form on the page")
	}
	return html.UnescapeString(m[1]), hiddenFields(page), nil
}

// bundidLeg logs in through the BundID simulator at STORK 4: the signed
// AuthnRequest is posted to the simulator, the person's choice is
// answered, and the signed, encrypted Response is posted to the ACS,
// which forwards it to the login's callback.
func bundidLeg(base string, b *loadBrowser, page string) (string, error) {
	action, fields, err := postForm(page) // the AuthnRequest handoff
	if err != nil {
		return "", err
	}
	if page, err = b.post(action, fields); err != nil {
		return "", err
	}
	id, err := find(reSimRequest, page, "BundID simulator form")
	if err != nil {
		return "", err
	}
	if page, err = b.post(base+"/sim/bundid/answer", url.Values{"request": {id}, "person": {"erika"}, "level": {"4"}}); err != nil {
		return "", err
	}
	if action, fields, err = postForm(page); err != nil { // the SAML Response
		return "", err
	}
	return b.post(action, fields)
}
