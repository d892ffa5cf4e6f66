package eidasservice_test

import (
	"html/template"
	"strings"
	"sync"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	es "github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/eidasservice/democonnector"
)

// TestLayout: the service hands each page to the configured layout with
// its language, its own title, the requesting service and (consent) the
// address for the language switch; it keeps its own CSP around it.
func TestLayout(t *testing.T) {
	var mu sync.Mutex
	var seen []es.Page
	h := newHarness(t, harnessOpts{svcCfg: func(_ *harness, c *es.Config) {
		c.Layout = func(p es.Page) ([]byte, error) {
			mu.Lock()
			seen = append(seen, p)
			mu.Unlock()
			return []byte("<!doctype html><title>" + template.HTMLEscapeString(p.Title.In(p.Lang)) + "</title><main>" + string(p.Content) + "</main>"), nil
		}
	}})
	last := func() es.Page {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 {
			t.Fatal("the layout was not used")
		}
		return seen[len(seen)-1]
	}
	b := h.browser()
	start := h.postRequest(b, democonnector.RequestOptions{})
	if p := last(); p.For == "" || p.Title.DE == "" || strings.Count(string(p.Content), "<h1") != 1 {
		t.Errorf("start page: %+v", p)
	}
	consent := h.eidLogin(b, start, "erika")
	p := last()
	if want := (adapters.Text{DE: "Datenübermittlung bestätigen", EN: "Confirm the data release"}); p.Title != want || p.LangBase == "" || p.For == "" ||
		strings.Count(string(p.Content), "<h1>") != 1 || !strings.Contains(string(p.Content), `id="approve"`) {
		t.Errorf("consent page: %+v", p)
	}
	if csp := consent.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("consent CSP %q", csp)
	}
	b.get(h.base + es.PathPrefix + "/consent/no-such-login?lang=en")
	if p := last(); p.Lang != "en" || p.Title.EN != "Login not possible" || !strings.Contains(string(p.Content), `id="error-message"`) {
		t.Errorf("error page: %+v", p)
	}
}
