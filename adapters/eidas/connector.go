package eidas

import (
	"fmt"
	"net/http"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
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
	mux.HandleFunc("POST /acs", sp.ForwardACS(a.baseURL, a.log, "eidas"))
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
	b, err := a.buildMetadata(now.Add(validity))
	if err != nil {
		return nil, err
	}
	a.metaBytes, a.metaFresh = b, now
	return b, nil
}

func (a *Adapter) buildMetadata(until time.Time) ([]byte, error) {
	o := a.cfg.Organization
	m := sp.SPMetadata{
		EntityID:       a.entityID,
		ACSURL:         a.acsURL,
		Signer:         sp.Signer{Key: a.signer, Cert: a.signCert, Alg: a.signAlg},
		EncryptionCert: a.encCert,
		NameIDFormats:  []string{samlxml.NameIDPersistent, samlxml.NameIDTransient, samlxml.NameIDUnspecified},
		ID:             samlxml.NewID(),
		ValidUntil:     until,
		Organization:   sp.Organization{Name: o.Name, DisplayName: o.DisplayName, URL: o.URL, SupportEmail: o.SupportEmail, TechnicalEmail: o.TechnicalEmail},
		EntityExtensions: func(ext *etree.Element) {
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
		},
		RoleExtensions: func(ext *etree.Element) {
			ext.CreateElement("eidas:NodeCountry").SetText(a.cfg.NodeCountry)
			if a.cfg.SPTypeIn == SPTypeInMetadata {
				ext.CreateElement("eidas:SPType").SetText(a.cfg.SPType)
			}
		},
	}
	return m.Build()
}
