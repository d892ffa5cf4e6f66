package broker_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/ratelimit"
)

// fromAddress makes a browser's requests arrive through a trusted proxy
// (the test server sees 127.0.0.1) on behalf of addr.
type fromAddress struct{ addr string }

func (f fromAddress) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return http.DefaultTransport.RoundTrip(r)
}

// TestFloodIsLimitedWhileOthersLogIn: one client floods /authorize from one
// address and gets 429s, first by address, then, from a fresh address, by
// client; another portal's user logs in completely meanwhile.
func TestFloodIsLimitedWhileOthersLogIn(t *testing.T) {
	e := newEnv(t, func(c *broker.Config) {
		c.Limits = &ratelimit.Config{PerAddress: 20, PerClient: 30,
			TrustedProxies: []ratelimit.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	})
	flood := func(addr string, n int, lang ...string) (passed, limited int) {
		c := &http.Client{Transport: fromAddress{addr}, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
		u := e.srv.URL + "/authorize?" + url.Values{"client_id": {"other"}, "response_type": {"code"},
			"scope": {"openid"}, "redirect_uri": {rp2Redirect}, "state": {"s"},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}.Encode()
		for range n {
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			req.Header.Set("Accept", "text/html")
			want := []string{`<html lang="de">`, `<h1 id="busy">Bitte versuchen Sie es gleich noch einmal</h1>`, "warten Sie 60 Sekunden"}
			if len(lang) > 0 {
				req.Header.Set("Accept-Language", lang[0])
				want = []string{`<html lang="en">`, `<h1 id="busy">Please try again shortly</h1>`, "wait 60 seconds"}
			}
			want = append(want, `<link rel="stylesheet" href="/branding/theme.css">`)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body strings.Builder
			buf := make([]byte, 4096)
			for {
				k, err := resp.Body.Read(buf)
				body.Write(buf[:k])
				if err != nil {
					break
				}
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusTooManyRequests:
				limited++
				// The broker's branded page, in the browser's language.
				if resp.Header.Get("Retry-After") != "60" {
					t.Fatalf("429 without Retry-After: %v", resp.Header)
				}
				for _, w := range want {
					if !strings.Contains(body.String(), w) {
						t.Fatalf("429 page lacks %q: %v\n%s", w, resp.Header, body.String())
					}
				}
			case http.StatusInternalServerError, http.StatusServiceUnavailable:
				t.Fatalf("flood answered %d", resp.StatusCode)
			default:
				passed++
			}
		}
		return passed, limited
	}
	if p, l := flood("198.51.100.1", 40); p != 20 || l != 20 {
		t.Errorf("flood from one address: %d passed, %d limited; want 20/20", p, l)
	}
	if p, l := flood("198.51.100.3", 15, "en-GB,en;q=0.8"); p != 10 || l != 5 {
		t.Errorf("same client, fresh address: %d passed, %d limited; want 10/5 (client budget 30)", p, l)
	}

	r := e.rp("portal", "portal-secret", rpRedirect)
	r.browser.Transport = fromAddress{"198.51.100.2"}
	_, tk := r.login("erika", "high")
	if tk.claims["sub"] == "" {
		t.Fatal("no subject")
	}
	if s := e.broker.LimiterStats(); s.Limited != 25 {
		t.Errorf("limiter stats = %+v", s)
	}
}
