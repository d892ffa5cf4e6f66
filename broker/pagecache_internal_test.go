package broker

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// writeCounter counts the Write calls a page takes.
type writeCounter struct {
	*httptest.ResponseRecorder
	writes int
}

func (w *writeCounter) Write(b []byte) (int, error) {
	w.writes++
	return w.ResponseRecorder.Write(b)
}

// TestSkeletonWrite: a cached page goes out in one Write, with its
// Content-Length, every placeholder replaced by the transaction ID and
// the slot by the escaped rows; the pooled buffer is used again without
// leaking one page's rows into the next.
func TestSkeletonWrite(t *testing.T) {
	c := newPageCache()
	ph, slot := string(c.placeholder), string(c.slot)
	page := []byte("<form action=\"/login/" + ph + "/start\">" + ph + "<table>" + slot + "</table><a href=\"/login/" + ph + "?lang=en\">")
	sk := c.put(&keyBuilder{b: []byte("k")}, page)
	rowsOf := func(v string) func([]byte) []byte {
		return func(b []byte) []byte {
			return appendConsentRows(b, "de", []consentItem{{Label: adapters.Text{DE: "Name", EN: "Name"}, Value: v}})
		}
	}
	for i, tc := range []struct{ tx, value, want string }{
		{"TX1", "<b>Erika & Co</b>", `<form action="/login/TX1/start">TX1<table><tr><th scope="row">Name</th><td>&lt;b&gt;Erika &amp; Co&lt;/b&gt;</td></tr>` + "\n" + `</table><a href="/login/TX1?lang=en">`},
		{"T2", "Max", `<form action="/login/T2/start">T2<table><tr><th scope="row">Name</th><td>Max</td></tr>` + "\n" + `</table><a href="/login/T2?lang=en">`},
	} {
		w := &writeCounter{ResponseRecorder: httptest.NewRecorder()}
		c.write(w, sk, tc.tx, rowsOf(tc.value), "https://portal.example")
		if w.writes != 1 {
			t.Errorf("page %d: %d writes, want 1", i, w.writes)
		}
		if got := w.Body.String(); got != tc.want {
			t.Errorf("page %d:\n got %s\nwant %s", i, got, tc.want)
		}
		if got := w.Header().Get("Content-Length"); got != strconv.Itoa(len(tc.want)) {
			t.Errorf("page %d: Content-Length %s, want %d", i, got, len(tc.want))
		}
		if w.Code != http.StatusOK || w.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("page %d: status %d, CSP %q", i, w.Code, w.Header().Get("Content-Security-Policy"))
		}
	}
	// A page without a slot (the method page) takes no rows.
	c2 := newPageCache()
	sk2 := c2.put(&keyBuilder{b: []byte("m")}, []byte("a"+string(c2.placeholder)+"b"))
	w := &writeCounter{ResponseRecorder: httptest.NewRecorder()}
	c2.write(w, sk2, "XYZ", nil)
	if w.Body.String() != "aXYZb" || w.writes != 1 {
		t.Errorf("method page: %q in %d writes", w.Body.String(), w.writes)
	}
	if bytes.Contains(w.Body.Bytes(), c2.placeholder) {
		t.Error("placeholder left in the page")
	}
}

// TestPageCSP: the policy built in one piece is the strict policy, then
// form-action, then what the page needs, exactly as spelled out here.
func TestPageCSP(t *testing.T) {
	const strict = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"
	tests := []struct {
		needs      pagePolicy
		formAction []string
		want       string
	}{
		{pagePolicy{}, nil, strict},
		{pagePolicy{}, []string{"https://portal.example"}, strict + "; form-action 'self' https://portal.example"},
		{pagePolicy{connect: true}, []string{"https://a.example", "https://b.example"}, strict + "; form-action 'self' https://a.example https://b.example; connect-src 'self'"},
		{pagePolicy{connect: true}, nil, strict + "; connect-src 'self'"},
		{pagePolicy{dataImages: true}, []string{"https://portal.example"},
			"default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self' https://portal.example"},
		{pagePolicy{connect: true, dataImages: true}, nil,
			"default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"},
	}
	for _, tt := range tests {
		if got := pageCSP(tt.needs, tt.formAction); got != tt.want {
			t.Errorf("pageCSP(%+v, %q)\n got %s\nwant %s", tt.needs, tt.formAction, got, tt.want)
		}
	}
}

// TestRedirectToClientPlain: a registered redirect URI that parameters can
// simply follow gets exactly the Location the general path (parse, merge
// the query, write back) gives; any other goes the general way.
func TestRedirectToClientPlain(t *testing.T) {
	for _, tc := range []struct {
		uri   string
		plain bool
	}{
		{"https://portal.example/cb", true},
		{"http://127.0.0.1:8080/callback", true},
		{"https://portal.example/cb?tenant=a", false},
		{"https://portal.example/cb?", false},
		{"https://portal.example/cb#x", false},
		{"HTTPS://portal.example/cb", false},
		{"https://portal.example/a%2Fb", true},
		{"https://portal.example/a b", false},
	} {
		if got := parseRedirectURI(tc.uri).plain; got != tc.plain {
			t.Errorf("parseRedirectURI(%q).plain = %v, want %v", tc.uri, got, tc.plain)
		}
		location := func(redirects map[string]redirectURI) string {
			s := &Server{issuer: "https://login.example", redirects: redirects}
			w := httptest.NewRecorder()
			tx := &transaction{RedirectURI: tc.uri, State: "st&=ate"}
			s.redirectToClient(w, httptest.NewRequest(http.MethodGet, "/consent/x", nil), tx, url.Values{"code": {"c/o+de"}})
			if w.Code != http.StatusFound || w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("%s: status %d, Cache-Control %q", tc.uri, w.Code, w.Header().Get("Cache-Control"))
			}
			return w.Header().Get("Location")
		}
		fast, general := location(map[string]redirectURI{tc.uri: parseRedirectURI(tc.uri)}), location(nil)
		if fast != general {
			t.Errorf("%s: Location %q, the general path gives %q", tc.uri, fast, general)
		}
	}
}

// TestHeaderValueShared: a handler that adds to a shared header value
// gets a copy; the shared value stays as it is.
func TestHeaderValueShared(t *testing.T) {
	h := http.Header{}
	h["X-Frame-Options"] = hdrDeny
	h.Add("X-Frame-Options", "SAMEORIGIN")
	h.Set("Cache-Control", "private")
	if len(hdrDeny) != 1 || hdrDeny[0] != "DENY" || len(h["X-Frame-Options"]) != 2 {
		t.Fatalf("shared value changed: %q, header %q", hdrDeny, h["X-Frame-Options"])
	}
}

// Keys come from a pool: a released key's buffer serves the next one, and
// a key never matches a page cached under another key.
func TestPageKeysFromPool(t *testing.T) {
	c := newPageCache()
	k1 := c.pageKey("methods", "de", &transaction{ClientID: "portal", Services: []string{"tax"}})
	sk := c.put(k1, []byte("page of portal"))
	k1.release()
	for _, tx := range []*transaction{
		{ClientID: "other", Services: []string{"tax"}},
		{ClientID: "portal", Services: []string{"ta", "x"}},
		{ClientID: "portal"},
	} {
		k := c.pageKey("methods", "de", tx)
		if _, ok := c.get(k); ok {
			t.Errorf("%+v: served another key's page", tx)
		}
		k.release()
	}
	k := c.pageKey("methods", "de", &transaction{ClientID: "portal", Services: []string{"tax"}})
	defer k.release()
	if got, ok := c.get(k); !ok || got != sk {
		t.Error("the same inputs miss their page")
	}
}
