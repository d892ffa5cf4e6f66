package elster_test

import (
	"crypto/sha512"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters/elster"
)

var (
	scriptTag   = regexp.MustCompile(`<script src="([^"]+)" integrity="([^"]+)"`)
	styleTag    = regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)" integrity="([^"]+)"`)
	inlineJS    = regexp.MustCompile(`(?i)<script(\s[^>]*)?>`)
	eventAttr   = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	styleAttr   = regexp.MustCompile(`(?i)\sstyle\s*=`)
	styleBlock  = regexp.MustCompile(`(?i)<style`)
	javascriptU = regexp.MustCompile(`(?i)javascript:`)
)

func TestPage(t *testing.T) {
	e := newEnv(t, nil)
	routes := http.StripPrefix("/login/elster", e.adapter.Routes())
	for _, locale := range []string{"de", "en"} {
		t.Run(locale, func(t *testing.T) {
			req := request("tx-page-" + locale)
			req.Locale = locale
			h, _, err := e.adapter.Begin(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			page := string(h.Content)
			// Content for the broker's layout: one h1, the title in the
			// person's language, no document of its own.
			want := map[string]string{"de": "Anmelden mit ELSTER-Zertifikat", "en": "Log in with your ELSTER certificate"}[locale]
			if h.Title != want || strings.Count(page, "<h1>") != 1 || !strings.Contains(page, "<h1>"+want+"</h1>") {
				t.Errorf("title %q, want %q as the one h1", h.Title, want)
			}
			for _, tag := range []string{"<html", "<head", "<body", "<main"} {
				if strings.Contains(page, tag) {
					t.Errorf("content has its own %s>", tag)
				}
			}
			if h.Needs.Fetch || h.Needs.DataImages || !h.Needs.SameOriginReferrer {
				t.Errorf("needs %+v, want only the same-origin referrer policy", h.Needs)
			}
			if !strings.Contains(page, `id="elster-error" class="error" role="alert" tabindex="-1"`) {
				t.Error("the error message cannot take the focus")
			}
			if !strings.Contains(page, `action="`+req.CallbackURL+`"`) {
				t.Error("page does not post to the callback URL")
			}
			if !strings.Contains(html.UnescapeString(page), "ElsterSim Root CA 1") {
				t.Error("page lacks the CA names for the client-side hint")
			}
			// Strict CSP: no inline script, style or handlers.
			for _, m := range inlineJS.FindAllStringSubmatch(page, -1) {
				if !strings.Contains(m[0], " src=") {
					t.Errorf("inline script tag %q", m[0])
				}
			}
			for _, re := range []*regexp.Regexp{eventAttr, styleAttr, styleBlock, javascriptU} {
				if re.MatchString(page) {
					t.Errorf("page matches %s", re)
				}
			}
			if strings.Contains(page, `name="tls"`) || strings.Contains(page, `value="tls"`) {
				t.Error("mutual TLS offered while disabled")
			}
			// PIN and file inputs must never be submitted.
			for _, id := range []string{"elster-pin", "elster-file"} {
				re := regexp.MustCompile(`<input id="` + id + `"[^>]*>`)
				if tag := re.FindString(page); tag == "" || strings.Contains(tag, "name=") {
					t.Errorf("input %s: %q (must exist without a name)", id, tag)
				}
			}
			for _, re := range []*regexp.Regexp{scriptTag, styleTag} {
				m := re.FindStringSubmatch(page)
				if m == nil {
					t.Fatalf("page lacks %s", re)
				}
				u := html.UnescapeString(m[1])
				if !strings.HasPrefix(u, testBaseURL+"/login/elster/assets/") {
					t.Fatalf("asset url %q not under the adapter's route", u)
				}
				r := httptest.NewRequest(http.MethodGet, strings.TrimPrefix(u, testBaseURL), nil)
				w := httptest.NewRecorder()
				routes.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					t.Fatalf("GET %s: %d", u, w.Code)
				}
				sum := sha512.Sum384(w.Body.Bytes())
				if got := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); got != html.UnescapeString(m[2]) {
					t.Fatalf("integrity %s, served %s", m[2], got)
				}
			}
		})
	}
	t.Run("mtls offered when enabled", func(t *testing.T) {
		e := newEnv(t, func(_ *env, c *elster.Config) {
			c.MTLS = elster.MTLS{Enabled: true, TrustedProxies: []string{"127.0.0.1/32"}}
		})
		h, _, err := e.adapter.Begin(t.Context(), request("tx-mtls-page"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(h.Content), `name="mode" value="tls"`) {
			t.Fatal("mutual TLS form missing")
		}
	})
}

func TestRoutes(t *testing.T) {
	e := newEnv(t, nil)
	routes := e.adapter.Routes()
	do := func(method, path string, hdr map[string]string) *http.Response {
		r := httptest.NewRequest(method, path, nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		routes.ServeHTTP(w, r)
		return w.Result()
	}
	for _, tc := range []struct {
		method, path string
		code         int
		ctype        string
	}{
		{http.MethodGet, "/assets/login.js", 200, "text/javascript; charset=utf-8"},
		{http.MethodGet, "/assets/login.css", 200, "text/css; charset=utf-8"},
		{http.MethodGet, "/assets/THIRD-PARTY-LICENSES.txt", 200, "text/plain; charset=utf-8"},
		{http.MethodHead, "/assets/login.js", 200, "text/javascript; charset=utf-8"},
		{http.MethodPost, "/assets/login.js", 405, ""},
		{http.MethodGet, "/assets/../page.html", 404, ""},
		{http.MethodGet, "/assets/", 404, ""},
		{http.MethodGet, "/", 404, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp := do(tc.method, tc.path, nil)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.code)
			}
			if tc.ctype != "" {
				if got := resp.Header.Get("Content-Type"); got != tc.ctype {
					t.Errorf("content type %q", got)
				}
				if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Error("no nosniff")
				}
			}
		})
	}
	t.Run("licence file names node-forge", func(t *testing.T) {
		b, _ := io.ReadAll(do(http.MethodGet, "/assets/THIRD-PARTY-LICENSES.txt", nil).Body)
		if !strings.Contains(string(b), "node-forge") || !strings.Contains(string(b), "BSD") {
			t.Fatal("licence file incomplete")
		}
	})
	t.Run("etag", func(t *testing.T) {
		etag := do(http.MethodGet, "/assets/login.js", nil).Header.Get("ETag")
		if etag == "" {
			t.Fatal("no etag")
		}
		if c := do(http.MethodGet, "/assets/login.js", map[string]string{"If-None-Match": etag}).StatusCode; c != http.StatusNotModified {
			t.Fatalf("status %d, want 304", c)
		}
	})
}
