package wallet_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/wallet"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/walletsim"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

const adapterID = "eudi-wallet"

// harness is a verifier and a wallet simulator behind one test server,
// wired as the broker wires them (adapter routes under /login/{id}/).
type harness struct {
	srv     *httptest.Server
	sim     *walletsim.Sim
	adapter *wallet.Adapter
	now     atomic.Pointer[time.Time]
	// statusDown makes the simulator's status lists answer 503.
	statusDown atomic.Bool
}

func newHarness(t testing.TB, tweak func(*wallet.Config)) *harness {
	t.Helper()
	h := &harness{}
	var handler atomic.Pointer[http.Handler]
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }))
	t.Cleanup(h.srv.Close)
	now := time.Now()
	h.now.Store(&now)
	clock := func() time.Time { return *h.now.Load() }
	sim, err := walletsim.New(walletsim.Options{BaseURL: h.srv.URL + "/sim/wallet", Client: h.srv.Client(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	h.sim = sim
	cfg := sim.AdapterConfig()
	if tweak != nil {
		tweak(cfg)
	}
	h.adapter, err = cfg.Open(adapterID, adapters.Deps{BaseURL: h.srv.URL, Store: memory.New(), HTTP: h.srv.Client(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/login/"+adapterID+"/", http.StripPrefix("/login/"+adapterID, h.adapter.Routes()))
	mux.Handle("/sim/wallet/", http.StripPrefix("/sim/wallet", sim.Handler()))
	var hh http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.statusDown.Load() && strings.HasPrefix(r.URL.Path, "/sim/wallet/status/") {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	})
	handler.Store(&hh)
	return h
}

// login is one started login: what Begin returned.
type login struct {
	req   adapters.Request
	state []byte
	page  string
}

var (
	reSame   = regexp.MustCompile(`id="wallet-same" class="button" href="([^"]+)"`)
	reCross  = regexp.MustCompile(`data-url="([^"]+)"`)
	reStatus = regexp.MustCompile(`data-status-url="([^"]+)"`)
)

func (h *harness) begin(t testing.TB, claims ...string) *login {
	t.Helper()
	ref := strings.ReplaceAll(t.Name(), "/", "-")
	req := adapters.Request{TxID: "tx-" + ref, Ref: ref, CallbackURL: h.srv.URL + "/login/cb/" + ref,
		BaseURL: h.srv.URL, Claims: claims, Locale: "de"}
	ho, st, err := h.adapter.Begin(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if ho.Content == nil {
		t.Fatal("no page")
	}
	return &login{req: req, state: st, page: string(ho.Content)}
}

func find(t testing.TB, re *regexp.Regexp, page string) string {
	t.Helper()
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("%s not on the page", re)
	}
	return unescape(m[1])
}

func unescape(s string) string {
	r := strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'")
	return r.Replace(s)
}

// fetch resolves the same-device (or cross-device) invocation.
func (h *harness) fetch(t testing.TB, l *login, cross bool) *walletsim.Request {
	t.Helper()
	link := find(t, reSame, l.page)
	if cross {
		link = find(t, reCross, l.page)
	}
	r, err := h.sim.FetchRequest(context.Background(), link)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// finish calls Finish as the broker's callback would, for a browser
// arriving at u.
func (h *harness) finish(l *login, u string) (adapters.Identity, error) {
	r := httptest.NewRequest(http.MethodGet, u, nil)
	return h.adapter.Finish(context.Background(), l.req, l.state, r)
}

// sameDevice runs a whole same-device login with o.
func (h *harness) sameDevice(t *testing.T, o walletsim.PresentOptions, claims ...string) (adapters.Identity, error) {
	t.Helper()
	l := h.begin(t, claims...)
	r := h.fetch(t, l, false)
	res, err := h.sim.Respond(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusOK || res.RedirectURI == "" {
		t.Fatalf("response endpoint: %d %s", res.Status, res.Body)
	}
	return h.finish(l, res.RedirectURI)
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
