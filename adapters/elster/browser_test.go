package elster_test

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/elster"
	"github.com/ozg-broker/eidas-broker/adapters/elster/elstersim"
	"github.com/ozg-broker/eidas-broker/broker/browsertest"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
	"github.com/ozg-broker/eidas-broker/config"
)

// pageCSP is as strict as the broker's: scripts and styles only from the
// origin, no inline code, forms only to the origin.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// fakeBroker stands in for the broker: it starts a login, serves the page
// with a strict CSP and the adapter's routes, and calls Finish from its
// callback with the transaction's state, once.
type fakeBroker struct {
	t       *testing.T
	srv     *httptest.Server
	adapter *elster.Adapter
	hits    atomic.Int64

	mu      sync.Mutex
	states  map[string][]byte
	results map[string]result
	// clientCert, when set, is what a TLS terminator in front of the broker
	// forwards for a client certificate (mutual-TLS mode).
	clientCert string
	// seen are the Origin and Sec-Fetch-Site headers of each callback.
	seen map[string][2]string
}

type result struct {
	id  adapters.Identity
	err error
}

func newFakeBroker(t *testing.T, mutate ...func(sim *elstersim.Sim, c *elster.Config)) *fakeBroker {
	t.Helper()
	b := &fakeBroker{t: t, states: map[string][]byte{}, results: map[string]result{}, seen: map[string][2]string{}}
	sim, err := elstersim.LoadDir(testfiles.Path(t, "testdata", "elster"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	cfg := sim.AdapterConfig(b.srv.URL + "/sim/elster")
	for _, m := range mutate {
		m(sim, cfg)
	}
	b.adapter, err = cfg.Open("elster", adapters.Deps{
		HTTP: b.srv.Client(), BaseURL: b.srv.URL, Store: memory.New(),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/sim/elster/", http.StripPrefix("/sim/elster", sim.Handler()))
	mux.Handle("/login/elster/", http.StripPrefix("/login/elster", b.adapter.Routes()))
	mux.HandleFunc("GET /start/{tx}", b.start)
	mux.HandleFunc("POST /callback/{tx}", b.callback)
	return b
}

func (b *fakeBroker) request(tx string) adapters.Request {
	return adapters.Request{
		TxID: tx, CallbackURL: b.srv.URL + "/callback/" + tx, BaseURL: b.srv.URL, Locale: "de",
	}
}

func (b *fakeBroker) start(w http.ResponseWriter, r *http.Request) {
	tx := r.PathValue("tx")
	h, st, err := b.adapter.Begin(r.Context(), b.request(tx))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b.mu.Lock()
	b.states[tx] = st
	b.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	// A minimal layout around the content, with the referrer policy the
	// adapter asks for, as the broker's would.
	referrer := "no-referrer"
	if h.Needs.SameOriginReferrer {
		referrer = "same-origin"
	}
	_, _ = fmt.Fprintf(w, `<!doctype html><html lang="de"><head><meta charset="utf-8"><meta name="referrer" content="%s"><title>%s</title></head><body><main>%s</main></body></html>`,
		referrer, html.EscapeString(h.Title), h.Content)
}

func (b *fakeBroker) callback(w http.ResponseWriter, r *http.Request) {
	b.hits.Add(1)
	tx := r.PathValue("tx")
	b.mu.Lock()
	st, ok := b.states[tx]
	delete(b.states, tx) // single use, as the broker's store does
	b.seen[tx] = [2]string{r.Header.Get("Origin"), r.Header.Get("Sec-Fetch-Site")}
	cert := b.clientCert
	b.mu.Unlock()
	if !ok {
		http.Error(w, "unknown transaction", http.StatusBadRequest)
		return
	}
	if cert != "" {
		r.Header.Set(elster.DefaultMTLSHeader, cert)
	}
	id, err := b.adapter.Finish(r.Context(), b.request(tx), st, r)
	b.mu.Lock()
	b.results[tx] = result{id: id, err: err}
	b.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	outcome := "ok"
	if err != nil {
		outcome = "refused"
	}
	_, _ = fmt.Fprintf(w, `<!doctype html><title>done</title><p id="result">%s</p>`, html.EscapeString(outcome))
}

func (b *fakeBroker) result(tx string) (result, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.results[tx]
	return r, ok
}

func TestBrowserLogin(t *testing.T) {
	ctx := browsertest.New(t)
	b := newFakeBroker(t)
	fixtures := testfiles.Path(t, "testdata", "elster")

	// fill opens the login page for tx and submits file and PIN.
	fill := func(t *testing.T, tx, file, pin string) context.Context {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		t.Cleanup(cancel)
		err := browsertest.Do(tctx,
			chromedp.Navigate(b.srv.URL+"/start/"+tx),
			chromedp.WaitVisible(chromedp.ID("elster-file")),
			chromedp.SetUploadFiles(chromedp.ID("elster-file"), []string{filepath.Join(fixtures, file)}),
			chromedp.SendKeys(chromedp.ID("elster-pin"), pin),
			chromedp.Click(chromedp.ID("elster-submit")),
		)
		if err != nil {
			t.Fatalf("fill page: %v", err)
		}
		return tctx
	}

	for _, tc := range []struct {
		name, file, pin string
		given, family   string
		org             string
	}{
		{"person", "person.pfx", "Erika-2025", "Erika", "Mustermann", ""},
		{"organisation", "organisation.pfx", "Firma-2025", "Max", "Mustermann", "Musterfirma GmbH"},
		{"older file format", "person-legacy.pfx", "Legacy-2025", "Lena", "Altformat", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx := "tx-browser-" + tc.file
			tctx := fill(t, tx, tc.file, tc.pin)
			text, err := browsertest.Run(tctx, chromedp.Text(chromedp.ID("result")))
			if err != nil {
				t.Fatalf("wait for callback page: %v", err)
			}
			res, ok := b.result(tx)
			if !ok {
				t.Fatal("Finish was not called")
			}
			if res.err != nil || text != "ok" {
				t.Fatalf("Finish: %v (page %q)", res.err, text)
			}
			c := res.id.Claims
			if c.GivenName != tc.given || c.FamilyName != tc.family {
				t.Errorf("names %q %q", c.GivenName, c.FamilyName)
			}
			if tc.org != "" && (c.LegalEntity == nil || c.LegalEntity.Name != tc.org) {
				t.Errorf("legal entity %+v, want %s", c.LegalEntity, tc.org)
			}
		})
	}

	t.Run("cancel", func(t *testing.T) {
		tx := "tx-browser-cancel"
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		err := browsertest.Do(tctx,
			chromedp.Navigate(b.srv.URL+"/start/"+tx),
			chromedp.Click(chromedp.CSS(`button[form="elster-cancel"]`)),
			chromedp.WaitVisible(chromedp.ID("result")),
		)
		if err != nil {
			t.Fatal(err)
		}
		if res, ok := b.result(tx); !ok || !errors.Is(res.err, adapters.ErrCancelled) {
			t.Fatalf("result %+v, want ErrCancelled", res)
		}
	})

	for _, tc := range []struct {
		name, file, pin, code string
	}{
		{"wrong PIN", "person.pfx", "not-the-pin", "wrongPin"},
		{"expired certificate", "expired.pfx", "Abgelaufen-2025", "expired"},
		{"foreign CA", "foreign.pfx", "Fremd-2025", "notElster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.hits.Load()
			tx := "tx-browser-err-" + tc.code
			tctx := fill(t, tx, tc.file, tc.pin)
			if err := browsertest.Do(tctx, chromedp.WaitVisible(chromedp.ID("elster-error"))); err != nil {
				t.Fatalf("no error shown: %v", err)
			}
			code, err := browsertest.Run(tctx, chromedp.AttributeValue(chromedp.ID("elster-error"), "data-code"))
			if err != nil {
				t.Fatal(err)
			}
			text, err := browsertest.Run(tctx, chromedp.Text(chromedp.ID("elster-error")))
			if err != nil {
				t.Fatal(err)
			}
			if code.Value != tc.code || text == "" {
				t.Fatalf("error %q %q, want code %s", code.Value, text, tc.code)
			}
			// The focus is on the message, not on the page's body.
			if focused, err := browsertest.Run(tctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`)); err != nil || focused != "elster-error" {
				t.Errorf("focus on %q after the error (%v), want elster-error", focused, err)
			}
			if tc.code == "wrongPin" && text != "Die PIN ist falsch. Bitte prüfen Sie die PIN Ihrer Zertifikatsdatei." {
				t.Errorf("wrong-PIN text %q", text)
			}
			if n := b.hits.Load(); n != before {
				t.Fatalf("the page posted %d times despite the error", n-before)
			}
			if _, ok := b.result(tx); ok {
				t.Fatal("Finish was called")
			}
		})
	}
}

// TestBrowserCrossSite: in a real browser, the login page's own forms
// complete a login in both modes, and a page on another site that
// auto-submits a challenge to the callback (what an attacker would send a
// victim whose browser holds an installed ELSTER certificate) does not.
func TestBrowserCrossSite(t *testing.T) {
	ctx := browsertest.New(t)
	b := newFakeBroker(t, func(sim *elstersim.Sim, c *elster.Config) {
		c.MTLS = elster.MTLS{Enabled: true, TrustedProxies: []string{"127.0.0.0/8", "::1/128"}}
		c.TrustAnchors = append(c.TrustAnchors, config.Path(filepath.Join(sim.Dir(), "issuing.pem")))
	})
	fixtures := testfiles.Path(t, "testdata", "elster")
	pfx, err := os.ReadFile(filepath.Join(fixtures, "person.pfx"))
	if err != nil {
		t.Fatal(err)
	}
	_, leaf, _, err := pkcs12.DecodeChain(pfx, "Erika-2025")
	if err != nil {
		t.Fatal(err)
	}
	// The TLS terminator would forward the certificate the browser presented.
	b.mu.Lock()
	b.clientCert = url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})))
	b.mu.Unlock()

	// The attacker's page is served from "localhost", the broker from
	// 127.0.0.1: another site to the browser.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		q := r.URL.Query()
		_, _ = fmt.Fprintf(w, `<!doctype html><body onload="document.forms[0].submit()">`+
			`<form method="post" action="%s"><input type="hidden" name="mode" value="tls">`+
			`<input type="hidden" name="challenge" value="%s"></form></body>`,
			html.EscapeString(q.Get("action")), html.EscapeString(q.Get("challenge")))
	}))
	t.Cleanup(evil.Close)
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	t.Run("own page, mutual TLS", func(t *testing.T) {
		tx := "tx-browser-tls"
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		err := browsertest.Do(tctx,
			chromedp.Navigate(b.srv.URL+"/start/"+tx),
			chromedp.Click(chromedp.CSS(`#elster-tls button`)),
			chromedp.WaitVisible(chromedp.ID("result")),
		)
		if err != nil {
			t.Fatal(err)
		}
		res, ok := b.result(tx)
		b.mu.Lock()
		seen := b.seen[tx]
		b.mu.Unlock()
		t.Logf("browser sent Origin %q, Sec-Fetch-Site %q", seen[0], seen[1])
		if !ok || res.err != nil || res.id.Claims.GivenName != "Erika" {
			t.Fatalf("result %+v, want Erika's login", res)
		}
	})
	t.Run("other site's auto-submitted form", func(t *testing.T) {
		tx := "tx-browser-evil"
		// The attacker starts a login himself and takes its challenge.
		resp, err := http.Get(b.srv.URL + "/start/" + tx)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`name="challenge" value="([^"]+)"`).FindSubmatch(page)
		if m == nil {
			t.Fatal("no challenge on the page")
		}
		lure := evilURL + "/?" + url.Values{"action": {b.srv.URL + "/callback/" + tx}, "challenge": {html.UnescapeString(string(m[1]))}}.Encode()
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := browsertest.Do(tctx, chromedp.Navigate(lure), chromedp.WaitVisible(chromedp.ID("result"))); err != nil {
			t.Fatal(err)
		}
		res, ok := b.result(tx)
		b.mu.Lock()
		seen := b.seen[tx]
		b.mu.Unlock()
		t.Logf("browser sent Origin %q, Sec-Fetch-Site %q", seen[0], seen[1])
		if !ok || !errors.Is(res.err, elster.ErrCrossSite) {
			t.Fatalf("result %+v, want ErrCrossSite", res)
		}
	})
}
