package eidas

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// relayStateRE is what we accept as RelayState (the SP core's rule).
var relayStateRE = sp.RelayStateRE

const stateVersion = 1

// loginState is what Begin hands the broker to keep until Finish. It binds
// the answer to this request: the ID the Response must answer, the country
// whose keys must have signed it, the level asked for and the attributes
// whose absence makes the answer unusable.
type loginState struct {
	V        int      `json:"v"`
	ID       string   `json:"id"`
	Country  string   `json:"c"`
	Floor    string   `json:"f"`
	Exact    bool     `json:"x,omitempty"`
	Issued   int64    `json:"t"`
	Ref      string   `json:"r"`
	Attrs    []string `json:"a"`           // requested Name URIs
	Required []string `json:"q,omitempty"` // those with isRequired="true"
}

// Begin implements adapters.Adapter: it builds a signed eIDAS AuthnRequest
// for the chosen country and hands the browser to the proxy-service with
// HTTP-POST (preferred) or HTTP-Redirect, whichever its metadata offers.
func (a *Adapter) Begin(_ context.Context, req adapters.Request) (adapters.Handoff, []byte, error) {
	c := a.byCode[samlxml.CountryCode(req.Option)]
	if c == nil {
		return adapters.Handoff{}, nil, fmt.Errorf("eidas: begin: %w: %q", ErrUnknownCountry, samlxml.Truncate(req.Option, 8))
	}
	now := a.now()
	_, sso, err := c.usable(now)
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("eidas: begin: %w", err)
	}
	floor := req.MinLevel
	if floor == assurance.Unspecified {
		floor = assurance.Low
	}
	if !c.level.Satisfies(floor) {
		return adapters.Handoff{}, nil, fmt.Errorf("eidas: begin: %w: %s offers %s, %s required", ErrLevelUnreachable, c.code, c.level, floor)
	}
	if !relayStateRE.MatchString(req.Ref) {
		return adapters.Handoff{}, nil, fmt.Errorf("eidas: begin: %w: transaction reference unusable as RelayState", ErrState)
	}
	id := samlxml.NewID()
	attrs := a.selectAttributes(req.Claims)
	el := a.authnRequest(id, sso.Location, floor, attrs, now)

	st := loginState{V: stateVersion, ID: id, Country: c.code, Floor: floor.String(), Exact: !floor.Notified(), Issued: now.Unix(), Ref: req.Ref}
	for _, r := range attrs {
		st.Attrs = append(st.Attrs, r.def.Name)
		if r.required {
			st.Required = append(st.Required, r.def.Name)
		}
	}
	state, err := json.Marshal(st)
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("eidas: begin: state: %w", err)
	}

	h, err := sp.Handoff(el, sso, req.Ref, sp.Signer{Key: a.signer, Cert: a.signCert, Alg: a.signAlg})
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("eidas: begin: %w", err)
	}
	a.log.Debug("eidas request issued", "country", c.code, "binding", sso.Binding, "floor", floor.String())
	return h, state, nil
}

// selectAttributes applies data minimisation: required attributes always,
// optional ones only when the portal may receive and asked for their claim.
func (a *Adapter) selectAttributes(claims []string) []requested {
	// A language-tagged claim ("birth_name#el", OIDC Core §5.2) asks for
	// the same attribute as its claim.
	base := make([]string, len(claims))
	for i, c := range claims {
		base[i], _, _ = strings.Cut(c, "#")
	}
	var out []requested
	for _, r := range a.requested {
		if r.required || slices.Contains(base, r.def.Claim) {
			out = append(out, r)
		}
	}
	return out
}

// authnRequest builds the unsigned eIDAS v1.4 AuthnRequest.
func (a *Adapter) authnRequest(id, destination string, floor assurance.Level, attrs []requested, now time.Time) *etree.Element {
	ar := etree.NewElement("saml2p:AuthnRequest")
	ar.CreateAttr("xmlns:saml2p", samlxml.NSProtocol)
	ar.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	ar.CreateAttr("xmlns:eidas", samlxml.NSEIDAS)
	ar.CreateAttr("Destination", destination)
	ar.CreateAttr("ForceAuthn", "true")
	ar.CreateAttr("ID", id)
	ar.CreateAttr("IsPassive", "false")
	ar.CreateAttr("IssueInstant", samlxml.FormatTime(now))
	if a.cfg.ProviderName != "" {
		ar.CreateAttr("ProviderName", a.cfg.ProviderName)
	}
	ar.CreateAttr("Version", samlVersion)
	iss := ar.CreateElement("saml2:Issuer")
	iss.CreateAttr("Format", samlxml.NameIDEntity)
	iss.SetText(a.entityID)

	ext := ar.CreateElement("saml2p:Extensions")
	if a.cfg.SPTypeIn == SPTypeInRequest {
		ext.CreateElement("eidas:SPType").SetText(a.cfg.SPType)
	}
	ras := ext.CreateElement("eidas:RequestedAttributes")
	for _, r := range attrs {
		ra := ras.CreateElement("eidas:RequestedAttribute")
		ra.CreateAttr("FriendlyName", r.def.FriendlyName)
		ra.CreateAttr("Name", r.def.Name)
		ra.CreateAttr("NameFormat", samlxml.AttrNameFormatURI)
		ra.CreateAttr("isRequired", fmt.Sprint(r.required))
	}

	nip := ar.CreateElement("saml2p:NameIDPolicy")
	nip.CreateAttr("AllowCreate", "true")
	nip.CreateAttr("Format", a.nameID)

	rac := ar.CreateElement("saml2p:RequestedAuthnContext")
	if floor.Notified() {
		// A notified level with "minimum" accepts that level or higher.
		rac.CreateAttr("Comparison", "minimum")
	} else {
		// Non-notified levels are not ordered: eIDAS requires "exact".
		rac.CreateAttr("Comparison", "exact")
	}
	rac.CreateElement("saml2:AuthnContextClassRef").SetText(floor.URI())

	if a.cfg.RequesterID != "" {
		ar.CreateElement("saml2p:Scoping").CreateElement("saml2p:RequesterID").SetText(a.cfg.RequesterID)
	}
	return ar
}

// serialize writes a (signed) message as a document with an XML
// declaration (sp.Serialize).
func serialize(el *etree.Element) ([]byte, error) { return sp.Serialize(el) }

// SignRaw signs data with an eIDAS signature method URI (RSASSA-PSS with
// salt length = hash length, or ECDSA returning raw r‖s). It is used for
// the HTTP-Redirect binding, where the signature is not an XML signature.
func SignRaw(signer crypto.Signer, sigAlg string, data []byte) ([]byte, error) {
	return xmlsec.SignBytes(signer, sigAlg, data)
}

// VerifyRaw checks a signature made by SignRaw. For ECDSA it accepts raw
// r‖s and, because some implementations of the HTTP-Redirect binding send
// the ASN.1 form, a DER SEQUENCE as well.
func VerifyRaw(pub crypto.PublicKey, sigAlg string, data, sig []byte) error {
	return xmlsec.VerifyBytes(pub, sigAlg, data, sig)
}
