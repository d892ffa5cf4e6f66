package eidas

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// ApplicationIdentifier is published as the eIDAS application-identifier
// entity attribute (vendor:software:version).
const ApplicationIdentifier = "ozg-broker:eidas-broker:1.0"

// ProtocolVersions are the eIDAS message format versions we speak, newest
// first, as published in the protocol-version entity attribute.
var ProtocolVersions = []string{"1.4", "1.3", "1.2"}

// Routes implements adapters.Router. The broker mounts the handler at
// /saml/connector/ with that prefix stripped:
//
//	GET  /metadata  our signed connector metadata
//	POST /acs       the assertion consumer service published in metadata
//
// SAML needs one fixed ACS URL in metadata, while the broker receives each
// login's answer at its own callback (/login/cb/{ref}). The ACS therefore
// forwards: it reads RelayState (which Begin set to the transaction
// reference), checks its syntax strictly, and answers 307, which makes the
// browser repeat the same POST, body included, at the callback. Nothing is
// verified here; Finish does all checks with the login's state.
func (a *Adapter) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata", a.serveMetadata)
	mux.HandleFunc("POST /acs", a.serveACS)
	return mux
}

func (a *Adapter) serveMetadata(w http.ResponseWriter, _ *http.Request) {
	b, err := a.Metadata()
	if err != nil {
		a.log.Error("eidas connector metadata", "err", err)
		http.Error(w, "metadata unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}

func (a *Adapter) serveACS(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	rs := r.PostForm["RelayState"]
	if len(rs) != 1 || !relayStateRE.MatchString(rs[0]) || len(r.PostForm["SAMLResponse"]) != 1 {
		a.log.Warn("eidas ACS: POST without a usable RelayState or SAMLResponse")
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, a.baseURL+"/login/cb/"+rs[0], http.StatusTemporaryRedirect)
}

// Metadata returns our signed connector metadata. It is regenerated (new
// ID, new validUntil) once half of its validity has passed.
func (a *Adapter) Metadata() ([]byte, error) {
	a.metaMu.Lock()
	defer a.metaMu.Unlock()
	now := a.now()
	validity := a.cfg.MetadataValidity.D()
	if a.metaBytes != nil && now.Before(a.metaFresh.Add(validity/2)) && !now.Before(a.metaFresh) {
		return a.metaBytes, nil
	}
	b, err := a.buildMetadata(now, now.Add(validity))
	if err != nil {
		return nil, err
	}
	a.metaBytes, a.metaFresh = b, now
	return b, nil
}

func (a *Adapter) buildMetadata(now, until time.Time) ([]byte, error) {
	ed := etree.NewElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", samlxml.NSMetadata)
	ed.CreateAttr("xmlns:ds", samlxml.NSDSig)
	ed.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	ed.CreateAttr("xmlns:eidas", samlxml.NSEIDAS)
	ed.CreateAttr("ID", samlxml.NewID())
	ed.CreateAttr("entityID", a.entityID)
	ed.CreateAttr("validUntil", samlxml.FormatTime(until))

	ext := ed.CreateElement("md:Extensions")
	ea := ext.CreateElement("mdattr:EntityAttributes")
	ea.CreateAttr("xmlns:mdattr", samlxml.NSMDAttr)
	samlxml.AddEntityAttribute(ea, samlxml.EntityAttrProtocolVersion, ProtocolVersions...)
	samlxml.AddEntityAttribute(ea, samlxml.EntityAttrApplicationID, ApplicationIdentifier)
	for _, d := range []string{xmlsec.DigestSHA256, xmlsec.DigestSHA384, xmlsec.DigestSHA512} {
		dm := ext.CreateElement("alg:DigestMethod")
		dm.CreateAttr("xmlns:alg", samlxml.NSAlgSupport)
		dm.CreateAttr("Algorithm", d)
	}
	for _, s := range []string{xmlsec.SigECDSASHA256, xmlsec.SigECDSASHA384, xmlsec.SigECDSASHA512} {
		sm := ext.CreateElement("alg:SigningMethod")
		sm.CreateAttr("xmlns:alg", samlxml.NSAlgSupport)
		sm.CreateAttr("Algorithm", s)
		sm.CreateAttr("MinKeySize", fmt.Sprint(xmlsec.MinECBits))
	}
	for _, s := range []string{xmlsec.SigRSAPSSSHA256, xmlsec.SigRSAPSSSHA384, xmlsec.SigRSAPSSSHA512} {
		sm := ext.CreateElement("alg:SigningMethod")
		sm.CreateAttr("xmlns:alg", samlxml.NSAlgSupport)
		sm.CreateAttr("Algorithm", s)
		sm.CreateAttr("MinKeySize", fmt.Sprint(xmlsec.MinRSABits))
	}

	sp := ed.CreateElement("md:SPSSODescriptor")
	sp.CreateAttr("AuthnRequestsSigned", "true")
	sp.CreateAttr("WantAssertionsSigned", "false")
	sp.CreateAttr("protocolSupportEnumeration", samlxml.ProtocolSAML2)
	spExt := sp.CreateElement("md:Extensions")
	spExt.CreateElement("eidas:NodeCountry").SetText(a.cfg.NodeCountry)
	if a.cfg.SPTypeIn == SPTypeInMetadata {
		spExt.CreateElement("eidas:SPType").SetText(a.cfg.SPType)
	}
	samlxml.AddKeyDescriptor(sp, "signing", a.signCert)
	var encMethods []string
	switch a.encCert.PublicKey.(type) {
	case *rsa.PublicKey:
		encMethods = []string{xmlsec.EncAES256GCM, xmlsec.EncAES128GCM, xmlsec.EncAES192GCM, xmlsec.KeyTransportRSAOAEP}
	case *ecdsa.PublicKey:
		encMethods = []string{xmlsec.EncAES256GCM, xmlsec.EncAES128GCM, xmlsec.EncAES192GCM, xmlsec.KeyAgreementECDHES, xmlsec.KeyWrapAES256, xmlsec.KeyWrapAES128}
	}
	samlxml.AddKeyDescriptor(sp, "encryption", a.encCert, encMethods...)
	for _, f := range []string{samlxml.NameIDPersistent, samlxml.NameIDTransient, samlxml.NameIDUnspecified} {
		sp.CreateElement("md:NameIDFormat").SetText(f)
	}
	acs := sp.CreateElement("md:AssertionConsumerService")
	acs.CreateAttr("Binding", samlxml.BindingPOST)
	acs.CreateAttr("Location", a.acsURL)
	acs.CreateAttr("index", "0")
	acs.CreateAttr("isDefault", "true")

	if o := a.cfg.Organization; o.Name != "" {
		org := ed.CreateElement("md:Organization")
		for _, kv := range [][2]string{{"md:OrganizationName", o.Name}, {"md:OrganizationDisplayName", orDefault(o.DisplayName, o.Name)}, {"md:OrganizationURL", o.URL}} {
			if kv[1] == "" {
				continue
			}
			e := org.CreateElement(kv[0])
			e.CreateAttr("xml:lang", "en")
			e.SetText(kv[1])
		}
	}
	for _, c := range [][2]string{{"support", a.cfg.Organization.SupportEmail}, {"technical", a.cfg.Organization.TechnicalEmail}} {
		if c[1] == "" {
			continue
		}
		cp := ed.CreateElement("md:ContactPerson")
		cp.CreateAttr("contactType", c[0])
		cp.CreateElement("md:EmailAddress").SetText("mailto:" + strings.TrimPrefix(c[1], "mailto:"))
	}

	if err := xmlsec.Sign(ed, a.signer, []*x509.Certificate{a.signCert}, a.signAlg); err != nil {
		return nil, fmt.Errorf("sign metadata: %w", err)
	}
	return serialize(ed)
}

func orDefault(v, d string) string {
	if v != "" {
		return v
	}
	return d
}
