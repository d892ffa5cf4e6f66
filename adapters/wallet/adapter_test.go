package wallet_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/wallet"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/walletsim"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

var formats = []string{wallet.FormatSDJWT, wallet.FormatMDoc}

func TestSameDeviceBothFormats(t *testing.T) {
	h := newHarness(t, nil)
	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			id, err := h.sameDevice(t, walletsim.PresentOptions{Person: "erika", Format: f},
				"given_name", "family_name", "birthdate", "address", "nationalities", "place_of_birth", "birth_family_name")
			if err != nil {
				t.Fatal(err)
			}
			if id.Level != assurance.High || !strings.HasPrefix(id.Subject, "pid:") {
				t.Fatalf("identity %+v", id)
			}
			c := id.Claims
			if c.GivenName != "ERIKA" || c.FamilyName != "MUSTERMANN" || c.Birthdate != "1964-08-12" {
				t.Fatalf("claims %+v", c)
			}
			if c.Address == nil || c.Address.Locality != "KÖLN" || c.Address.PostalCode != "51147" ||
				len(c.Nationalities) != 1 || c.Nationalities[0] != "DE" ||
				c.PlaceOfBirth == nil || c.PlaceOfBirth.Locality != "BERLIN" || c.BirthFamilyName != "GABLER" {
				t.Fatalf("claims %+v address %+v", c, c.Address)
			}
		})
	}
}

// The subject is the same whichever format the wallet picks.
func TestSubjectStableAcrossFormats(t *testing.T) {
	h := newHarness(t, nil)
	var subs []string
	for _, f := range formats {
		id, err := h.sameDevice(t, walletsim.PresentOptions{Person: "erika", Format: f})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, id.Subject)
	}
	if subs[0] != subs[1] {
		t.Fatalf("subjects differ: %v", subs)
	}
}

// Data minimisation: without address in the login's claims the wallet is
// not asked for it and nothing of it reaches the identity.
func TestMinimalRequest(t *testing.T) {
	h := newHarness(t, nil)
	l := h.begin(t, "given_name")
	r := h.fetch(t, l, false)
	for _, q := range r.Queries {
		for _, p := range q.Paths {
			last := p[len(p)-1]
			switch last {
			case "family_name", "given_name", "birthdate", "birth_date", "issuing_country":
			default:
				t.Errorf("%s asks for %v", q.ID, p)
			}
		}
	}
	res, err := h.sim.Respond(context.Background(), r, walletsim.PresentOptions{Person: "erika", Format: wallet.FormatSDJWT})
	if err != nil {
		t.Fatal(err)
	}
	id, err := h.finish(l, res.RedirectURI)
	if err != nil {
		t.Fatal(err)
	}
	if id.Claims.Address != nil || id.Claims.Nationalities != nil {
		t.Fatalf("unrequested claims: %+v", id.Claims)
	}
}

func TestCrossDevice(t *testing.T) {
	h := newHarness(t, nil)
	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			l := h.begin(t)
			statusURL := find(t, reStatus, l.page)
			if got := h.poll(t, statusURL); got.State != "pending" {
				t.Fatalf("before the answer: %+v", got)
			}
			r := h.fetch(t, l, true)
			res, err := h.sim.Respond(context.Background(), r, walletsim.PresentOptions{Person: "erika", Format: f})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != http.StatusOK || res.RedirectURI != "" {
				t.Fatalf("cross-device response must not redirect the wallet: %d %q", res.Status, res.RedirectURI)
			}
			got := h.poll(t, statusURL)
			if got.State != "done" || got.Next == "" {
				t.Fatalf("after the answer: %+v", got)
			}
			if again := h.poll(t, statusURL); again.Next != "" {
				t.Fatal("the status endpoint handed out a second code")
			}
			id, err := h.finish(l, got.Next)
			if err != nil {
				t.Fatal(err)
			}
			if id.Claims.GivenName != "ERIKA" {
				t.Fatalf("%+v", id.Claims)
			}
		})
	}
}

type statusAnswer struct {
	State string `json:"state"`
	Next  string `json:"next"`
}

func (h *harness) poll(t *testing.T, u string) statusAnswer {
	t.Helper()
	resp, err := h.srv.Client().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s statusAnswer
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDecline(t *testing.T) {
	h := newHarness(t, nil)
	_, err := h.sameDevice(t, walletsim.PresentOptions{Person: "erika", Format: wallet.FormatSDJWT, Decline: true})
	if !errors.Is(err, adapters.ErrCancelled) {
		t.Fatalf("want cancelled, got %v", err)
	}
}

// A wallet may send its error response unencrypted; it ends the login as
// a cancellation, in either flow.
func TestPlainErrorResponse(t *testing.T) {
	h := newHarness(t, nil)
	l := h.begin(t)
	r := h.fetch(t, l, false)
	res, err := h.sim.Post(context.Background(), r.ResponseURI, url.Values{"error": {"access_denied"}, "state": {r.State}})
	if err != nil || res.Status != http.StatusOK || res.RedirectURI == "" {
		t.Fatalf("%v %+v", err, res)
	}
	if _, err := h.finish(l, res.RedirectURI); !errors.Is(err, adapters.ErrCancelled) {
		t.Fatalf("got %v", err)
	}
	// An unknown state finds no request.
	res, _ = h.sim.Post(context.Background(), r.ResponseURI, url.Values{"error": {"access_denied"}, "state": {"guess"}})
	if res.Status != http.StatusBadRequest {
		t.Fatalf("unknown state: %+v", res)
	}
}

func TestSameDeviceOnly(t *testing.T) {
	h := newHarness(t, func(c *wallet.Config) { c.CrossDevice = false })
	l := h.begin(t)
	if strings.Contains(l.page, "wallet-qr") {
		t.Fatal("QR code shown although cross_device is off")
	}
	link := strings.Replace(find(t, reSame, l.page), "d%3Dsame", "d%3Dcross", 1)
	if _, err := h.sim.FetchRequest(context.Background(), link); err == nil {
		t.Fatal("cross-device fetch served")
	}
	if _, err := h.sameDevice(t, walletsim.PresentOptions{Person: "erika", Format: wallet.FormatMDoc}); err != nil {
		t.Fatal(err)
	}
}

func TestHealth(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.adapter.CheckHealth(context.Background()); err != nil {
		t.Fatal(err)
	}
	later := time.Now().AddDate(6, 0, 0)
	h.now.Store(&later)
	if err := h.adapter.CheckHealth(context.Background()); err == nil {
		t.Fatal("expired certificates reported healthy")
	}
}

// TestIntermediatedPortal: the broker asks on behalf of a portal (ARF
// intermediary); the wallet is shown that portal and its intended use, and
// a portal without an entry is presented under the broker's name alone.
func TestIntermediatedPortal(t *testing.T) {
	h := newHarness(t, func(c *wallet.Config) {
		c.RelyingParty.Clients = map[string]wallet.IntermediatedRP{"portal-a": {Name: "Portal A", Purpose: "Wohngeld beantragen"}}
	})
	for _, tc := range []struct{ client, name, purpose string }{
		{"portal-a", "Portal A (via Demo-Identitätsbroker)", "Wohngeld beantragen"},
		{"portal-b", "Demo-Identitätsbroker", ""},
	} {
		t.Run(tc.client, func(t *testing.T) {
			l := h.begin(t, "given_name")
			l.req.ClientID = tc.client
			ho, st, err := h.adapter.Begin(context.Background(), l.req)
			if err != nil {
				t.Fatal(err)
			}
			l.state, l.page = st, string(ho.Content)
			r := h.fetch(t, l, false)
			if r.ClientName != tc.name || r.Purpose != tc.purpose {
				t.Fatalf("wallet shown %q / %q, want %q / %q", r.ClientName, r.Purpose, tc.name, tc.purpose)
			}
		})
	}
}
