package broker_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

var expiresIn = regexp.MustCompile(`data-expires-in="(\d+)"`)

// secondsLeft reads how long the page says the login has left.
func secondsLeft(t *testing.T, p *page) int {
	t.Helper()
	m := expiresIn.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("page (status %d) has no expiry warning: %.600s", p.status, p.body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestExtendLogin: the method page says how long the login has left; the
// extend endpoint renews the login and the binding cookie for the browser
// that started it, and refuses any other browser, another site and an
// unknown login, without a page (it answers the warning's script).
func TestExtendLogin(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, methods := r.authorize()
	tx := r.txOf(methods)
	if n := secondsLeft(t, methods); n < 14*60 || n > 15*60 {
		t.Fatalf("fresh login has %d s left, want about 15 minutes", n)
	}
	if !strings.Contains(methods.body, `data-extend="/login/`+tx+`/extend"`) || !strings.Contains(methods.body, `<script src="/static/expiry.js" defer></script>`) {
		t.Fatal("method page lacks the expiry warning's hook")
	}
	extend := func(c *http.Client, id string, header ...string) (int, map[string]any, *http.Response) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login/"+id+"/extend", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("answer is not JSON: %v", err)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		return resp.StatusCode, body, resp
	}

	renewed := func() time.Time {
		t.Helper()
		at, err := broker.TxRenewed(e.broker, tx)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	started := renewed()

	// The refusals, twelve minutes in: none renews the login.
	e.advance(12 * time.Minute)
	t.Run("without the binding cookie", func(t *testing.T) {
		status, body, resp := extend(e.newBrowser(), tx)
		if status != http.StatusForbidden || body["error"] != "not_bound" || len(resp.Cookies()) != 0 {
			t.Fatalf("status %d, body %v, cookies %v", status, body, resp.Cookies())
		}
	})
	t.Run("from another site", func(t *testing.T) {
		status, body, _ := extend(r.browser, tx, "Sec-Fetch-Site", "cross-site")
		if status != http.StatusForbidden || body["error"] != "forbidden" {
			t.Fatalf("status %d, body %v", status, body)
		}
	})
	t.Run("unknown login", func(t *testing.T) {
		status, body, _ := extend(r.browser, "no-such-login")
		if status != http.StatusNotFound || body["error"] != "expired" {
			t.Fatalf("status %d, body %v", status, body)
		}
	})
	if at := renewed(); !at.Equal(started) {
		t.Fatalf("a refused extension renewed the login (%v, started %v)", at, started)
	}
	t.Run("the bound browser", func(t *testing.T) {
		status, body, resp := extend(r.browser, tx, "Sec-Fetch-Site", "same-origin")
		if status != http.StatusOK || body["expires_in"] != float64(15*60) {
			t.Fatalf("status %d, body %v", status, body)
		}
		if at := renewed(); at.Sub(started) < 12*time.Minute {
			t.Fatalf("login not renewed: %v, started %v", at, started)
		}
		var cookie bool
		for _, c := range resp.Cookies() {
			cookie = cookie || strings.HasPrefix(c.Name, "broker_tx_") && c.MaxAge == 15*60
		}
		if !cookie {
			t.Fatalf("binding cookie not renewed: %v", resp.Cookies())
		}
		// The login still completes.
		p := r.consent(r.demoLogin(r.get(e.srv.URL+"/login/"+tx), "erika", "high"))
		if p.loc == nil || p.loc.Query().Get("code") == "" {
			t.Fatalf("login did not complete after extending: %d %v", p.status, p.loc)
		}
	})
}

// TestMethodPageRenewsStaleLogin: shown again (a reload, the language
// switch, back from a failed attempt), the method page renews a login
// whose last renewal is older than half a minute, so the full time its
// warning counts from is true; a fresher one is left alone.
func TestMethodPageRenewsStaleLogin(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, methods := r.authorize()
	tx := r.txOf(methods)
	first, _ := broker.TxRenewed(e.broker, tx)
	e.advance(20 * time.Second)
	if n := secondsLeft(t, r.get(e.srv.URL+"/login/"+tx)); n != 15*60 {
		t.Fatalf("page says %d s", n)
	}
	if at, _ := broker.TxRenewed(e.broker, tx); !at.Equal(first) {
		t.Fatal("a fresh login was renewed by showing its page")
	}
	e.advance(5 * time.Minute)
	r.get(e.srv.URL + "/login/" + tx + "?lang=en")
	if at, _ := broker.TxRenewed(e.broker, tx); at.Sub(first) < 5*time.Minute {
		t.Fatalf("a 5-minute-old login was not renewed by showing its page (%v, first %v)", at, first)
	}
}

// TestExpiryPolicy: pages with the expiry warning may fetch from the
// broker's origin (and nothing else); the warning is where a person may
// linger: the method and the consent page.
func TestExpiryPolicy(t *testing.T) {
	e := newEnv(t, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, methods := r.authorize()
	consent := r.demoLogin(methods, "erika", "high")
	for name, p := range map[string]*page{"methods": methods, "consent": consent} {
		secondsLeft(t, p)
		if !strings.Contains(p.body, `id="expiry-status" role="status"`) {
			t.Errorf("%s: no status region for the warning", name)
		}
	}
	tx := txPath.FindStringSubmatch(methods.body)
	if tx == nil {
		t.Fatal("no method page")
	}
	resp, err := r.browser.Get(e.srv.URL + "/login/" + tx[1])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Fatalf("method page CSP %q", csp)
	}
}

// TestLongLoginKeepsItsReference: a login that goes on for longer than
// its reference was first written for (each step within the time limit)
// still finds itself when the upstream answers: starting the upstream
// login renews the reference when it could expire first. The store's
// clock moves with the broker's.
func TestLongLoginKeepsItsReference(t *testing.T) {
	var e *env
	st := memory.New(memory.WithClock(func() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }))
	t.Cleanup(func() { _ = st.Close() })
	e = newEnvWithStore(t, st, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, methods := r.authorize()
	tx := r.txOf(methods)
	e.advance(10 * time.Minute)
	r.get(e.srv.URL + "/login/" + tx) // the person reads the page again: renewed
	e.advance(10 * time.Minute)
	demoPage := r.post("/login/"+tx+"/start", url.Values{"method": {"demo"}})
	if demoPage.status != http.StatusOK || demoPage.field("nonce") == "" {
		t.Fatalf("start 20 minutes in: %d %.300s", demoPage.status, demoPage.body)
	}
	e.advance(14 * time.Minute) // 34 minutes after the login began
	p := r.consent(r.post(demoPage.formAction(), url.Values{"nonce": {demoPage.field("nonce")},
		"person": {"erika"}, "level": {"high"}, "action": {"login"}}))
	if p.loc == nil || p.loc.Query().Get("code") == "" {
		t.Fatalf("the upstream answer did not find the login: %d %v %.300s", p.status, p.loc, p.body)
	}
}
