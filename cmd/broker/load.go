package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// cmdLoad is the load tool: it starts the demo in-process on a loopback
// port and runs whole logins against it (authorize, method page, demo
// identity, consent, code exchange, ID-token verification), from several
// goroutines, bounded in count and time. Only loopback is ever contacted.
func cmdLoad(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	n := fs.Int("logins", 500, "number of whole logins")
	conc := fs.Int("concurrency", 4, "logins in flight at once")
	limit := fs.Duration("timeout", 2*time.Minute, "stop after this long whatever is left")
	method := fs.String("method", "demo", "login method: "+strings.Join(slices.Sorted(maps.Keys(loadLegs(""))), ", "))
	if !parseFlags(fs, args, stderr) {
		return 2
	}
	if _, ok := loadLegs("")[*method]; !ok {
		fmt.Fprintf(stderr, "load: --method must be one of %s\n", strings.Join(slices.Sorted(maps.Keys(loadLegs(""))), ", "))
		return 2
	}
	if *n < 1 || *conc < 1 || *conc > 256 {
		fmt.Fprintln(stderr, "load: --logins ≥ 1 and 1 ≤ --concurrency ≤ 256")
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 1
	}
	base := "http://" + ln.Addr().String()
	d, err := newDemo(base, "testdata", newLogger(io.Discard, "error"))
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 1
	}
	defer d.close()
	srv := &http.Server{Handler: d.handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), *limit)
	defer cancel()
	lg, err := newLoginDriver(ctx, base, d.secret, *method)
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 1
	}
	var (
		next      atomic.Int64
		mu        sync.Mutex
		latencies []time.Duration
		failures  int
		firstErr  error
		wg        sync.WaitGroup
	)
	defer reportRSS(stdout, &next)()
	start := time.Now()
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(*n) && ctx.Err() == nil {
				t0 := time.Now()
				err := lg.login(ctx)
				mu.Lock()
				if err != nil {
					failures++
					if firstErr == nil {
						firstErr = err
					}
				} else {
					latencies = append(latencies, time.Since(t0))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[int(p*float64(len(latencies)-1))]
	}
	fmt.Fprintf(stdout, "method %s – logins: %d ok, %d failed in %s with concurrency %d\n", *method, len(latencies), failures, elapsed.Round(time.Millisecond), *conc)
	fmt.Fprintf(stdout, "throughput: %.1f logins/s\n", float64(len(latencies))/elapsed.Seconds())
	fmt.Fprintf(stdout, "latency: p50 %s  p95 %s  p99 %s  max %s\n", pct(0.50).Round(10*time.Microsecond),
		pct(0.95).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
	if failures > 0 {
		fmt.Fprintln(stderr, "first failure:", firstErr)
		return 1
	}
	return 0
}

// legFunc is a method's part of a login: from the page the method's start
// returned to the page after the upstream answered (consent).
type legFunc func(fetch fetchFunc, find findFunc, page string) (string, error)

// loadLegs are the values of load --method: the demo identities, the EUDI
// wallet simulator, ELSTER's NEZO login against its simulator (signed
// AuthnRequest, encrypted and signed Response, SP core), and the
// interoperable accounts (accountLegs). base is the demo's URL.
func loadLegs(base string) map[string]legFunc {
	m := map[string]legFunc{"demo": demoLeg, walletMethod: walletLeg,
		demoNEZOID: samlLeg("NEZO", url.Values{"account": {"musterbau"}, "action": {"login"}}),
		"eidas":    samlLeg("eIDAS", url.Values{"citizen": {"anna"}, "action": {"login"}}),
	}
	for k, v := range accountLegs(base) {
		m[k] = v
	}
	return m
}

// samlLeg drives a SAML upstream's simulator: the broker's auto-POST to
// the IdP, the simulator's choice page (answered with choice), its
// auto-POST back to our ACS, which forwards (307) to the login's callback.
func samlLeg(name string, choice url.Values) legFunc {
	return func(fetch fetchFunc, _ findFunc, page string) (string, error) {
		for step, extra := range []url.Values{nil, choice, nil} {
			action, form, err := formOf(page)
			if err != nil {
				return "", fmt.Errorf("%s step %d: %w", name, step, err)
			}
			for k, v := range extra {
				form[k] = v
			}
			if _, page, err = fetch(http.MethodPost, action, form); err != nil {
				return "", err
			}
		}
		return page, nil
	}
}

// loadStartOptions are extra fields of a method's start form (the eIDAS
// country of the demo's simulator).
var loadStartOptions = map[string]url.Values{"eidas": {"option": {"AT"}}}

// loginDriver performs one whole demo login as a browser and a portal would.
type loginDriver struct {
	base     string
	cfg      oauth2.Config
	verifier *oidc.IDTokenVerifier
	method   string // the login page's method: demo or eudi-wallet
}

func newLoginDriver(ctx context.Context, base, secret, method string) (*loginDriver, error) {
	p, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, base), base)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	return &loginDriver{
		method: method, base: base,
		cfg: oauth2.Config{ClientID: demoClientID, ClientSecret: secret, RedirectURL: base + "/demo/callback",
			Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile"}},
		verifier: p.Verifier(&oidc.Config{ClientID: demoClientID}),
	}, nil
}

var (
	reStart   = regexp.MustCompile(`action="(/login/[A-Za-z0-9_-]+/start)"`)
	reAction  = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	reNonce   = regexp.MustCompile(`name="nonce" value="([^"]+)"`)
	reConsent = regexp.MustCompile(`action="(/consent/[^"]+)"`)
	reHidden  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

// formOf reads the first form of a page: its action and hidden fields.
func formOf(page string) (string, url.Values, error) {
	m := reAction.FindStringSubmatch(page)
	if m == nil {
		return "", nil, errors.New("no form on the page")
	}
	v := url.Values{}
	for _, h := range reHidden.FindAllStringSubmatch(page, -1) {
		v.Add(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return html.UnescapeString(m[1]), v, nil
}

func (l *loginDriver) login(ctx context.Context) error {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.Path, "/demo/callback") {
			return http.ErrUseLastResponse // the portal's part is done below, by the code exchange
		}
		return nil
	}}
	fetch := func(method, u string, form url.Values) (*http.Response, string, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, u, body)
		if err != nil {
			return nil, "", err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := browser.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, string(b), err
	}
	find := func(re *regexp.Regexp, page, what string) (string, error) {
		m := re.FindStringSubmatch(page)
		if m == nil {
			return "", fmt.Errorf("no %s on the page", what)
		}
		return html.UnescapeString(m[1]), nil
	}
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	_, page, err := fetch(http.MethodGet, l.cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), nil)
	if err != nil {
		return err
	}
	startURL, err := find(reStart, page, "method form")
	if err != nil {
		return err
	}
	method := l.method
	if method == "" {
		method = "demo"
	}
	start := url.Values{"method": {loadAdapterID(method)}}
	for k, v := range loadStartOptions[method] {
		start[k] = v
	}
	if _, page, err = fetch(http.MethodPost, l.base+startURL, start); err != nil {
		return err
	}
	leg, ok := loadLegs(l.base)[method]
	if !ok {
		return fmt.Errorf("unknown method %q", method)
	}
	if page, err = leg(fetch, find, page); err != nil {
		return err
	}
	consent, err := find(reConsent, page, "consent form")
	if err != nil {
		return err
	}
	resp, _, err := fetch(http.MethodPost, l.base+consent, url.Values{"action": {"allow"}})
	if err != nil {
		return err
	}
	loc, err := resp.Location()
	if err != nil || loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
		return fmt.Errorf("no code for the portal (status %d)", resp.StatusCode)
	}
	tok, err := l.cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return fmt.Errorf("code exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := l.verifier.Verify(ctx, raw)
	if err != nil {
		return fmt.Errorf("id token: %w", err)
	}
	if idt.Nonce != nonce {
		return errors.New("nonce mismatch")
	}
	return nil
}

type (
	fetchFunc func(method, u string, form url.Values) (*http.Response, string, error)
	findFunc  func(re *regexp.Regexp, page, what string) (string, error)
)

// demoLeg logs in with the demo identity page and returns the next page.
func demoLeg(fetch fetchFunc, find findFunc, page string) (string, error) {
	cb, err := find(reAction, page, "demo form")
	if err != nil {
		return "", err
	}
	n, err := find(reNonce, page, "nonce")
	if err != nil {
		return "", err
	}
	_, page, err = fetch(http.MethodPost, cb, url.Values{"nonce": {n}, "person": {"erika"}, "level": {"high"}, "action": {"login"}})
	return page, err
}

const walletMethod = "eudi-wallet"

var (
	reWalletLink   = regexp.MustCompile(`id="wallet-same" class="button" href="([^"]+)"`)
	reWalletHandle = regexp.MustCompile(`name="h" value="([^"]+)"`)
)

// walletLeg logs in with the EUDI wallet simulator on the same device: it
// opens the wallet link (the simulator fetches and checks the signed
// request object), agrees with Erika's SD-JWT VC PID, and follows the
// response's redirect back into the broker. It returns the next page.
func walletLeg(fetch fetchFunc, find findFunc, page string) (string, error) {
	link, err := find(reWalletLink, page, "wallet link")
	if err != nil {
		return "", err
	}
	if _, page, err = fetch(http.MethodGet, link, nil); err != nil {
		return "", err
	}
	action, err := find(reAction, page, "wallet consent form")
	if err != nil {
		return "", err
	}
	h, err := find(reWalletHandle, page, "wallet request handle")
	if err != nil {
		return "", err
	}
	_, page, err = fetch(http.MethodPost, action, url.Values{"h": {h}, "person": {"erika"}, "format": {"dc+sd-jwt"}, "action": {"agree"}})
	return page, err
}
