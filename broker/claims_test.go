package broker

import (
	"slices"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// TestReleasedClaimsScripts: values an upstream also gave in a non-Latin
// script are released as OIDC Core §5.2 language-tagged claims with the
// claim they belong to, under the same minimisation: asked for (by the
// claim or by exactly the tagged name) and allowed (by the claim's name).
func TestReleasedClaimsScripts(t *testing.T) {
	id := adapters.Claims{
		GivenName: "Eleni", FamilyName: "Papadopoulou",
		Extra:        map[string]string{"birth_name": "Eleni Georgiou"},
		PlaceOfBirth: &adapters.PlaceOfBirth{Locality: "Athina"},
		Scripts: map[string]adapters.Claims{
			"el": {GivenName: "Ελένη", FamilyName: "Παπαδοπούλου", Extra: map[string]string{"birth_name": "Ελένη Γεωργίου"},
				PlaceOfBirth: &adapters.PlaceOfBirth{Locality: "Αθήνα"}},
			"bad tag":  {FamilyName: "x"},
			"und-Cyrl": {FamilyName: "Папа", Scripts: map[string]adapters.Claims{"ru": {FamilyName: "nested"}}},
		},
	}
	all := map[string]bool{"given_name": true, "family_name": true, "birth_name": true, "place_of_birth": true}
	tests := []struct {
		name    string
		scopes  []string
		rc      requestedClaims
		allowed map[string]bool
		want    []string
	}{
		{name: "profile, everything allowed", scopes: []string{"openid", "profile"}, allowed: all,
			want: []string{"birth_name", "birth_name#el", "family_name", "family_name#el", "family_name#und-Cyrl",
				"given_name", "given_name#el", "place_of_birth", "place_of_birth#el"}},
		{name: "allowed only family_name", scopes: []string{"openid", "profile"}, allowed: map[string]bool{"family_name": true},
			want: []string{"family_name", "family_name#el", "family_name#und-Cyrl"}},
		{name: "a tagged name in allowed_claims allows nothing", scopes: []string{"openid", "profile"}, allowed: map[string]bool{"family_name#el": true},
			want: nil},
		{name: "claims parameter asks for the claim", scopes: []string{"openid"}, allowed: all,
			rc:   requestedClaims{Userinfo: map[string]*claimRequest{"birth_name": nil}},
			want: []string{"birth_name", "birth_name#el"}},
		{name: "claims parameter asks for exactly one tagged claim", scopes: []string{"openid"}, allowed: all,
			rc:   requestedClaims{IDToken: map[string]*claimRequest{"family_name#el": nil}},
			want: []string{"family_name#el"}},
		{name: "not asked", scopes: []string{"openid"}, allowed: all, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sortedKeys(releasedClaims(id, tt.scopes, tt.rc, tt.allowed))
			if !slices.Equal(got, tt.want) {
				t.Errorf("released %q, want %q", got, tt.want)
			}
		})
	}
	out := identityClaims(id)
	if out["family_name#el"] != "Παπαδοπούλου" || out["birth_name#el"] != "Ελένη Γεωργίου" {
		t.Errorf("tagged values %v", out)
	}
	if p, _ := out["place_of_birth#el"].(*adapters.PlaceOfBirth); p == nil || p.Locality != "Αθήνα" {
		t.Errorf("place_of_birth#el %v", out["place_of_birth#el"])
	}
	for k := range out {
		if k == "family_name#bad tag" || k == "family_name#und-Cyrl#ru" {
			t.Errorf("claim %q must not exist", k)
		}
	}
}

func TestAskedFor(t *testing.T) {
	target := map[string]*claimRequest{"family_name": nil, "given_name#el": nil}
	for name, want := range map[string]bool{
		"family_name": true, "family_name#el": true, "given_name#el": true,
		"given_name": false, "given_name#bg": false, "birth_name": false,
	} {
		if got := askedFor(target, name); got != want {
			t.Errorf("askedFor(%q) = %v, want %v", name, got, want)
		}
	}
	if !slices.Contains(SupportedClaims(), "birth_name") {
		t.Error("discovery does not list birth_name")
	}
}

// TestClaimRequested: a claim is asked for by a scope that names it or by
// either target of the claims parameter, and by nothing else.
func TestClaimRequested(t *testing.T) {
	rc := requestedClaims{
		IDToken:  map[string]*claimRequest{"birth_name": nil},
		Userinfo: map[string]*claimRequest{"document_type": nil, "family_name#el": nil},
	}
	tests := []struct {
		scopes []string
		rc     requestedClaims
		name   string
		want   bool
	}{
		{[]string{"openid", "profile"}, requestedClaims{}, "given_name", true},
		{[]string{"openid", "profile"}, requestedClaims{}, "address", false},
		{[]string{"openid", "address"}, requestedClaims{}, "address", true},
		{[]string{"openid", "legal_entity"}, requestedClaims{}, "legal_entity", true},
		{[]string{"openid"}, requestedClaims{}, "given_name", false},
		{[]string{"openid"}, rc, "birth_name", true},
		{[]string{"openid"}, rc, "document_type", true},
		{[]string{"openid"}, rc, "family_name#el", true},
		{[]string{"openid"}, rc, "family_name", false},
		{[]string{"openid", "unknown"}, rc, "unknown", false},
		{nil, requestedClaims{}, "", false},
	}
	for _, tt := range tests {
		if got := claimRequested(tt.scopes, tt.rc, tt.name); got != tt.want {
			t.Errorf("claimRequested(%q, %v, %q) = %v, want %v", tt.scopes, tt.rc, tt.name, got, tt.want)
		}
	}
}
