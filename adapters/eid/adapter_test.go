package eid_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/eid"
	"github.com/ozg-broker/eidas-broker/adapters/eid/eidsim"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/config"
)

// TestEndToEndErika runs the whole flow through real HTTP: Begin → start
// page → eID-Client simulator page (GET with tcTokenURL, server-side TC Token
// fetch) → card chosen → redirect to the refresh address → Finish (getResult
// over mutual TLS with WS-Security both ways).
func TestEndToEndErika(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	req, page, state := h.begin(nil)

	start := h.startURL(page)
	u, err := url.Parse(start)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Query().Get("tcTokenURL"); got != h.tcTokenURL(req) {
		t.Fatalf("tcTokenURL = %q, want %q", got, h.tcTokenURL(req))
	}
	if !strings.HasPrefix(start, h.broker.URL+"/sim/eid-client/?") {
		t.Fatalf("start link %q does not point at the eID-Client", start)
	}

	refresh := h.viaPage(page, "erika", "ok", nil)
	if !strings.HasPrefix(refresh, req.CallbackURL+"?") || !strings.Contains(refresh, "ResultMajor=ok") {
		t.Fatalf("refresh %q", refresh)
	}
	id, err := h.finish(req, state, refresh)
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	if len(id.Subject) != 64 || strings.ToLower(id.Subject) != id.Subject {
		t.Errorf("subject %q is not lower-case hex of 32 bytes", id.Subject)
	}
	if id.Level != assurance.High {
		t.Errorf("level %v", id.Level)
	}
	if time.Since(id.AuthTime) > time.Minute {
		t.Errorf("auth time %v", id.AuthTime)
	}
	want := adapters.Claims{
		GivenName:       "ERIKA",
		FamilyName:      "MUSTERMANN",
		BirthFamilyName: "GABLER",
		Birthdate:       "1964-08-12",
		PlaceOfBirth:    &adapters.PlaceOfBirth{Locality: "BERLIN"},
		Address: &adapters.Address{
			Formatted: "HEIDESTRASSE 17\n51147 KÖLN", StreetAddress: "HEIDESTRASSE 17",
			Locality: "KÖLN", PostalCode: "51147", Country: "DE",
		},
		Nationalities: []string{"DE"},
		Title:         "DR.",
		Extra:         map[string]string{eid.ExtraDocumentType: "ID", eid.ExtraIssuingState: "DE"},
	}
	if !reflect.DeepEqual(id.Claims, want) {
		t.Errorf("claims\n got %+v\nwant %+v", id.Claims, want)
	}

	// The refresh cannot be replayed: the session is gone at the eID-Server.
	if _, err := h.finish(req, state, refresh); !errors.Is(err, eid.ErrInvalidSession) {
		t.Errorf("second Finish: got %v, want ErrInvalidSession", err)
	}
	// The TC Token reference works once.
	resp, err := http.Get(h.tcTokenURL(req))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("second TC Token fetch: %d", resp.StatusCode)
	}

	// Same card, same eService: same subject.
	req2, page2, state2 := h.begin(nil)
	id2, err := h.finish(req2, state2, h.viaPage(page2, "erika", "ok", nil))
	if err != nil {
		t.Fatal(err)
	}
	if id2.Subject != id.Subject {
		t.Errorf("subject not stable: %q vs %q", id2.Subject, id.Subject)
	}
}

func TestEndToEndCards(t *testing.T) {
	h := newHarness(t, harnessOpts{config: func(c *eid.Config) {
		c.LevelCaps = map[string]assurance.Level{"AR": assurance.Substantial}
	}})
	tests := []struct {
		card  string
		check func(t *testing.T, id adapters.Identity, err error)
	}{
		{"partial-date", func(t *testing.T, id adapters.Identity, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if id.Claims.Birthdate != "1957" || id.Claims.BirthFamilyName != "" || id.Level != assurance.High {
				t.Errorf("identity %+v", id)
			}
		}},
		{"residence-permit", func(t *testing.T, id adapters.Identity, err error) {
			if err != nil {
				t.Fatal(err)
			}
			c := id.Claims
			if !reflect.DeepEqual(c.Nationalities, []string{"TR"}) || c.Extra[eid.ExtraDocumentType] != "AR" ||
				!reflect.DeepEqual(c.PlaceOfBirth, &adapters.PlaceOfBirth{Locality: "İZMIR", Country: "TR"}) ||
				c.Address == nil || c.Address.Locality != "BERLIN" || c.Title != "" {
				t.Errorf("claims %+v", c)
			}
			if id.Level != assurance.Substantial {
				t.Errorf("level %v, want substantial (capped for AR)", id.Level)
			}
		}},
		{"cancel", func(t *testing.T, _ adapters.Identity, err error) {
			if !errors.Is(err, adapters.ErrCancelled) {
				t.Fatalf("got %v, want ErrCancelled", err)
			}
		}},
		{"blocked", func(t *testing.T, _ adapters.Identity, err error) {
			if !errors.Is(err, eid.ErrInvalidDocument) {
				t.Fatalf("got %v, want ErrInvalidDocument", err)
			}
		}},
		{"smart-eid", func(t *testing.T, _ adapters.Identity, err error) {
			if !errors.Is(err, eid.ErrDeniedDocument) {
				t.Fatalf("got %v, want ErrDeniedDocument", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.card, func(t *testing.T) {
			req, _, state := h.begin(nil)
			refresh, err := h.demo.Client.Authenticate(context.Background(), h.tcTokenURL(req), tt.card)
			if err != nil {
				t.Fatal(err)
			}
			id, err := h.finish(req, state, refresh)
			tt.check(t, id, err)
		})
	}
}

func TestCancelButtonAndDeselect(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	req, page, state := h.begin(nil)
	refresh := h.viaPage(page, "", "cancel", nil)
	if !strings.Contains(refresh, "ResultMinor=cancellationByUser") {
		t.Fatalf("refresh %q", refresh)
	}
	if _, err := h.finish(req, state, refresh); !errors.Is(err, adapters.ErrCancelled) {
		t.Fatalf("got %v, want ErrCancelled", err)
	}

	req, page, state = h.begin(nil)
	refresh = h.viaPage(page, "erika", "ok", func(op string) bool { return op != "PlaceOfResidence" && op != "AcademicTitle" })
	id, err := h.finish(req, state, refresh)
	if err != nil {
		t.Fatal(err)
	}
	if id.Claims.Address != nil || id.Claims.Title != "" || id.Claims.GivenName != "ERIKA" || id.Claims.BirthFamilyName != "GABLER" {
		t.Fatalf("deselected data passed on or kept data lost: %+v", id.Claims)
	}
}

// TestDataMinimisation: only the data groups the portal's claims need are
// requested from the card.
func TestDataMinimisation(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	req, _, state := h.begin([]string{"given_name"})
	// Look at what the eID-Client is shown, then complete.
	resp, err := http.Get(h.tcTokenURL(req))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok, err := eid.ParseTCToken(body)
	if err != nil {
		t.Fatal(err)
	}
	psk := mustHex(t, tok.PathSecurityParameters.PSK)
	info, err := h.demo.Server.Connect(tok.ServerAddress, tok.SessionIdentifier, psk)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(info.Required, []string{"GivenNames", "RestrictedID"}) || len(info.Optional) != 0 {
		t.Fatalf("requested %v / %v", info.Required, info.Optional)
	}
	if info.LevelOfAssurance != assurance.BSIHoch {
		t.Errorf("level requested %q", info.LevelOfAssurance)
	}
	card, _ := h.demo.Client.Card("erika")
	if err := h.demo.Server.Complete(tok.ServerAddress, tok.SessionIdentifier, psk, card, nil); err != nil {
		t.Fatal(err)
	}
	id, err := h.finish(req, state, tok.RefreshAddress+"&ResultMajor=ok")
	if err != nil {
		t.Fatal(err)
	}
	if id.Claims.GivenName != "ERIKA" || id.Claims.FamilyName != "" || id.Claims.Birthdate != "" || id.Claims.Extra != nil {
		t.Fatalf("claims %+v", id.Claims)
	}
}

// TestNoResultYet: Finish before the eID-Client is done reports a retryable
// error; after completion the next Finish (next RequestCounter) succeeds.
func TestNoResultYet(t *testing.T) {
	h := newHarness(t, harnessOpts{config: func(c *eid.Config) {
		c.Timeouts.ResultPoll = config.Duration(time.Nanosecond)
	}})
	req, _, state := h.begin(nil)
	// The eID-Client has the TC Token but has not run; the URL even
	// claims ok.
	refresh, tcURL := h.takeTCToken(req)
	_, err := h.finish(req, state, refresh+"&ResultMajor=ok")
	if !errors.Is(err, eid.ErrNoResultYet) {
		t.Fatalf("got %v, want ErrNoResultYet", err)
	}
	var re *eid.ResultError
	if !errors.As(err, &re) || !re.Retryable() {
		t.Fatalf("not retryable: %v", err)
	}
	refresh, err = h.demo.Client.Authenticate(context.Background(), tcURL, "erika")
	if err != nil {
		t.Fatal(err)
	}
	id, err := h.finish(req, state, refresh)
	if err != nil || id.Claims.GivenName != "ERIKA" {
		t.Fatalf("after completion: %v %+v", err, id)
	}
}

// TestClientReportedFailure: when the eID-Server has no result, the
// refresh URL's error explains the failure (but never causes success).
func TestClientReportedFailure(t *testing.T) {
	h := newHarness(t, harnessOpts{config: func(c *eid.Config) {
		c.Timeouts.ResultPoll = config.Duration(time.Nanosecond)
	}})
	tests := []struct {
		query string
		want  error
	}{
		{"ResultMajor=error&ResultMinor=cancellationByUser", adapters.ErrCancelled},
		{"ResultMajor=error&ResultMinor=communicationError", eid.ErrClient},
		{"ResultMajor=error&ResultMinor=trustedChannelEstablishmentFailed", eid.ErrClient},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			req, _, state := h.begin(nil)
			refresh, _ := h.takeTCToken(req)
			if _, err := h.finish(req, state, refresh+"&"+tt.query); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestTCTokenEndpoint(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	req, page, _ := h.begin(nil)
	if contains(page, "<script") || contains(page, "style=") {
		t.Error("start page carries script or inline style")
	}
	for _, s := range []string{"<h1>Mit dem Online-Ausweis anmelden</h1>", "AusweisApp", "Es passiert nichts?", "cancellationByUser", `class="button"`} {
		if !contains(page, s) {
			t.Errorf("start page lacks %q", s)
		}
	}
	resp, err := http.Get(h.tcTokenURL(req))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/xml; charset=utf-8" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
	}
	tok, err := eid.ParseTCToken(body)
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	secret := strings.TrimPrefix(tok.RefreshAddress, req.CallbackURL+"?eid_rs=")
	if secret == tok.RefreshAddress || len(secret) < 20 || contains(page, secret) {
		t.Fatalf("refresh address %q: want the callback with a one-time secret that the start page does not show", tok.RefreshAddress)
	}
	if tok.CommunicationErrorAddress != tok.RefreshAddress ||
		!strings.HasPrefix(tok.ServerAddress, "https://127.0.0.1:") || len(tok.SessionIdentifier) < 16 || len(tok.PathSecurityParameters.PSK) < 32 {
		t.Fatalf("token %+v", tok)
	}
	for _, p := range []string{"/eid/tctoken/" + req.Ref, "/eid/tctoken/unknown-reference-0000", "/eid/tctoken/short", "/eid/tctoken/" + req.Ref + "%00"} {
		resp, err := http.Get(h.broker.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d", p, resp.StatusCode)
		}
	}
	resp, err = http.Post(h.tcTokenURL(req), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", resp.StatusCode)
	}
}

// TestTCTokenSealed: the store holds neither the reference nor the PSK.
func TestTCTokenSealed(t *testing.T) {
	rec := &recordingStore{}
	h := newHarness(t, harnessOpts{})
	rec.Store = h.store
	cfg := h.cfg
	a, err := cfg.Open("eid", adapters.Deps{Store: rec, BaseURL: h.broker.URL})
	if err != nil {
		t.Fatal(err)
	}
	req := h.request(nil)
	if _, _, err := a.Begin(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if len(rec.keys) != 1 || strings.Contains(rec.keys[0], req.Ref) || strings.Contains(string(rec.values[0]), "urn:ietf:rfc:4279") {
		t.Fatalf("stored key %q / value in clear", rec.keys)
	}
}

type recordingStore struct {
	store.Store
	keys   []string
	values [][]byte
}

func (r *recordingStore) Create(ctx context.Context, kind store.Kind, key string, value []byte, ttl time.Duration) error {
	r.keys = append(r.keys, key)
	r.values = append(r.values, value)
	return r.Store.Create(ctx, kind, key, value, ttl)
}

type failingStore struct{ store.Store }

func (failingStore) Take(context.Context, store.Kind, string) ([]byte, error) {
	return nil, store.ErrUnavailable
}

func (failingStore) Get(context.Context, store.Kind, string) (store.Entry, error) {
	return store.Entry{}, store.ErrUnavailable
}

func TestStoreDownFailsClosed(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a, err := h.cfg.Open("eid", adapters.Deps{Store: failingStore{h.store}, BaseURL: h.broker.URL})
	if err != nil {
		t.Fatal(err)
	}
	req, _, state := h.begin(nil)
	rec := httpRecorder(t, a.Routes(), "/tctoken/"+req.Ref)
	if rec != http.StatusServiceUnavailable {
		t.Errorf("tc token with store down: %d", rec)
	}
	refresh, _ := h.takeTCToken(req)
	if _, err := a.Finish(context.Background(), req, state, httptest.NewRequest(http.MethodGet, refresh, nil)); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("finish with store down: %v", err)
	}
}

func TestBeginFinishBadInput(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	req := h.request(nil)
	req.Ref = "short"
	if _, _, err := h.adapter.Begin(context.Background(), req); !errors.Is(err, eid.ErrRequest) {
		t.Errorf("short ref: %v", err)
	}
	req = h.request(nil)
	req.CallbackURL = ""
	if _, _, err := h.adapter.Begin(context.Background(), req); !errors.Is(err, eid.ErrRequest) {
		t.Errorf("no callback: %v", err)
	}
	for _, st := range []string{"", "{}", `{"v":2,"sid":"zz","rh":"00"}`, `{"v":3,"sid":"00112233445566778899aabbccddeeff","rh":"00"}`,
		// version 1 (before the refresh secret) and a state without it
		`{"v":1,"sid":"00112233445566778899aabbccddeeff"}`, `{"v":2,"sid":"00112233445566778899aabbccddeeff"}`, "garbage"} {
		if _, err := h.adapter.Finish(context.Background(), h.request(nil), []byte(st), nil); !errors.Is(err, eid.ErrState) {
			t.Errorf("state %q: %v", st, err)
		}
	}
	// A well-formed state for a session the eID-Server never opened.
	req, _, state := h.begin(nil)
	refresh, _ := h.takeTCToken(req)
	var m map[string]any
	if err := json.Unmarshal(state, &m); err != nil {
		t.Fatal(err)
	}
	m["sid"] = "00112233445566778899aabbccddeeff"
	st, _ := json.Marshal(m)
	if _, err := h.finish(req, st, refresh); !errors.Is(err, eid.ErrInvalidSession) {
		t.Errorf("unknown session: %v", err)
	}
	// The refresh address must share the TC Token URL's origin.
	req = h.request(nil)
	req.CallbackURL = "https://elsewhere.example/login/cb/" + req.Ref
	if _, _, err := h.adapter.Begin(context.Background(), req); !errors.Is(err, eid.ErrRequest) {
		t.Errorf("cross-origin callback: %v", err)
	}
}

// TestRefreshAddressNeedsSecret is the eID relay of the login-relay issue:
// someone who knows the reference (the start page shows it) calls the
// callback after the genuine eID-Client has finished. Without the TC
// Token's one-time secret nothing is asked of the eID-Server; the genuine
// refresh still collects the result afterwards.
func TestRefreshAddressNeedsSecret(t *testing.T) {
	h := newHarness(t, harnessOpts{config: func(c *eid.Config) {
		c.Timeouts.ResultPoll = config.Duration(time.Nanosecond)
	}})
	req, page, state := h.begin(nil)
	refresh, err := h.demo.Client.Authenticate(context.Background(), h.tcTokenURL(req), "erika")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(refresh)
	q := u.Query()
	secret := q.Get("eid_rs")
	if secret == "" || contains(page, secret) {
		t.Fatalf("refresh %q: secret missing or shown on the start page", refresh)
	}
	for name, query := range map[string]string{
		"no secret":     "ResultMajor=ok",
		"wrong secret":  "eid_rs=" + strings.Repeat("A", len(secret)) + "&ResultMajor=ok",
		"empty secret":  "eid_rs=&ResultMajor=ok",
		"cancel forged": "eid_rs=x&ResultMajor=error&ResultMinor=cancellationByUser",
	} {
		if _, err := h.finish(req, state, req.CallbackURL+"?"+query); !errors.Is(err, eid.ErrRefreshSecret) {
			t.Errorf("%s: got %v, want ErrRefreshSecret", name, err)
		}
	}
	// The start page's cancel link carries no secret: it cancels without
	// asking the eID-Server.
	if _, err := h.finish(req, state, req.CallbackURL+"?ResultMajor=error&ResultMinor=cancellationByUser"); !errors.Is(err, adapters.ErrCancelled) {
		t.Errorf("start-page cancel: %v", err)
	}
	id, err := h.finish(req, state, refresh)
	if err != nil || id.Claims.GivenName != "ERIKA" {
		t.Fatalf("genuine refresh after the attempts: %v %+v", err, id)
	}
}

func TestTooManyOpenSessions(t *testing.T) {
	h := newHarness(t, harnessOpts{demo: func(o *eidsim.DemoOptions) { o.MaxOpenSessions = 1 }})
	h.begin(nil)
	if _, _, err := h.adapter.Begin(context.Background(), h.request(nil)); !errors.Is(err, eid.ErrTooManyOpenSessions) {
		t.Fatalf("got %v, want ErrTooManyOpenSessions", err)
	}
}

func TestHealth(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if err := h.adapter.CheckHealth(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.demo.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.adapter.CheckHealth(context.Background()); !errors.Is(err, eid.ErrUnavailable) {
		t.Fatalf("stopped server: got %v, want ErrUnavailable", err)
	}
}

func TestInfo(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	info := h.adapter.Info()
	if info.Type != "eid" || info.MaxLevel != assurance.High || info.Name.DE == "" || info.Name.EN == "" {
		t.Fatalf("%+v", info)
	}
}

func TestAgeAndPlaceVerification(t *testing.T) {
	h := newHarness(t, harnessOpts{config: func(c *eid.Config) {
		c.AgeVerification = &eid.AgeVerification{Age: 18}
		c.PlaceVerification = &eid.PlaceVerification{CommunityID: "027605"} // Nordrhein-Westfalen
	}})
	tests := []struct{ card, age, place string }{
		{"erika", "true", "true"},
		{"partial-date", "true", "false"},
	}
	for _, tt := range tests {
		t.Run(tt.card, func(t *testing.T) {
			req, _, state := h.begin(nil)
			refresh, err := h.demo.Client.Authenticate(context.Background(), h.tcTokenURL(req), tt.card)
			if err != nil {
				t.Fatal(err)
			}
			id, err := h.finish(req, state, refresh)
			if err != nil {
				t.Fatal(err)
			}
			if got := id.Claims.Extra["age_over_18"]; got != tt.age {
				t.Errorf("age_over_18 = %q, want %q", got, tt.age)
			}
			if got := id.Claims.Extra[eid.ExtraPlaceVerification]; got != tt.place {
				t.Errorf("place_verification = %q, want %q", got, tt.place)
			}
		})
	}
	// A portal that may only receive the age check gets nothing else.
	req, _, state := h.begin([]string{"age_over_18"})
	refresh, err := h.demo.Client.Authenticate(context.Background(), h.tcTokenURL(req), "erika")
	if err != nil {
		t.Fatal(err)
	}
	id, err := h.finish(req, state, refresh)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(id.Claims, adapters.Claims{Extra: map[string]string{"age_over_18": "true"}}) {
		t.Errorf("claims %+v", id.Claims)
	}
}

func TestStartPageEnglish(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	req := h.request(nil)
	req.Locale = "en"
	ho, _, err := h.adapter.Begin(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	page := string(ho.Content)
	// Content for the broker's layout in the person's language only: one
	// h1, no page frame, no German beside it.
	if !strings.HasPrefix(page, "<h1>Log in with your German eID card</h1>") || strings.Count(page, "<h1") != 1 ||
		strings.Contains(page, "<html") || strings.Contains(page, "Es passiert nichts?") || ho.Title != "Log in with your German eID card" {
		t.Errorf("English start page content:\n%s", page)
	}
}

// BenchmarkLogin measures a whole login against the simulators: useID,
// TC Token fetch, card completion, getResult (four signed SOAP messages
// over mutual TLS, two on each side).
func BenchmarkLogin(b *testing.B) {
	h := newHarness(b, harnessOpts{})
	ctx := context.Background()
	for b.Loop() {
		req := h.request(nil)
		ho, state, err := h.adapter.Begin(ctx, req)
		if err != nil || len(ho.Content) == 0 {
			b.Fatal(err)
		}
		refresh, err := h.demo.Client.Authenticate(ctx, h.tcTokenURL(req), "erika")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.finish(req, state, refresh); err != nil {
			b.Fatal(err)
		}
	}
}
