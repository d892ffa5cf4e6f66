package eidasservice_test

import (
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/eidas"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	es "github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

// TestRoundTripWithEIDASAdapter runs this repository's eIDAS-Connector
// (adapters/eidas) against the service, with the eID simulators doing the
// card part: the adapter's AuthnRequest, the eID login, consent, and the
// adapter verifying and decrypting our Response into an identity. Two
// independent implementations of the same profile agree end to end.
func TestRoundTripWithEIDASAdapter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		serviceKey string
		binding    string
		signKey    string
		encKey     string
	}{
		{name: "RSA-PSS service, RSA connector, POST", serviceKey: "service-sign-rsa", binding: "post", signKey: "connector-at-sign", encKey: "connector-at-enc"},
		{name: "ECDSA service, EC connector (ECDH-ES), Redirect", serviceKey: "service-sign-ec", binding: "redirect", signKey: "connector-se-sign", encKey: "connector-se-enc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			roundTrip(t, tc.serviceKey, tc.binding, tc.signKey, tc.encKey)
		})
	}
}

func roundTrip(t *testing.T, serviceKey, binding, signKey, encKey string) {
	sign, enc := pair(t, signKey), pair(t, encKey)
	h := newHarness(t, harnessOpts{serviceKey: serviceKey, svcCfg: func(h *harness, c *es.Config) {
		// The adapter's metadata is fetched from its route on first use.
		c.Connectors = []es.Connector{{MetadataURL: h.base + eidas.ConnectorPath + "/metadata",
			TrustAnchors: []*x509.Certificate{sign.Cert}, Country: "AT", Name: "Broker connector (AT)"}}
	}})

	cfg := eidas.NewConfig()
	cfg.NodeCountry = "AT"
	cfg.Material = &eidas.Material{SigningKey: sign.Key, SigningCert: sign.Cert, DecryptionKey: enc.Key, EncryptionCert: enc.Cert}
	cfg.Countries = []eidas.Country{{Code: "DE", Level: assurance.High, Binding: binding,
		Material: &eidas.CountryMaterial{
			TrustAnchors: []*x509.Certificate{pair(t, serviceKey).Cert},
			Metadata:     func(context.Context) ([]byte, error) { return h.svc.Metadata() },
		}}}
	ad, err := cfg.Open("eidas", adapters.Deps{BaseURL: h.base, Store: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ad.Close() })

	var mu sync.Mutex
	states := map[string][]byte{}
	results := map[string]adapters.Identity{}
	errs := map[string]error{}
	h.mux.Handle(eidas.ConnectorPath+"/", http.StripPrefix(eidas.ConnectorPath, ad.Routes()))
	h.mux.HandleFunc("/login/cb/{ref}", func(w http.ResponseWriter, r *http.Request) {
		ref := r.PathValue("ref")
		mu.Lock()
		state := states[ref]
		delete(states, ref)
		mu.Unlock()
		id, err := ad.Finish(r.Context(), adapters.Request{Ref: ref, Option: "DE"}, state, r)
		mu.Lock()
		results[ref], errs[ref] = id, err
		mu.Unlock()
		_, _ = io.WriteString(w, "done")
	})

	ref := strings.Repeat("r", 43)
	req := adapters.Request{TxID: "tx", Ref: ref, MinLevel: assurance.High, Option: "DE", CallbackURL: h.base + "/login/cb/" + ref,
		BaseURL: h.base, Claims: []string{"given_name", "family_name", "birthdate", "address", "birth_family_name", "place_of_birth"}}
	ho, state, err := ad.Begin(context.Background(), req)
	if err != nil {
		t.Fatalf("adapter Begin: %v", err)
	}
	mu.Lock()
	states[ref] = state
	mu.Unlock()

	b := h.browser()
	var start page
	switch {
	case ho.PostURL != "":
		if binding != "post" {
			t.Fatalf("adapter used POST, want %s", binding)
		}
		start = b.post(ho.PostURL, ho.PostForm)
	case ho.RedirectURL != "":
		if binding != "redirect" || !strings.HasPrefix(ho.RedirectURL, h.base+es.SSOPath+"?") {
			t.Fatalf("redirect to %s", ho.RedirectURL)
		}
		start = b.get(ho.RedirectURL)
	default:
		t.Fatalf("handoff %+v", ho)
	}
	out := h.consent(b, h.eidLogin(b, start, "erika"), "approve")
	action, form := out.form(t)
	if action != h.base+eidas.ConnectorPath+"/acs" {
		t.Fatalf("Response goes to %s", action)
	}
	if done := b.post(action, url.Values{"SAMLResponse": {form.Get("SAMLResponse")}, "RelayState": {form.Get("RelayState")}}); done.body != "done" {
		t.Fatalf("ACS answered %d:\n%s", done.status, truncateBody(done.body))
	}
	mu.Lock()
	id, ferr := results[ref], errs[ref]
	mu.Unlock()
	if ferr != nil {
		t.Fatalf("adapter refused our Response: %v\nservice log:\n%s", ferr, h.logs.String())
	}
	if !strings.HasPrefix(id.Subject, "DE/AT/") || len(id.Subject) != 6+64 {
		t.Errorf("subject %q", id.Subject)
	}
	if id.Level != assurance.High {
		t.Errorf("level %s", id.Level)
	}
	c := id.Claims
	if c.GivenName != "ERIKA" || c.FamilyName != "MUSTERMANN" || c.Birthdate != "1964-08-12" {
		t.Errorf("claims %+v", c)
	}
	if c.Address == nil || c.Address.Locality != "KÖLN" || c.Address.PostalCode != "51147" {
		t.Errorf("address %+v", c.Address)
	}
	t.Logf("identity: %s %+v address %+v", id.Subject, c, c.Address)
}
