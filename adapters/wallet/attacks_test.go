package wallet_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/wallet"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/mdoc"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/sdjwt"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/walletsim"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// respondWith runs a same-device login whose wallet sends the
// presentation made by build (from the fetched request) instead of an
// honest one, and returns Finish's verdict.
func (h *harness) respondWith(t *testing.T, format string, build func(r *walletsim.Request) string) error {
	t.Helper()
	l := h.begin(t)
	r := h.fetch(t, l, false)
	pres := build(r)
	q, _ := r.Query(format)
	jwe, err := h.sim.Encrypt(r, map[string]any{"vp_token": map[string]any{q.ID: []string{pres}}, "state": r.State})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.sim.Post(context.Background(), r.ResponseURI, url.Values{"response": {jwe}})
	if err != nil || res.RedirectURI == "" {
		t.Fatalf("post: %v %+v", err, res)
	}
	_, err = h.finish(l, res.RedirectURI)
	return err
}

func otherKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRefusals(t *testing.T) {
	h := newHarness(t, nil)
	other, err := walletsim.New(walletsim.Options{BaseURL: h.srv.URL + "/sim/other", Client: h.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts walletsim.PresentOptions
		want error
	}{
		{"wrong nonce", walletsim.PresentOptions{Person: "erika", Nonce: "not-the-request-nonce"}, wallet.ErrCredential},
		{"wrong audience", walletsim.PresentOptions{Person: "erika", Audience: "x509_hash:c29tZW9uZS1lbHNl"}, wallet.ErrCredential},
		{"wrong key binding key", walletsim.PresentOptions{Person: "erika", KeyBindingKey: otherKey(t)}, wallet.ErrCredential},
		{"expired pid", walletsim.PresentOptions{Person: "lena"}, wallet.ErrCredential},
		{"revoked pid", walletsim.PresentOptions{Person: "max"}, wallet.ErrRevoked},
		{"untrusted issuer", walletsim.PresentOptions{Person: "erika", Holder: other}, wallet.ErrCredential},
	}
	for _, f := range formats {
		for _, c := range cases {
			t.Run(f+"/"+c.name, func(t *testing.T) {
				o := c.opts
				o.Format = f
				_, err := h.sameDevice(t, o)
				t.Log(err)
				if !errors.Is(err, c.want) {
					t.Fatalf("want %v, got %v", c.want, err)
				}
			})
		}
	}
}

func TestSDJWTRefusals(t *testing.T) {
	h := newHarness(t, nil)
	t.Run("missing key binding", func(t *testing.T) {
		_, err := h.sameDevice(t, walletsim.PresentOptions{Person: "erika", Format: wallet.FormatSDJWT, NoKeyBinding: true})
		if !errors.Is(err, sdjwt.ErrKeyBinding) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("undisclosed claim smuggled in", func(t *testing.T) {
		d, err := sdjwt.NewDisclosure("age_in_years", 99)
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.sameDevice(t, walletsim.PresentOptions{Person: "erika", Format: wallet.FormatSDJWT, ExtraDisclosures: []string{d.Encoded}})
		if !errors.Is(err, sdjwt.ErrMalformed) || !strings.Contains(err.Error(), "not referenced") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("tampered disclosure", func(t *testing.T) {
		err := h.respondWith(t, wallet.FormatSDJWT, func(r *walletsim.Request) string {
			pres, err := h.sim.Presentation(r, walletsim.PresentOptions{Person: "erika", Format: wallet.FormatSDJWT})
			if err != nil {
				t.Fatal(err)
			}
			sd, err := sdjwt.Parse(pres)
			if err != nil {
				t.Fatal(err)
			}
			for i, enc := range sd.Disclosures {
				d, _ := sdjwt.DecodeDisclosure(enc)
				if d.Name == "given_name" {
					raw, _ := json.Marshal([]any{d.Salt, d.Name, "MALLORY"})
					sd.Disclosures[i] = base64.RawURLEncoding.EncodeToString(raw)
				}
			}
			return sd.String()
		})
		if !errors.Is(err, wallet.ErrCredential) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("replayed presentation", func(t *testing.T) {
		var first string
		l := h.begin(t)
		r := h.fetch(t, l, false)
		first, err := h.sim.Presentation(r, walletsim.PresentOptions{Person: "erika", Format: wallet.FormatSDJWT})
		if err != nil {
			t.Fatal(err)
		}
		err = h.respondWith(t, wallet.FormatSDJWT, func(*walletsim.Request) string { return first })
		if !errors.Is(err, sdjwt.ErrKeyBinding) {
			t.Fatalf("got %v", err)
		}
	})
}

// mutateDeviceResponse decodes a presented DeviceResponse, lets f change
// it and encodes it again.
func mutateDeviceResponse(t *testing.T, pres string, f func(*mdoc.DeviceResponse)) string {
	raw, err := base64.RawURLEncoding.DecodeString(pres)
	if err != nil {
		t.Fatal(err)
	}
	var dr mdoc.DeviceResponse
	if err := mdoc.Unmarshal(raw, &dr); err != nil {
		t.Fatal(err)
	}
	f(&dr)
	out, err := mdoc.Marshal(dr)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

func item(t *testing.T, id uint64, name string, value any) cbor.RawMessage {
	enc, err := mdoc.Marshal(mdoc.IssuerSignedItem{DigestID: id, Random: make([]byte, 16), ElementIdentifier: name, ElementValue: value})
	if err != nil {
		t.Fatal(err)
	}
	tagged, err := mdoc.Marshal(cbor.Tag{Number: 24, Content: enc})
	if err != nil {
		t.Fatal(err)
	}
	return tagged
}

func TestMDocRefusals(t *testing.T) {
	h := newHarness(t, nil)
	honest := func(r *walletsim.Request) string {
		pres, err := h.sim.Presentation(r, walletsim.PresentOptions{Person: "erika", Format: wallet.FormatMDoc})
		if err != nil {
			t.Fatal(err)
		}
		return pres
	}
	cases := []struct {
		name   string
		mutate func(*mdoc.DeviceResponse)
		want   error
	}{
		{"tampered element", func(dr *mdoc.DeviceResponse) {
			items := dr.Documents[0].IssuerSigned.NameSpaces[wallet.PIDDocType]
			for i, raw := range items {
				var tg cbor.Tag
				_ = mdoc.Unmarshal(raw, &tg)
				var it mdoc.IssuerSignedItem
				_ = mdoc.Unmarshal(tg.Content.([]byte), &it)
				if it.ElementIdentifier == "given_name" {
					items[i] = item(t, it.DigestID, "given_name", "MALLORY")
				}
			}
		}, mdoc.ErrDigest},
		{"element smuggled in", func(dr *mdoc.DeviceResponse) {
			ns := dr.Documents[0].IssuerSigned.NameSpaces
			ns[wallet.PIDDocType] = append(ns[wallet.PIDDocType], item(t, 4711, "age_over_18", true))
		}, mdoc.ErrDigest},
		{"device signature removed", func(dr *mdoc.DeviceResponse) {
			dr.Documents[0].DeviceSigned.DeviceAuth.DeviceSignature = nil
		}, mdoc.ErrDevice},
		{"other doctype", func(dr *mdoc.DeviceResponse) { dr.Documents[0].DocType = "org.iso.18013.5.1.mDL" }, mdoc.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := h.respondWith(t, wallet.FormatMDoc, func(r *walletsim.Request) string {
				return mutateDeviceResponse(t, honest(r), c.mutate)
			})
			if !errors.Is(err, c.want) {
				t.Fatalf("want %v, got %v", c.want, err)
			}
		})
	}
	t.Run("replayed presentation", func(t *testing.T) {
		l := h.begin(t)
		first := honest(h.fetch(t, l, false))
		err := h.respondWith(t, wallet.FormatMDoc, func(*walletsim.Request) string { return first })
		if !errors.Is(err, mdoc.ErrDevice) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestResponseEndpointRefusals(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	t.Run("unencrypted response", func(t *testing.T) {
		l := h.begin(t)
		r := h.fetch(t, l, false)
		pres, err := h.sim.Presentation(r, walletsim.PresentOptions{Person: "erika", Format: wallet.FormatSDJWT})
		if err != nil {
			t.Fatal(err)
		}
		vp, _ := json.Marshal(map[string]any{"pid_sd_jwt": []string{pres}})
		res, err := h.sim.Post(ctx, r.ResponseURI, url.Values{"vp_token": {string(vp)}, "state": {r.State}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != http.StatusBadRequest || res.RedirectURI != "" {
			t.Fatalf("plain direct_post accepted: %+v", res)
		}
		// Nothing was stored: the browser has no code, and none works.
		if _, err := h.finish(l, l.req.CallbackURL+"?response_code=guess"); !errors.Is(err, wallet.ErrRequest) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("response for another request", func(t *testing.T) {
		la, lb := h.begin(t), h.begin(t)
		ra, rb := h.fetch(t, la, false), h.fetch(t, lb, false)
		payload, err := h.sim.ResponsePayload(ra, walletsim.PresentOptions{Person: "erika", Format: wallet.FormatSDJWT})
		if err != nil {
			t.Fatal(err)
		}
		jwe, err := h.sim.Encrypt(rb, payload) // A's answer, encrypted to B's key
		if err != nil {
			t.Fatal(err)
		}
		res, err := h.sim.Post(ctx, rb.ResponseURI, url.Values{"response": {jwe}})
		if err != nil || res.RedirectURI == "" {
			t.Fatalf("%v %+v", err, res)
		}
		if _, err := h.finish(lb, res.RedirectURI); !errors.Is(err, wallet.ErrResponse) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("response posted twice", func(t *testing.T) {
		l := h.begin(t)
		r := h.fetch(t, l, false)
		payload, _ := h.sim.ResponsePayload(r, walletsim.PresentOptions{Person: "erika", Format: wallet.FormatSDJWT})
		jwe, _ := h.sim.Encrypt(r, payload)
		first, _ := h.sim.Post(ctx, r.ResponseURI, url.Values{"response": {jwe}})
		second, _ := h.sim.Post(ctx, r.ResponseURI, url.Values{"response": {jwe}})
		if first.Status != http.StatusOK || second.Status != http.StatusBadRequest {
			t.Fatalf("first %d second %d", first.Status, second.Status)
		}
	})
	t.Run("request object fetched twice", func(t *testing.T) {
		l := h.begin(t)
		h.fetch(t, l, false)
		if _, err := h.sim.FetchRequest(ctx, find(t, reCross, l.page)); err == nil {
			t.Fatal("second fetch of the request object succeeded")
		}
	})
	t.Run("wrong then right response code", func(t *testing.T) {
		l := h.begin(t)
		r := h.fetch(t, l, false)
		res, _ := h.sim.Respond(ctx, r, walletsim.PresentOptions{Person: "erika", Format: wallet.FormatSDJWT})
		u := mustURL(t, res.RedirectURI)
		q := u.Query()
		right := q.Get("response_code")
		q.Set("response_code", right+"x")
		u.RawQuery = q.Encode()
		if _, err := h.finish(l, u.String()); !errors.Is(err, wallet.ErrRequest) {
			t.Fatalf("wrong code: %v", err)
		}
		// A guess does not destroy the real answer (the broker bounds the
		// attempts); the right code works once.
		if _, err := h.finish(l, res.RedirectURI); err != nil {
			t.Fatalf("after a wrong code: %v", err)
		}
		if _, err := h.finish(l, res.RedirectURI); !errors.Is(err, wallet.ErrRequest) {
			t.Fatalf("second use: %v", err)
		}
	})
	t.Run("expired request", func(t *testing.T) {
		l := h.begin(t)
		r := h.fetch(t, l, false)
		res, _ := h.sim.Respond(ctx, r, walletsim.PresentOptions{Person: "erika", Format: wallet.FormatSDJWT})
		later := time.Now().Add(wallet.DefaultRequestTTL + 2*time.Minute)
		h.now.Store(&later)
		defer func() { n := time.Now(); h.now.Store(&n) }()
		if _, err := h.finish(l, res.RedirectURI); !errors.Is(err, wallet.ErrRequest) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestStatusUnreachablePolicy(t *testing.T) {
	for _, c := range []struct {
		policy string
		ok     bool
	}{{wallet.UnreachableRefuse, false}, {wallet.UnreachableAllow, true}} {
		t.Run(c.policy, func(t *testing.T) {
			h := newHarness(t, func(cfg *wallet.Config) { cfg.Status.Unreachable = c.policy })
			h.statusDown.Store(true)
			for _, f := range formats {
				_, err := h.sameDevice(t, walletsim.PresentOptions{Person: "erika", Format: f})
				if c.ok && err != nil || !c.ok && (!errors.Is(err, wallet.ErrStatus) || adapters.ReasonOf(err) != adapters.ReasonUpstreamUnreachable) {
					t.Fatalf("%s: %v", f, err)
				}
			}
		})
	}
}

// downStore fails every call as an unreachable backend does.
type downStore struct{ store.Store }

func (downStore) Create(context.Context, store.Kind, string, []byte, time.Duration) error {
	return fmt.Errorf("redis: connection refused: %w", store.ErrUnavailable)
}

func (downStore) Get(context.Context, store.Kind, string) (store.Entry, error) {
	return store.Entry{}, fmt.Errorf("redis: connection refused: %w", store.ErrUnavailable)
}

func (downStore) Take(context.Context, store.Kind, string) ([]byte, error) {
	return nil, fmt.Errorf("redis: connection refused: %w", store.ErrUnavailable)
}

// A store outage fails the login closed with an error the broker maps to
// 503, at Begin and at Finish.
func TestStoreDown(t *testing.T) {
	h := newHarness(t, nil)
	l := h.begin(t)
	down, err := h.sim.AdapterConfig().Open(adapterID, adapters.Deps{BaseURL: h.srv.URL, Store: downStore{}, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := down.Begin(context.Background(), l.req); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("begin: %v", err)
	}
	r := httptest.NewRequest(http.MethodGet, l.req.CallbackURL+"?response_code=x", nil)
	if _, err := down.Finish(context.Background(), l.req, l.state, r); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("finish: %v", err)
	}
}
