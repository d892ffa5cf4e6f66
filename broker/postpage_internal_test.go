package broker

import (
	"bytes"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// TestPostPageSplice: the SAML auto-POST page written from the cached
// skeleton has the headers of the template's rendering (status, CSP with
// the upstream's origin as form-action, no-store, its length) and reads,
// after HTML unescaping, exactly as the template renders it (the
// template writes '+' and '=' as character references, which a browser
// decodes back): for both languages, one and several fields, a repeated
// name, values that need escaping, and from the cache on the second use.
// A value never reaches the cache.
func TestPostPageSplice(t *testing.T) {
	p, err := newPages(&Server{branding: Branding{OperatorName: "Test & Co", TestBanner: true}})
	if err != nil {
		t.Fatal(err)
	}
	request := strings.Repeat("PD94bWwgdmVyc2lvbj0iMS4wIj8+Pg+/=", 300)
	forms := []url.Values{
		{"SAMLRequest": {request}, "RelayState": {"AbCdEfGhIjKlMnOpQrSt_-"}},
		{"SAMLRequest": {request + "=="}},
		{"SAMLRequest": {"x"}, "RelayState": {`a"<b>&'c` + "\x00d"}, "SigAlg": {"one", "two"}},
	}
	for _, lang := range []string{"de", "en"} {
		for i, form := range forms {
			for round := range 2 { // the second page comes from the cache
				h := adapters.Handoff{PostURL: "https://node.example/sso?a=1&b=2", PostForm: form}
				r := httptest.NewRequest(http.MethodPost, "/login/tx/start", nil)
				r.Header.Set("Accept-Language", lang)
				got := httptest.NewRecorder()
				p.handoffPost(got, r, h)
				want := httptest.NewRecorder()
				p.renderPost(want, r, h.PostURL, postFields(h.PostForm))
				if got.Code != want.Code {
					t.Fatalf("%s form %d round %d: status %d, want %d", lang, i, round, got.Code, want.Code)
				}
				for _, k := range []string{"Content-Security-Policy", "Content-Type", "Cache-Control"} {
					if g, w := got.Header().Get(k), want.Header().Get(k); g != w || g == "" {
						t.Errorf("%s form %d: %s %q, want %q", lang, i, k, g, w)
					}
				}
				if cl := got.Header().Get("Content-Length"); cl != strconv.Itoa(got.Body.Len()) {
					t.Errorf("%s form %d: Content-Length %s for %d bytes", lang, i, cl, got.Body.Len())
				}
				if g, w := html.UnescapeString(got.Body.String()), html.UnescapeString(want.Body.String()); g != w {
					t.Fatalf("%s form %d round %d: page differs:\n%s\nwant\n%s", lang, i, round, g, w)
				}
				if bytes.Contains(got.Body.Bytes(), []byte(p.post.mark)) {
					t.Fatalf("%s form %d: marker left in the page", lang, i)
				}
			}
		}
	}
	if n := len(p.post.pages); n != 2*len(forms) {
		t.Errorf("%d cached shapes, want %d", n, 2*len(forms))
	}
	for key, sk := range p.post.pages {
		for _, part := range sk.parts {
			if bytes.Contains(part, []byte("PD94bWwg")) || bytes.Contains(part, []byte("AbCdEfGh")) {
				t.Fatalf("shape %q holds a value", key)
			}
		}
	}
}

// TestPostPageEscaping: what a value is written as inside the quoted
// attribute.
func TestPostPageEscaping(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "",
		"QUJD+/==":              "QUJD+/==",
		`"'<>&`:                 "&#34;&#39;&lt;&gt;&amp;",
		"a\x00b":                "a\uFFFDb",
		"Grüße &amp; ` = +":     "Grüße &amp;amp; ` = +",
		"AbCdEfGhIjKlMnOpQrSt_": "AbCdEfGhIjKlMnOpQrSt_",
	} {
		got := string(appendAttrEscaped([]byte("x"), in))
		if got != "x"+want {
			t.Errorf("%q: %q, want %q", in, got, "x"+want)
		}
		if n := attrEscapedLen(in); n != len(want) {
			t.Errorf("%q: length %d, want %d", in, n, len(want))
		}
	}
}

// BenchmarkPostPage: the SAML auto-POST page of one login (a signed
// AuthnRequest of 6 KB in base64 and RelayState) from the cached shape;
// /template renders it through html/template as before, for comparison.
func BenchmarkPostPage(b *testing.B) {
	p, err := newPages(&Server{})
	if err != nil {
		b.Fatal(err)
	}
	h := adapters.Handoff{PostURL: "https://node.example/sso", PostForm: url.Values{
		"SAMLRequest": {strings.Repeat("PD94bWwgdmVyc2lvbj0iMS4wIj8+Pg+/", 190) + "=="}, "RelayState": {"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCd"},
	}}
	r := httptest.NewRequest(http.MethodPost, "/login/tx/start", nil)
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.handoffPost(httptest.NewRecorder(), r, h)
		}
	})
	b.Run("template", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.renderPost(httptest.NewRecorder(), r, h.PostURL, postFields(h.PostForm))
		}
	})
}
