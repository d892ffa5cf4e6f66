package eidas

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

// TestCountryMetadataFixtures opens the adapter on each generated metadata
// variant: a good one makes the country available; every broken one makes
// it unavailable (Info, CheckHealth and Begin say so) for its own reason.
func TestCountryMetadataFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []error // nil: usable
	}{
		{"at-proxy", nil},
		{"at-proxy-ec-signed", nil},
		{"at-proxy-expired", []error{ErrMetadataExpired}},
		{"at-proxy-unsigned", []error{ErrMetadata, xmlsec.ErrNotSigned}},
		{"at-proxy-bad-signature", []error{ErrMetadata, xmlsec.ErrDigestMismatch}},
		{"at-proxy-untrusted-signer", []error{ErrMetadata, xmlsec.ErrUntrustedCertificate}},
		{"at-proxy-weak-key", []error{ErrMetadata, xmlsec.ErrWeakKey}},
		{"at-proxy-wrong-country", []error{ErrMetadata}},
		{"at-proxy-http-entity", []error{ErrMetadata}},
		{"at-proxy-doctype", []error{ErrMetadata, xmlsec.ErrDoctype}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			a := openFixture(t, fxConfig(t, "rsa", tc.file))
			info := a.Info()
			if len(info.Options) != 1 || info.Options[0].ID != "AT" || info.Options[0].Level != assurance.High || info.Options[0].Name.DE != "Österreich" {
				t.Fatalf("options %+v", info.Options)
			}
			health := a.CheckHealth(context.Background())
			_, _, err := a.Begin(context.Background(), adapters.Request{Ref: fxRef, Option: "AT", MinLevel: assurance.Substantial})
			if tc.want == nil {
				if info.Options[0].Unavailable != "" || health != nil || err != nil {
					t.Fatalf("unavailable %q, health %v, begin %v", info.Options[0].Unavailable, health, err)
				}
				return
			}
			if info.Options[0].Unavailable == "" || health == nil || !strings.Contains(health.Error(), "AT") {
				t.Errorf("not reported: unavailable %q, health %v", info.Options[0].Unavailable, health)
			}
			if !errors.Is(err, ErrCountryUnavailable) {
				t.Errorf("begin: %v", err)
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("%v does not wrap %v", err, w)
				}
			}
		})
	}
}

// TestMetadataExpiresWhileCached: metadata that was good at load becomes
// unusable at its validUntil, without a refresh.
func TestMetadataExpiresWhileCached(t *testing.T) {
	var now atomic.Value
	now.Store(fxClock())
	clock := func() time.Time { return now.Load().(time.Time) }
	st := memory.New()
	defer st.Close()
	a, err := fxConfig(t, "rsa", "at-proxy").Open("eidas", adapters.Deps{BaseURL: fxBase, Store: st, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.CheckHealth(context.Background()) != nil {
		t.Fatal("not healthy at start")
	}
	now.Store(time.Date(2031, 1, 1, 0, 0, 1, 0, time.UTC))
	if err := a.CheckHealth(context.Background()); !errors.Is(err, ErrCountryUnavailable) {
		t.Fatalf("health after validUntil: %v", err)
	}
	if a.Info().Options[0].Unavailable != "Metadaten abgelaufen / metadata expired" {
		t.Errorf("reason %q", a.Info().Options[0].Unavailable)
	}
}

// TestMetadataFromURL: metadata_url is fetched with a User-Agent, a
// failing server makes the country unavailable, and the background refresh
// recovers once the server answers again; the last good metadata survives
// a failed refresh.
func TestMetadataFromURL(t *testing.T) {
	good := testfiles.Read(t, fixture(t, "metadata/at-proxy.xml"))
	var fail atomic.Bool
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("User-Agent") == "" || fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write(good)
	}))
	defer srv.Close()
	c := fxConfig(t, "rsa", "at-proxy")
	c.Countries[0].MetadataFile = ""
	c.Countries[0].MetadataURL = srv.URL + "/metadata"
	fail.Store(true)
	a := openFixture(t, c)
	if err := a.CheckHealth(context.Background()); err == nil {
		t.Fatal("healthy although the metadata server failed")
	}
	fail.Store(false)
	deadline := time.Now().Add(15 * time.Second)
	for a.CheckHealth(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after %d fetches", hits.Load())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A failed refresh keeps the verified metadata.
	fail.Store(true)
	a.refresh(context.Background(), a.byCode["AT"])
	if err := a.CheckHealth(context.Background()); err != nil {
		t.Fatalf("lost good metadata after a failed refresh: %v", err)
	}
	if st := a.byCode["AT"].state.Load(); st.lastErr == nil || st.retry == 0 {
		t.Errorf("failure not recorded: %+v", st)
	}
}

func TestParseMetadataStructure(t *testing.T) {
	ents, err := ParseMetadata(testfiles.Read(t, fixture(t, "metadata/at-proxy.xml")))
	if err != nil {
		t.Fatal(err)
	}
	m := ents[0]
	if !m.IDP || m.EntityID != fxIdP || m.NodeCountry != "AT" || len(m.SigningCerts) != 2 || len(m.SSO) != 2 {
		t.Fatalf("parsed %+v", m)
	}
	if e, err := pickSSO(m, samlxml.BindingPOST); err != nil || e.Binding != samlxml.BindingPOST {
		t.Errorf("binding %+v %v", e, err)
	}
	if e, err := pickSSO(m, samlxml.BindingRedirect); err != nil || e.Binding != samlxml.BindingRedirect {
		t.Errorf("preferred redirect binding %+v %v", e, err)
	}
	m.SSO = m.SSO[:1] // POST only: a Redirect preference falls back
	if e, err := pickSSO(m, samlxml.BindingRedirect); err != nil || e.Binding != samlxml.BindingPOST {
		t.Errorf("fallback binding %+v %v", e, err)
	}
	for _, bad := range []string{
		`<x/>`,
		`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>`,
		`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://x"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol"/></md:EntityDescriptor>`,
		`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://x" validUntil="2030-01-01"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`,
	} {
		if _, err := ParseMetadata([]byte(bad)); !errors.Is(err, ErrMetadata) && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
