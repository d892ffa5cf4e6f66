package nezo

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// PathPrefix is where the broker mounts an adapter's routes:
// PathPrefix + "/" + adapter ID + "/metadata" and ".../acs".
const PathPrefix = "/saml"

// Request and answer lifetimes.
const (
	maxStateAge  = time.Hour
	maxAnswerAge = 10 * time.Minute
	stateVersion = 1
)

// Adapter is the ELSTER NEZO login. Create it with Config.Open; stop its
// metadata refresh with Close.
type Adapter struct {
	id      string
	cfg     Config // effective
	log     *slog.Logger
	now     func() time.Time
	store   store.Store
	baseURL string

	entityID string
	acsURL   string
	signer   sp.Signer
	decKey   crypto.Signer
	encCert  *x509.Certificate
	policy   sp.Policy
	peer     *sp.Peer
	skew     time.Duration

	metaMu    sync.Mutex
	metaBytes []byte
	metaFresh time.Time
}

var (
	_ adapters.Adapter       = (*Adapter)(nil)
	_ adapters.Router        = (*Adapter)(nil)
	_ adapters.HealthChecker = (*Adapter)(nil)
)

// loginState binds an answer to its request.
type loginState struct {
	V      int    `json:"v"`
	ID     string `json:"id"`
	Issued int64  `json:"t"`
	Ref    string `json:"r"`
	Floor  string `json:"f"`
}

// MountPath is the adapter's mandated path prefix for an adapter ID.
func MountPath(id string) string { return PathPrefix + "/" + id }

// Open builds the adapter: it loads the key material, loads NEZO's
// metadata once (a failure is retried in the background and shown as
// unavailable) and starts the refresh. deps.BaseURL and deps.Store are
// required.
func (c *Config) Open(id string, deps adapters.Deps) (*Adapter, error) {
	if ps := c.Validate(); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = strings.TrimPrefix(p.Path+": "+p.Msg, ": ")
		}
		return nil, fmt.Errorf("nezo: open %s: invalid config: %s", id, strings.Join(msgs, "; "))
	}
	if deps.BaseURL == "" || deps.Store == nil {
		return nil, fmt.Errorf("nezo: open %s: base URL and store are required", id)
	}
	e := c.effective()
	base := strings.TrimRight(deps.BaseURL, "/")
	a := &Adapter{
		id: id, cfg: e, log: deps.Logger, now: deps.Now, store: deps.Store, baseURL: base,
		entityID: e.EntityID, acsURL: base + MountPath(id) + "/acs",
		policy: e.policy(), skew: e.ClockSkew.D(),
	}
	if a.entityID == "" {
		a.entityID = base + MountPath(id) + "/metadata"
	}
	if err := checkURL(a.entityID); err != nil {
		return nil, fmt.Errorf("nezo: open %s: entity ID %w", id, err)
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	var anchors []*x509.Certificate
	var mem func(context.Context) ([]byte, error)
	if m := e.Material; m != nil {
		anchors, mem = m.TrustAnchors, m.Metadata
	}
	if len(anchors) == 0 {
		certs, err := sp.LoadCerts(string(e.TrustAnchorFile))
		if err != nil {
			return nil, fmt.Errorf("nezo: open %s: trust anchor: %w", id, err)
		}
		anchors = certs
	}
	if err := a.loadMaterial(e); err != nil {
		return nil, fmt.Errorf("nezo: open %s: %w", id, err)
	}
	binding := samlxml.BindingPOST
	if e.Binding == "redirect" {
		binding = samlxml.BindingRedirect
	}
	a.peer = sp.NewPeer(sp.PeerConfig{
		Source:  sp.MetadataSource{Mem: mem, File: string(e.MetadataFile), URL: e.MetadataURL},
		Anchors: anchors, EntityID: e.IdPEntityID, Interval: e.RefreshInterval.D(), Policy: a.policy,
		PreferBinding: binding, CheckURL: checkURL, HTTP: deps.HTTP, Log: a.log, Now: a.now,
	})
	return a, nil
}

func (a *Adapter) loadMaterial(e Config) error {
	var signKey crypto.Signer
	var signCert *x509.Certificate
	if m := e.Material; m != nil && m.SigningKey != nil {
		signKey, signCert, a.decKey, a.encCert = m.SigningKey, m.SigningCert, m.DecryptionKey, m.EncryptionCert
	} else {
		var err error
		if signKey, err = sp.LoadKey(string(e.SigningKeyFile)); err != nil {
			return fmt.Errorf("signing key: %w", err)
		}
		certs, err := sp.LoadCerts(string(e.SigningCertFile))
		if err != nil {
			return fmt.Errorf("signing certificate: %w", err)
		}
		signCert = certs[0]
		if a.decKey, err = sp.LoadKey(string(e.EncryptionKeyFile)); err != nil {
			return fmt.Errorf("encryption key: %w", err)
		}
		if certs, err = sp.LoadCerts(string(e.EncryptionCertFile)); err != nil {
			return fmt.Errorf("encryption certificate: %w", err)
		}
		a.encCert = certs[0]
	}
	if err := sp.CheckKeyPair(signKey, signCert); err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	if err := sp.CheckKeyPair(a.decKey, a.encCert); err != nil {
		return fmt.Errorf("encryption key: %w", err)
	}
	if signCert.Equal(a.encCert) {
		return errors.New("signing and encryption certificates must differ")
	}
	alg, err := sp.SignatureMethodFor(signKey.Public())
	if err != nil {
		return err
	}
	a.signer = sp.Signer{Key: signKey, Cert: signCert, Alg: alg}
	return nil
}

// Close stops the metadata refresh. Safe to call more than once.
func (a *Adapter) Close() error {
	a.peer.Close()
	return nil
}

// Info implements adapters.Adapter.
func (a *Adapter) Info() adapters.Info {
	return adapters.Info{
		Type:       Type,
		Name:       adapters.Text{DE: "ELSTER (Mein Unternehmenskonto)", EN: "ELSTER (Mein Unternehmenskonto)"},
		MaxLevel:   a.cfg.MaxLevel,
		Family:     "elster",
		FamilyName: adapters.Text{DE: "ELSTER", EN: "ELSTER"},
		Route:      adapters.Text{DE: "Anmeldung bei ELSTER (Mein ELSTER / Unternehmenskonto)", EN: "Log in at ELSTER (Mein ELSTER / company account)"},
	}
}

// CheckHealth implements adapters.HealthChecker: NEZO's metadata must be
// loaded and valid.
func (a *Adapter) CheckHealth(context.Context) error {
	if _, _, err := a.peer.Usable(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// EntityID is our entity ID; ACSURL our assertion consumer service.
func (a *Adapter) EntityID() string { return a.entityID }

// ACSURL is the assertion consumer service URL published in our metadata.
func (a *Adapter) ACSURL() string { return a.acsURL }

// Routes implements adapters.Router. The broker mounts the handler at
// /saml/<adapter id> with that prefix stripped:
//
//	GET  /metadata  our signed SP metadata (register it with ELSTER)
//	POST /acs       the fixed ACS; forwards with 307 to /login/cb/{RelayState}
func (a *Adapter) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, _ *http.Request) {
		b, err := a.Metadata()
		if err != nil {
			a.log.Error("nezo metadata", "err", err)
			http.Error(w, "metadata unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("POST /acs", sp.ForwardACS(a.baseURL, a.log, "nezo"))
	return mux
}

// Metadata returns our signed SP metadata; it is regenerated once half of
// its validity has passed.
func (a *Adapter) Metadata() ([]byte, error) {
	a.metaMu.Lock()
	defer a.metaMu.Unlock()
	now := a.now()
	validity := a.cfg.MetadataValidity.D()
	if a.metaBytes != nil && now.Before(a.metaFresh.Add(validity/2)) && !now.Before(a.metaFresh) {
		return a.metaBytes, nil
	}
	m := sp.SPMetadata{
		EntityID: a.entityID, ACSURL: a.acsURL, Signer: a.signer, EncryptionCert: a.encCert,
		NameIDFormats: []string{samlxml.NameIDPersistent},
		ID:            samlxml.NewID(), ValidUntil: now.Add(validity), ServiceName: a.cfg.ServiceName,
	}
	for _, n := range a.requestedAttributes() {
		m.RequestedAttributes = append(m.RequestedAttributes, sp.RequestedAttribute{Name: n, Required: n == AttrPseudonym || n == AttrLevel})
	}
	b, err := m.Build()
	if err != nil {
		return nil, err
	}
	a.metaBytes, a.metaFresh = b, now
	return b, nil
}

// requestedAttributes are the configured ones plus the two the adapter
// cannot work without.
func (a *Adapter) requestedAttributes() []string {
	out := []string{AttrPseudonym, AttrLevel}
	for _, n := range a.cfg.RequestedAttributes {
		if n != AttrPseudonym && n != AttrLevel {
			out = append(out, n)
		}
	}
	return out
}

// Begin implements adapters.Adapter: a signed AuthnRequest to NEZO's SSO
// endpoint, by HTTP-POST (default) or HTTP-Redirect.
func (a *Adapter) Begin(_ context.Context, req adapters.Request) (adapters.Handoff, []byte, error) {
	_, sso, err := a.peer.Usable()
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("nezo: begin: %w: %w", ErrUnavailable, err)
	}
	floor := req.MinLevel
	if floor == assurance.Unspecified {
		floor = assurance.Low
	}
	if !a.cfg.MaxLevel.Satisfies(floor) {
		return adapters.Handoff{}, nil, fmt.Errorf("nezo: begin: %w: at most %s, %s required", ErrLevelUnreachable, a.cfg.MaxLevel, floor)
	}
	if !sp.RelayStateRE.MatchString(req.Ref) {
		return adapters.Handoff{}, nil, fmt.Errorf("nezo: begin: %w: transaction reference unusable as RelayState", ErrState)
	}
	now := a.now()
	id := samlxml.NewID()
	h, err := sp.Handoff(a.authnRequest(id, sso.Location, now), sso, req.Ref, a.signer)
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("nezo: begin: %w", err)
	}
	state, err := json.Marshal(loginState{V: stateVersion, ID: id, Issued: now.Unix(), Ref: req.Ref, Floor: floor.String()})
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("nezo: begin: state: %w", err)
	}
	a.log.Debug("nezo request issued", "binding", sso.Binding)
	return h, state, nil
}

// authnRequest is a plain SAML 2.0 Web SSO AuthnRequest: NEZO needs no
// extensions (the attributes come from the registration and our metadata;
// the level comes back as an attribute).
func (a *Adapter) authnRequest(id, destination string, now time.Time) *etree.Element {
	ar := etree.NewElement("saml2p:AuthnRequest")
	ar.CreateAttr("xmlns:saml2p", samlxml.NSProtocol)
	ar.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	ar.CreateAttr("AssertionConsumerServiceURL", a.acsURL)
	ar.CreateAttr("Destination", destination)
	ar.CreateAttr("ForceAuthn", fmt.Sprint(a.cfg.ForceAuthn))
	ar.CreateAttr("ID", id)
	ar.CreateAttr("IsPassive", "false")
	ar.CreateAttr("IssueInstant", samlxml.FormatTime(now))
	ar.CreateAttr("ProtocolBinding", samlxml.BindingPOST)
	ar.CreateAttr("Version", "2.0")
	iss := ar.CreateElement("saml2:Issuer")
	iss.SetText(a.entityID)
	nip := ar.CreateElement("saml2p:NameIDPolicy")
	nip.CreateAttr("AllowCreate", "true")
	nip.CreateAttr("Format", samlxml.NameIDPersistent)
	return ar
}

// Finish implements adapters.Adapter: the SP core's checks (see package
// sp), then the NEZO rules of the package documentation, then single use.
func (a *Adapter) Finish(ctx context.Context, _ adapters.Request, state []byte, r *http.Request) (adapters.Identity, error) {
	var st loginState
	if err := json.Unmarshal(state, &st); err != nil || st.V != stateVersion || st.ID == "" || st.Issued == 0 {
		return adapters.Identity{}, fmt.Errorf("nezo: finish: %w", ErrState)
	}
	raw, err := sp.ReadPOSTResponse(r, st.Ref)
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("nezo: finish: %w", err)
	}
	id, err := a.process(ctx, &st, raw)
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("nezo: finish: %w", err)
	}
	return id, nil
}

func (a *Adapter) process(ctx context.Context, st *loginState, raw []byte) (adapters.Identity, error) {
	now := a.now()
	issued := time.Unix(st.Issued, 0)
	if now.Sub(issued) > maxStateAge {
		return adapters.Identity{}, fmt.Errorf("%w: the request is older than %s", sp.ErrExpired, maxStateAge)
	}
	md, _, err := a.peer.Usable()
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	as, err := sp.ValidateResponse(raw, sp.Expect{
		Peer: md, EntityID: a.entityID, ACSURL: a.acsURL, RequestID: st.ID, Issued: issued,
		Now: now, Skew: a.skew, MaxAnswerAge: maxAnswerAge, Policy: a.policy, DecryptionKey: a.decKey,
		ForceAuthn: a.cfg.ForceAuthn,
		// NEZO states its level in an attribute; the AuthnContext is not
		// judged (its vocabulary is not public).
		AuthnContext: func(string, bool) error { return nil },
	})
	if err != nil {
		return adapters.Identity{}, err
	}
	attrs, err := ParseAttributes(as.Attributes)
	if err != nil {
		return adapters.Identity{}, err
	}
	ident, err := a.identity(attrs)
	if err != nil {
		return adapters.Identity{}, err
	}
	ident.AuthTime = as.AuthnInstant
	if err := sp.Consume(ctx, a.store, "nezo:", md.EntityID, as, now, a.skew); err != nil {
		return adapters.Identity{}, err
	}
	a.log.Info("nezo response accepted", "level", ident.Level.String(), "organisation", ident.Claims.LegalEntity != nil)
	return ident, nil
}

// identity maps NEZO's attributes to the broker's identity.
func (a *Adapter) identity(as Attributes) (adapters.Identity, error) {
	switch v := as.text(AttrIstTestkonto); strings.ToLower(v) {
	case "", "false", "0":
	case "true", "1":
		if !a.cfg.AllowTestAccounts {
			return adapters.Identity{}, ErrTestAccount
		}
	default:
		return adapters.Identity{}, fmt.Errorf("%w: IstTestkonto is not a boolean", ErrAttribute)
	}
	raw := as.text(AttrLevel)
	if raw == "" {
		return adapters.Identity{}, fmt.Errorf("%w: %s missing", ErrLevel, AttrLevel)
	}
	level, ok := a.cfg.Levels[raw]
	if !ok {
		return adapters.Identity{}, fmt.Errorf("%w: value %q not in the level table", ErrLevel, samlxml.Truncate(raw, 20))
	}
	if !a.cfg.MaxLevel.Satisfies(level) {
		// The admin's cap: never prove more than max_level.
		level = a.cfg.MaxLevel
	}
	subject := as.text(AttrPseudonym)
	if subject == "" {
		return adapters.Identity{}, ErrSubject
	}
	c := adapters.Claims{
		GivenName: as.text(AttrVorname), FamilyName: as.text(AttrName),
		BirthFamilyName: as.text(AttrGeburtsname), Title: as.text(AttrAkademischerGrad),
		Address: as.address(AttrAnschrift),
	}
	if hp, ok := as[AttrHandelndePerson]; ok && hp.Fields != nil {
		// The person acting for an organisation account.
		if c.GivenName == "" && c.FamilyName == "" {
			c.GivenName, c.FamilyName = hp.Fields["Vorname"], hp.Fields["Name"]
		}
		if c.Birthdate == "" {
			c.Birthdate = hp.Fields["Geburtsdatum"]
		}
	}
	if d := as.text(AttrGeburtsdatum); d != "" {
		c.Birthdate = d
	}
	bd, err := birthdate(c.Birthdate)
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("%w: %w", ErrAttribute, err)
	}
	c.Birthdate = bd
	if p := as.text(AttrGeburtsort); p != "" {
		c.PlaceOfBirth = &adapters.PlaceOfBirth{Locality: p}
	}
	if le := legalEntity(as); le != nil {
		c.LegalEntity = le
	}
	return adapters.Identity{Subject: subject, Level: level, Claims: c}, nil
}

// legalEntity builds the organisation claim; nil when the account is not
// an organisation's (no Firmenname).
func legalEntity(as Attributes) *adapters.LegalEntity {
	name := as.text(AttrFirmenname)
	if name == "" {
		return nil
	}
	le := &adapters.LegalEntity{
		Name: name, Country: "DE", TaxNumber: as.text(AttrStNr), VATID: as.text(AttrUmsatzsteuerID),
		LegalForm: as.text(AttrRechtsformText), Address: as.address(AttrUnternehmensanschrift),
	}
	if le.LegalForm == "" {
		le.LegalForm = as.text(AttrRechtsform)
	}
	if r := (adapters.Register{Type: as.text(AttrRegisterart), Number: as.text(AttrRegisternummer), Court: as.text(AttrRegistergericht)}); r != (adapters.Register{}) {
		le.Register = &r
	}
	return le
}
