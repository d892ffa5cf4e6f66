package demo

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

func TestFinish(t *testing.T) {
	a := New(nil)
	h, state, err := a.Begin(context.Background(), adapters.Request{CallbackURL: "https://broker.example/login/cb/x", MinLevel: assurance.High})
	if err != nil || !strings.Contains(string(h.Page), "https://broker.example/login/cb/x") || !strings.Contains(string(h.Page), "Demo") {
		t.Fatalf("begin: %v %s", err, h.Page)
	}
	post := func(v url.Values) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(v.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	tests := []struct {
		name    string
		form    url.Values
		wantErr error
		level   assurance.Level
	}{
		{"ok", url.Values{"nonce": {string(state)}, "person": {"erika"}, "level": {"substantial"}}, nil, assurance.Substantial},
		{"wrong nonce", url.Values{"nonce": {"x"}, "person": {"erika"}, "level": {"high"}}, errAny, 0},
		{"cancel", url.Values{"nonce": {string(state)}, "action": {"cancel"}}, adapters.ErrCancelled, 0},
		{"unknown person", url.Values{"nonce": {string(state)}, "person": {"nobody"}, "level": {"high"}}, errAny, 0},
		{"not-notified level", url.Values{"nonce": {string(state)}, "person": {"erika"}, "level": {"notnotified-high"}}, errAny, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := a.Finish(context.Background(), adapters.Request{}, state, post(tt.form))
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			case tt.wantErr == nil && (id.Level != tt.level || id.Subject != "demo:erika" || id.Claims.FamilyName != "Mustermann"):
				t.Fatalf("identity = %+v", id)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestTextAndLevelNames(t *testing.T) {
	tx := adapters.Text{DE: "hoch", EN: "high"}
	if tx.In("en") != "high" || tx.In("de") != "hoch" || tx.In("") != "hoch" {
		t.Fatal("Text.In")
	}
	if n, ok := adapters.LevelName(assurance.Substantial); !ok || n.In("de") != "substanziell" {
		t.Fatal("LevelName substantial")
	}
	if _, ok := adapters.LevelName(assurance.NotNotifiedHigh); ok {
		t.Fatal("not-notified levels have no page name")
	}
}

// TestLookup: every person of People is found by its ID, as People lists
// it, and each call builds it afresh (no login shares another's claims).
func TestLookup(t *testing.T) {
	people := People()
	if len(people) != 3 {
		t.Fatalf("%d people", len(people))
	}
	for _, p := range people {
		got, ok := Lookup(p.ID)
		if !ok || got.ID != p.ID || got.Label != p.Label || got.Claims.FamilyName != p.Claims.FamilyName || got.Claims.Birthdate != p.Claims.Birthdate {
			t.Errorf("Lookup(%q) = %+v, %v; People has %+v", p.ID, got, ok, p)
		}
		again, _ := Lookup(p.ID)
		if got.Claims.Address != nil && got.Claims.Address == again.Claims.Address ||
			len(got.Claims.Nationalities) > 0 && &got.Claims.Nationalities[0] == &again.Claims.Nationalities[0] {
			t.Errorf("Lookup(%q) shares claims between calls", p.ID)
		}
	}
	if _, ok := Lookup("nobody"); ok {
		t.Error("Lookup of an unknown ID succeeded")
	}
}
