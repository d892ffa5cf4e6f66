package walletsim

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ozg-broker/eidas-broker/adapters/wallet"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/mdoc"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/sdjwt"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/statuslist"
)

// Options configure a simulator.
type Options struct {
	// BaseURL is where Handler is reachable (e.g. http://127.0.0.1:8080/sim/wallet).
	BaseURL string
	// VerifierDNS is the DNS name in the verifier's access certificate.
	VerifierDNS string
	// Client fetches request objects and posts responses (default: a
	// client with a 10s timeout).
	Client *http.Client
	Now    func() time.Time
}

// Person is a test identity with a PID in the wallet.
type Person struct {
	ID              string
	Label           string // shown on the wallet page
	FamilyName      string
	GivenName       string
	Birthdate       string
	BirthFamilyName string
	BirthPlace      string
	Nationality     string
	Street          string
	PostalCode      string
	City            string
	Country         string
	// Revoked PIDs are marked invalid in the status lists; Expired ones
	// were issued with a validity already over.
	Revoked, Expired bool
}

// holder is one person's wallet content.
type holder struct {
	person    Person
	deviceKey *ecdsa.PrivateKey
	sd        *issuedSDJWT
	md        *mdoc.Issued
}

// issuedSDJWT is an SD-JWT VC with its disclosures per top-level claim
// (a claim's own disclosure and those nested in its value).
type issuedSDJWT struct {
	jwt         string
	disclosures map[string][]string
}

// Sim is a running simulator. Safe for concurrent use.
type Sim struct {
	opts               Options
	pidCA, sdIssuer    *keyPair
	iaca, docSigner    *keyPair
	accessCA, access   *keyPair
	sdStatus, mdStatus *statuslist.List
	holders            map[string]*holder
	order              []string
	mu                 sync.Mutex
	pending            map[string]*Request // wallet page sessions
}

// Test identities.
var people = []Person{
	{ID: "erika", Label: "Erika Mustermann (gültig / valid)", FamilyName: "MUSTERMANN", GivenName: "ERIKA",
		Birthdate: "1964-08-12", BirthFamilyName: "GABLER", BirthPlace: "BERLIN", Nationality: "DE",
		Street: "HEIDESTRASSE 17", PostalCode: "51147", City: "KÖLN", Country: "DE"},
	{ID: "max", Label: "Max Mustermann (widerrufen / revoked)", FamilyName: "MUSTERMANN", GivenName: "MAX",
		Birthdate: "1970-01-01", BirthPlace: "HAMBURG", Nationality: "DE",
		Street: "ALTE STRASSE 1", PostalCode: "20095", City: "HAMBURG", Country: "DE", Revoked: true},
	{ID: "lena", Label: "Lena Beispiel (abgelaufen / expired)", FamilyName: "BEISPIEL", GivenName: "LENA",
		Birthdate: "1990-05-23", BirthPlace: "MÜNCHEN", Nationality: "DE",
		Street: "RINGSTRASSE 5", PostalCode: "80331", City: "MÜNCHEN", Country: "DE", Expired: true},
}

// New generates the test PKI and issues every test person's PIDs.
func New(o Options) (*Sim, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.VerifierDNS == "" {
		u, err := url.Parse(o.BaseURL)
		if err != nil || u.Hostname() == "" {
			return nil, fmt.Errorf("walletsim: base url %q", o.BaseURL)
		}
		o.VerifierDNS = u.Hostname()
	}
	now := o.Now()
	s := &Sim{opts: o, holders: map[string]*holder{}, pending: map[string]*Request{}}
	var err error
	if s.pidCA, err = newCA("Demo PID Provider CA (TEST)", "Demo PID Provider", now); err != nil {
		return nil, err
	}
	if s.sdIssuer, err = newLeaf(s.pidCA, "Demo PID Provider SD-JWT VC Issuer (TEST)", "Demo PID Provider", nil, []string{o.BaseURL}, now); err != nil {
		return nil, err
	}
	if s.iaca, err = newCA("Demo PID IACA (TEST)", "Demo PID Provider", now); err != nil {
		return nil, err
	}
	if s.docSigner, err = newLeaf(s.iaca, "Demo PID Document Signer (TEST)", "Demo PID Provider", nil, nil, now); err != nil {
		return nil, err
	}
	if s.accessCA, err = newCA("Demo Relying Party Access CA (TEST)", "Demo Access CA", now); err != nil {
		return nil, err
	}
	if s.access, err = newLeaf(s.accessCA, o.VerifierDNS, "Demo-Identitätsbroker", []string{o.VerifierDNS}, nil, now); err != nil {
		return nil, err
	}
	if s.sdStatus, err = statuslist.New(2, 1024); err != nil {
		return nil, err
	}
	if s.mdStatus, err = statuslist.New(2, 1024); err != nil {
		return nil, err
	}
	for i, p := range people {
		if p.Revoked {
			_ = s.sdStatus.Set(i, statuslist.Invalid)
			_ = s.mdStatus.Set(i, statuslist.Invalid)
		}
		h := &holder{person: p, deviceKey: newKey()}
		from, until := now.Add(-time.Hour), now.AddDate(0, 3, 0)
		if p.Expired {
			from, until = now.AddDate(0, -4, 0), now.AddDate(0, 0, -1)
		}
		if h.sd, err = s.issueSDJWT(p, i, &h.deviceKey.PublicKey, from, until); err != nil {
			return nil, fmt.Errorf("walletsim: issue sd-jwt: %w", err)
		}
		if h.md, err = s.issueMDoc(p, i, &h.deviceKey.PublicKey, from, until); err != nil {
			return nil, fmt.Errorf("walletsim: issue mdoc: %w", err)
		}
		s.holders[p.ID] = h
		s.order = append(s.order, p.ID)
	}
	return s, nil
}

// People lists the test identities.
func (s *Sim) People() []Person {
	out := make([]Person, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.holders[id].person)
	}
	return out
}

// AdapterConfig is an adapter config trusting this simulator's PID
// provider and IACA, with the generated access certificate, and with the
// wallet's own page as invocation URL (browsers cannot open openid4vp://).
func (s *Sim) AdapterConfig() *wallet.Config {
	c := wallet.NewConfig()
	c.Material = &wallet.Material{AccessKey: s.access.Key, AccessChain: []*x509.Certificate{s.access.Cert},
		SDJWTAnchors: []*x509.Certificate{s.pidCA.Cert}, MDocAnchors: []*x509.Certificate{s.iaca.Cert}}
	c.WalletURL = s.opts.BaseURL + "/authorize"
	c.RelyingParty.Name = "Demo-Identitätsbroker"
	return c
}

// Anchors returns the PID provider CA and the IACA (for tests).
func (s *Sim) Anchors() (pidCA, iaca *x509.Certificate) { return s.pidCA.Cert, s.iaca.Cert }

func (s *Sim) statusURI(format string) string { return s.opts.BaseURL + "/status/" + format }

func (s *Sim) issueSDJWT(p Person, idx int, dev *ecdsa.PublicKey, from, until time.Time) (*issuedSDJWT, error) {
	jwk := jose.JSONWebKey{Key: dev}
	jwkJSON, err := jwk.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var cnfJWK map[string]any
	if err := json.Unmarshal(jwkJSON, &cnfJWK); err != nil {
		return nil, err
	}
	claims := map[string]any{
		"iss": s.opts.BaseURL, "iat": from.Unix(), "exp": until.Unix(), "vct": "urn:eudi:pid:de:1",
		"_sd_alg": "sha-256", "cnf": map[string]any{"jwk": cnfJWK},
		"status":          map[string]any{"status_list": map[string]any{"idx": idx, "uri": s.statusURI("sd-jwt")}},
		"issuing_country": "DE", "issuing_authority": "DE",
		"given_name": p.GivenName, "family_name": p.FamilyName, "birthdate": p.Birthdate,
		"place_of_birth": map[string]any{"locality": p.BirthPlace},
	}
	if p.BirthFamilyName != "" {
		claims["birth_family_name"] = p.BirthFamilyName
	}
	ds := map[string][]string{}
	// Nested: the address's members and the nationalities' elements are
	// disclosable on their own; the containers are disclosable too.
	addr := map[string]any{"street_address": p.Street, "postal_code": p.PostalCode, "locality": p.City, "country": p.Country}
	inner, err := sdjwt.Conceal(addr, "street_address", "postal_code", "locality", "country")
	if err != nil {
		return nil, err
	}
	claims["address"] = addr
	ds["address"] = inner
	nats, natDs, err := sdjwt.ConcealElements([]any{p.Nationality})
	if err != nil {
		return nil, err
	}
	claims["nationalities"] = nats
	ds["nationalities"] = natDs
	for _, name := range []string{"given_name", "family_name", "birthdate", "birth_family_name", "place_of_birth", "address", "nationalities"} {
		if _, ok := claims[name]; !ok {
			continue
		}
		d, err := sdjwt.Conceal(claims, name)
		if err != nil {
			return nil, err
		}
		ds[name] = append(d, ds[name]...)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: s.sdIssuer.Key},
		(&jose.SignerOptions{}).WithType("dc+sd-jwt").WithHeader("x5c", []string{base64.StdEncoding.EncodeToString(s.sdIssuer.Cert.Raw)}))
	if err != nil {
		return nil, err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return nil, err
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		return nil, err
	}
	return &issuedSDJWT{jwt: compact, disclosures: ds}, nil
}

func (s *Sim) issueMDoc(p Person, idx int, dev *ecdsa.PublicKey, from, until time.Time) (*mdoc.Issued, error) {
	els := []mdoc.Element{
		{ID: "family_name", Value: p.FamilyName}, {ID: "given_name", Value: p.GivenName},
		{ID: "birth_date", Value: mdoc.FullDate(p.Birthdate)}, {ID: "issuing_country", Value: "DE"},
		{ID: "issuing_authority", Value: "DE"},
		{ID: "place_of_birth", Value: map[string]any{"locality": p.BirthPlace}},
		{ID: "nationality", Value: []any{p.Nationality}},
		{ID: "resident_street", Value: p.Street}, {ID: "resident_postal_code", Value: p.PostalCode},
		{ID: "resident_city", Value: p.City}, {ID: "resident_country", Value: p.Country},
	}
	if p.BirthFamilyName != "" {
		els = append(els, mdoc.Element{ID: "family_name_birth", Value: p.BirthFamilyName})
	}
	return mdoc.Issue(mdoc.IssueOptions{Key: s.docSigner.Key, Chain: []*x509.Certificate{s.docSigner.Cert},
		DocType: wallet.PIDDocType, NameSpaces: map[string][]mdoc.Element{wallet.PIDDocType: els},
		DeviceKey: dev, Signed: from, From: from, Until: until,
		Status: &mdoc.StatusListRef{Idx: uint64(idx), URI: s.statusURI("mdoc")}})
}

// statusToken signs the current list for format ("sd-jwt" or "mdoc").
func (s *Sim) statusToken(format string) (string, error) {
	now := s.opts.Now()
	if format == "mdoc" {
		return statuslist.Sign(s.docSigner.Key, []*x509.Certificate{s.docSigner.Cert}, s.statusURI(format), s.mdStatus, now, now.Add(24*time.Hour), time.Hour)
	}
	return statuslist.Sign(s.sdIssuer.Key, []*x509.Certificate{s.sdIssuer.Cert}, s.statusURI(format), s.sdStatus, now, now.Add(24*time.Hour), time.Hour)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// WriteFiles writes the simulator's verifier access certificate and key
// and its two trust anchors as PEM files into dir, for a configuration
// that reads files (tests of the config loader, trying the adapter with
// `broker serve`). The names are access.pem, access-key.pem, pid-ca.pem
// and iaca.pem.
func (s *Sim) WriteFiles(dir string) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(s.access.Key)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"access.pem":     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.access.Cert.Raw}),
		"access-key.pem": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		"pid-ca.pem":     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.pidCA.Cert.Raw}),
		"iaca.pem":       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.iaca.Cert.Raw}),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}
