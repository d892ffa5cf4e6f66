package nezosim_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/nezo"
	"github.com/ozg-broker/eidas-broker/adapters/nezo/nezosim"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

// TestSimRefusesBadRequests: the simulator verifies our requests as ELSTER
// would: a tampered, unsigned or stale request is refused.
func TestSimRefusesBadRequests(t *testing.T) {
	const base = "http://127.0.0.1:8080"
	var ad atomic.Pointer[nezo.Adapter]
	sim, err := nezosim.New(nezosim.Options{BaseURL: base + "/sim/nezo", SPMetadata: func(context.Context) ([]byte, error) { return ad.Load().Metadata() }})
	if err != nil {
		t.Fatal(err)
	}
	mat, err := nezosim.GenerateMaterial(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, binding := range []string{"post", "redirect"} {
		t.Run(binding, func(t *testing.T) {
			c := sim.AdapterConfig(mat)
			c.Binding = binding
			a, err := c.Open("nezo", adapters.Deps{BaseURL: base, Store: memory.New()})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			ad.Store(a)
			h, _, err := a.Begin(context.Background(), adapters.Request{Ref: "ref_0123456789abcdef"})
			if err != nil {
				t.Fatal(err)
			}
			receive := func(r *http.Request) error {
				_, err := sim.ReceiveRequest(r)
				return err
			}
			if binding == "post" {
				postReq := func(f url.Values) *http.Request {
					r := httptest.NewRequest(http.MethodPost, h.PostURL, strings.NewReader(f.Encode()))
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					return r
				}
				if err := receive(postReq(h.PostForm)); err != nil {
					t.Fatalf("genuine request refused: %v", err)
				}
				xml, _ := base64.StdEncoding.DecodeString(h.PostForm.Get("SAMLRequest"))
				tampered := strings.Replace(string(xml), `ForceAuthn="false"`, `ForceAuthn="true"`, 1)
				if tampered == string(xml) {
					t.Fatal("no ForceAuthn to tamper with")
				}
				f := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString([]byte(tampered))}, "RelayState": h.PostForm["RelayState"]}
				if err := receive(postReq(f)); err == nil || !strings.Contains(err.Error(), "signature") {
					t.Fatalf("tampered request: %v, want a signature refusal", err)
				}
				return
			}
			if err := receive(httptest.NewRequest(http.MethodGet, h.RedirectURL, nil)); err != nil {
				t.Fatalf("genuine request refused: %v", err)
			}
			u, _ := url.Parse(h.RedirectURL)
			q := u.Query()
			q.Set("RelayState", "ref_other_0123456789")
			u.RawQuery = q.Encode()
			if err := receive(httptest.NewRequest(http.MethodGet, u.String(), nil)); err == nil {
				t.Fatal("request with a changed RelayState accepted")
			}
		})
	}
}
