package elster_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/elster"
	"github.com/ozg-broker/eidas-broker/adapters/elster/elstersim"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

const testBaseURL = "https://broker.example"

// clock is a settable time source shared by adapter, store and simulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is one adapter wired to the simulator, as the demo would wire it.
type env struct {
	t       testing.TB
	clock   *clock
	sim     *elstersim.Sim
	srv     *httptest.Server
	simBase string
	store   store.Store
	cfg     *elster.Config
	adapter *elster.Adapter
	// hits counts requests to the simulator's revocation endpoints.
	ocspHits, crlHits atomic.Int64
}

func newEnv(t testing.TB, mutate func(e *env, c *elster.Config)) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	sim, err := elstersim.LoadDir(testfiles.Path(t, "testdata", "elster"), elstersim.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	e.sim = sim
	simHandler := http.StripPrefix("/sim/elster", sim.Handler())
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/sim/elster/ocsp"):
			e.ocspHits.Add(1)
		case strings.HasPrefix(r.URL.Path, "/sim/elster/crl/"):
			e.crlHits.Add(1)
		}
		simHandler.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.simBase = e.srv.URL + "/sim/elster"
	e.store = memory.New(memory.WithClock(e.clock.Now))
	e.cfg = sim.AdapterConfig(e.simBase)
	if mutate != nil {
		mutate(e, e.cfg)
	}
	e.adapter = e.open(e.cfg, testBaseURL)
	return e
}

func (e *env) open(cfg *elster.Config, base string) *elster.Adapter {
	e.t.Helper()
	a, err := cfg.Open("elster", adapters.Deps{
		HTTP:    e.srv.Client(),
		Now:     e.clock.Now,
		BaseURL: base,
		Store:   e.store,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func request(txID string) adapters.Request {
	return adapters.Request{
		TxID:        txID,
		Ref:         "ref-" + txID,
		MinLevel:    assurance.Substantial,
		CallbackURL: testBaseURL + "/login/elster/callback",
		BaseURL:     testBaseURL,
		Locale:      "de",
	}
}

var challengeInput = regexp.MustCompile(`name="challenge" value="([^"]+)"`)

// begin runs Begin and returns the request, the state and the challenge as
// the page shows it.
func (e *env) begin(txID string) (adapters.Request, []byte, string) {
	e.t.Helper()
	req := request(txID)
	h, st, err := e.adapter.Begin(context.Background(), req)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(h.Content) == 0 || h.RedirectURL != "" || h.PostURL != "" {
		e.t.Fatalf("Begin handoff: want a page only, got %+v", h)
	}
	m := challengeInput.FindSubmatch(h.Content)
	if m == nil {
		e.t.Fatal("page has no challenge field")
	}
	return req, st, html.UnescapeString(string(m[1]))
}

// holder is an opened test certificate file.
type holder struct {
	key   *rsa.PrivateKey
	leaf  *x509.Certificate
	chain []*x509.Certificate
}

func (e *env) open12(name string) holder {
	e.t.Helper()
	f, ok := e.sim.File(name)
	if !ok {
		e.t.Fatalf("no test file %s", name)
	}
	data, err := e.sim.PFX(name)
	if err != nil {
		e.t.Fatal(err)
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, f.PIN)
	if err != nil {
		e.t.Fatalf("decode %s: %v", name, err)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		e.t.Fatalf("%s: key %T", name, key)
	}
	return holder{key: rk, leaf: leaf, chain: cas}
}

// sign makes the form the login page posts.
func (h holder) form(t testing.TB, challenge, alg string) url.Values {
	t.Helper()
	digest := sha256.Sum256([]byte(challenge))
	var sig []byte
	var err error
	switch alg {
	case elster.AlgPS256:
		sig, err = rsa.SignPSS(rand.Reader, h.key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: 32})
	default:
		sig, err = rsa.SignPKCS1v15(rand.Reader, h.key, crypto.SHA256, digest[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	v := url.Values{}
	v.Set("challenge", challenge)
	v.Set("alg", alg)
	v.Set("signature", base64.StdEncoding.EncodeToString(sig))
	v.Add("chain", base64.StdEncoding.EncodeToString(h.leaf.Raw))
	for _, c := range h.chain {
		v.Add("chain", base64.StdEncoding.EncodeToString(c.Raw))
	}
	return v
}

// post is the callback POST as the login page's form sends it: from the
// broker's own origin.
func post(form url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, testBaseURL+"/login/elster/callback", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", testBaseURL)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	return r
}

// login runs a whole login with a test file.
func (e *env) login(file, alg string) (adapters.Identity, error) {
	e.t.Helper()
	req, st, ch := e.begin("tx-" + file)
	h := e.open12(file)
	return e.adapter.Finish(context.Background(), req, st, post(h.form(e.t, ch, alg)))
}
