package main

import (
	"net/url"
	"testing"
)

// TestRelayNEZO: the login-relay attack through ELSTER's NEZO login. The
// attacker forwards the signed AuthnRequest's auto-POST form; the victim
// logs in at the (simulated) ELSTER and their browser posts the answer to
// our ACS, which forwards it to the login's callback. The identity must
// reach neither browser.
func TestRelayNEZO(t *testing.T) {
	base := startDemo(t)
	attacker, tx, handoff := startAttack(t, base, "tax", url.Values{"method": {demoNEZOID}})
	action, form := handoff.form(t, "/sim/nezo")
	victim := newHTTPBrowser(t)
	choose := victim.post(absolute(base, action), form)
	action, form = choose.form(t, "/answer")
	form.Set("account", "erika")
	form.Set("action", "login")
	autopost := victim.post(absolute(base, action), form)
	action, form = autopost.form(t, "/saml/"+demoNEZOID+"/acs")
	assertRelayRefused(t, base, attacker, tx, victim.post(absolute(base, action), form))
}
