package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
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
	"os"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// loadOptions are the load tool's flags.
type loadOptions struct {
	logins, concurrency int
	timeout             time.Duration
	method              string
	// issuer, client, secret and redirect name an external broker; empty
	// issuer: the in-process demo on loopback.
	issuer, client, secret, redirect string
	eidasKeys                        string // ec or rsa
	testdata                         string
	json                             bool
	cpuprofile                       string
	memprofile                       string
}

// loadResult is one run's summary; its JSON form is load --json's line.
type loadResult struct {
	Method      string  `json:"method"`
	Issuer      string  `json:"issuer"`
	External    bool    `json:"external"`
	EIDASKeys   string  `json:"eidas_keys,omitempty"`
	Concurrency int     `json:"concurrency"`
	Count       int     `json:"count"` // logins attempted
	OK          int     `json:"ok"`
	Errors      int     `json:"errors"`
	DurationS   float64 `json:"duration_s"`
	Rate        float64 `json:"logins_per_s"`
	P50         float64 `json:"p50_ms"`
	P95         float64 `json:"p95_ms"`
	P99         float64 `json:"p99_ms"`
	Max         float64 `json:"max_ms"`
	// CPUPerLogin is the load tool process's CPU time (user and system)
	// per successful login: with the in-process demo, broker, simulators
	// and driver together, so 1000/CPUPerLogin is logins per second per
	// core even on a busy machine; against an external broker, the
	// driver's share only.
	CPUPerLogin float64 `json:"process_cpu_ms_per_login"`
	// BrokerCPUPerLogin, SimulatorCPUPerLogin and DriverCPUPerLogin
	// split CPUPerLogin of an in-process run by a labelled CPU profile
	// (load_attribute.go); 1000/BrokerCPUPerLogin is the broker's logins
	// per second per core.
	BrokerCPUPerLogin    float64  `json:"broker_cpu_ms_per_login,omitempty"`
	SimulatorCPUPerLogin float64  `json:"simulator_cpu_ms_per_login,omitempty"`
	DriverCPUPerLogin    float64  `json:"driver_cpu_ms_per_login,omitempty"`
	Reasons              []string `json:"error_reasons,omitempty"` // the first few distinct ones
}

// maxReasons bounds the distinct failure reasons a run reports.
const maxReasons = 5

// cmdLoad is the load tool: it runs whole logins (authorize, method page,
// the method's upstream through its simulator, consent, code exchange,
// ID-token verification) from several goroutines, bounded in count and
// time, against the demo started in-process on a loopback port or, with
// --issuer, against a broker somewhere else.
func cmdLoad(args []string, stdout, stderr io.Writer) int {
	methods := strings.Join(slices.Sorted(maps.Keys(loadLegs(""))), ", ")
	var o loadOptions
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.IntVar(&o.logins, "logins", 500, "number of whole logins")
	fs.IntVar(&o.concurrency, "concurrency", 4, "logins in flight at once")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "stop after this long whatever is left")
	fs.StringVar(&o.method, "method", "demo", "login method: "+methods)
	fs.StringVar(&o.issuer, "issuer", "", "drive the broker at this issuer instead of the in-process demo (it must offer the method's adapter and simulator: environment staging, or a demo)")
	fs.StringVar(&o.client, "client", "", "with --issuer: the client ID")
	fs.StringVar(&o.secret, "secret", "", "with --issuer: the client secret (client_secret_basic)")
	fs.StringVar(&o.redirect, "redirect", "", "with --issuer: the client's registered redirect URI (never fetched; the code is taken from the redirect)")
	fs.StringVar(&o.eidasKeys, "eidas-keys", "ec", "eidas method: ec (P-256: ECDSA signatures, ECDH-ES key agreement; the Swedish simulator) or rsa (RSA-3072: RSASSA-PSS, RSA-OAEP; the Austrian simulator)")
	fs.StringVar(&o.testdata, "testdata", "testdata", "the repository's testdata/ (simulator PKI; the ELSTER test certificate)")
	fs.BoolVar(&o.json, "json", false, "print one JSON line instead of the human summary")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the logins (demo and driver, labelled part=broker, simulator or driver) to this file")
	fs.StringVar(&o.memprofile, "memprofile", "", "write an allocation profile of the whole run (demo and driver) to this file at the end")
	if !parseFlags(fs, args, stderr) {
		return 2
	}
	if msg := o.check(); msg != "" {
		fmt.Fprintln(stderr, "load:", msg)
		return 2
	}
	// Progress lines (memory at checkpoints) go to stdout for people and
	// to stderr with --json, which keeps stdout one JSON line.
	progress := stdout
	if o.json {
		progress = stderr
	}
	res, err := runLoad(o, progress)
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		var r refusal
		if errors.As(err, &r) {
			return 2
		}
		return 1
	}
	if o.json {
		b, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(b))
	} else {
		res.print(stdout)
	}
	if res.Errors > 0 {
		if !o.json {
			for _, r := range res.Reasons {
				fmt.Fprintln(stderr, "failure:", r)
			}
		}
		return 1
	}
	return 0
}

// check validates the flags; it returns what is wrong, or "".
func (o *loadOptions) check() string {
	if _, ok := loadLegs("")[o.method]; !ok {
		return "--method must be one of " + strings.Join(slices.Sorted(maps.Keys(loadLegs(""))), ", ")
	}
	if o.logins < 1 || o.concurrency < 1 || o.concurrency > 256 {
		return "--logins ≥ 1 and 1 ≤ --concurrency ≤ 256"
	}
	if o.eidasKeys != "ec" && o.eidasKeys != "rsa" {
		return "--eidas-keys must be ec or rsa"
	}
	if o.issuer == "" {
		if o.client != "" || o.secret != "" || o.redirect != "" {
			return "--client, --secret and --redirect go with --issuer"
		}
		return ""
	}
	u, err := url.Parse(o.issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf("--issuer %q: want the broker's issuer URL, such as https://login-test.example.de", o.issuer)
	}
	if o.client == "" || o.secret == "" || o.redirect == "" {
		return "--issuer needs --client, --secret and --redirect (a client of that broker with client_secret_basic)"
	}
	if r, err := url.Parse(o.redirect); err != nil || r.Scheme == "" || r.Host == "" {
		return fmt.Sprintf("--redirect %q: want an absolute URI", o.redirect)
	}
	return ""
}

// refusal is an error that is the operator's to fix (exit code 2): the
// external broker does not offer what the method needs.
type refusal struct{ msg string }

func (r refusal) Error() string { return r.msg }

// runLoad starts the target (the in-process demo unless o.issuer is set)
// and runs the logins; memory checkpoints go to progress.
func runLoad(o loadOptions, progress io.Writer) (*loadResult, error) {
	var cpuFile io.Writer
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cpuFile = f
	}
	if o.memprofile != "" {
		f, err := os.Create(o.memprofile)
		if err != nil {
			return nil, err
		}
		defer func() {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			_ = f.Close()
		}()
	}
	target := loadTarget{issuer: strings.TrimSuffix(o.issuer, "/"), client: o.client, secret: o.secret, redirect: o.redirect}
	if o.issuer == "" {
		// The in-process demo listens on loopback only.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		base := "http://" + ln.Addr().String()
		d, err := newDemoWith(base, o.testdata, newLogger(io.Discard, "error"), demoOptions{eidasRSA: o.eidasKeys == "rsa"})
		if err != nil {
			_ = ln.Close()
			return nil, err
		}
		defer d.close()
		// Labelled for the CPU attribution (load_attribute.go).
		srv := &http.Server{Handler: labelSimulators(d.handler), ReadHeaderTimeout: 5 * time.Second,
			BaseContext: func(net.Listener) context.Context { return brokerContext() }}
		go pprof.Do(context.Background(), pprof.Labels(partLabel, partBroker), func(context.Context) { _ = srv.Serve(ln) })
		defer srv.Close()
		target = loadTarget{issuer: base, client: demoClientID, secret: d.secret, redirect: base + "/demo/callback", demo: true}
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	lg, err := newLoginDriver(ctx, target, o.method, o.eidasKeys, o.concurrency)
	if err != nil {
		return nil, err
	}
	if err := lg.probe(ctx); err != nil {
		return nil, err
	}
	if o.method == "elster" {
		if lg.elster, err = loadElsterCert(o.testdata); err != nil {
			return nil, err
		}
	}
	var (
		next      atomic.Int64
		mu        sync.Mutex
		latencies []time.Duration
		reasons   []string
		failures  int
		wg        sync.WaitGroup
	)
	defer reportRSS(progress, &next)()
	// The profile covers the logins, not the start-up (key generation).
	var prof *profiledRun
	switch {
	case target.demo:
		prof = &profiledRun{file: cpuFile}
		if err := prof.start(); err != nil {
			return nil, err
		}
	case cpuFile != nil:
		if err := pprof.StartCPUProfile(cpuFile); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	start, cpu0 := time.Now(), processCPU()
	for range o.concurrency {
		wg.Add(1)
		go pprof.Do(ctx, pprof.Labels(partLabel, partDriver), func(ctx context.Context) {
			defer wg.Done()
			for next.Add(1) <= int64(o.logins) && ctx.Err() == nil {
				t0 := time.Now()
				err := lg.login(ctx)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					failures++
					if r := err.Error(); len(reasons) < maxReasons && !slices.Contains(reasons, r) {
						reasons = append(reasons, r)
					}
				} else {
					latencies = append(latencies, d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	var shares *cpuShares
	if prof != nil {
		var err error
		if shares, err = prof.stop(); err != nil {
			return nil, err
		}
	}
	slices.Sort(latencies)
	ms := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	res := &loadResult{
		Method: o.method, Issuer: target.issuer, External: !target.demo, Concurrency: o.concurrency,
		Count: len(latencies) + failures, OK: len(latencies), Errors: failures,
		DurationS: elapsed.Seconds(), Rate: float64(len(latencies)) / elapsed.Seconds(),
		P50: ms(0.50), P95: ms(0.95), P99: ms(0.99), Max: ms(1), Reasons: reasons,
	}
	if o.method == "eidas" {
		res.EIDASKeys = o.eidasKeys
	}
	if len(latencies) > 0 {
		res.CPUPerLogin = float64(cpu.Microseconds()) / 1000 / float64(len(latencies))
		if shares != nil {
			res.BrokerCPUPerLogin = res.CPUPerLogin * shares.fraction(partBroker)
			res.SimulatorCPUPerLogin = res.CPUPerLogin * shares.fraction(partSimulator)
			res.DriverCPUPerLogin = res.CPUPerLogin * shares.fraction(partDriver)
		}
	}
	return res, nil
}

func (r *loadResult) print(w io.Writer) {
	where := "in-process demo"
	if r.External {
		where = r.Issuer
	}
	keys := ""
	if r.EIDASKeys != "" {
		keys = " (" + r.EIDASKeys + " keys)"
	}
	fmt.Fprintf(w, "method %s%s against %s – logins: %d ok, %d failed in %s with concurrency %d\n",
		r.Method, keys, where, r.OK, r.Errors, time.Duration(r.DurationS*float64(time.Second)).Round(time.Millisecond), r.Concurrency)
	fmt.Fprintf(w, "throughput: %.1f logins/s\n", r.Rate)
	fmt.Fprintf(w, "latency: p50 %.2fms  p95 %.2fms  p99 %.2fms  max %.2fms\n", r.P50, r.P95, r.P99, r.Max)
	if r.CPUPerLogin > 0 {
		what := "demo, simulators and driver"
		if r.External {
			what = "the driver only"
		}
		fmt.Fprintf(w, "CPU per login: %.2f ms (this process: %s)\n", r.CPUPerLogin, what)
	}
	if r.BrokerCPUPerLogin > 0 {
		fmt.Fprintf(w, "the broker's share: %.2f ms per login, %.0f logins/s per core (simulators %.2f ms, driver %.2f ms; from a labelled CPU profile)\n",
			r.BrokerCPUPerLogin, 1000/r.BrokerCPUPerLogin, r.SimulatorCPUPerLogin, r.DriverCPUPerLogin)
	}
}

// loadTarget is the broker the logins run against and the client they
// log in to.
type loadTarget struct {
	issuer, client, secret, redirect string
	demo                             bool // the in-process demo
}

// legFunc is a method's part of a login: from the page the method's start
// returned to the page after the upstream answered (consent). base is the
// broker's issuer URL (the simulators live under base/sim/).
type legFunc func(l *loginDriver, b *loadBrowser, page string) (string, error)

// loadLegs are the values of load --method: the demo identities, the
// German eID card and ELSTER certificate logins, the EU eIDAS node, the
// EUDI wallet simulator, ELSTER's NEZO login (signed AuthnRequest,
// encrypted and signed Response, SP core), and the interoperable accounts
// (accountLegs). base is the broker's URL.
func loadLegs(base string) map[string]legFunc {
	m := map[string]legFunc{"demo": demoLeg, walletMethod: walletLeg, "eid": eidLeg, "elster": elsterLeg,
		demoNEZOID: samlLeg("NEZO", url.Values{"account": {"musterbau"}, "action": {"login"}}),
		"eidas":    eidasLeg,
	}
	for k, v := range accountLegs(base) {
		m[k] = v
	}
	return m
}

// eidasCountry is the simulated member state (and its citizen) of each
// --eidas-keys: Sweden's simulated node signs with P-256, Austria's with
// RSA-3072.
var eidasCountry = map[string][2]string{"ec": {"SE", "sven"}, "rsa": {"AT", "anna"}}

// eidasLeg drives the eIDAS node simulator of the chosen country.
func eidasLeg(l *loginDriver, b *loadBrowser, page string) (string, error) {
	return samlLeg("eIDAS", url.Values{"citizen": {eidasCountry[l.eidasKeys][1]}, "action": {"login"}})(l, b, page)
}

// samlLeg drives a SAML upstream's simulator: the broker's auto-POST to
// the IdP, the simulator's choice page (answered with choice), its
// auto-POST back to our ACS, which forwards (307) to the login's callback.
func samlLeg(name string, choice url.Values) legFunc {
	return func(_ *loginDriver, b *loadBrowser, page string) (string, error) {
		for step, extra := range []url.Values{nil, choice, nil} {
			action, form, err := formOf(page)
			if err != nil {
				return "", fmt.Errorf("%s step %d: %w", name, step, err)
			}
			for k, v := range extra {
				form[k] = v
			}
			if page, err = b.post(action, form); err != nil {
				return "", err
			}
		}
		return page, nil
	}
}

// loginDriver performs one whole login as a browser and a portal would.
type loginDriver struct {
	target    loadTarget
	cfg       oauth2.Config
	verifier  *oidc.IDTokenVerifier
	method    string  // the load method
	leg       legFunc // the method's leg (looked up once)
	eidasKeys string
	elster    *elsterCert // the ELSTER leg's test certificate
	stop      string      // the redirect URI without query: the browser stops there
	bufs      sync.Pool   // *bytes.Buffer for response bodies
	transport *http.Transport
	client    *http.Client // the portal's, for the code exchange
}

// loadTransport is the driver's HTTP transport: http.DefaultTransport's
// settings, but it keeps a connection per login in flight (the default
// keeps two per host, so at higher concurrency connections are closed and
// dialled again all the time, which a browser and a portal, each with its
// own connections, would not do), and writes and reads through 64 KB
// buffers: the SAML forms and pages of an eIDAS login are 10–20 KB, which
// the default 4 KB buffers cut into several system calls on the measured
// core.
func loadTransport(concurrency int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 2*concurrency + 8
	t.MaxIdleConnsPerHost = 2*concurrency + 8
	t.WriteBufferSize = 64 << 10
	t.ReadBufferSize = 64 << 10
	return t
}

func newLoginDriver(ctx context.Context, t loadTarget, method, eidasKeys string, concurrency int) (*loginDriver, error) {
	transport := loadTransport(concurrency)
	client := &http.Client{Transport: transport} // bounded by the login's context (loginTimeout)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
	dctx := ctx
	if t.demo {
		dctx = oidc.InsecureIssuerURLContext(ctx, t.issuer)
	}
	p, err := oidc.NewProvider(dctx, t.issuer)
	if err != nil {
		return nil, fmt.Errorf("discovery at %s: %w", t.issuer, err)
	}
	l := &loginDriver{
		target: t, method: method, eidasKeys: eidasKeys, transport: transport, client: client,
		cfg: oauth2.Config{ClientID: t.client, ClientSecret: t.secret, RedirectURL: t.redirect,
			Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile"}},
		verifier: p.Verifier(&oidc.Config{ClientID: t.client}),
	}
	l.cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	l.leg = loadLegs(t.issuer)[method]
	l.stop = strings.SplitN(t.redirect, "?", 2)[0]
	return l, nil
}

var (
	reStart   = regexp.MustCompile(`action="(/login/[A-Za-z0-9_-]+/start)"`)
	reAction  = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	reNonce   = regexp.MustCompile(`name="nonce" value="([^"]+)"`)
	reConsent = regexp.MustCompile(`action="(/consent/[^"]+)"`)
	reHidden  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
	reOffered = regexp.MustCompile(`name="method" value="([^"]+)"`)
	reOption  = regexp.MustCompile(`name="option" value="([^"]+)" *(disabled)?`)
)

// formOf reads the first form of a page: its action and hidden fields.
func formOf(page string) (string, url.Values, error) {
	m := reAction.FindStringSubmatch(page)
	if m == nil {
		return "", nil, errors.New("no form on the page")
	}
	return html.UnescapeString(m[1]), hiddenFields(page), nil
}

// hiddenFields reads the page's hidden inputs (name, then value, as the
// broker's and the simulators' templates write them). It scans with
// strings.Index rather than a regular expression: the SAML hand-off pages
// carry base64 values of tens of kilobytes, and the driver shares the
// measured core with the broker.
func hiddenFields(page string) url.Values {
	const open, mid = `<input type="hidden" name="`, `" value="`
	v := url.Values{}
	for {
		i := strings.Index(page, open)
		if i < 0 {
			return v
		}
		page = page[i+len(open):]
		name, _, ok := strings.Cut(page, `"`)
		if !ok || !strings.HasPrefix(page[len(name):], mid) {
			continue
		}
		rest := page[len(name)+len(mid):]
		value, _, ok := strings.Cut(rest, `"`)
		if !ok {
			return v
		}
		v.Add(html.UnescapeString(name), html.UnescapeString(value))
		page = rest[len(value):]
	}
}

// loginTimeout bounds one whole login (its requests share one deadline
// rather than each setting up its own).
const loginTimeout = 30 * time.Second

// loadBrowser is one login's browser: its cookies, and the address of the
// page it shows, against which relative links resolve and from which
// form posts carry Origin and Sec-Fetch-Site as a browser sets them.
type loadBrowser struct {
	ctx  context.Context
	c    *http.Client
	page *url.URL
	last *http.Response // the last response (body read and closed)
	bufs *sync.Pool     // the driver's body buffers
}

func (l *loginDriver) newBrowser(ctx context.Context) *loadBrowser {
	jar, _ := cookiejar.New(nil)
	stop := l.stop
	return &loadBrowser{ctx: ctx, bufs: &l.bufs, c: &http.Client{Transport: l.transport, Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		u := *r.URL
		u.RawQuery, u.Fragment = "", ""
		if u.String() == stop {
			return http.ErrUseLastResponse // the portal's part is done by the code exchange
		}
		return nil
	}}}
}

func (b *loadBrowser) get(u string) (string, error) { return b.do(http.MethodGet, u, nil) }

func (b *loadBrowser) post(u string, form url.Values) (string, error) {
	return b.do(http.MethodPost, u, form)
}

// do fetches u (relative to the current page) and returns the body. A
// status of 400 or more is an error naming the status and the path.
func (b *loadBrowser) do(method, u string, form url.Values) (string, error) {
	target, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	if b.page != nil {
		target = b.page.ResolveReference(target)
	}
	var body io.Reader
	if form != nil {
		body = bytes.NewReader(encodeForm(form))
	}
	req, err := http.NewRequestWithContext(b.ctx, method, target.String(), body)
	if err != nil {
		return "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == http.MethodPost && b.page != nil {
		origin := b.page.Scheme + "://" + b.page.Host
		req.Header.Set("Origin", origin)
		site := "cross-site"
		if target.Scheme+"://"+target.Host == origin {
			site = "same-origin"
		}
		req.Header.Set("Sec-Fetch-Site", site)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	// Pages carrying SAML messages are tens of kilobytes: read them into a
	// reused buffer rather than letting io.ReadAll grow a new one (the
	// driver shares the measured core with the broker).
	buf, _ := b.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer b.bufs.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxPage)); err != nil {
		return "", err
	}
	b.last, b.page = resp, resp.Request.URL
	if resp.StatusCode >= 400 {
		return "", fmt.Errorf("%s %s: status %d", method, resp.Request.URL.Path, resp.StatusCode)
	}
	return buf.String(), nil
}

// maxPage bounds a page the driver reads.
const maxPage = 4 << 20

// encodeForm is url.Values.Encode (keys sorted, application/x-www-form-
// urlencoded as url.QueryEscape writes it) into one buffer of the exact
// size: the SAML forms the driver posts carry tens of kilobytes of base64.
func encodeForm(form url.Values) []byte {
	keys := slices.Sorted(maps.Keys(form))
	n := -1
	for _, k := range keys {
		for _, v := range form[k] {
			n += 2 + escapedLen(k) + escapedLen(v)
		}
	}
	if n <= 0 {
		return nil
	}
	b := make([]byte, n)
	i := 0
	for _, k := range keys {
		for _, v := range form[k] {
			if i > 0 {
				b[i] = '&'
				i++
			}
			i = putQueryEscape(b, i, k)
			b[i] = '='
			i = putQueryEscape(b, i+1, v)
		}
	}
	return b
}

// formUnreserved marks the bytes url.QueryEscape leaves as they are.
var formUnreserved = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
	}
	return t
}()

// escapedLen is len(url.QueryEscape(s)).
func escapedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if !formUnreserved[s[i]] && s[i] != ' ' {
			n += 2
		}
	}
	return n
}

// putQueryEscape writes url.QueryEscape(s) into b at i (b has room) and
// returns the position after it.
func putQueryEscape(b []byte, i int, s string) int {
	const hex = "0123456789ABCDEF"
	for j := 0; j < len(s); j++ {
		c := s[j]
		switch {
		case formUnreserved[c]:
			b[i] = c
			i++
		case c == ' ':
			b[i] = '+'
			i++
		default:
			b[i], b[i+1], b[i+2] = '%', hex[c>>4], hex[c&15]
			i += 3
		}
	}
	return i
}

// find returns the first submatch of re on page, unescaped.
func find(re *regexp.Regexp, page, what string) (string, error) {
	m := re.FindStringSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("no %s on the page", what)
	}
	return html.UnescapeString(m[1]), nil
}

// authorize starts a portal login and returns the method page.
func (l *loginDriver) authorize(b *loadBrowser) (state, nonce, verifier, page string, err error) {
	state, nonce, verifier = rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	page, err = b.get(l.cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)))
	return state, nonce, verifier, page, err
}

// probe runs the first step once and refuses clearly when the broker
// does not offer the method (an external broker without the demo
// adapters and simulators), instead of counting the same failure for
// every login.
func (l *loginDriver) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	b := l.newBrowser(ctx)
	_, _, _, page, err := l.authorize(b)
	if err != nil {
		return fmt.Errorf("authorize at %s: %w", l.target.issuer, err)
	}
	var offered []string
	for _, m := range reOffered.FindAllStringSubmatch(page, -1) {
		offered = append(offered, html.UnescapeString(m[1]))
	}
	id := loadAdapterID(l.method)
	if !slices.Contains(offered, id) {
		return refusal{fmt.Sprintf("method %s: %s does not offer the adapter %q to client %q (its login page offers: %s); "+
			"only a broker that runs the demo adapters and their simulators (broker demo, or serve with environment: staging) can be driven with --method %s",
			l.method, l.target.issuer, id, l.target.client, strings.Join(offered, ", "), l.method)}
	}
	if l.method == "eidas" {
		want := eidasCountry[l.eidasKeys][0]
		for _, m := range reOption.FindAllStringSubmatch(page, -1) {
			if m[1] == want && m[2] == "" {
				return nil
			}
		}
		return refusal{fmt.Sprintf("method eidas: %s offers no usable country %s (the simulated node of --eidas-keys %s)", l.target.issuer, want, l.eidasKeys)}
	}
	return nil
}

// login performs one whole login: authorize, method page, the method's
// leg, consent, code exchange with PKCE, ID-token verification.
func (l *loginDriver) login(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	b := l.newBrowser(ctx)
	state, nonce, verifier, page, err := l.authorize(b)
	if err != nil {
		return err
	}
	startURL, err := find(reStart, page, "method form")
	if err != nil {
		return err
	}
	start := url.Values{"method": {loadAdapterID(l.method)}}
	if l.method == "eidas" {
		start.Set("option", eidasCountry[l.eidasKeys][0])
	}
	if page, err = b.post(startURL, start); err != nil {
		return err
	}
	if page, err = l.leg(l, b, page); err != nil {
		return fmt.Errorf("%s: %w", l.method, err)
	}
	consent, err := find(reConsent, page, "consent form")
	if err != nil {
		return fmt.Errorf("after %s (%s): %w", l.method, b.page.Path, err)
	}
	if _, err = b.post(consent, url.Values{"action": {"allow"}}); err != nil {
		return err
	}
	resp := b.last
	loc, err := resp.Location()
	if err != nil || loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
		return fmt.Errorf("no code for the portal (status %d)", resp.StatusCode)
	}
	tok, err := l.cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, l.client), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
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

// demoLeg logs in with the demo identity page and returns the next page.
func demoLeg(_ *loginDriver, b *loadBrowser, page string) (string, error) {
	cb, err := find(reAction, page, "demo form")
	if err != nil {
		return "", err
	}
	n, err := find(reNonce, page, "nonce")
	if err != nil {
		return "", err
	}
	return b.post(cb, url.Values{"nonce": {n}, "person": {"erika"}, "level": {"high"}, "action": {"login"}})
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
func walletLeg(_ *loginDriver, b *loadBrowser, page string) (string, error) {
	link, err := find(reWalletLink, page, "wallet link")
	if err != nil {
		return "", err
	}
	if page, err = b.get(link); err != nil {
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
	return b.post(action, url.Values{"h": {h}, "person": {"erika"}, "format": {"dc+sd-jwt"}, "action": {"agree"}})
}
