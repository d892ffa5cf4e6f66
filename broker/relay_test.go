package broker_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

// relaySetup starts a login in the attacker's browser and returns the
// attacker's rp, the flow, the transaction ID and the demo adapter's page
// (the upstream hand-off the attacker would forward to a victim).
func relaySetup(t *testing.T, e *env) (*rp, *flow, string, *page) {
	t.Helper()
	attacker := e.rp("portal", "portal-secret", rpRedirect)
	f, methods := attacker.authorize()
	m := txPath.FindStringSubmatch(methods.body)
	if m == nil {
		t.Fatalf("no method page: %d %s", methods.status, methods.body)
	}
	handoff := attacker.post("/login/"+m[1]+"/start", url.Values{"method": {"demo"}})
	if handoff.status != http.StatusOK || handoff.field("nonce") == "" {
		t.Fatalf("demo hand-off: %d %s", handoff.status, handoff.body)
	}
	return attacker, f, m[1], handoff
}

// deliver posts the demo upstream's answer from browser b without
// following the redirect, so the test sees where it would go.
func deliver(t *testing.T, e *env, b *http.Client, handoff *page, action string) *http.Response {
	t.Helper()
	form := url.Values{"nonce": {handoff.field("nonce")}, "person": {"erika"}, "level": {"high"}, "action": {action}}
	req, _ := http.NewRequest(http.MethodPost, handoff.formAction(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := *b
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp
}

// TestRelayedLoginYieldsNoIdentity is the attack of the login-relay issue:
// the attacker starts a login, a victim authenticates upstream in another
// browser, and neither browser gets the identity.
func TestRelayedLoginYieldsNoIdentity(t *testing.T) {
	e := newEnv(t, nil)
	attacker, f, txID, handoff := relaySetup(t, e)
	victim := e.rp("portal", "portal-secret", rpRedirect)

	// The victim's browser delivers the answer and follows the redirect.
	got := victim.post(handoff.formAction(), url.Values{"nonce": {handoff.field("nonce")},
		"person": {"erika"}, "level": {"high"}, "action": {"login"}})
	if got.status != http.StatusForbidden || !strings.Contains(got.body, "keine Daten weitergegeben") {
		t.Fatalf("victim: want 403 relay page, got %d loc %v: %.300s", got.status, got.loc, got.body)
	}
	if got.loc != nil {
		t.Fatalf("victim was redirected to the portal: %v", got.loc)
	}
	// The attacker's browser holds the cookie but finds nothing.
	for _, u := range []string{"/login/" + txID + "/done", "/login/" + txID} {
		p := attacker.get(e.srv.URL + u)
		if p.loc != nil && p.loc.Query().Get("code") != "" {
			t.Fatalf("%s: attacker got a code", u)
		}
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "abgelaufen") {
			t.Fatalf("%s: want the expired page, got %d: %.300s", u, p.status, p.body)
		}
	}
	_ = f
}

// TestCookieWithoutHandleGetsNothing: the attacker's browser (cookie, no
// handle) polls /done while the victim's delivery is held back.
func TestCookieWithoutHandleGetsNothing(t *testing.T) {
	e := newEnv(t, nil)
	attacker, f, txID, handoff := relaySetup(t, e)
	victim := e.newBrowser()
	resp := deliver(t, e, victim, handoff, "login")
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || err != nil || loc.Query().Get("h") == "" {
		t.Fatalf("delivery: want 303 to /done?h=…, got %d %v", resp.StatusCode, loc)
	}
	for _, h := range []string{"", "forged-handle"} {
		u := e.srv.URL + "/login/" + txID + "/done"
		if h != "" {
			u += "?h=" + h
		}
		p := attacker.get(u)
		if p.status != http.StatusForbidden || p.loc != nil {
			t.Fatalf("handle %q: want 403, got %d loc %v", h, p.status, p.loc)
		}
	}
	// The same answer cannot be delivered twice.
	if again := deliver(t, e, victim, handoff, "login"); again.StatusCode != http.StatusBadRequest {
		t.Fatalf("second delivery: want 400, got %d", again.StatusCode)
	}
	// Only cookie + handle together finish: the genuine one-browser path,
	// simulated by handing the handle to the cookie holder.
	done := attacker.consent(attacker.get(loc.String()))
	q := attacker.callbackParams(done, f)
	if q.Get("code") == "" {
		t.Fatalf("cookie + handle: want a code, got %v", q)
	}
	// The handle is single use.
	if p := attacker.get(loc.String()); p.loc != nil && p.loc.Query().Get("code") != "" {
		t.Fatal("handle reused")
	}
}

// TestJunkCallbackDoesNotBreakLogin: someone who knows the reference posts
// junk to the callback; the genuine answer still completes, and the
// attempt is dropped only after repeated refusals.
func TestJunkCallbackDoesNotBreakLogin(t *testing.T) {
	e := newEnv(t, nil)
	owner, f, txID, handoff := relaySetup(t, e)
	junk := e.newBrowser()
	for i := range 2 {
		req, _ := http.NewRequest(http.MethodPost, handoff.formAction(), strings.NewReader("nonce=wrong&person=erika&level=high&action=login"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := junk.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("junk %d: want 400, got %d", i, resp.StatusCode)
		}
	}
	done := owner.consent(owner.post(handoff.formAction(), url.Values{"nonce": {handoff.field("nonce")},
		"person": {"erika"}, "level": {"high"}, "action": {"login"}}))
	if q := owner.callbackParams(done, f); q.Get("code") == "" {
		t.Fatalf("genuine answer after junk: %v", q)
	}
	_ = txID

	// Three refusals drop the attempt: the genuine answer then finds no
	// pending login, and the person picks a method again.
	e2 := newEnv(t, nil)
	owner2, _, txID2, handoff2 := relaySetup(t, e2)
	for range 3 {
		p := owner2.post(handoff2.formAction(), url.Values{"nonce": {"wrong"}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "/login/"+txID2) {
			t.Fatalf("refused answer in the owner's browser: want the retry page, got %d: %.300s", p.status, p.body)
		}
	}
	if p := owner2.post(handoff2.formAction(), url.Values{"nonce": {handoff2.field("nonce")}, "person": {"erika"}, "level": {"high"}, "action": {"login"}}); p.status != http.StatusBadRequest {
		t.Fatalf("answer after the attempt was dropped: want 400, got %d", p.status)
	}
	if p := owner2.get(e2.srv.URL + "/login/" + txID2); p.status != http.StatusOK || !strings.Contains(p.body, "/start") {
		t.Fatalf("method page after a dropped attempt: %d", p.status)
	}
}

// TestBackToPortalAfterFailureIsNotACancel: after a refused upstream
// answer, "back to the portal" reports login_required, not the person's
// access_denied (OIDC Core §3.1.2.6); a real cancel stays access_denied.
func TestBackToPortalAfterFailureIsNotACancel(t *testing.T) {
	tests := []struct {
		name   string
		answer url.Values // nil: cancel at the demo upstream
		want   string
	}{
		{"refused answer, then back", url.Values{"nonce": {"wrong"}}, "login_required"},
		{"cancel upstream", nil, "access_denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			owner, f, txID, handoff := relaySetup(t, e)
			var p *page
			if tc.answer != nil {
				owner.post(handoff.formAction(), tc.answer)
				p = owner.post("/login/"+txID+"/cancel", nil)
			} else {
				owner.post(handoff.formAction(), url.Values{"nonce": {handoff.field("nonce")}, "action": {"cancel"}})
				p = owner.post("/login/"+txID+"/cancel", nil)
			}
			if q := owner.callbackParams(p, f); q.Get("error") != tc.want {
				t.Fatalf("error = %q (%s), want %s", q.Get("error"), q.Get("error_description"), tc.want)
			}
		})
	}
}

// TestRelayedCancelEndsQuietly: a cancel delivered by a browser without
// the cookie does not redirect that browser to the attacker's portal.
func TestRelayedCancelEndsQuietly(t *testing.T) {
	e := newEnv(t, nil)
	_, _, _, handoff := relaySetup(t, e)
	victim := e.rp("portal", "portal-secret", rpRedirect)
	p := victim.post(handoff.formAction(), url.Values{"nonce": {handoff.field("nonce")}, "action": {"cancel"}})
	if p.loc != nil || p.status != http.StatusForbidden {
		t.Fatalf("want the relay page, got %d loc %v", p.status, p.loc)
	}
}

// TestCallbackBindingHalves: a callback that brings the binding cookie
// (same-site) carries both halves of the binding and goes straight on to
// consent; one without it (a cross-site POST, where SameSite=Lax cookies
// stay behind) goes through /done, where the starting browser's cookie
// and the handle complete the login.
func TestCallbackBindingHalves(t *testing.T) {
	e := newEnv(t, nil)

	// Same-site: the consent page answers the callback itself.
	r, f, _, handoff := relaySetup(t, e)
	resp := deliver(t, e, r.browser, handoff, "login")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("same-site callback: status %d, location %q; want the consent page", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Cross-site: no cookie on the callback, a redirect to /done with the
	// handle, which the starting browser (cookie sent on the top-level
	// GET) completes.
	r, f, txID, handoff := relaySetup(t, e)
	resp = deliver(t, e, &http.Client{}, handoff, "login")
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || loc == nil || !strings.HasPrefix(loc.Path, "/login/"+txID+"/done") || loc.Query().Get("h") == "" {
		t.Fatalf("cookie-less callback: %d %v; want 303 to /done with a handle", resp.StatusCode, loc)
	}
	q := r.callbackParams(r.consent(r.get(loc.String())), f)
	if _, err := r.exchange(f, q.Get("code")); err != nil {
		t.Fatalf("login through /done: %v", err)
	}
}

// rewindingStore puts the transaction back to how the start step read it
// (no pending upstream attempt) just before the callback writes: what a
// concurrent delivery of the same answer, which consumed the attempt
// first, leaves behind.
type rewindingStore struct {
	store.Store
	snapshot []byte
	armed    atomic.Bool
}

func (s *rewindingStore) Get(ctx context.Context, kind store.Kind, key string) (store.Entry, error) {
	e, err := s.Store.Get(ctx, kind, key)
	if err == nil && kind == store.KindTransaction && s.snapshot == nil && !strings.HasPrefix(key, "ref:") {
		s.snapshot = append([]byte{}, e.Value...)
	}
	return e, err
}

func (s *rewindingStore) Swap(ctx context.Context, kind store.Kind, key string, rev uint64, value []byte, ttl time.Duration) error {
	if kind == store.KindTransaction && s.armed.CompareAndSwap(true, false) {
		if cur, err := s.Store.Get(ctx, kind, key); err == nil {
			_ = s.Store.Swap(ctx, kind, key, cur.Revision, s.snapshot, ttl)
		}
	}
	return s.Store.Swap(ctx, kind, key, rev, value, ttl)
}

// TestCallbackLosingTheRaceGetsReplayPage: of two deliveries of one
// answer, the one that finds the attempt consumed gets the replay page
// (it used to crash on the transaction it no longer had).
func TestCallbackLosingTheRaceGetsReplayPage(t *testing.T) {
	for _, withCookie := range []bool{false, true} {
		mem := memory.New()
		t.Cleanup(func() { _ = mem.Close() })
		st := &rewindingStore{Store: mem}
		e := newEnvWithStore(t, st, nil)
		r, _, _, handoff := relaySetup(t, e)
		st.armed.Store(true)
		b := &http.Client{}
		if withCookie {
			b = r.browser
		}
		resp := deliver(t, e, b, handoff, "login")
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("cookie %v: status %d, want the replay page (400)", withCookie, resp.StatusCode)
		}
		if st.armed.Load() {
			t.Fatal("the rewind never happened")
		}
	}
}
