package broker

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

func TestComputeFloor(t *testing.T) {
	L, S, H := assurance.Low, assurance.Substantial, assurance.High
	ess := func(vals ...string) requestedClaims {
		return requestedClaims{IDToken: map[string]*claimRequest{"acr": {Essential: true, Values: vals}}}
	}
	tests := []struct {
		name          string
		in            floorInput
		want          assurance.Level
		wantEssential int
		wantErr       bool
	}{
		{"default is low", floorInput{}, L, 0, false},
		{"client minimum", floorInput{ClientMin: S}, S, 0, false},
		{"service raises", floorInput{ClientMin: L, ServiceMins: []assurance.Level{S, H}}, H, 0, false},
		{"acr_values raise", floorInput{ClientMin: L, ACRValues: []string{assurance.URISubstantial}}, S, 0, false},
		{"acr_values cannot lower", floorInput{ClientMin: H, ACRValues: []string{assurance.URILow}}, H, 0, false},
		{"lowest acr value counts", floorInput{ACRValues: []string{assurance.URIHigh, assurance.URISubstantial}}, S, 0, false},
		{"unknown acr ignored", floorInput{ClientMin: S, ACRValues: []string{"urn:x", "0"}}, S, 0, false},
		{"not-notified acr ignored for the floor", floorInput{ACRValues: []string{assurance.URINotNotifiedHigh}}, L, 0, false},
		{"essential acr raises", floorInput{ClientMin: L, Claims: ess(assurance.URIHigh)}, H, 1, false},
		{"essential cannot lower", floorInput{ClientMin: H, Claims: ess(assurance.URILow)}, H, 1, false},
		{"essential unknown only", floorInput{Claims: ess("urn:x")}, L, 1, true},
		{"voluntary acr claim raises", floorInput{Claims: requestedClaims{Userinfo: map[string]*claimRequest{"acr": {Value: assurance.URISubstantial}}}}, S, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, essential, err := computeFloor(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && got != tt.want {
				t.Fatalf("floor = %v, want %v", got, tt.want)
			}
			if len(essential) != tt.wantEssential {
				t.Fatalf("essential = %v", essential)
			}
		})
	}
}

func TestACRFor(t *testing.T) {
	tests := []struct {
		proved    assurance.Level
		essential []string
		want      string
		ok        bool
	}{
		{assurance.High, nil, assurance.URIHigh, true},
		{assurance.High, []string{assurance.URISubstantial}, assurance.URISubstantial, true},
		{assurance.High, []string{assurance.URILow, assurance.URISubstantial}, assurance.URISubstantial, true},
		{assurance.Substantial, []string{assurance.URIHigh}, "", false},
		{assurance.NotNotifiedHigh, []string{assurance.URILow}, "", false},
		{assurance.Unspecified, nil, "", false},
	}
	for _, tt := range tests {
		got, ok := acrFor(tt.proved, tt.essential)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("acrFor(%v, %v) = %q, %v; want %q, %v", tt.proved, tt.essential, got, ok, tt.want, tt.ok)
		}
	}
}

func TestReleasedClaimsMinimised(t *testing.T) {
	id := adapters.Claims{GivenName: "Erika", FamilyName: "Mustermann", Birthdate: "1964-08-12",
		Address: &adapters.Address{Locality: "Köln"}, Nationalities: []string{"DE"}}
	allowed := map[string]bool{"given_name": true, "address": true, "birthdate": true}
	rc := requestedClaims{Userinfo: map[string]*claimRequest{"birthdate": nil}}
	got := releasedClaims(id, []string{"openid", "address"}, rc, allowed)
	want := []string{"address", "birthdate"} // given_name allowed but not asked; nationalities not allowed
	if keys := sortedKeys(got); len(keys) != len(want) || keys[0] != want[0] || keys[1] != want[1] {
		t.Fatalf("released %v, want %v", keys, want)
	}
}

func TestSealedStoreBindsAndHides(t *testing.T) {
	raw := memory.New()
	defer raw.Close()
	key := make([]byte, 32)
	s, err := newSealedStore(raw, []DataKey{{ID: "k", Key: key, Active: true}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	in := session{Identity: adapters.Identity{Subject: "secret-subject", Claims: adapters.Claims{FamilyName: "Mustermann"}}}
	if err := s.create(ctx, "session", "a", in, 60e9); err != nil {
		t.Fatal(err)
	}
	e, _ := raw.Get(ctx, "session", "a")
	for _, plain := range []string{"Mustermann", "secret-subject"} {
		if contains(e.Value, plain) {
			t.Fatalf("store holds %q in clear", plain)
		}
	}
	// The same ciphertext under another key or kind does not open.
	_ = raw.Create(ctx, "session", "b", e.Value, 60e9)
	_ = raw.Create(ctx, "code", "a", e.Value, 60e9)
	var out session
	if _, err := s.get(ctx, "session", "b", &out); err == nil {
		t.Fatal("ciphertext moved to another key opened")
	}
	if _, err := s.get(ctx, "code", "a", &out); err == nil {
		t.Fatal("ciphertext moved to another kind opened")
	}
	if _, err := s.get(ctx, "session", "a", &out); err != nil || out.Identity.Claims.FamilyName != "Mustermann" {
		t.Fatalf("round trip: %v %+v", err, out)
	}
	if _, err := newSealedStore(raw, []DataKey{{ID: "k", Key: make([]byte, 16), Active: true}}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a 128-bit data key was accepted")
	}
}

func contains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
