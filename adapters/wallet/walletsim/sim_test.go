package walletsim_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/walletsim"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

// The wallet side checks what a real wallet checks before it shows a
// request: a client_id that does not belong to the signing certificate,
// or a request object signed by an unknown access CA, is refused.
func TestWalletChecksTheRequest(t *testing.T) {
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer srv.Close()
	sim, err := walletsim.New(walletsim.Options{BaseURL: srv.URL + "/sim", Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	other, err := walletsim.New(walletsim.Options{BaseURL: srv.URL + "/sim", Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	a, err := sim.AdapterConfig().Open("w", adapters.Deps{BaseURL: srv.URL, Store: memory.New(), HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/login/w/", http.StripPrefix("/login/w", a.Routes()))
	mux.Handle("/sim/", http.StripPrefix("/sim", sim.Handler()))
	h = mux
	begin := func() string {
		ho, _, err := a.Begin(context.Background(), adapters.Request{TxID: "t", Ref: "r", CallbackURL: srv.URL + "/login/cb/r"})
		if err != nil {
			t.Fatal(err)
		}
		page := string(ho.Content)
		i := strings.Index(page, `href="`+srv.URL+"/sim/authorize?")
		link := page[i+6:]
		return strings.ReplaceAll(link[:strings.Index(link, `"`)], "&amp;", "&")
	}
	link := begin()
	u, _ := url.Parse(link)
	q := u.Query()
	q.Set("client_id", "x509_hash:c29tZW9uZS1lbHNl")
	u.RawQuery = q.Encode()
	if _, err := sim.FetchRequest(context.Background(), u.String()); err == nil || !strings.Contains(err.Error(), "x509_hash") {
		t.Fatalf("foreign client_id: %v", err)
	}
	if _, err := other.FetchRequest(context.Background(), begin()); err == nil {
		t.Fatal("request from an unknown access CA accepted")
	}
	// The page and the status lists are served.
	for _, p := range []string{"/sim/", "/sim/status/sd-jwt", "/sim/status/mdoc"} {
		resp, err := srv.Client().Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(b) == 0 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}
}
