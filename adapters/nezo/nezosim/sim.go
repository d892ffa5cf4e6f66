package nezosim

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters/nezo"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// Namespace of ELSTER's typed attribute values as the simulator writes
// them. The real URI is not public; the adapter does not depend on it
// (see the adapter's package documentation).
const NSEkona = "http://www.elster.de/ekona/simulator"

const (
	maxRequest    = 256 << 10
	maxInflated   = 1 << 20
	pendingTTL    = 15 * time.Minute
	maxPending    = 1000
	requestMaxAge = 5 * time.Minute
	answerTTL     = 5 * time.Minute
)

// Manipulations the simulator can apply to an answer, to show (demo) and
// prove (tests) that the adapter refuses them. The simulator signs what it
// manipulates, as a compromised or buggy IdP would.
const (
	TamperNone             = ""
	TamperWrongAudience    = "wrong-audience"
	TamperWrongDestination = "wrong-destination"
	TamperUnsigned         = "unsigned"
	TamperPlaintext        = "plaintext"
	TamperUnknownLevel     = "unknown-level"
	TamperNoLevel          = "no-level"
	TamperCancel           = "cancel"
	// TamperAESCBC is not an attack but an older IdP's habit: assertion
	// and NameID encrypted with AES-128-CBC instead of AES-GCM. The
	// adapter refuses it unless algorithms.allow_aes_cbc is set.
	TamperAESCBC = "aes-cbc"
)

// Options configure the simulator.
type Options struct {
	// BaseURL is where Handler is mounted (".../sim/nezo"); the entity ID
	// is BaseURL + "/metadata", the SSO endpoint BaseURL + "/sso".
	BaseURL string
	// SPMetadata returns the broker's SP metadata, as it would be uploaded
	// to ELSTER on onboarding (the out-of-band registration makes it
	// trusted; the simulator reads our keys and ACS from it).
	SPMetadata func(ctx context.Context) ([]byte, error)
	// Accounts default to DefaultAccounts.
	Accounts []Account
	// RSA makes the IdP sign with RSA-3072 RSASSA-PSS (as NEZO does);
	// false uses ECDSA P-256 (faster, for tests).
	RSA    bool
	Now    func() time.Time
	Logger *slog.Logger
}

// Sim is a simulated NEZO identity provider.
type Sim struct {
	base     string
	spMD     func(ctx context.Context) ([]byte, error)
	accounts []Account
	now      func() time.Time
	log      *slog.Logger

	caKey    crypto.Signer
	caCert   *x509.Certificate
	signKey  crypto.Signer
	signCert *x509.Certificate
	signAlg  string

	mu      sync.Mutex
	pending map[string]*Request
}

// New creates the simulator with fresh keys: a metadata CA (the trust
// anchor the adapter is configured with) and an IdP signing certificate
// issued by it.
func New(opts Options) (*Sim, error) {
	if opts.BaseURL == "" || opts.SPMetadata == nil {
		return nil, errors.New("nezosim: BaseURL and SPMetadata are required")
	}
	s := &Sim{base: strings.TrimRight(opts.BaseURL, "/"), spMD: opts.SPMetadata, accounts: opts.Accounts,
		now: opts.Now, log: opts.Logger, pending: map[string]*Request{}}
	if s.accounts == nil {
		s.accounts = DefaultAccounts()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if s.caKey, s.caCert, err = newCert("ELSTER NEZO Simulator Metadata CA", nil, nil, false, x509.KeyUsageCertSign, true); err != nil {
		return nil, err
	}
	if s.signKey, s.signCert, err = newCert("ELSTER NEZO Simulator IdP", s.caKey, s.caCert, opts.RSA, x509.KeyUsageDigitalSignature, false); err != nil {
		return nil, err
	}
	s.signAlg = xmlsec.SigECDSASHA256
	if opts.RSA {
		s.signAlg = xmlsec.SigRSAPSSSHA256
	}
	return s, nil
}

// EntityID is the simulated IdP's entity ID.
func (s *Sim) EntityID() string { return s.base + "/metadata" }

func (s *Sim) ssoURL() string { return s.base + "/sso" }

// TrustAnchor is the certificate the adapter must be configured with.
func (s *Sim) TrustAnchor() *x509.Certificate { return s.caCert }

// Accounts lists the test accounts.
func (s *Sim) Accounts() []Account { return s.accounts }

// AdapterConfig is an adapter configuration for this simulator with the
// given SP key material (trust and metadata in memory).
func (s *Sim) AdapterConfig(m *nezo.Material) *nezo.Config {
	c := nezo.NewConfig()
	mm := *m
	mm.TrustAnchors = []*x509.Certificate{s.caCert}
	mm.Metadata = func(context.Context) ([]byte, error) { return s.Metadata() }
	c.Material = &mm
	return c
}

// Metadata is the simulator's signed IdP metadata (valid for a day),
// signed by the IdP certificate, which chains to TrustAnchor.
func (s *Sim) Metadata() ([]byte, error) {
	ed := etree.NewElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", samlxml.NSMetadata)
	ed.CreateAttr("xmlns:ds", samlxml.NSDSig)
	ed.CreateAttr("ID", samlxml.NewID())
	ed.CreateAttr("entityID", s.EntityID())
	ed.CreateAttr("validUntil", samlxml.FormatTime(s.now().Add(24*time.Hour)))
	idp := ed.CreateElement("md:IDPSSODescriptor")
	idp.CreateAttr("WantAuthnRequestsSigned", "true")
	idp.CreateAttr("protocolSupportEnumeration", samlxml.ProtocolSAML2)
	samlxml.AddKeyDescriptor(idp, "signing", s.signCert)
	idp.CreateElement("md:NameIDFormat").SetText(samlxml.NameIDPersistent)
	for _, b := range []string{samlxml.BindingPOST, samlxml.BindingRedirect} {
		e := idp.CreateElement("md:SingleSignOnService")
		e.CreateAttr("Binding", b)
		e.CreateAttr("Location", s.ssoURL())
	}
	if err := xmlsec.Sign(ed, s.signKey, []*x509.Certificate{s.signCert}, s.signAlg); err != nil {
		return nil, err
	}
	return sp.Serialize(ed)
}

// Request is a verified AuthnRequest.
type Request struct {
	ID         string
	SP         string // the request's Issuer: our Audience
	ACS        string
	EncCert    *x509.Certificate
	RelayState string
	expires    time.Time
}

// spMetadata reads the registered SP metadata.
func (s *Sim) spMetadata(ctx context.Context) (*sp.Metadata, error) {
	b, err := s.spMD(ctx)
	if err != nil {
		return nil, fmt.Errorf("SP metadata: %w", err)
	}
	ents, err := sp.ParseMetadata(b)
	if err != nil {
		return nil, err
	}
	if len(ents) != 1 || ents[0].IDP || len(ents[0].SigningCerts) == 0 || len(ents[0].EncryptionCerts) == 0 {
		return nil, errors.New("SP metadata needs one SP entity with signing and encryption keys")
	}
	return ents[0], nil
}

// ReceiveRequest decodes and verifies an AuthnRequest in either binding
// against the registered SP metadata.
func (s *Sim) ReceiveRequest(r *http.Request) (*Request, error) {
	md, err := s.spMetadata(r.Context())
	if err != nil {
		return nil, err
	}
	var xmlBytes []byte
	var relay string
	post := r.Method == http.MethodPost
	if post {
		r.Body = http.MaxBytesReader(nil, r.Body, maxRequest)
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("form: %w", err)
		}
		if xmlBytes, err = base64.StdEncoding.DecodeString(r.PostForm.Get("SAMLRequest")); err != nil {
			return nil, errors.New("SAMLRequest is not base64")
		}
		relay = r.PostForm.Get("RelayState")
	} else if xmlBytes, relay, err = verifyRedirect(r.URL.RawQuery, md.SigningCerts); err != nil {
		return nil, err
	}
	doc, err := xmlsec.Parse(xmlBytes, xmlsec.Limits{MaxBytes: maxRequest})
	if err != nil {
		return nil, err
	}
	ar := doc.Root()
	if !samlxml.Is(ar, samlxml.NSProtocol, "AuthnRequest") {
		return nil, errors.New("not an AuthnRequest")
	}
	if post {
		if ar, _, err = xmlsec.Verify(ar, xmlsec.VerifyOptions{Trusted: md.SigningCerts, Now: s.now}); err != nil {
			return nil, fmt.Errorf("request signature: %w", err)
		}
	} else if samlxml.First(ar, samlxml.NSDSig, "Signature") != nil {
		return nil, errors.New("redirect binding: the XML must not carry a signature")
	}
	get := func(k string) string { return samlxml.AttrValue(ar, k) }
	iss := samlxml.First(ar, samlxml.NSAssertion, "Issuer")
	switch {
	case iss == nil || samlxml.Text(iss) != md.EntityID:
		return nil, errors.New("Issuer is not the registered SP")
	case get("Destination") != s.ssoURL():
		return nil, errors.New("Destination is not this IdP")
	case get("IsPassive") == "true":
		return nil, errors.New("IsPassive is not supported")
	case get("Version") != "2.0" || get("ID") == "":
		return nil, errors.New("Version or ID missing")
	}
	t, err := samlxml.ParseTime(get("IssueInstant"))
	if err != nil || s.now().Sub(t).Abs() > requestMaxAge {
		return nil, errors.New("IssueInstant missing or not recent")
	}
	req := &Request{ID: get("ID"), SP: md.EntityID, EncCert: md.EncryptionCerts[0], RelayState: relay}
	for _, e := range md.ACS {
		if e.Binding == samlxml.BindingPOST {
			req.ACS = e.Location
			break
		}
	}
	if req.ACS == "" {
		return nil, errors.New("SP metadata has no HTTP-POST AssertionConsumerService")
	}
	if acs := get("AssertionConsumerServiceURL"); acs != "" && acs != req.ACS {
		return nil, errors.New("AssertionConsumerServiceURL is not the registered ACS")
	}
	return req, nil
}

func verifyRedirect(rawQuery string, certs []*x509.Certificate) ([]byte, string, error) {
	// The signature covers the query parameters exactly as sent.
	var signed []string
	var sig, alg string
	for _, part := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "SAMLRequest", "RelayState":
			signed = append(signed, part)
		case "SigAlg":
			signed = append(signed, part)
			alg, _ = url.QueryUnescape(v)
		case "Signature":
			sig, _ = url.QueryUnescape(v)
		}
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil || sig == "" || alg == "" || len(signed) < 2 {
		return nil, "", errors.New("redirect binding: unsigned or malformed query")
	}
	sigBytes, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return nil, "", errors.New("redirect binding: signature is not base64")
	}
	data := []byte(strings.Join(signed, "&"))
	ok := false
	for _, c := range certs {
		if xmlsec.VerifyBytes(c.PublicKey, alg, data, sigBytes) == nil {
			ok = true
			break
		}
	}
	if !ok {
		return nil, "", errors.New("redirect binding: signature invalid")
	}
	deflated, err := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
	if err != nil {
		return nil, "", errors.New("redirect binding: SAMLRequest is not base64")
	}
	xmlBytes, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(deflated)), maxInflated+1))
	if err != nil || len(xmlBytes) > maxInflated {
		return nil, "", errors.New("redirect binding: SAMLRequest does not inflate")
	}
	return xmlBytes, q.Get("RelayState"), nil
}

// Account returns the test account with this ID.
func (s *Sim) Account(id string) (*Account, bool) {
	for i := range s.accounts {
		if s.accounts[i].ID == id {
			return &s.accounts[i], true
		}
	}
	return nil, false
}

// Respond builds the signed Response for req: the assertion (with the
// account's attributes and an EncryptedID) encrypted to the SP, the
// Response signed by the IdP, with the manipulation tamper applied.
func (s *Sim) Respond(req *Request, acct *Account, tamper string) ([]byte, error) {
	now := s.now()
	resp := etree.NewElement("saml2p:Response")
	resp.CreateAttr("xmlns:saml2p", samlxml.NSProtocol)
	resp.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	resp.CreateAttr("Destination", req.ACS)
	if tamper == TamperWrongDestination {
		resp.SelectAttr("Destination").Value = "https://other-sp.test.example/saml/acs"
	}
	resp.CreateAttr("ID", samlxml.NewID())
	resp.CreateAttr("InResponseTo", req.ID)
	resp.CreateAttr("IssueInstant", samlxml.FormatTime(now))
	resp.CreateAttr("Version", "2.0")
	iss := resp.CreateElement("saml2:Issuer")
	iss.CreateAttr("Format", samlxml.NameIDEntity)
	iss.SetText(s.EntityID())
	status := resp.CreateElement("saml2p:Status")
	sc := status.CreateElement("saml2p:StatusCode")
	if tamper == TamperCancel || acct == nil {
		sc.CreateAttr("Value", samlxml.StatusResponder)
		sc.CreateElement("saml2p:StatusCode").CreateAttr("Value", samlxml.StatusRequestDenied)
		status.CreateElement("saml2p:StatusMessage").SetText("Anmeldung abgebrochen")
	} else {
		sc.CreateAttr("Value", samlxml.StatusSuccess)
		as, err := s.assertion(req, acct, tamper, now)
		if err != nil {
			return nil, err
		}
		if tamper == TamperPlaintext {
			resp.AddChild(as)
		} else {
			ed, err := xmlsec.Encrypt(as, req.EncCert, encryptOptions(tamper))
			if err != nil {
				return nil, fmt.Errorf("encrypt assertion: %w", err)
			}
			resp.CreateElement("saml2:EncryptedAssertion").AddChild(ed)
		}
	}
	if tamper != TamperUnsigned {
		if err := xmlsec.Sign(resp, s.signKey, []*x509.Certificate{s.signCert}, s.signAlg); err != nil {
			return nil, fmt.Errorf("sign response: %w", err)
		}
	}
	return sp.Serialize(resp)
}

// encryptOptions: AES-256-GCM, or AES-128-CBC for TamperAESCBC.
func encryptOptions(tamper string) xmlsec.EncryptOptions {
	if tamper == TamperAESCBC {
		return xmlsec.EncryptOptions{DataAlgorithm: xmlsec.EncAES128CBC, AllowAESCBC: true}
	}
	return xmlsec.EncryptOptions{}
}

func (s *Sim) assertion(req *Request, acct *Account, tamper string, now time.Time) (*etree.Element, error) {
	as := etree.NewElement("saml2:Assertion")
	as.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	as.CreateAttr("xmlns:xsi", samlxml.NSXSI)
	as.CreateAttr("xmlns:xsd", "http://www.w3.org/2001/XMLSchema")
	as.CreateAttr("xmlns:ekona", NSEkona)
	as.CreateAttr("ID", samlxml.NewID())
	as.CreateAttr("IssueInstant", samlxml.FormatTime(now))
	as.CreateAttr("Version", "2.0")
	iss := as.CreateElement("saml2:Issuer")
	iss.CreateAttr("Format", samlxml.NameIDEntity)
	iss.SetText(s.EntityID())

	subj := as.CreateElement("saml2:Subject")
	nameID := etree.NewElement("saml2:NameID")
	nameID.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	nameID.CreateAttr("Format", samlxml.NameIDPersistent)
	nameID.SetText(acct.Pseudonym)
	if tamper == TamperPlaintext {
		nameID.RemoveAttr("xmlns:saml2")
		subj.AddChild(nameID)
	} else {
		ed, err := xmlsec.Encrypt(nameID, req.EncCert, encryptOptions(tamper))
		if err != nil {
			return nil, fmt.Errorf("encrypt NameID: %w", err)
		}
		subj.CreateElement("saml2:EncryptedID").AddChild(ed)
	}
	scn := subj.CreateElement("saml2:SubjectConfirmation")
	scn.CreateAttr("Method", samlxml.CMBearer)
	scd := scn.CreateElement("saml2:SubjectConfirmationData")
	scd.CreateAttr("InResponseTo", req.ID)
	scd.CreateAttr("NotOnOrAfter", samlxml.FormatTime(now.Add(answerTTL)))
	scd.CreateAttr("Recipient", req.ACS)

	cond := as.CreateElement("saml2:Conditions")
	cond.CreateAttr("NotBefore", samlxml.FormatTime(now.Add(-time.Minute)))
	cond.CreateAttr("NotOnOrAfter", samlxml.FormatTime(now.Add(answerTTL)))
	aud := req.SP
	if tamper == TamperWrongAudience {
		aud = "https://other-sp.test.example/saml/metadata"
	}
	cond.CreateElement("saml2:AudienceRestriction").CreateElement("saml2:Audience").SetText(aud)

	st := as.CreateElement("saml2:AuthnStatement")
	st.CreateAttr("AuthnInstant", samlxml.FormatTime(now))
	st.CreateAttr("SessionIndex", samlxml.NewID())
	st.CreateElement("saml2:AuthnContext").CreateElement("saml2:AuthnContextClassRef").SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:X509")

	stmt := as.CreateElement("saml2:AttributeStatement")
	str := func(name, v string) {
		if v == "" {
			return
		}
		a := stmt.CreateElement("saml2:Attribute")
		a.CreateAttr("Name", name)
		a.CreateAttr("NameFormat", "urn:oasis:names:tc:SAML:2.0:attrname-format:basic")
		av := a.CreateElement("saml2:AttributeValue")
		av.CreateAttr("xsi:type", "xsd:string")
		av.SetText(v)
	}
	typed := func(name, typ string, fields [][2]string) {
		a := stmt.CreateElement("saml2:Attribute")
		a.CreateAttr("Name", name)
		a.CreateAttr("NameFormat", "urn:oasis:names:tc:SAML:2.0:attrname-format:basic")
		av := a.CreateElement("saml2:AttributeValue")
		av.CreateAttr("xsi:type", "ekona:"+typ)
		for _, f := range fields {
			if f[1] != "" {
				av.CreateElement("ekona:" + f[0]).SetText(f[1])
			}
		}
	}
	addr := func(name string, a *Anschrift) {
		if a == nil {
			return
		}
		typed(name, "addresseType", [][2]string{{"Strasse", a.Strasse}, {"Hausnummer", a.Hausnummer}, {"PLZ", a.PLZ},
			{"Ort", a.Ort}, {"Ortsteil", a.Ortsteil}, {"Adressergaenzung", a.Adressergaenzung}, {"Land", a.Land}, {"Typ", "Inland"}})
	}
	want := s.requested(req)
	put := func(name string, f func()) {
		if want == nil || want[name] {
			f()
		}
	}
	str(nezo.AttrPseudonym, acct.Pseudonym)
	switch tamper {
	case TamperNoLevel:
	case TamperUnknownLevel:
		str(nezo.AttrLevel, "normal")
	default:
		str(nezo.AttrLevel, acct.Level)
	}
	put(nezo.AttrIstTestkonto, func() { str(nezo.AttrIstTestkonto, fmt.Sprint(acct.Testkonto)) })
	p := acct.Person
	if acct.Company == nil {
		put(nezo.AttrVorname, func() { str(nezo.AttrVorname, p.Vorname) })
		put(nezo.AttrName, func() { str(nezo.AttrName, p.Name) })
		put(nezo.AttrGeburtsdatum, func() { str(nezo.AttrGeburtsdatum, p.Geburtsdatum) })
		put(nezo.AttrGeburtsname, func() { str(nezo.AttrGeburtsname, p.Geburtsname) })
		put(nezo.AttrAkademischerGrad, func() { str(nezo.AttrAkademischerGrad, p.AkademischerGrad) })
		put(nezo.AttrAnschrift, func() { addr(nezo.AttrAnschrift, p.Anschrift) })
		return as, nil
	}
	c := acct.Company
	put(nezo.AttrHandelndePerson, func() {
		typed(nezo.AttrHandelndePerson, "HandelndePersonType", [][2]string{{"Vorname", p.Vorname}, {"Name", p.Name}, {"Geburtsdatum", p.Geburtsdatum}})
	})
	put(nezo.AttrFirmenname, func() { str(nezo.AttrFirmenname, c.Firmenname) })
	put(nezo.AttrStNr, func() { str(nezo.AttrStNr, c.StNr) })
	put(nezo.AttrUmsatzsteuerID, func() { str(nezo.AttrUmsatzsteuerID, c.UmsatzsteuerID) })
	put(nezo.AttrRechtsform, func() { str(nezo.AttrRechtsform, c.Rechtsform) })
	put(nezo.AttrRechtsformText, func() { str(nezo.AttrRechtsformText, c.RechtsformText) })
	put(nezo.AttrRegisterart, func() { str(nezo.AttrRegisterart, c.Registerart) })
	put(nezo.AttrRegisternummer, func() { str(nezo.AttrRegisternummer, c.Registernummer) })
	put(nezo.AttrRegistergericht, func() { str(nezo.AttrRegistergericht, c.Registergericht) })
	put(nezo.AttrUnternehmensanschrift, func() { addr(nezo.AttrUnternehmensanschrift, &c.Anschrift) })
	return as, nil
}

// requested are the attributes the SP registered (its metadata's
// AttributeConsumingService); nil means no list, release everything.
func (s *Sim) requested(_ *Request) map[string]bool {
	b, err := s.spMD(context.Background())
	if err != nil {
		return nil
	}
	ents, err := sp.ParseMetadata(b)
	if err != nil || len(ents) != 1 || len(ents[0].RequestedAttributes) == 0 {
		return nil
	}
	out := map[string]bool{}
	for _, ra := range ents[0].RequestedAttributes {
		out[ra.Name] = true
	}
	return out
}

func (s *Sim) store(r *Request) (string, error) {
	key := samlxml.NewID()
	now := s.now()
	r.expires = now.Add(pendingTTL)
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.pending {
		if now.After(v.expires) {
			delete(s.pending, k)
		}
	}
	if len(s.pending) >= maxPending {
		return "", errors.New("too many pending requests")
	}
	s.pending[key] = r
	return key, nil
}

func (s *Sim) take(key string) *Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.pending[key]
	delete(s.pending, key)
	if r == nil || s.now().After(r.expires) {
		return nil
	}
	return r
}

// GenerateMaterial creates SP key material for the adapter (demo and
// tests): separate signing and encryption keys, RSA-3072 or EC P-256.
func GenerateMaterial(useRSA bool) (*nezo.Material, error) {
	sk, sc, err := newCert("Broker NEZO SP signing (demo)", nil, nil, useRSA, x509.KeyUsageDigitalSignature, false)
	if err != nil {
		return nil, err
	}
	ek, ec, err := newCert("Broker NEZO SP encryption (demo)", nil, nil, useRSA, x509.KeyUsageKeyEncipherment|x509.KeyUsageKeyAgreement, false)
	if err != nil {
		return nil, err
	}
	return &nezo.Material{SigningKey: sk, SigningCert: sc, DecryptionKey: ek, EncryptionCert: ec}, nil
}

// newCert makes a key and a certificate, self-signed or issued by parent.
func newCert(cn string, parentKey crypto.Signer, parent *x509.Certificate, useRSA bool, usage x509.KeyUsage, isCA bool) (crypto.Signer, *x509.Certificate, error) {
	var key crypto.Signer
	var err error
	if useRSA {
		key, err = rsa.GenerateKey(rand.Reader, 3072)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return nil, nil, err
	}
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn, Subject: pkix.Name{CommonName: cn, Country: []string{"DE"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(2, 0, 0),
		KeyUsage: usage, BasicConstraintsValid: true, IsCA: isCA,
	}
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}
