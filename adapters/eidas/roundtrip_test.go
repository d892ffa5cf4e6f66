package eidas_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/eidas"
	"github.com/ozg-broker/eidas-broker/adapters/eidas/eidassim"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

// harness is a broker stand-in: the adapter's routes, the simulator and a
// callback that runs Finish, all on one httptest server.
type harness struct {
	t       *testing.T
	srv     *httptest.Server
	sim     *eidassim.Sim
	ad      *eidas.Adapter
	client  *http.Client
	mu      sync.Mutex
	states  map[string][]byte
	results map[string]result
}

type result struct {
	id      adapters.Identity
	err     error
	binding string // how the AuthnRequest travelled: "post" or "redirect"
}

type harnessOptions struct {
	useRSA    bool
	legal     bool
	countries []eidassim.Country
	keys      *eidassim.Keys
	material  *eidas.Material
	mutate    func(*eidas.Config)
}

func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t, states: map[string][]byte{}, results: map[string]result{}}
	mux := http.NewServeMux()
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	base := h.srv.URL
	sim, err := eidassim.New(eidassim.Options{
		BaseURL: base + "/sim/eidas", ConnectorMetadataURL: base + "/saml/connector/metadata",
		Countries: o.countries, Keys: o.keys,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.sim = sim
	mat := o.material
	if mat == nil {
		if mat, err = eidassim.GenerateMaterial(o.useRSA); err != nil {
			t.Fatal(err)
		}
	}
	cfg := sim.AdapterConfig(mat)
	if o.legal {
		cfg.PersonType = string(eidas.Legal)
	}
	if o.mutate != nil {
		o.mutate(cfg)
	}
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	h.ad, err = cfg.Open("eidas", adapters.Deps{BaseURL: base, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.ad.Close() })
	mux.Handle("/saml/connector/", http.StripPrefix("/saml/connector", h.ad.Routes()))
	mux.Handle("/sim/eidas/", http.StripPrefix("/sim/eidas", sim.Handler()))
	mux.HandleFunc("/login/cb/{ref}", func(w http.ResponseWriter, r *http.Request) {
		ref := r.PathValue("ref")
		h.mu.Lock()
		state := h.states[ref]
		delete(h.states, ref) // single use, as the broker does
		h.mu.Unlock()
		if state == nil {
			http.Error(w, "no pending login", http.StatusBadRequest)
			return
		}
		id, err := h.ad.Finish(r.Context(), adapters.Request{Ref: ref}, state, r)
		h.mu.Lock()
		h.results[ref] = result{id: id, err: err}
		h.mu.Unlock()
		_, _ = io.WriteString(w, "done")
	})
	h.client = &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) > 3 {
			return errors.New("too many redirects")
		}
		return nil
	}}
	return h
}

func randomRef(t testing.TB) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

var (
	keyRE    = regexp.MustCompile(`name="key" value="([^"]+)"`)
	actionRE = regexp.MustCompile(`<form method="post" action="([^"]+)" id="autopost">`)
	fieldRE  = regexp.MustCompile(`name="(SAMLResponse|RelayState)" value="([^"]*)"`)
)

// login runs Begin, the simulator's pages and the ACS → callback → Finish.
func (h *harness) login(cc, citizen, action, tamper string, floor assurance.Level, claims ...string) result {
	t := h.t
	t.Helper()
	ref := randomRef(t)
	base := h.srv.URL
	ho, state, err := h.ad.Begin(context.Background(), adapters.Request{
		TxID: "tx", Ref: ref, MinLevel: floor, Option: cc, CallbackURL: base + "/login/cb/" + ref, BaseURL: base, Claims: claims,
	})
	if err != nil {
		return result{err: err}
	}
	h.mu.Lock()
	h.states[ref] = state
	h.mu.Unlock()
	var resp *http.Response
	binding := "post"
	if ho.PostURL != "" {
		resp, err = h.client.PostForm(ho.PostURL, ho.PostForm)
	} else {
		binding = "redirect"
		resp, err = h.client.Get(ho.RedirectURL)
	}
	page := readPage(t, resp, err)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("simulator answered %d: %s", resp.StatusCode, page)
	}
	if m := keyRE.FindStringSubmatch(page); m != nil {
		form := url.Values{"key": {m[1]}, "citizen": {citizen}, "action": {action}, "tamper": {tamper}}
		resp, err = h.client.PostForm(base+"/sim/eidas/"+cc+"/answer", form)
		page = readPage(t, resp, err)
	}
	m := actionRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no auto-POST form in the simulator page: %s", page)
	}
	form := url.Values{}
	for _, f := range fieldRE.FindAllStringSubmatch(page, -1) {
		form.Set(f[1], html.UnescapeString(f[2]))
	}
	resp, err = h.client.PostForm(html.UnescapeString(m[1]), form)
	body := readPage(t, resp, err)
	if resp.StatusCode != http.StatusOK || body != "done" {
		t.Fatalf("ACS/callback answered %d: %s", resp.StatusCode, body)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.results[ref]
	r.binding = binding
	return r
}

func readPage(t *testing.T, resp *http.Response, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRoundTripCountries(t *testing.T) {
	for _, useRSA := range []bool{false, true} {
		name := "ec-connector"
		if useRSA {
			name = "rsa-connector"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{useRSA: useRSA})
			allClaims := []string{"given_name", "family_name", "birthdate", "birth_name", "place_of_birth", "address", "gender", "nationalities"}
			tests := []struct {
				cc, citizen string
				floor       assurance.Level
				wantLevel   assurance.Level
				wantSubject string
				check       func(t *testing.T, id adapters.Identity)
			}{
				{"AT", "anna", assurance.Substantial, assurance.High, "AT/DE/1234567890abc", func(t *testing.T, id adapters.Identity) {
					c := id.Claims
					if c.FamilyName != "Müller" || c.GivenName != "Anna Maria" || c.Birthdate != "1985-03-21" || c.Gender != "female" {
						t.Errorf("claims %+v", c)
					}
					if c.Address == nil || c.Address.StreetAddress != "Praterstraße 12" || c.Address.PostalCode != "1020" || c.Address.Locality != "Wien" || c.Address.Country != "AT" {
						t.Errorf("address %+v", c.Address)
					}
					if c.PlaceOfBirth == nil || c.PlaceOfBirth.Locality != "Graz" || len(c.Nationalities) != 1 || c.Nationalities[0] != "AT" {
						t.Errorf("place of birth / nationality %+v %v", c.PlaceOfBirth, c.Nationalities)
					}
				}},
				{"SE", "sven", assurance.Low, assurance.Substantial, "SE/DE/198001011234", nil},
				{"GR", "eleni", assurance.Substantial, assurance.Substantial, "EL/DE/GR55512345", func(t *testing.T, id adapters.Identity) {
					c := id.Claims
					// LatinScript="false" values: under the tag "el" (Greek
					// script), the Latin transliteration in the fields.
					el := c.Scripts["el"]
					if len(c.Scripts) != 1 || c.FamilyName != "Papadopoulou" || el.FamilyName != "Παπαδοπούλου" || c.GivenName != "Eleni" || el.GivenName != "Ελένη" {
						t.Errorf("transliterated names %+v", c)
					}
					// BirthName is first names and family name at birth:
					// birth_name, never birth_family_name.
					if c.BirthFamilyName != "" || c.Extra["birth_name"] != "Eleni Georgiou" || el.Extra["birth_name"] != "Ελένη Γεωργίου" || el.BirthFamilyName != "" {
						t.Errorf("birth name %+v / %+v", c, el)
					}
					if len(c.Nationalities) != 1 || c.Nationalities[0] != "GR" {
						t.Errorf("nationalities %v", c.Nationalities)
					}
				}},
				{"IT", "mario", assurance.Low, assurance.Low, "IT/DE/RSSMRA80A01H501U", nil},
			}
			for _, tc := range tests {
				t.Run(tc.cc, func(t *testing.T) {
					r := h.login(tc.cc, tc.citizen, "login", "", tc.floor, allClaims...)
					if r.err != nil {
						t.Fatalf("login: %v", r.err)
					}
					if r.id.Subject != tc.wantSubject || r.id.Level != tc.wantLevel || r.id.AuthTime.IsZero() {
						t.Errorf("identity %q level %s", r.id.Subject, r.id.Level)
					}
					if tc.check != nil {
						tc.check(t, r.id)
					}
				})
			}
		})
	}
}

// TestRoundTripBindings runs a login for every country through both
// request bindings: HTTP-POST (signed XML) and HTTP-Redirect (DEFLATE and
// a signed query), each verified by the simulator against our metadata.
func TestRoundTripBindings(t *testing.T) {
	for _, binding := range []string{eidas.BindingNamePOST, eidas.BindingNameRedirect} {
		t.Run(binding, func(t *testing.T) {
			h := newHarness(t, harnessOptions{useRSA: binding == eidas.BindingNamePOST, mutate: func(c *eidas.Config) {
				for i := range c.Countries {
					c.Countries[i].Binding = binding
				}
			}})
			for _, tc := range []struct{ cc, citizen, subject string }{
				{"AT", "anna", "AT/DE/1234567890abc"}, {"SE", "sven", "SE/DE/198001011234"},
				{"GR", "eleni", "EL/DE/GR55512345"}, {"IT", "mario", "IT/DE/RSSMRA80A01H501U"},
			} {
				r := h.login(tc.cc, tc.citizen, "login", "", assurance.Low)
				if r.err != nil || r.id.Subject != tc.subject {
					t.Errorf("%s: %q %v", tc.cc, r.id.Subject, r.err)
				}
				if r.binding != binding {
					t.Errorf("%s: request went by %s, configured %s", tc.cc, r.binding, binding)
				}
			}
		})
	}
	// A proxy-service publishing only HTTP-Redirect gets Redirect even when
	// POST is preferred.
	t.Run("redirect-only metadata", func(t *testing.T) {
		countries := eidassim.DefaultCountries()[:1]
		countries[0].RedirectOnly = true
		h := newHarness(t, harnessOptions{countries: countries})
		r := h.login("AT", "anna", "login", "", assurance.High)
		if r.err != nil || r.binding != "redirect" {
			t.Fatalf("binding %s, err %v", r.binding, r.err)
		}
	})
}

// TestRoundTripOutcomes: the refusals and special cases of the protocol,
// end to end through the simulator.
func TestRoundTripOutcomes(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	t.Run("cancel", func(t *testing.T) {
		r := h.login("AT", "anna", "cancel", "", assurance.Substantial)
		if !errors.Is(r.err, adapters.ErrCancelled) {
			t.Fatalf("got %v, want ErrCancelled", r.err)
		}
	})
	t.Run("level downgrade by the proxy-service", func(t *testing.T) {
		r := h.login("AT", "anna", "login", eidassim.TamperLowerLoA, assurance.Substantial)
		if !errors.Is(r.err, eidas.ErrLoADowngrade) {
			t.Fatalf("got %v, want ErrLoADowngrade", r.err)
		}
	})
	t.Run("identifier of another country", func(t *testing.T) {
		r := h.login("AT", "anna", "login", eidassim.TamperForeignID, assurance.Substantial)
		if !errors.Is(r.err, eidas.ErrPersonIdentifier) {
			t.Fatalf("got %v, want ErrPersonIdentifier", r.err)
		}
	})
	t.Run("substantial country for a high service", func(t *testing.T) {
		for _, cc := range []string{"SE", "GR", "IT"} {
			if r := h.login(cc, "", "login", "", assurance.High); !errors.Is(r.err, eidas.ErrLevelUnreachable) {
				t.Errorf("%s: got %v, want ErrLevelUnreachable", cc, r.err)
			}
		}
		if r := h.login("AT", "anna", "login", "", assurance.High); r.err != nil || r.id.Level != assurance.High {
			t.Errorf("AT at high: %s %v", r.id.Level, r.err)
		}
	})
	t.Run("options", func(t *testing.T) {
		info := h.ad.Info()
		want := map[string]assurance.Level{"AT": assurance.High, "SE": assurance.Substantial, "EL": assurance.Substantial, "IT": assurance.Low}
		if len(info.Options) != len(want) || info.MaxLevel != assurance.High {
			t.Fatalf("info %+v", info)
		}
		for _, o := range info.Options {
			if want[o.ID] != o.Level || o.Name.DE == "" || o.Name.EN == "" || o.Unavailable != "" {
				t.Errorf("option %+v", o)
			}
		}
	})
}

// TestRoundTripLegalPerson: with person_type legal the simulator offers its
// company representatives; the answer (legal person plus representative)
// becomes the representative's identity with the company as legal entity.
func TestRoundTripLegalPerson(t *testing.T) {
	h := newHarness(t, harnessOptions{legal: true})
	for _, tc := range []struct{ cc, citizen, subject, company, lpi string }{
		{"AT", "franz", "AT/DE/7781X22AB", "Gruber Bau GmbH", "AT/DE/FN123456a"},
		{"SE", "karin", "SE/DE/197605054321", "Lind Design AB", "SE/DE/5560001234"},
	} {
		t.Run(tc.cc, func(t *testing.T) {
			r := h.login(tc.cc, tc.citizen, "login", "", assurance.Substantial, "legal_entity")
			if r.err != nil {
				t.Fatal(r.err)
			}
			le := r.id.Claims.LegalEntity
			if r.id.Subject != tc.subject || le == nil || le.Name != tc.company || le.Identifier != tc.lpi || le.Country != tc.cc {
				t.Errorf("identity %q, legal entity %+v", r.id.Subject, le)
			}
			if r.id.Claims.FamilyName == "" || r.id.Claims.Birthdate == "" {
				t.Errorf("representative's data missing: %+v", r.id.Claims)
			}
		})
	}
}
