package nezo_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/nezo"
	"github.com/ozg-broker/eidas-broker/adapters/nezo/nezosim"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

const base = "http://127.0.0.1:8080"

// fixture is one simulator and the SP key material, shared by the tests
// (key generation is the expensive part).
type fixture struct {
	sim *nezosim.Sim
	mat *nezo.Material
	// current is the adapter whose metadata the simulator reads.
	mu      sync.Mutex
	current *nezo.Adapter
}

var (
	fxOnce sync.Once
	fx     *fixture
	fxErr  error
)

func getFixture(t testing.TB) *fixture {
	t.Helper()
	fxOnce.Do(func() {
		f := &fixture{}
		f.mat, fxErr = nezosim.GenerateMaterial(true)
		if fxErr != nil {
			return
		}
		f.sim, fxErr = nezosim.New(nezosim.Options{
			BaseURL: base + "/sim/nezo", RSA: true,
			SPMetadata: func(context.Context) ([]byte, error) {
				f.mu.Lock()
				a := f.current
				f.mu.Unlock()
				return a.Metadata()
			},
		})
		fx = f
	})
	if fxErr != nil {
		t.Fatal(fxErr)
	}
	return fx
}

// open returns an adapter for the simulator, configured by edit.
func open(t testing.TB, edit func(c *nezo.Config)) *nezo.Adapter {
	t.Helper()
	f := getFixture(t)
	c := f.sim.AdapterConfig(f.mat)
	if edit != nil {
		edit(c)
	}
	a, err := c.Open("nezo", adapters.Deps{BaseURL: base, Store: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	if err := a.CheckHealth(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.current = a
	f.mu.Unlock()
	return a
}

const ref = "ref_0123456789abcdef"

// begin starts a login and lets the simulator receive the request.
func begin(t testing.TB, a *nezo.Adapter, floor assurance.Level) (*nezosim.Request, []byte) {
	t.Helper()
	h, state, err := a.Begin(context.Background(), adapters.Request{TxID: "tx", Ref: ref, MinLevel: floor, CallbackURL: base + "/login/cb/" + ref})
	if err != nil {
		t.Fatal(err)
	}
	var r *http.Request
	if h.PostURL != "" {
		r = httptest.NewRequest(http.MethodPost, h.PostURL, strings.NewReader(h.PostForm.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(http.MethodGet, h.RedirectURL, nil)
	}
	req, err := fx.sim.ReceiveRequest(r)
	if err != nil {
		t.Fatalf("simulator refused our request: %v", err)
	}
	if req.RelayState != ref {
		t.Fatalf("RelayState %q", req.RelayState)
	}
	return req, state
}

func post(xml []byte, relayState string) *http.Request {
	form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(xml)}, "RelayState": {relayState}}
	r := httptest.NewRequest(http.MethodPost, base+"/login/cb/"+relayState, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// login runs one login as account with a manipulation.
func login(t *testing.T, a *nezo.Adapter, account, tamper string) (adapters.Identity, error) {
	t.Helper()
	req, state := begin(t, a, assurance.Substantial)
	acct, ok := fx.sim.Account(account)
	if !ok {
		t.Fatalf("no account %s", account)
	}
	xml, err := fx.sim.Respond(req, acct, tamper)
	if err != nil {
		t.Fatal(err)
	}
	return a.Finish(context.Background(), adapters.Request{}, state, post(xml, ref))
}

func TestPerson(t *testing.T) {
	a := open(t, nil)
	id, err := login(t, a, "erika", "")
	if err != nil {
		t.Fatal(err)
	}
	c := id.Claims
	if id.Subject != "nezo-pseud-erika-7f3a9c" || id.Level != assurance.Substantial || id.AuthTime.IsZero() {
		t.Errorf("identity %q %s %s", id.Subject, id.Level, id.AuthTime)
	}
	if c.GivenName != "Erika" || c.FamilyName != "Musterfrau" || c.Birthdate != "1964-08-12" || c.BirthFamilyName != "Gabler" || c.LegalEntity != nil {
		t.Errorf("claims %+v", c)
	}
	want := adapters.Address{StreetAddress: "Heidestraße 17", PostalCode: "51147", Locality: "Köln", Country: "DE", Formatted: "Heidestraße 17\n51147 Köln"}
	if c.Address == nil || *c.Address != want {
		t.Errorf("address %+v", c.Address)
	}
}

func TestCompany(t *testing.T) {
	a := open(t, nil)
	id, err := login(t, a, "musterbau", "")
	if err != nil {
		t.Fatal(err)
	}
	c := id.Claims
	if c.GivenName != "Max" || c.FamilyName != "Mustermann" || c.Birthdate != "1985-11-03" || id.Level != assurance.Substantial {
		t.Errorf("acting person %+v at %s", c, id.Level)
	}
	le := c.LegalEntity
	if le == nil {
		t.Fatal("no legal entity")
	}
	if le.Name != "Musterbau GmbH" || le.TaxNumber != "143/123/45678" || le.VATID != "DE999999999" || le.Country != "DE" ||
		le.LegalForm != "Gesellschaft mit beschränkter Haftung" {
		t.Errorf("legal entity %+v", le)
	}
	if le.Register == nil || *le.Register != (adapters.Register{Type: "HRB", Number: "123456", Court: "Amtsgericht München"}) {
		t.Errorf("register %+v", le.Register)
	}
	if le.Address == nil || le.Address.StreetAddress != "Industriestraße 5a\nHalle 3" || le.Address.Locality != "München" {
		t.Errorf("company address %+v", le.Address)
	}
	// The JSON names are part of the claim contract.
	b, _ := json.Marshal(le)
	for _, k := range []string{`"tax_number"`, `"vat_id"`, `"legal_form"`, `"register":{"type":"HRB","number":"123456","court":"Amtsgericht München"}`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("legal_entity JSON lacks %s: %s", k, b)
		}
	}
}

func TestTestAccount(t *testing.T) {
	if _, err := login(t, open(t, nil), "testkonto", ""); !errors.Is(err, nezo.ErrTestAccount) {
		t.Fatalf("test account: %v, want ErrTestAccount", err)
	}
	id, err := login(t, open(t, func(c *nezo.Config) { c.AllowTestAccounts = true }), "testkonto", "")
	if err != nil || id.Claims.FamilyName != "Testkonto" {
		t.Fatalf("allowed test account: %+v, %v", id, err)
	}
}

// TestLevelTable: ELSTER's level vocabulary through the table, capped by
// max_level; missing and unknown values refuse the login.
func TestLevelTable(t *testing.T) {
	for _, tc := range []struct {
		name, account, tamper string
		edit                  func(c *nezo.Config)
		want                  assurance.Level
		err                   error
	}{
		{"substanziell", "erika", "", nil, assurance.Substantial, nil},
		{"hoch", "hans", "", nil, assurance.High, nil},
		{"hoch capped by max_level", "hans", "", func(c *nezo.Config) { c.MaxLevel = assurance.Substantial }, assurance.Substantial, nil},
		{"custom table", "hans", "", func(c *nezo.Config) {
			c.Levels = map[string]assurance.Level{"hoch": assurance.Substantial, "substanziell": assurance.Low}
		}, assurance.Substantial, nil},
		{"value not in the custom table", "hans", "", func(c *nezo.Config) {
			c.Levels = map[string]assurance.Level{"substanziell": assurance.Substantial}
		}, 0, nezo.ErrLevel},
		{"unknown value", "erika", nezosim.TamperUnknownLevel, nil, 0, nezo.ErrLevel},
		{"missing", "erika", nezosim.TamperNoLevel, nil, 0, nezo.ErrLevel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := login(t, open(t, tc.edit), tc.account, tc.tamper)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || id.Level != tc.want {
				t.Fatalf("level %s, %v; want %s", id.Level, err, tc.want)
			}
		})
	}
}

// TestAttacks: the SAML attacks of the security spec that apply to a NEZO
// answer are refused, each for its own reason.
func TestAttacks(t *testing.T) {
	a := open(t, nil)
	for _, tc := range []struct {
		tamper string
		want   []error
	}{
		{nezosim.TamperWrongAudience, []error{sp.ErrAudience}},
		{nezosim.TamperWrongDestination, []error{sp.ErrDestination}},
		{nezosim.TamperUnsigned, []error{sp.ErrSignature, xmlsec.ErrNotSigned}},
		{nezosim.TamperPlaintext, []error{sp.ErrPlainAssertion}},
		{nezosim.TamperCancel, []error{adapters.ErrCancelled}},
	} {
		t.Run(tc.tamper, func(t *testing.T) {
			_, err := login(t, a, "erika", tc.tamper)
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Fatalf("err = %v, want %v", err, w)
				}
			}
		})
	}

	t.Run("replay", func(t *testing.T) {
		req, state := begin(t, a, assurance.Substantial)
		acct, _ := fx.sim.Account("erika")
		xml, err := fx.sim.Respond(req, acct, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Finish(context.Background(), adapters.Request{}, state, post(xml, ref)); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Finish(context.Background(), adapters.Request{}, state, post(xml, ref)); !errors.Is(err, sp.ErrReplay) {
			t.Fatalf("replayed answer: %v, want ErrReplay", err)
		}
	})

	t.Run("answer to another request", func(t *testing.T) {
		req, _ := begin(t, a, assurance.Substantial)
		_, state := begin(t, a, assurance.Substantial)
		acct, _ := fx.sim.Account("erika")
		xml, _ := fx.sim.Respond(req, acct, "")
		if _, err := a.Finish(context.Background(), adapters.Request{}, state, post(xml, ref)); !errors.Is(err, sp.ErrInResponseTo) {
			t.Fatalf("err = %v, want ErrInResponseTo", err)
		}
	})

	t.Run("other RelayState", func(t *testing.T) {
		req, state := begin(t, a, assurance.Substantial)
		acct, _ := fx.sim.Account("erika")
		xml, _ := fx.sim.Respond(req, acct, "")
		if _, err := a.Finish(context.Background(), adapters.Request{}, state, post(xml, "ref_other_0123456789")); !errors.Is(err, sp.ErrBinding) {
			t.Fatalf("err = %v, want ErrBinding", err)
		}
	})

	// Signature wrapping (XSW): an attacker wraps the genuinely signed
	// Response of the company account inside a forged root that claims the
	// test account. The signature no longer sits on the root, so the
	// forged root is refused; and whatever the root holds is never read.
	t.Run("signature wrapping", func(t *testing.T) {
		req, state := begin(t, a, assurance.Substantial)
		acct, _ := fx.sim.Account("erika")
		good, _ := fx.sim.Respond(req, acct, "")
		evilAcct, _ := fx.sim.Account("hans")
		evil, _ := fx.sim.Respond(req, evilAcct, nezosim.TamperUnsigned)
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(evil); err != nil {
			t.Fatal(err)
		}
		orig := etree.NewDocument()
		if err := orig.ReadFromBytes(good); err != nil {
			t.Fatal(err)
		}
		sig := samlxml.First(orig.Root(), xmlsec.NamespaceDSig, "Signature")
		if sig == nil {
			t.Fatal("no signature in the genuine response")
		}
		sig = sig.Copy()
		doc.Root().AddChild(orig.Root())
		wrapped, _ := doc.WriteToBytes()
		if _, err := a.Finish(context.Background(), adapters.Request{}, state, post(wrapped, ref)); !errors.Is(err, sp.ErrSignature) {
			t.Fatalf("wrapped response: %v, want ErrSignature", err)
		}
		// Moving the signature onto the forged root does not help either.
		doc2 := etree.NewDocument()
		_ = doc2.ReadFromBytes(evil)
		root := doc2.Root()
		root.InsertChildAt(1, sig)
		forged, _ := doc2.WriteToBytes()
		if _, err := a.Finish(context.Background(), adapters.Request{}, state, post(forged, ref)); !errors.Is(err, sp.ErrSignature) {
			t.Fatalf("forged root with copied signature: %v, want ErrSignature", err)
		}
	})
}

// TestAlgorithmPolicy: AES-CBC (as an older IdP sends it) is refused by
// default, before any key is used, and accepted only where the config
// allows it for this upstream.
func TestAlgorithmPolicy(t *testing.T) {
	if _, err := login(t, open(t, nil), "erika", nezosim.TamperAESCBC); !errors.Is(err, sp.ErrDecryption) || !errors.Is(err, xmlsec.ErrCBCRefused) {
		t.Fatalf("CBC by default: %v, want ErrDecryption + ErrCBCRefused", err)
	}
	id, err := login(t, open(t, func(c *nezo.Config) { c.Algorithms.AllowAESCBC = true }), "erika", nezosim.TamperAESCBC)
	if err != nil || id.Subject != "nezo-pseud-erika-7f3a9c" {
		t.Fatalf("CBC allowed: %+v %v", id, err)
	}
}

func TestRedirectBinding(t *testing.T) {
	a := open(t, func(c *nezo.Config) { c.Binding = "redirect" })
	id, err := login(t, a, "erika", "")
	if err != nil || id.Subject == "" {
		t.Fatalf("redirect binding: %+v %v", id, err)
	}
}

// TestRoutes: our metadata is signed and names the ACS and the requested
// attributes; the ACS forwards to the login's callback.
func TestRoutes(t *testing.T) {
	a := open(t, nil)
	srv := httptest.NewServer(a.Routes())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metadata")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	signed, err := sp.VerifyMetadata(b, sp.VerifyMetadataOptions{Anchors: fx.mat.SigningCertList()})
	if err != nil {
		t.Fatalf("our metadata does not verify: %v", err)
	}
	ents, err := sp.ParseMetadataElement(signed)
	if err != nil || len(ents) != 1 {
		t.Fatal(err)
	}
	md := ents[0]
	if md.EntityID != base+"/saml/nezo/metadata" || len(md.ACS) != 1 || md.ACS[0].Location != base+"/saml/nezo/acs" || len(md.RequestedAttributes) < 3 {
		t.Errorf("metadata %+v", md)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"SAMLResponse": {"x"}, "RelayState": {ref}}
	r, err := client.PostForm(srv.URL+"/acs", form)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusTemporaryRedirect || r.Header.Get("Location") != base+"/login/cb/"+ref {
		t.Errorf("ACS answered %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	form.Set("RelayState", "https://evil.example/")
	if r, err = client.PostForm(srv.URL+"/acs", form); err != nil || r.StatusCode != http.StatusBadRequest {
		t.Errorf("ACS with a URL as RelayState: %v %v", r.StatusCode, err)
	}
}
