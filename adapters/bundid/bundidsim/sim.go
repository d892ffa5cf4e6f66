package bundidsim

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters/bundid"
	"github.com/ozg-broker/eidas-broker/adapters/demo"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// Options configure a simulator.
type Options struct {
	// BaseURL is where Handler is reachable.
	BaseURL string
	// SPMetadata returns the service provider's metadata (its signing and
	// encryption certificates, ACS and entity ID), as BundID receives it
	// at onboarding.
	SPMetadata func(context.Context) ([]byte, error)
	Now        func() time.Time
	// Generic plays a Land's Servicekonto instead: no AKDB extension, a
	// persistent NameID, its own level URIs (LandLevels), every attribute
	// of the person without per-attribute trust levels.
	Generic bool
}

// LandLevels is the generic mode's level vocabulary, by STORK value; the
// basic registration (STORK 1) has a value no table should map.
var LandLevels = map[string]string{
	bundid.STORK1: "urn:example:land:saml:loa:basis",
	bundid.STORK2: "urn:example:land:saml:loa:normal",
	bundid.STORK3: "urn:example:land:saml:loa:substanziell",
	bundid.STORK4: "urn:example:land:saml:loa:hoch",
}

// Tamper changes the next answers, for tests.
type Tamper struct {
	// WrongKey signs the Response with a key the metadata does not hold.
	WrongKey bool
	// ClassRef and LevelAttribute replace the AuthnContextClassRef and the
	// trust-level attribute value ("-" leaves the attribute out).
	ClassRef, LevelAttribute string
	// Assertion edits the assertion before it is encrypted.
	Assertion func(*etree.Element)
	// Plain sends the assertion unencrypted; Unsigned leaves the Response
	// without signature.
	Plain, Unsigned bool
}

// Request is what the simulator read from the last AuthnRequest.
type Request struct {
	ID, ACS, Level, Comparison      string
	OrganizationDisplayName, Lang   string
	OnlineServiceID                 string
	Attributes, RequiredAttributes  []string
	EnabledMethods, DisabledMethods []string
	HasAKDB                         bool
	AKDBVersion                     string
}

// Sim is a running BundID simulator.
type Sim struct {
	opts     Options
	key      crypto.Signer
	cert     *x509.Certificate
	wrongKey crypto.Signer
	secret   []byte
	page     *template.Template

	mu      sync.Mutex
	pending map[string]pending
	tamper  Tamper
	last    *Request
}

type pending struct {
	req        Request
	relayState string
	spEntity   string
	encCert    *x509.Certificate
	created    time.Time
}

// New generates the simulator's keys.
func New(opts Options) (*Sim, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	key, cert, err := NewKeyPair("BundID Simulator IdP")
	if err != nil {
		return nil, err
	}
	wrong, _, err := NewKeyPair("not BundID")
	if err != nil {
		return nil, err
	}
	return &Sim{opts: opts, key: key, cert: cert, wrongKey: wrong, secret: []byte(rand.Text()),
		page:    template.Must(template.New("p").Parse(pageHTML)),
		pending: map[string]pending{}}, nil
}

// NewKeyPair returns an EC P-256 key with a self-signed signing
// certificate (digitalSignature, not a CA) valid for a year.
func NewKeyPair(cn string) (crypto.Signer, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

// EntityID is the simulated IdP's entity ID.
func (s *Sim) EntityID() string { return s.opts.BaseURL + "/idp" }

// Anchor is the certificate that signs the IdP metadata.
func (s *Sim) Anchor() *x509.Certificate { return s.cert }

// SetTamper sets (or clears, with the zero value) the tampering.
func (s *Sim) SetTamper(t Tamper) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tamper = t
}

// LastRequest returns what the last AuthnRequest asked for.
func (s *Sim) LastRequest() *Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Material is the adapter's in-memory material for this simulator: fresh
// SP keys, the IdP metadata and its anchor, and an endpoint check that
// accepts the simulator's plain-http loopback URLs.
func (s *Sim) Material() (*bundid.Material, error) {
	key, cert, err := NewKeyPair("Broker SP (BundID demo)")
	if err != nil {
		return nil, err
	}
	base := s.opts.BaseURL
	return &bundid.Material{
		SigningKey: key, SigningCert: cert,
		Metadata: func(context.Context) ([]byte, error) { return s.Metadata() },
		Anchors:  []*x509.Certificate{s.cert},
		CheckURL: func(raw string) error {
			if !strings.HasPrefix(raw, base+"/") {
				return fmt.Errorf("not the simulator's URL: %s", raw)
			}
			return nil
		},
	}, nil
}

// Metadata is the IdP's signed metadata.
func (s *Sim) Metadata() ([]byte, error) {
	ed := etree.NewElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", samlxml.NSMetadata)
	ed.CreateAttr("xmlns:ds", samlxml.NSDSig)
	ed.CreateAttr("ID", samlxml.NewID())
	ed.CreateAttr("entityID", s.EntityID())
	ed.CreateAttr("validUntil", samlxml.FormatTime(s.opts.Now().Add(24*time.Hour)))
	idp := ed.CreateElement("md:IDPSSODescriptor")
	idp.CreateAttr("WantAuthnRequestsSigned", "true")
	idp.CreateAttr("protocolSupportEnumeration", samlxml.ProtocolSAML2)
	samlxml.AddKeyDescriptor(idp, "signing", s.cert)
	sso := idp.CreateElement("md:SingleSignOnService")
	sso.CreateAttr("Binding", samlxml.BindingPOST)
	sso.CreateAttr("Location", s.opts.BaseURL+"/sso")
	if err := xmlsec.Sign(ed, s.key, []*x509.Certificate{s.cert}, xmlsec.SigECDSASHA256); err != nil {
		return nil, err
	}
	return sp.Serialize(ed)
}

// Handler serves metadata, SSO and the person's answer.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, _ *http.Request) {
		md, err := s.Metadata()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(md)
	})
	mux.HandleFunc("POST /sso", s.sso)
	mux.HandleFunc("POST /answer", s.answer)
	return mux
}

// spInfo reads the SP's metadata.
func (s *Sim) spInfo(ctx context.Context) (*sp.Metadata, error) {
	raw, err := s.opts.SPMetadata(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := sp.ParseMetadata(raw)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if !m.IDP {
			return m, nil
		}
	}
	return nil, fmt.Errorf("no SP in the metadata")
}

func (s *Sim) sso(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, msg string) { http.Error(w, "BundID-Simulator: "+msg, code) }
	spmd, err := s.spInfo(r.Context())
	if err != nil {
		fail(http.StatusBadGateway, "SP metadata: "+err.Error())
		return
	}
	raw, err := samlxml.DecodeBase64(r.PostFormValue("SAMLRequest"))
	if err != nil {
		fail(http.StatusBadRequest, "SAMLRequest is not base64")
		return
	}
	doc, err := xmlsec.Parse(raw, xmlsec.Limits{MaxBytes: 256 << 10})
	if err != nil {
		fail(http.StatusBadRequest, "unparsable request")
		return
	}
	// BundID refuses unsigned requests (saml-request-not-signed).
	ar, _, err := xmlsec.Verify(doc.Root(), xmlsec.VerifyOptions{Trusted: spmd.SigningCerts})
	if err != nil {
		fail(http.StatusBadRequest, "saml-request-not-signed: "+err.Error())
		return
	}
	req, err := readRequest(ar)
	if err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	if samlxml.Text(samlxml.First(ar, samlxml.NSAssertion, "Issuer")) != spmd.EntityID ||
		samlxml.AttrValue(ar, "Destination") != s.opts.BaseURL+"/sso" ||
		!slices.ContainsFunc(spmd.ACS, func(e sp.Endpoint) bool { return e.Location == req.ACS }) {
		fail(http.StatusBadRequest, "issuer, destination or ACS do not match the SP metadata")
		return
	}
	switch {
	case s.opts.Generic:
	case !req.HasAKDB:
		fail(http.StatusBadRequest, "akdb-extension-missing")
		return
	case req.OrganizationDisplayName == "":
		fail(http.StatusBadRequest, "organization-display-name-missing")
		return
	case len(req.Attributes) == 0:
		fail(http.StatusBadRequest, "requested-attributes-empty")
		return
	}
	if len(spmd.EncryptionCerts) == 0 {
		fail(http.StatusBadGateway, "SP metadata has no encryption certificate")
		return
	}
	id := rand.Text()
	s.mu.Lock()
	s.pending[id] = pending{req: *req, relayState: r.PostFormValue("RelayState"), spEntity: spmd.EntityID,
		encCert: spmd.EncryptionCerts[0], created: s.opts.Now()}
	s.last = req
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	_ = s.page.Execute(w, map[string]any{"ID": id, "Req": req, "People": demo.People(), "Levels": levelButtons})
}

// readRequest reads the AuthnRequest and its AKDB extension.
func readRequest(ar *etree.Element) (*Request, error) {
	if !samlxml.Is(ar, samlxml.NSProtocol, "AuthnRequest") {
		return nil, fmt.Errorf("not an AuthnRequest")
	}
	req := &Request{ID: samlxml.AttrValue(ar, "ID"), ACS: samlxml.AttrValue(ar, "AssertionConsumerServiceURL")}
	if rac := samlxml.First(ar, samlxml.NSProtocol, "RequestedAuthnContext"); rac != nil {
		req.Comparison = samlxml.AttrValue(rac, "Comparison")
		req.Level = samlxml.Text(samlxml.First(rac, samlxml.NSAssertion, "AuthnContextClassRef"))
	}
	ext := samlxml.First(ar, samlxml.NSProtocol, "Extensions")
	akdb := samlxml.First(ext, bundid.NSAKDB, "AuthenticationRequest")
	if akdb == nil {
		return req, nil
	}
	req.HasAKDB, req.AKDBVersion = true, samlxml.AttrValue(akdb, "Version")
	if ms := samlxml.First(akdb, bundid.NSAKDB, "AuthnMethods"); ms != nil {
		for _, m := range ms.ChildElements() {
			if samlxml.Text(samlxml.First(m, bundid.NSAKDB, "Enabled")) == "true" {
				req.EnabledMethods = append(req.EnabledMethods, m.Tag)
			} else {
				req.DisabledMethods = append(req.DisabledMethods, m.Tag)
			}
		}
	}
	for _, ra := range samlxml.Children(samlxml.First(akdb, bundid.NSAKDB, "RequestedAttributes"), bundid.NSAKDB, "RequestedAttribute") {
		n := samlxml.AttrValue(ra, "Name")
		req.Attributes = append(req.Attributes, n)
		if samlxml.AttrValue(ra, "RequiredAttribute") == "true" {
			req.RequiredAttributes = append(req.RequiredAttributes, n)
		}
	}
	if v := samlxml.First(samlxml.First(akdb, bundid.NSAKDB, "DisplayInformation"), bundid.NSClassicUI, "Version"); v != nil {
		req.OrganizationDisplayName = samlxml.Text(samlxml.First(v, bundid.NSClassicUI, "OrganizationDisplayName"))
		req.OnlineServiceID = samlxml.Text(samlxml.First(v, bundid.NSClassicUI, "OnlineServiceId"))
		req.Lang = samlxml.Text(samlxml.First(v, bundid.NSClassicUI, "Lang"))
	}
	return req, nil
}

// levelButton is one way to log in on the simulator page.
type levelButton struct {
	Key, STORK, TrustLevel, ProvedBy, Label string
}

var levelButtons = []levelButton{
	{"1", bundid.STORK1, "UNTERGEORDNET", "Benutzername", "Benutzername und Passwort / username and password"},
	{"2", bundid.STORK2, "NORMAL", "eIDAS", "eIDAS-Mittel (niedrig) / eIDAS means (low)"},
	{"3", bundid.STORK3, "SUBSTANTIELL", "Elster", "ELSTER-Zertifikat / ELSTER certificate"},
	{"4", bundid.STORK4, "HOCH", "eID", "Online-Ausweis / eID card"},
}

// BPK2 is the simulator's bPK2 for a person and an SP: stable per pair,
// different between SPs (BundID derives it from the entity ID's host).
func (s *Sim) BPK2(personID, spEntityID string) string {
	host := spEntityID
	if u, err := url.Parse(spEntityID); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(personID + "\x00" + host))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// PostboxHandle is the simulated postbox handle (a UUID) of a person.
func PostboxHandle(personID string) string {
	h := sha256.Sum256([]byte("postbox:" + personID))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func (s *Sim) answer(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p, ok := s.pending[r.PostFormValue("request")]
	delete(s.pending, r.PostFormValue("request"))
	tamper := s.tamper
	s.mu.Unlock()
	if !ok || s.opts.Now().Sub(p.created) > 30*time.Minute {
		http.Error(w, "BundID-Simulator: unknown or expired request", http.StatusBadRequest)
		return
	}
	var resp []byte
	var err error
	if r.PostFormValue("action") == "cancel" {
		resp, err = s.errorResponse(p, tamper)
	} else {
		var person *demo.Person
		for _, x := range demo.People() {
			if x.ID == r.PostFormValue("person") {
				person = &x
			}
		}
		i := slices.IndexFunc(levelButtons, func(b levelButton) bool { return b.Key == r.PostFormValue("level") })
		if person == nil || i < 0 {
			http.Error(w, "BundID-Simulator: choose a person and a level", http.StatusBadRequest)
			return
		}
		resp, err = s.response(p, *person, levelButtons[i], tamper)
	}
	if err != nil {
		http.Error(w, "BundID-Simulator: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'sha256-"+autoSubmitHash+"'; form-action *")
	_ = postTemplate.Execute(w, map[string]string{"ACS": p.req.ACS, "SAMLResponse": base64.StdEncoding.EncodeToString(resp),
		"RelayState": p.relayState, "Script": autoSubmit})
}
