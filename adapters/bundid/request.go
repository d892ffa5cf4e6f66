package bundid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
)

const stateVersion = 1

// loginState binds an answer to its request.
type loginState struct {
	V        int      `json:"v"`
	ID       string   `json:"id"`
	Issued   int64    `json:"t"`
	Ref      string   `json:"r"`
	Floor    string   `json:"f"`
	Asked    string   `json:"q"` // the level value requested
	Attrs    []string `json:"a"` // requested attribute names
	Required []string `json:"m,omitempty"`
}

// Errors of Begin and Finish.
var (
	ErrState       = errors.New("bundid: login state unusable")
	ErrUnreachable = errors.New("bundid: no configured level value reaches the floor")
	ErrLevel       = errors.New("bundid: level value not in the level table")
	ErrSubject     = errors.New("bundid: subject missing or ambiguous")
	ErrMissing     = errors.New("bundid: required attribute missing")
)

// requestedLevel is the lowest table value whose level meets floor.
func (a *Adapter) requestedLevel(floor assurance.Level) (LevelEntry, bool) {
	for _, l := range a.levelOrder {
		if floor == assurance.Unspecified || l.Level.Satisfies(floor) {
			return l, true
		}
	}
	return LevelEntry{}, false
}

// claimOf names the portal claim an attribute serves (address.* → address).
func claimOf(c string) string {
	if strings.HasPrefix(c, "address.") {
		return "address"
	}
	return c
}

// requested is the attribute list of one request: the protocol attributes,
// every required attribute, and an optional one only when the portal may
// receive and asked for its claim (data minimisation; for BundID it also
// keeps the postbox handle, which hides the temporary login, out of
// requests that do not need it).
func (a *Adapter) requested(claims []string) (names, required []string) {
	add := func(n string, req bool) {
		if n == "" || slices.Contains(names, n) {
			return
		}
		names = append(names, n)
		if req {
			required = append(required, n)
		}
	}
	add(a.subjectAttr, true)
	add(a.levelAttr, false)
	add(a.methodAttr, false)
	for _, at := range a.attributes {
		if at.Required || slices.Contains(claims, claimOf(at.Claim)) {
			add(at.Name, at.Required)
		}
	}
	return names, required
}

// displayFor picks the display information for the login's client and
// services: a client-and-service entry, then a client entry, then the
// default; each empty field falls through to the next.
func (a *Adapter) displayFor(client string, services []string) DisplayEntry {
	var chain []DisplayEntry
	if client != "" {
		for _, s := range services {
			for _, d := range a.display.PerService {
				if d.Client == client && d.Service == s {
					chain = append(chain, d)
				}
			}
		}
		for _, d := range a.display.PerService {
			if d.Client == client && d.Service == "" {
				chain = append(chain, d)
			}
		}
	}
	chain = append(chain, a.display.Default)
	var out DisplayEntry
	for _, d := range chain {
		if out.OrganizationDisplayName == "" {
			out.OrganizationDisplayName = d.OrganizationDisplayName
		}
		if out.OnlineServiceID == "" {
			out.OnlineServiceID = d.OnlineServiceID
		}
	}
	return out
}

// Begin implements adapters.Adapter: a signed AuthnRequest (with the AKDB
// extension for BundID) by HTTP-POST or HTTP-Redirect.
func (a *Adapter) Begin(_ context.Context, req adapters.Request) (adapters.Handoff, []byte, error) {
	if !sp.RelayStateRE.MatchString(req.Ref) {
		return adapters.Handoff{}, nil, fmt.Errorf("%w: transaction reference unusable as RelayState", ErrState)
	}
	_, sso, err := a.peer.Usable()
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("%s: begin: %w", a.typ, err)
	}
	asked, ok := a.requestedLevel(req.MinLevel)
	if !ok || asked.Level.Notified() && !a.maxLevel.Satisfies(asked.Level) {
		return adapters.Handoff{}, nil, fmt.Errorf("%w: %s", ErrUnreachable, req.MinLevel)
	}
	now := a.now()
	id := samlxml.NewID()
	names, required := a.requested(req.Claims)
	el := a.authnRequest(id, sso.Location, asked, names, required, req, now)
	h, err := sp.Handoff(el, sso, req.Ref, a.o.signer)
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("%s: begin: %w", a.typ, err)
	}
	st := loginState{V: stateVersion, ID: id, Issued: now.Unix(), Ref: req.Ref, Floor: req.MinLevel.String(),
		Asked: asked.Value, Attrs: names, Required: required}
	raw, err := json.Marshal(st)
	if err != nil {
		return adapters.Handoff{}, nil, err
	}
	a.log.Debug("authn request issued", "binding", sso.Binding, "asked", asked.Value)
	return h, raw, nil
}

// authnRequest builds the unsigned AuthnRequest.
func (a *Adapter) authnRequest(id, destination string, asked LevelEntry, names, required []string, req adapters.Request, now time.Time) *etree.Element {
	ar := etree.NewElement("saml2p:AuthnRequest")
	ar.CreateAttr("xmlns:saml2p", samlxml.NSProtocol)
	ar.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	ar.CreateAttr("AssertionConsumerServiceURL", a.acsURL)
	ar.CreateAttr("Destination", destination)
	// Interoperable accounts must not reuse a session (TR-03160-1): the
	// person authenticates for this request.
	ar.CreateAttr("ForceAuthn", "true")
	ar.CreateAttr("ID", id)
	ar.CreateAttr("IssueInstant", samlxml.FormatTime(now))
	ar.CreateAttr("ProtocolBinding", samlxml.BindingPOST)
	ar.CreateAttr("Version", "2.0")
	ar.CreateElement("saml2:Issuer").SetText(a.entityID)
	if a.profile == ProfileBundID {
		a.akdbExtension(ar.CreateElement("saml2p:Extensions"), asked.Level, names, required, req)
	}
	nip := ar.CreateElement("saml2p:NameIDPolicy")
	nip.CreateAttr("AllowCreate", "true")
	if a.subjectAttr == "" {
		nip.CreateAttr("Format", samlxml.NameIDPersistent)
	} else {
		nip.CreateAttr("Format", samlxml.NameIDTransient)
	}
	rac := ar.CreateElement("saml2p:RequestedAuthnContext")
	rac.CreateAttr("Comparison", "minimum")
	rac.CreateElement("saml2:AuthnContextClassRef").SetText(asked.Value)
	return ar
}

// akdbExtension writes akdb:AuthenticationRequest Version 2: the means
// able to reach the requested level enabled and the others disabled, the
// requested attributes with their RequiredAttribute flag, and the display
// information of the login's service.
func (a *Adapter) akdbExtension(ext *etree.Element, level assurance.Level, names, required []string, req adapters.Request) {
	ar := ext.CreateElement("akdb:AuthenticationRequest")
	ar.CreateAttr("xmlns:akdb", NSAKDB)
	ar.CreateAttr("Version", AKDBVersion)
	if len(a.methods) > 0 {
		ms := ar.CreateElement("akdb:AuthnMethods")
		for _, name := range AuthnMethods { // the extension's order
			i := slices.IndexFunc(a.methods, func(m MethodEntry) bool { return m.Name == name })
			if i < 0 {
				continue
			}
			m := a.methods[i]
			enabled := m.Level != assurance.Unspecified && m.Level.Satisfies(level)
			ms.CreateElement("akdb:" + name).CreateElement("akdb:Enabled").SetText(fmt.Sprint(enabled))
		}
	}
	ras := ar.CreateElement("akdb:RequestedAttributes")
	for _, n := range names {
		ra := ras.CreateElement("akdb:RequestedAttribute")
		ra.CreateAttr("Name", n)
		ra.CreateAttr("RequiredAttribute", fmt.Sprint(slices.Contains(required, n)))
	}
	d := a.displayFor(req.ClientID, req.Services)
	v := ar.CreateElement("akdb:DisplayInformation").CreateElement("classic-ui:Version")
	v.CreateAttr("xmlns:classic-ui", NSClassicUI)
	v.CreateElement("classic-ui:OrganizationDisplayName").SetText(d.OrganizationDisplayName)
	lang := "de"
	if req.Locale == "en" {
		lang = "en"
	}
	v.CreateElement("classic-ui:Lang").SetText(lang)
	if d.OnlineServiceID != "" {
		v.CreateElement("classic-ui:OnlineServiceId").SetText(d.OnlineServiceID)
	}
}
