package democonnector_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/eid/eidsim"
	es "github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/eidasservice/democonnector"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

var (
	hrefRE  = regexp.MustCompile(`href="([^"]*tcTokenURL=[^"]*)"`)
	formRE  = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	inputRE = regexp.MustCompile(`<input type="hidden" name="([A-Za-z]+)" value="([^"]*)">`)
)

func formOf(t *testing.T, body string) (string, url.Values) {
	t.Helper()
	m := formRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form:\n%s", body)
	}
	v := url.Values{}
	for _, in := range inputRE.FindAllStringSubmatch(body, -1) {
		v.Set(in[1], html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), v
}

// TestDemoWiring wires service and demo connector as `broker demo` does
// and clicks through the demo pages: the connector's button, the eID
// simulator, the consent page, and the connector's result page.
func TestDemoWiring(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	issuer := srv.URL

	pki, err := eidsim.LoadPKI(testfiles.Path(t, "testdata", "eid"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := eidsim.StartDemo(eidsim.DemoOptions{PKI: pki})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ad, err := d.AdapterConfig(issuer+"/sim/eid-client/").Open("eid", adapters.Deps{Store: memory.New(), BaseURL: issuer})
	if err != nil {
		t.Fatal(err)
	}
	demo, err := democonnector.Wire(democonnector.WireOptions{Issuer: issuer, Adapter: ad, AdapterID: "eid", Store: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(es.PathPrefix+"/", http.StripPrefix(es.PathPrefix, demo.Service.Routes()))
	mux.Handle("/demo/connector/", http.StripPrefix("/demo/connector", demo.Connector.Handler()))
	mux.Handle("/eid/", http.StripPrefix("/eid", ad.Routes()))

	for _, tc := range []struct {
		binding, level, card, want string
	}{
		{"post", "high", "erika", "Login successful"},
		{"redirect", "substantial", "erika", "Login successful"},
		{"post", "high", "cancel", "Citizen consent not given."},
		{"post", "exact-substantial", "", "NoAuthnContext"},
	} {
		t.Run(tc.binding+"/"+tc.level+"/"+tc.card, func(t *testing.T) {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar}
			get := func(u string) string {
				resp, err := c.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return string(b)
			}
			post := func(u string, v url.Values) string {
				resp, err := c.PostForm(u, v)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return string(b)
			}
			if p := get(issuer + "/demo/connector/"); !strings.Contains(p, "German eID") {
				t.Fatalf("start page:\n%s", p)
			}
			page := post(issuer+"/demo/connector/start", url.Values{"binding": {tc.binding}, "level": {tc.level}})
			if tc.binding == "post" {
				action, form := formOf(t, page)
				if action != issuer+es.SSOPath || form.Get("SAMLRequest") == "" {
					t.Fatalf("request form to %s", action)
				}
				page = post(action, form)
			}
			if tc.card != "" {
				m := hrefRE.FindStringSubmatch(page)
				if m == nil {
					t.Fatalf("no eID start page:\n%s", page)
				}
				u, _ := url.Parse(html.UnescapeString(m[1]))
				refresh, err := d.Client.Authenticate(context.Background(), u.Query().Get("tcTokenURL"), tc.card)
				if err != nil {
					t.Fatal(err)
				}
				page = get(refresh)
				if strings.Contains(page, `name="decision"`) {
					action, form := formOf(t, page)
					form.Set("decision", "approve")
					page = post(action, form)
				}
			}
			action, form := formOf(t, page)
			if action != demo.Connector.ACSURL() {
				t.Fatalf("Response form to %s", action)
			}
			result := post(action, form)
			if !strings.Contains(result, tc.want) {
				t.Fatalf("result page lacks %q:\n%s", tc.want, result)
			}
			if tc.want == "Login successful" && (!strings.Contains(result, "MUSTERMANN") || !strings.Contains(result, "http://eidas.europa.eu/LoA/high")) {
				t.Errorf("result page lacks the attributes or the level:\n%s", result)
			}
		})
	}
}
