package broker_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters/demo"
	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/audit"
	"github.com/ozg-broker/eidas-broker/broker/logtest"
)

// TestAuditTrail: a login, a consent, a refusal, a decline and a logout
// each leave one event with client, adapter and levels, the subject only
// hashed, and none of the test persons' data, tokens or codes.
func TestAuditTrail(t *testing.T) {
	var out logtest.Buffer
	e := newEnv(t, func(c *broker.Config) {
		c.Audit = audit.New(&out, []byte("0123456789abcdef0123456789abcdef"), nil, nil)
	})
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, tk := r.login("erika", "high")

	// A login refused for its level, then declined at consent.
	r2 := e.rp("portal", "portal-secret", rpRedirect)
	_, methods := r2.authorize()
	m := txPath.FindStringSubmatch(methods.body)
	dp := r2.post("/login/"+m[1]+"/start", url.Values{"method": {"demo"}})
	r2.post(dp.formAction(), url.Values{"nonce": {dp.field("nonce")}, "person": {"max"}, "level": {"high"}, "action": {"login"}})
	r2.post("/consent/"+m[1], url.Values{"action": {"deny"}})

	var events []audit.Event
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev audit.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		events = append(events, ev)
	}
	seen := map[string]audit.Event{}
	for _, ev := range events {
		seen[ev.Event] = ev
	}
	for _, want := range []string{audit.ConsentGiven, audit.LoginCompleted, audit.ConsentDeclined, audit.LoginEnded} {
		if _, ok := seen[want]; !ok {
			t.Errorf("no %s event in %v", want, events)
		}
	}
	done := seen[audit.LoginCompleted]
	if done.Client != "portal" || done.Adapter != "demo" || done.Proved != "high" || done.Subject == "" || done.RequestID == "" {
		t.Errorf("login event %+v", done)
	}
	if done.Subject == tk.idToken.Subject {
		t.Error("the audit subject is the portal's sub, not hashed again")
	}
	// Request IDs: one per request, the same for the events of one.
	if given, declined := seen[audit.ConsentGiven], seen[audit.ConsentDeclined]; given.RequestID != done.RequestID ||
		declined.RequestID == "" || declined.RequestID == given.RequestID {
		t.Errorf("request IDs: consent %q, completed %q (one request); declined %q (another)", given.RequestID, done.RequestID, declined.RequestID)
	}
	if ended := seen[audit.LoginEnded]; ended.Reason != "access_denied" {
		t.Errorf("login_ended reason %q", ended.Reason)
	}
	// No personal data, tokens or codes.
	secrets := []string{tk.idToken.Subject, tk.tok.AccessToken}
	for _, p := range demo.People() {
		secrets = append(secrets, p.Claims.GivenName, p.Claims.FamilyName, p.Claims.Birthdate)
		if p.Claims.Address != nil {
			secrets = append(secrets, p.Claims.Address.StreetAddress)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(out.String(), s) {
			t.Errorf("audit trail contains %q", s)
		}
	}
}
