package broker_test

import (
	"context"
	"net/http"
	"testing"

	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker"
)

// scriptAdapter is the demo adapter with an eIDAS-like identity: the names
// also in Greek script and a birth name, as the eidas adapter maps a
// Greek proxy-service's answer.
type scriptAdapter struct{ adapters.Adapter }

func (a scriptAdapter) Finish(ctx context.Context, req adapters.Request, state []byte, r *http.Request) (adapters.Identity, error) {
	id, err := a.Adapter.Finish(ctx, req, state, r)
	if err != nil {
		return id, err
	}
	id.Claims = adapters.Claims{
		GivenName: "Eleni", FamilyName: "Papadopoulou", Birthdate: "1990-07-14",
		Extra: map[string]string{"birth_name": "Eleni Georgiou"},
		Scripts: map[string]adapters.Claims{"el": {GivenName: "Ελένη", FamilyName: "Παπαδοπούλου",
			Extra: map[string]string{"birth_name": "Ελένη Γεωργίου"}}},
	}
	return id, nil
}

// TestNonLatinClaimsReachThePortal runs a whole login with an independent
// relying party (go-oidc): the Greek forms arrive at userinfo as
// language-tagged claims beside the Latin ones, go into the ID token when
// the claims parameter asks for their claim there, and the birth name
// arrives as birth_name, never as birth_family_name.
func TestNonLatinClaimsReachThePortal(t *testing.T) {
	e := newEnv(t, func(c *broker.Config) {
		c.Adapters[0].Adapter = scriptAdapter{c.Adapters[0].Adapter}
		c.Clients[0].AllowedClaims = append(c.Clients[0].AllowedClaims, "birth_name", "birth_family_name")
	})
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, tk := r.login("erika", "high", oauth2.SetAuthURLParam("claims", `{"id_token":{"family_name":null}}`))
	if tk.claims["family_name"] != "Papadopoulou" || tk.claims["family_name#el"] != "Παπαδοπούλου" {
		t.Errorf("ID token: %v", tk.claims)
	}
	if _, ok := tk.claims["given_name#el"]; ok {
		t.Errorf("given_name#el in the ID token although only family_name was asked there")
	}
	ui, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tk.tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var claims map[string]any
	if err := ui.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"given_name": "Eleni", "given_name#el": "Ελένη", "family_name": "Papadopoulou", "family_name#el": "Παπαδοπούλου",
		"birth_name": "Eleni Georgiou", "birth_name#el": "Ελένη Γεωργίου",
	} {
		if claims[k] != want {
			t.Errorf("userinfo %s = %v, want %q", k, claims[k], want)
		}
	}
	if v, ok := claims["birth_family_name"]; ok {
		t.Errorf("birth_family_name = %v: the birth name holds given names and must not go there", v)
	}
}
