package eidassim

import (
	"bytes"
	"encoding/base64"
	"html"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// TestPostPageSplice: the auto-POST page with the Response spliced into
// the cached rendering reads, after HTML unescaping, exactly as the
// template renders it with the values themselves (the template writes
// '+' as a character reference, which a browser decodes back), with and
// without RelayState and with RelayState that needs escaping.
func TestPostPageSplice(t *testing.T) {
	s, err := New(Options{BaseURL: "https://sim.example/sim/eidas", ConnectorMetadataURL: "https://broker.example/md", Countries: []Country{{Code: "SE", Names: adapters.Text{EN: "Sweden", DE: "Schweden"}}}})
	if err != nil {
		t.Fatal(err)
	}
	c := s.country("SE")
	raw := bytes.Repeat([]byte{0xfb, 0xff, 0x3e, 'x'}, 500) // base64 with '+', '/' and '='
	for _, relay := range []string{"", "AbCdEfGhIjKlMnOpQrSt", `a"<b>&'c`} {
		p := &pending{acs: "https://broker.example/saml/connector/acs?x=1&y=2", relayState: relay}
		for range 2 { // the second answer comes from the cache
			w := httptest.NewRecorder()
			s.answerPage(w, c, p, raw)
			var want bytes.Buffer
			if err := pages.ExecuteTemplate(&want, "post", map[string]any{"Base": s.base, "Country": c, "ACS": p.acs,
				"SAMLResponse": base64.StdEncoding.EncodeToString(raw), "RelayState": relay}); err != nil {
				t.Fatal(err)
			}
			if got := html.UnescapeString(w.Body.String()); got != html.UnescapeString(want.String()) {
				t.Fatalf("relay %q: page differs:\n%s\nwant\n%s", relay, got, want.String())
			}
			if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://broker.example;") {
				t.Errorf("CSP %q", csp)
			}
		}
	}
	if len(s.cutPages) != 2 { // with and without RelayState
		t.Errorf("%d cached pages, want 2", len(s.cutPages))
	}
}

// TestChoosePageSplice: the citizen page with the request key spliced into
// the cached rendering is the template's rendering with the key.
func TestChoosePageSplice(t *testing.T) {
	s, err := New(Options{BaseURL: "https://sim.example/sim/eidas", ConnectorMetadataURL: "https://broker.example/md"})
	if err != nil {
		t.Fatal(err)
	}
	c := s.country("SE")
	p := &pending{connector: "https://broker.example/saml/connector/metadata", loa: assurance.Substantial,
		attrs: map[string]bool{"http://eidas.europa.eu/attributes/naturalperson/PersonIdentifier": true, "http://eidas.europa.eu/attributes/naturalperson/DateOfBirth": false}}
	for _, key := range []string{"_0123abcd", "_4567ef01"} {
		w := httptest.NewRecorder()
		s.choosePage(w, c, p, key)
		var want bytes.Buffer
		if err := pages.ExecuteTemplate(&want, "choose", map[string]any{"Base": s.base, "Country": c, "Key": key, "People": c.Citizens,
			"Legal": false, "LoA": p.loa.String(), "Attrs": "DateOfBirth, PersonIdentifier", "Connector": p.connector}); err != nil {
			t.Fatal(err)
		}
		if got := w.Body.String(); got != want.String() {
			t.Fatalf("key %s: page differs:\n%s\nwant\n%s", key, got, want.String())
		}
	}
}
