package oidcup_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/oidcup"
	"github.com/ozg-broker/eidas-broker/adapters/oidcup/oidcsim"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// harness runs the simulator and the adapter against each other over real
// HTTP on one loopback server: /op is the upstream, the rest the broker.
type harness struct {
	t       *testing.T
	srv     *httptest.Server
	sim     *oidcsim.Sim
	ad      *oidcup.Adapter
	browser *http.Client
	// override replaces the state handed to Finish (another login's).
	override []byte
}

func newHarness(t *testing.T, edit func(*oidcup.Config)) *harness {
	t.Helper()
	h := &harness{t: t}
	mux := http.NewServeMux()
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	base := h.srv.URL
	sim, err := oidcsim.New(oidcsim.Options{Issuer: base + "/op", ClientID: "broker", ClientSecret: "s3cret-s3cret",
		RedirectURIs: []string{base + "/login/land/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	h.sim = sim
	mux.Handle("/op/", http.StripPrefix("/op", sim.Handler()))
	cfg := sim.AdapterConfig()
	if edit != nil {
		edit(cfg)
	}
	h.ad, err = cfg.Open("land", adapters.Deps{BaseURL: base, HTTP: h.srv.Client(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/login/land/", http.StripPrefix("/login/land", h.ad.Routes()))
	h.browser = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return h
}

var reRequest = regexp.MustCompile(`name="request" value="([^"]+)"`)

const testRef = "ref-0123456789abcdefghij"

func (h *harness) request(floor assurance.Level) adapters.Request {
	return adapters.Request{TxID: "tx", Ref: testRef, MinLevel: floor, CallbackURL: h.srv.URL + "/login/cb/" + testRef,
		BaseURL: h.srv.URL, Locale: "de"}
}

// login runs Begin, the person's choice on the simulator page and Finish.
func (h *harness) login(floor assurance.Level, acr string, answer func(*url.URL)) (adapters.Identity, error) {
	h.t.Helper()
	ctx := context.Background()
	req := h.request(floor)
	ho, state, err := h.ad.Begin(ctx, req)
	if err != nil {
		h.t.Fatalf("Begin: %v", err)
	}
	resp, err := h.browser.Get(ho.RedirectURL)
	if err != nil {
		h.t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := reRequest.FindSubmatch(page)
	if m == nil {
		h.t.Fatalf("simulator page (%d): %s", resp.StatusCode, page)
	}
	form := url.Values{"request": {string(m[1])}, "person": {"erika"}, "acr": {acr}}
	if acr == "" {
		form.Set("action", "cancel")
	}
	resp, err = h.browser.PostForm(h.srv.URL+"/op/authorize", form)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		h.t.Fatalf("no redirect from the simulator: %d", resp.StatusCode)
	}
	// The fixed redirect URI forwards to the transaction's callback.
	resp, err = h.browser.Get(loc.String())
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	cb, err := resp.Location()
	if err != nil || cb.Path != "/login/cb/"+testRef {
		h.t.Fatalf("callback route answered %d %v", resp.StatusCode, cb)
	}
	if answer != nil {
		answer(cb)
	}
	r := httptest.NewRequest(http.MethodGet, cb.String(), nil)
	if h.override != nil {
		state = h.override
	}
	return h.ad.Finish(ctx, req, state, r)
}

func TestLoginLevels(t *testing.T) {
	h := newHarness(t, nil)
	cases := []struct {
		name  string
		floor assurance.Level
		acr   string
		want  assurance.Level
		err   error
	}{
		{"normal is low", assurance.Low, oidcsim.ACRNormal, assurance.Low, nil},
		{"substantiell is substantial", assurance.Substantial, oidcsim.ACRSubstantiell, assurance.Substantial, nil},
		{"hoch is high", assurance.High, oidcsim.ACRHoch, assurance.High, nil},
		{"higher than the floor is reported as proved", assurance.Low, oidcsim.ACRHoch, assurance.High, nil},
		// Below the floor: reported as what it is; the broker refuses it.
		{"below the floor stays below", assurance.Substantial, oidcsim.ACRNormal, assurance.Low, nil},
		{"unmapped value refused", assurance.Low, oidcsim.ACRBasis, assurance.Unspecified, oidcup.ErrLevel},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := h.login(c.floor, c.acr, nil)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if err != nil {
				return
			}
			if id.Level != c.want {
				t.Fatalf("level = %v, want %v", id.Level, c.want)
			}
			if id.Subject != h.srv.URL+"/op "+oidcsim.Subject("erika") {
				t.Fatalf("subject = %q", id.Subject)
			}
			if id.Claims.GivenName != "Erika" || id.Claims.Birthdate != "1964-08-12" || id.Claims.Address == nil ||
				id.Claims.Address.Locality != "Köln" {
				t.Fatalf("claims = %+v", id.Claims)
			}
			if id.AuthTime.IsZero() || time.Since(id.AuthTime) > time.Minute {
				t.Fatalf("auth time = %v", id.AuthTime)
			}
		})
	}
}

// TestACRValuesFromFloor: the upstream is asked only for values that reach
// the floor, lowest first.
func TestACRValuesFromFloor(t *testing.T) {
	h := newHarness(t, nil)
	for floor, want := range map[assurance.Level]string{
		assurance.Low:         oidcsim.ACRNormal + " " + oidcsim.ACRSubstantiell + " " + oidcsim.ACRHoch,
		assurance.Substantial: oidcsim.ACRSubstantiell + " " + oidcsim.ACRHoch,
		assurance.High:        oidcsim.ACRHoch,
	} {
		ho, _, err := h.ad.Begin(context.Background(), h.request(floor))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(ho.RedirectURL)
		q := u.Query()
		if got := q.Get("acr_values"); got != want {
			t.Errorf("floor %v: acr_values = %q, want %q", floor, got, want)
		}
		if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || !strings.HasPrefix(q.Get("state"), testRef+".") ||
			q.Get("redirect_uri") != h.srv.URL+"/login/land/callback" {
			t.Errorf("authorization request lacks PKCE, nonce, state or the fixed redirect: %v", q)
		}
	}
	// A table that cannot reach the floor refuses to begin.
	h2 := newHarness(t, func(c *oidcup.Config) { c.Levels = c.Levels[:1] })
	if _, _, err := h2.ad.Begin(context.Background(), h2.request(assurance.High)); err == nil {
		t.Fatal("Begin for an unreachable floor succeeded")
	}
	if h2.ad.Info().MaxLevel != assurance.Low {
		t.Fatalf("MaxLevel = %v", h2.ad.Info().MaxLevel)
	}
}

// TestRefusals: what a relying party must refuse.
func TestRefusals(t *testing.T) {
	h := newHarness(t, nil)
	cases := []struct {
		name   string
		tamper oidcsim.Tamper
		answer func(*url.URL)
		err    error
	}{
		{"wrong nonce", oidcsim.Tamper{Claims: func(c map[string]any) { c["nonce"] = "other" }}, nil, oidcup.ErrNonce},
		{"missing nonce", oidcsim.Tamper{Claims: func(c map[string]any) { delete(c, "nonce") }}, nil, oidcup.ErrNonce},
		{"wrong issuer in the ID token", oidcsim.Tamper{Claims: func(c map[string]any) { c["iss"] = "https://evil.example" }}, nil, oidcup.ErrToken},
		{"wrong audience", oidcsim.Tamper{Claims: func(c map[string]any) { c["aud"] = "someone-else"; c["azp"] = "someone-else" }}, nil, oidcup.ErrToken},
		{"several audiences, azp not us", oidcsim.Tamper{Claims: func(c map[string]any) { c["aud"] = []string{"broker", "x"}; c["azp"] = "x" }}, nil, oidcup.ErrToken},
		{"expired", oidcsim.Tamper{Claims: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }}, nil, oidcup.ErrToken},
		{"signed by a key not in the JWKS", oidcsim.Tamper{WrongKey: true}, nil, oidcup.ErrToken},
		{"higher acr signed by a wrong key", oidcsim.Tamper{WrongKey: true, Claims: func(c map[string]any) { c["acr"] = oidcsim.ACRHoch }}, nil, oidcup.ErrToken},
		{"no acr", oidcsim.Tamper{Claims: func(c map[string]any) { delete(c, "acr") }}, nil, oidcup.ErrLevel},
		{"acr of another vocabulary", oidcsim.Tamper{Claims: func(c map[string]any) { c["acr"] = "http://eidas.europa.eu/LoA/high" }}, nil, oidcup.ErrLevel},
		{"no sub", oidcsim.Tamper{Claims: func(c map[string]any) { delete(c, "sub") }}, nil, oidcup.ErrSubject},
		{"iss parameter of another issuer (mix-up)", oidcsim.Tamper{IssParam: "https://evil.example"}, nil, oidcup.ErrIssuer},
		{"state swapped", oidcsim.Tamper{}, func(u *url.URL) {
			q := u.Query()
			q.Set("state", testRef+".forged")
			u.RawQuery = q.Encode()
		}, oidcup.ErrState},
		{"iss parameter removed although announced", oidcsim.Tamper{}, func(u *url.URL) {
			q := u.Query()
			q.Del("iss")
			u.RawQuery = q.Encode()
		}, oidcup.ErrIssuer},
		{"code replayed/forged", oidcsim.Tamper{}, func(u *url.URL) {
			q := u.Query()
			q.Set("code", "forged")
			u.RawQuery = q.Encode()
		}, oidcup.ErrUpstream},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.sim.SetTamper(c.tamper)
			defer h.sim.SetTamper(oidcsim.Tamper{})
			_, err := h.login(assurance.Low, oidcsim.ACRSubstantiell, c.answer)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	h := newHarness(t, nil)
	_, err := h.login(assurance.Low, "", nil)
	if !errors.Is(err, adapters.ErrCancelled) {
		t.Fatalf("err = %v", err)
	}
}

// TestPKCEVerifierBound: the code is useless with another login's verifier
// (another state from Begin), even with the right state string.
func TestPKCEVerifierBound(t *testing.T) {
	h := newHarness(t, nil)
	_, otherState, err := h.ad.Begin(context.Background(), h.request(assurance.Low))
	if err != nil {
		t.Fatal(err)
	}
	h.override = otherState
	_, err = h.login(assurance.Low, oidcsim.ACRNormal, func(u *url.URL) {
		// The other login's state value, so only the verifier differs.
		var st struct{ State string }
		_ = jsonUnmarshal(otherState, &st)
		q := u.Query()
		q.Set("state", st.State)
		u.RawQuery = q.Encode()
	})
	if !errors.Is(err, oidcup.ErrUpstream) || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("code redeemed with another login's verifier: %v", err)
	}
}

func TestUserInfo(t *testing.T) {
	h := newHarness(t, func(c *oidcup.Config) {
		c.UserInfo = true
		c.Claims = map[string]string{"given_name": "given_name", "family_name": "family_name", "address": "address"}
	})
	h.sim.SetTamper(oidcsim.Tamper{Claims: func(c map[string]any) { delete(c, "address") }})
	id, err := h.login(assurance.Low, oidcsim.ACRNormal, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id.Claims.Address == nil || id.Claims.Address.PostalCode != "51147" {
		t.Fatalf("address not filled from userinfo: %+v", id.Claims)
	}
	if id.Claims.Birthdate != "" {
		t.Fatal("birthdate released although the table does not map it")
	}
}

func TestClaimTable(t *testing.T) {
	h := newHarness(t, func(c *oidcup.Config) {
		c.Claims = map[string]string{"given_name": "given_name", "family_name": "birth_family_name", "landkreis": "district"}
	})
	h.sim.SetTamper(oidcsim.Tamper{Claims: func(c map[string]any) {
		c["landkreis"] = "Rhein-Sieg"
		c["given_name"] = 42.0 // wrong shape: dropped
	}})
	id, err := h.login(assurance.Low, oidcsim.ACRNormal, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := id.Claims
	if c.GivenName != "" || c.BirthFamilyName != "Mustermann" || c.FamilyName != "" || c.Extra["district"] != "Rhein-Sieg" || c.Address != nil {
		t.Fatalf("claims = %+v", c)
	}
}

func TestCallbackRouteRefusesGarbage(t *testing.T) {
	h := newHarness(t, nil)
	for _, s := range []string{"", "nodot", "../x.y", "short.y"} {
		resp, err := h.browser.Get(h.srv.URL + "/login/land/callback?state=" + url.QueryEscape(s))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("state %q: status %d", s, resp.StatusCode)
		}
	}
}

func TestDiscoveryDownThenUp(t *testing.T) {
	cfg := oidcup.NewConfig()
	cfg.Issuer, cfg.ClientID = "http://127.0.0.1:1", "broker"
	cfg.ClientSecret = secret("x")
	cfg.Levels = []oidcup.LevelEntry{{ACR: "a", Level: assurance.Low}}
	ad, err := cfg.Open("land", adapters.Deps{BaseURL: "http://127.0.0.1:2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ad.CheckHealth(context.Background()); !errors.Is(err, oidcup.ErrDiscovery) {
		t.Fatalf("health = %v", err)
	}
	_, _, err = ad.Begin(context.Background(), adapters.Request{Ref: testRef, MinLevel: assurance.Low})
	if !errors.Is(err, oidcup.ErrDiscovery) {
		t.Fatalf("Begin = %v", err)
	}
}
