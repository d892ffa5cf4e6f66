package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"
)

// The login-relay attack against every upstream of the real demo wiring,
// with two cookie jars: the attacker starts a portal login and forwards
// the upstream hand-off; the victim authenticates upstream in their own
// browser. Neither browser may end up with an identity, a code or a
// session for the attacker's transaction, while one browser doing both
// halves still logs in (the browser tests and the broker's own tests
// cover that path for each upstream as well).

type httpBrowser struct {
	t *testing.T
	c *http.Client
}

func newHTTPBrowser(t *testing.T) *httpBrowser {
	jar, _ := cookiejar.New(nil)
	return &httpBrowser{t: t, c: &http.Client{Jar: jar}}
}

type httpPage struct {
	status int
	url    *url.URL
	body   string
}

func (b *httpBrowser) do(req *http.Request) httpPage {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return httpPage{status: resp.StatusCode, url: resp.Request.URL, body: string(body)}
}

func (b *httpBrowser) get(u string) httpPage {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *httpBrowser) post(u string, form url.Values) httpPage {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	formRE  = regexp.MustCompile(`(?s)<form method="post" action="([^"]*)"[^>]*>(.*?)</form>`)
	inputRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// form returns the action and hidden fields of the first form on p whose
// action contains want.
func (p httpPage) form(t *testing.T, want string) (string, url.Values) {
	t.Helper()
	for _, m := range formRE.FindAllStringSubmatch(p.body, -1) {
		action := html.UnescapeString(m[1])
		if !strings.Contains(action, want) {
			continue
		}
		v := url.Values{}
		for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
			v.Set(in[1], html.UnescapeString(in[2]))
		}
		return action, v
	}
	t.Fatalf("no form posting to %q on %s (status %d):\n%.1500s", want, p.url, p.status, p.body)
	return "", nil
}

// startAttack starts a portal login for a high (or, for ELSTER, a
// substantial) service in the attacker's browser and picks the method.
func startAttack(t *testing.T, base, service string, pick url.Values) (*httpBrowser, string, httpPage) {
	t.Helper()
	attacker := newHTTPBrowser(t)
	methods := attacker.get(base + "/demo/login?service=" + service)
	m := regexp.MustCompile(`/login/([A-Za-z0-9_-]+)/start`).FindStringSubmatch(methods.body)
	if m == nil {
		t.Fatalf("no method page (status %d):\n%.800s", methods.status, methods.body)
	}
	handoff := attacker.post(base+"/login/"+m[1]+"/start", pick)
	if handoff.status != http.StatusOK {
		t.Fatalf("hand-off: status %d:\n%.800s", handoff.status, handoff.body)
	}
	return attacker, m[1], handoff
}

// assertRelayRefused checks the victim's landing page and that the
// attacker's browser finds nothing for its transaction.
func assertRelayRefused(t *testing.T, base string, attacker *httpBrowser, tx string, victimLanding httpPage) {
	t.Helper()
	if victimLanding.status != http.StatusForbidden || !strings.Contains(victimLanding.body, "keine Daten weitergegeben") {
		t.Fatalf("victim: want the relay page (403), got %d at %s:\n%.800s", victimLanding.status, victimLanding.url, victimLanding.body)
	}
	if strings.HasPrefix(victimLanding.url.Path, "/demo/callback") {
		t.Fatal("victim reached the portal")
	}
	for _, p := range []string{"/login/" + tx + "/done", "/login/" + tx} {
		got := attacker.get(base + p)
		if got.url.Path == "/demo/callback" || strings.Contains(got.body, "LoA/") {
			t.Fatalf("attacker %s reached the portal with a result:\n%.800s", p, got.body)
		}
		if got.status != http.StatusBadRequest {
			t.Fatalf("attacker %s: want the expired page (400), got %d", p, got.status)
		}
	}
}

func TestRelayEID(t *testing.T) {
	base := startDemo(t)
	attacker, tx, handoff := startAttack(t, base, "certificate", url.Values{"method": {"eid"}})
	link := regexp.MustCompile(`id="start-client" href="([^"]+)"`).FindStringSubmatch(handoff.body)
	if link == nil {
		t.Fatalf("no eID-Client link:\n%.800s", handoff.body)
	}
	// The attacker knows the reference from his page: calling the
	// callback (the refresh address without its secret) gets nothing.
	ref := regexp.MustCompile(`/login/cb/([A-Za-z0-9_-]+)`).FindStringSubmatch(handoff.body)
	if ref == nil {
		t.Fatalf("no callback reference on the start page:\n%.800s", handoff.body)
	}
	if p := attacker.get(base + "/login/cb/" + ref[1] + "?ResultMajor=ok"); p.status != http.StatusBadRequest || p.url.Path == "/demo/callback" {
		t.Fatalf("callback without the refresh secret: %d at %s", p.status, p.url)
	}

	victim := newHTTPBrowser(t)
	client := victim.get(html.UnescapeString(link[1]))
	action, form := client.form(t, "/sim/eid-client/")
	form.Set("card", "erika")
	form.Set("action", "ok")
	assertRelayRefused(t, base, attacker, tx, victim.post(absolute(base, action), form))
}

func TestRelayEIDAS(t *testing.T) {
	base := startDemo(t)
	attacker, tx, handoff := startAttack(t, base, "certificate", url.Values{"method": {"eidas"}, "option": {"AT"}})
	// The signed AuthnRequest's auto-POST form, forwarded to the victim.
	action, form := handoff.form(t, "/sim/eidas")
	victim := newHTTPBrowser(t)
	choose := victim.post(absolute(base, action), form)
	action, form = choose.form(t, "/answer")
	form.Set("citizen", "anna")
	form.Set("action", "login")
	autopost := victim.post(absolute(base, action), form)
	action, form = autopost.form(t, "/saml/connector/acs")
	assertRelayRefused(t, base, attacker, tx, victim.post(absolute(base, action), form))
}

func TestRelayELSTER(t *testing.T) {
	base := startDemo(t)
	attacker, tx, handoff := startAttack(t, base, "tax", url.Values{"method": {"elster"}})
	action := regexp.MustCompile(`data-callback="([^"]+)"|action="([^"]*/login/cb/[^"]+)"`).FindStringSubmatch(handoff.body)
	challenge := regexp.MustCompile(`data-challenge="([^"]+)"|name="challenge" value="([^"]+)"`).FindStringSubmatch(handoff.body)
	if action == nil || challenge == nil {
		t.Fatalf("ELSTER page without callback or challenge:\n%.1500s", handoff.body)
	}
	cb := html.UnescapeString(action[1] + action[2])
	ch := html.UnescapeString(challenge[1] + challenge[2])

	// The victim proves possession of their certificate for the
	// attacker's challenge, from a page on the broker's own origin (the
	// forwarded page), which is the strongest form of this relay.
	der, err := os.ReadFile("../../testdata/elster/person.pfx")
	if err != nil {
		t.Fatal(err)
	}
	key, cert, chain, err := pkcs12.DecodeChain(der, "Erika-2025")
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(ch))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"challenge": {ch}, "alg": {"RS256"}, "signature": {base64.StdEncoding.EncodeToString(sig)},
		"chain": {base64.StdEncoding.EncodeToString(cert.Raw)}}
	for _, c := range chain {
		form.Add("chain", base64.StdEncoding.EncodeToString(c.Raw))
	}
	victim := newHTTPBrowser(t)
	req, _ := http.NewRequest(http.MethodPost, absolute(base, cb), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	assertRelayRefused(t, base, attacker, tx, victim.do(req))
}

func absolute(base, u string) string {
	if strings.HasPrefix(u, "/") {
		return base + u
	}
	return u
}
