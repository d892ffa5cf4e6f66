package eidassim

import (
	"bytes"
	"compress/flate"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters/eidas"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

const (
	maxRequest    = 256 << 10
	maxInflated   = 1 << 20
	pendingTTL    = 15 * time.Minute
	maxPending    = 1000
	requestMaxAge = 5 * time.Minute
)

// Manipulations the page offers to show that the connector refuses
// tampered answers (the simulator signs them, as a compromised or buggy
// node would).
const (
	TamperNone      = ""
	TamperLowerLoA  = "loa-low"
	TamperForeignID = "foreign-id"
	// TamperISOCountry is no attack: it writes the PersonIdentifier with
	// the ISO code ("GR/…" for Greece, where eIDAS says "EL/…"), as some
	// nodes do; the connector must accept it as the same country. Tests
	// use it; the page does not offer it.
	TamperISOCountry = "iso-country"
)

// pending is a verified AuthnRequest waiting for the person's choice.
type pending struct {
	country    string
	requestID  string
	connector  string // the request's Issuer (our Audience)
	acs        string
	encCert    *x509.Certificate
	nodeCC     string          // the connector's NodeCountry
	attrs      map[string]bool // requested Name URIs → isRequired
	loa        assurance.Level
	exact      bool
	relayState string
	legal      bool
	nameID     string
	expires    time.Time
}

// Handler serves the simulated proxy-services (mount it at BaseURL's path
// with the prefix stripped):
//
//	GET  /{CC}/metadata      signed metadata of country CC
//	POST /{CC}/sso           AuthnRequest, HTTP-POST binding
//	GET  /{CC}/sso           AuthnRequest, HTTP-Redirect binding
//	POST /{CC}/answer        the person's choice → auto-POST to the ACS
//	GET  /static/autopost.js the script that submits the auto-POST form
//	GET  /static/sim.css
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{cc}/metadata", s.serveMetadata)
	mux.HandleFunc("POST /{cc}/sso", s.serveSSO)
	mux.HandleFunc("GET /{cc}/sso", s.serveSSO)
	mux.HandleFunc("POST /{cc}/answer", s.serveAnswer)
	mux.HandleFunc("GET /static/autopost.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = io.WriteString(w, autopostJS)
	})
	mux.HandleFunc("GET /static/sim.css", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = io.WriteString(w, simCSS)
	})
	return mux
}

func (s *Sim) serveMetadata(w http.ResponseWriter, r *http.Request) {
	b, err := s.Metadata(r.PathValue("cc"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(b)
}

func (s *Sim) serveSSO(w http.ResponseWriter, r *http.Request) {
	c := s.country(r.PathValue("cc"))
	if c == nil {
		http.NotFound(w, r)
		return
	}
	p, err := s.receiveRequest(r, c.Code)
	if err != nil {
		s.log.Warn("eidassim: AuthnRequest refused", "country", c.Code, "err", err)
		s.page(w, http.StatusBadRequest, "error", map[string]any{"Country": c, "Error": err.Error()}, "")
		return
	}
	if !c.Level.Satisfies(p.loa) || p.exact && c.Level != p.loa {
		// The country cannot reach the requested level: answer with a SAML
		// error, as a proxy-service does.
		s.answer(w, r, c, p, nil, TamperNone, &Status{Top: samlxml.StatusRequester, Sub: samlxml.StatusNoAuthnContext, Message: "Requested level of assurance not supported"})
		return
	}
	key, err := s.store(p)
	if err != nil {
		http.Error(w, "simulator busy", http.StatusServiceUnavailable)
		return
	}
	s.choosePage(w, c, p, key)
}

// choosePage writes the page on which the person picks a test citizen
// for the pending request p stored under key.
func (s *Sim) choosePage(w http.ResponseWriter, c *Country, p *pending, key string) {
	var people []Citizen
	for _, ct := range c.Citizens {
		if !p.legal || ct.Company != nil {
			people = append(people, ct)
		}
	}
	var reqNames []string
	for n := range p.attrs {
		reqNames = append(reqNames, n[strings.LastIndex(n, "/")+1:])
	}
	slices.Sort(reqNames)
	attrs := strings.Join(reqNames, ", ")
	data := map[string]any{
		"Country": c, "Key": markKey, "People": people, "Legal": p.legal, "LoA": p.loa.String(),
		"Attrs": attrs, "Connector": p.connector,
	}
	// People follow from the country and Legal.
	parts, ok := s.cutPage(fmt.Sprintf("choose\x00%s\x00%t\x00%s\x00%s\x00%s", c.Code, p.legal, p.loa, attrs, p.connector), "choose", data, []string{markKey})
	if !ok {
		data["Key"] = key
		s.page(w, http.StatusOK, "choose", data, "")
		return
	}
	s.writePage(w, http.StatusOK, []byte(parts[0]+html.EscapeString(key)+parts[1]), "")
}

// receiveRequest decodes and verifies an AuthnRequest in either binding.
func (s *Sim) receiveRequest(r *http.Request, cc string) (*pending, error) {
	md, err := s.connector(r.Context())
	if err != nil {
		return nil, err
	}
	var xmlBytes []byte
	var relay string
	post := r.Method == http.MethodPost
	if post {
		if err := sp.ParsePostForm(r, maxRequest); err != nil {
			return nil, fmt.Errorf("form: %w", err)
		}
		if xmlBytes, err = base64.StdEncoding.DecodeString(r.PostForm.Get("SAMLRequest")); err != nil {
			return nil, errors.New("SAMLRequest is not base64")
		}
		relay = r.PostForm.Get("RelayState")
	} else {
		if xmlBytes, relay, err = verifyRedirect(r.URL.RawQuery, md.SigningCerts); err != nil {
			return nil, err
		}
	}
	doc, err := xmlsec.Parse(xmlBytes, xmlsec.Limits{MaxBytes: maxRequest})
	if err != nil {
		return nil, err
	}
	ar := doc.Root()
	if ar.Tag != "AuthnRequest" || ar.NamespaceURI() != samlxml.NSProtocol {
		return nil, errors.New("not an AuthnRequest")
	}
	if post {
		if ar, _, err = xmlsec.Verify(ar, xmlsec.VerifyOptions{Trusted: md.SigningCerts, Now: s.now}); err != nil {
			return nil, fmt.Errorf("request signature: %w", err)
		}
	} else if ar.SelectElement("Signature") != nil {
		return nil, errors.New("redirect binding: the XML must not carry a signature")
	}
	get := func(k string) string { return ar.SelectAttrValue(k, "") }
	switch {
	case elemText(ar, "Issuer") != md.EntityID:
		return nil, errors.New("Issuer is not the connector's entity ID")
	case get("Destination") != s.ssoURL(cc):
		return nil, errors.New("Destination is not this proxy-service")
	case get("ForceAuthn") != "true":
		return nil, errors.New("ForceAuthn must be true")
	case get("IsPassive") == "true":
		return nil, errors.New("IsPassive must not be true")
	case get("Version") != "2.0" || get("ID") == "":
		return nil, errors.New("Version or ID missing")
	}
	if acs := get("AssertionConsumerServiceURL"); acs != "" {
		return nil, errors.New("AssertionConsumerServiceURL should not be sent (eIDAS)")
	}
	t, err := time.Parse(time.RFC3339Nano, get("IssueInstant"))
	if err != nil || s.now().Sub(t).Abs() > requestMaxAge {
		return nil, errors.New("IssueInstant missing or not recent")
	}
	p := &pending{
		country: cc, requestID: get("ID"), connector: md.EntityID, encCert: md.EncryptionCerts[0],
		nodeCC: md.NodeCountry, relayState: relay, attrs: map[string]bool{}, nameID: samlxml.NameIDPersistent,
	}
	if p.nodeCC == "" {
		p.nodeCC = "DE"
	}
	for _, e := range md.ACS {
		if e.Binding == samlxml.BindingPOST {
			p.acs = e.Location
			break
		}
	}
	if p.acs == "" {
		return nil, errors.New("connector metadata has no HTTP-POST AssertionConsumerService")
	}
	ext := ar.SelectElement("Extensions")
	if ext == nil {
		return nil, errors.New("Extensions missing")
	}
	spType := ext.SelectElement("SPType")
	if (spType != nil) == (md.SPType != "") {
		return nil, errors.New("SPType must be in exactly one of request and connector metadata")
	}
	ras := ext.SelectElement("RequestedAttributes")
	if ras == nil {
		return nil, errors.New("RequestedAttributes missing")
	}
	natural, legalAttrs := false, false
	for _, ra := range ras.SelectElements("RequestedAttribute") {
		name := ra.SelectAttrValue("Name", "")
		p.attrs[name] = ra.SelectAttrValue("isRequired", "") == "true"
		natural = natural || strings.HasPrefix(name, "http://eidas.europa.eu/attributes/naturalperson/")
		legalAttrs = legalAttrs || strings.HasPrefix(name, "http://eidas.europa.eu/attributes/legalperson/")
	}
	if natural && legalAttrs {
		return nil, errors.New("natural and legal person attributes must not be mixed (eIDAS 1.4)")
	}
	p.legal = legalAttrs
	if nip := ar.SelectElement("NameIDPolicy"); nip != nil {
		if f := nip.SelectAttrValue("Format", ""); f != "" {
			p.nameID = f
		}
	}
	rac := ar.SelectElement("RequestedAuthnContext")
	if rac == nil {
		return nil, errors.New("RequestedAuthnContext missing")
	}
	refs := rac.SelectElements("AuthnContextClassRef")
	if len(refs) != 1 {
		return nil, errors.New("need one AuthnContextClassRef")
	}
	if p.loa, err = assurance.ParseURI(strings.TrimSpace(refs[0].Text())); err != nil {
		return nil, err
	}
	switch rac.SelectAttrValue("Comparison", "exact") {
	case "minimum":
		if !p.loa.Notified() {
			return nil, errors.New("minimum comparison needs a notified level")
		}
	case "exact":
		p.exact = true
	default:
		return nil, errors.New("Comparison must be minimum or exact")
	}
	return p, nil
}

func elemText(e *etree.Element, tag string) string {
	if c := e.SelectElement(tag); c != nil {
		return strings.TrimSpace(c.Text())
	}
	return ""
}

// verifyRedirect checks an HTTP-Redirect query: the signature covers the
// raw (still URL-encoded) "SAMLRequest=…&RelayState=…&SigAlg=…".
func verifyRedirect(rawQuery string, certs []*x509.Certificate) ([]byte, string, error) {
	raw := map[string]string{}
	for _, part := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		if _, dup := raw[k]; dup {
			return nil, "", fmt.Errorf("parameter %s given twice", k)
		}
		raw[k] = v
	}
	signed := "SAMLRequest=" + raw["SAMLRequest"]
	if v, ok := raw["RelayState"]; ok {
		signed += "&RelayState=" + v
	}
	signed += "&SigAlg=" + raw["SigAlg"]
	dec := func(k string) (string, error) { return url.QueryUnescape(raw[k]) }
	sigAlg, err := dec("SigAlg")
	if err != nil {
		return nil, "", err
	}
	sigB64, err := dec("Signature")
	if err != nil {
		return nil, "", err
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return nil, "", errors.New("Signature is not base64")
	}
	ok := false
	for _, c := range certs {
		if eidas.VerifyRaw(c.PublicKey, sigAlg, []byte(signed), sig) == nil {
			ok = true
			break
		}
	}
	if !ok {
		return nil, "", errors.New("redirect binding signature invalid")
	}
	reqB64, err := dec("SAMLRequest")
	if err != nil {
		return nil, "", err
	}
	deflated, err := base64.StdEncoding.DecodeString(reqB64)
	if err != nil {
		return nil, "", errors.New("SAMLRequest is not base64")
	}
	xmlBytes, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(deflated)), maxInflated+1))
	if err != nil {
		return nil, "", fmt.Errorf("inflate: %w", err)
	}
	if len(xmlBytes) > maxInflated {
		return nil, "", errors.New("inflated request too large")
	}
	relay, err := dec("RelayState")
	if err != nil {
		return nil, "", err
	}
	return xmlBytes, relay, nil
}

func (s *Sim) store(p *pending) (string, error) {
	key := samlxml.NewID()
	now := s.now()
	p.expires = now.Add(pendingTTL)
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
	s.pending[key] = p
	return key, nil
}

func (s *Sim) take(key string) *pending {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending[key]
	delete(s.pending, key)
	if p == nil || s.now().After(p.expires) {
		return nil
	}
	return p
}

func (s *Sim) serveAnswer(w http.ResponseWriter, r *http.Request) {
	c := s.country(r.PathValue("cc"))
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if c == nil || r.ParseForm() != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	p := s.take(r.PostForm.Get("key"))
	if p == nil || p.country != c.Code {
		s.page(w, http.StatusBadRequest, "error", map[string]any{"Country": c, "Error": "unknown or expired request"}, "")
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		s.answer(w, r, c, p, nil, TamperNone, &Status{Top: samlxml.StatusResponder, Sub: samlxml.StatusRequestDenied, Message: "Citizen cancelled the authentication"})
		return
	}
	var who *Citizen
	for i := range c.Citizens {
		if c.Citizens[i].ID == r.PostForm.Get("citizen") {
			who = &c.Citizens[i]
		}
	}
	if who == nil || p.legal && who.Company == nil {
		s.page(w, http.StatusBadRequest, "error", map[string]any{"Country": c, "Error": "unknown test citizen"}, "")
		return
	}
	s.answer(w, r, c, p, who, r.PostForm.Get("tamper"), nil)
}

// buildAnswer creates the sealed Response for a choice or a status.
func (s *Sim) buildAnswer(c *Country, p *pending, who *Citizen, tamper string, status *Status) ([]byte, error) {
	now := s.now()
	params := ResponseParams{
		Issuer: s.EntityID(c.Code), Destination: p.acs, Audience: p.connector, InResponseTo: p.requestID,
		IssueInstant: now, AuthnInstant: now, Status: status, NameIDFormat: p.nameID,
	}
	sg := s.keys.Countries[c.Code]
	resp, err := BuildResponse(params)
	if err != nil {
		return nil, err
	}
	if status != nil {
		return Seal(resp, nil, sg, nil, false)
	}
	level := c.Level
	if p.exact {
		level = p.loa
	}
	if tamper == TamperLowerLoA {
		level = assurance.Low
	}
	params.LoA = level.URI()
	cc := eidas.EIDASCountryCode(c.Code)
	pidCC := cc
	switch tamper {
	case TamperForeignID:
		pidCC = "FR"
		if cc == "FR" {
			pidCC = "BE"
		}
	case TamperISOCountry:
		pidCC = samlxml.ISOCountryCode(cc)
	}
	pid := pidCC + "/" + p.nodeCC + "/" + who.Local
	params.NameID = pid
	params.Attributes = s.attributes(p, who, pid, cc)
	as, err := BuildAssertion(params)
	if err != nil {
		return nil, err
	}
	return Seal(resp, as, sg, p.encCert, false)
}

func (s *Sim) attributes(p *pending, who *Citizen, pid, cc string) []Attribute {
	const nat = "http://eidas.europa.eu/attributes/naturalperson/"
	var out []Attribute
	add := func(name string, vals ...Value) {
		var vs []Value
		for _, v := range vals {
			if v.Latin != "" || v.Native != "" {
				vs = append(vs, v)
			}
		}
		if len(vs) > 0 {
			out = append(out, Attribute{Name: name, FriendlyName: name[strings.LastIndex(name, "/")+1:], Values: vs})
		}
	}
	person := func(prefix string, all bool) {
		want := func(n string) bool { _, ok := p.attrs[nat+n]; return all || ok }
		if want("PersonIdentifier") {
			add(prefix+"PersonIdentifier", Value{Latin: pid})
		}
		if want("CurrentFamilyName") {
			add(prefix+"CurrentFamilyName", who.FamilyName)
		}
		if want("CurrentGivenName") {
			add(prefix+"CurrentGivenName", who.FirstName)
		}
		if want("DateOfBirth") {
			add(prefix+"DateOfBirth", Value{Latin: who.DateOfBirth})
		}
		if all {
			return
		}
		if want("BirthName") {
			add(prefix+"BirthName", who.BirthName)
		}
		if want("PlaceOfBirth") {
			add(prefix+"PlaceOfBirth", Value{Latin: who.PlaceOfBirth})
		}
		if want("Gender") {
			add(prefix+"Gender", Value{Latin: who.Gender})
		}
		if want("Nationality") {
			var vs []Value
			for _, n := range who.Nationality {
				vs = append(vs, Value{Latin: n})
			}
			add(prefix+"Nationality", vs...)
		}
		if want("CurrentAddress") && who.Address != nil {
			add(prefix+"CurrentAddress", Value{Latin: EncodeAddress(*who.Address)})
		}
	}
	if !p.legal {
		person(nat, false)
		return out
	}
	const leg = "http://eidas.europa.eu/attributes/legalperson/"
	co := who.Company
	if _, ok := p.attrs[leg+"LegalPersonIdentifier"]; ok {
		add(leg+"LegalPersonIdentifier", Value{Latin: cc + "/" + p.nodeCC + "/" + co.Local})
	}
	if _, ok := p.attrs[leg+"LegalName"]; ok {
		add(leg+"LegalName", co.Name)
	}
	if _, ok := p.attrs[leg+"LEI"]; ok {
		add(leg+"LEI", Value{Latin: co.LEI})
	}
	// The representative's minimum data set, unrequested as the
	// Attribute Profile allows.
	person(nat+"representative/", true)
	return out
}

// answer renders the auto-POST page carrying the sealed Response.
func (s *Sim) answer(w http.ResponseWriter, _ *http.Request, c *Country, p *pending, who *Citizen, tamper string, status *Status) {
	b, err := s.buildAnswer(c, p, who, tamper, status)
	if err != nil {
		s.log.Error("eidassim: build response", "country", c.Code, "err", err)
		http.Error(w, "simulator error", http.StatusInternalServerError)
		return
	}
	s.answerPage(w, c, p, b)
}

// answerPage writes the auto-POST page that carries the sealed Response b.
func (s *Sim) answerPage(w http.ResponseWriter, c *Country, p *pending, b []byte) {
	relay := p.relayState != ""
	data := map[string]any{"Country": c, "ACS": p.acs, "SAMLResponse": markResponse, "RelayState": ""}
	markers := []string{markResponse}
	if relay {
		data["RelayState"] = markRelay
		markers = append(markers, markRelay)
	}
	parts, ok := s.cutPage(fmt.Sprintf("post\x00%s\x00%s\x00%t", c.Code, p.acs, relay), "post", data, markers)
	if !ok {
		s.page(w, http.StatusOK, "post", map[string]any{
			"Country": c, "ACS": p.acs, "SAMLResponse": base64.StdEncoding.EncodeToString(b), "RelayState": p.relayState,
		}, origin(p.acs))
		return
	}
	// The base64 alphabet needs no escaping inside a quoted attribute;
	// RelayState is escaped as the template would (html/template also
	// writes '+' as a reference, which changes nothing for the browser).
	relayHTML := html.EscapeString(p.relayState)
	n := base64.StdEncoding.EncodedLen(len(b)) + len(relayHTML)
	for _, part := range parts {
		n += len(part)
	}
	page := make([]byte, 0, n)
	page = append(page, parts[0]...)
	page = base64.StdEncoding.AppendEncode(page, b)
	page = append(page, parts[1]...)
	if relay {
		page = append(page, relayHTML...)
		page = append(page, parts[2]...)
	}
	s.writePage(w, http.StatusOK, page, origin(p.acs))
}

// maxCutPages bounds the cache of cut pages (see cutPage).
const maxCutPages = 256

// Markers rendered in place of per-request values (see cutPage).
const (
	markResponse = "SIM-MARK-SAMLRESPONSE-0f6c"
	markRelay    = "SIM-MARK-RELAYSTATE-0f6c"
	markKey      = "SIM-MARK-KEY-0f6c"
)

// cutPage returns template name rendered with data, in which markers
// stand for per-request values, cut at the markers (len(markers)+1
// parts, in order); the caller joins the parts with the escaped values.
// The result is cached under key, which must name everything else data
// holds. The large per-request value is the sealed Response: tens of
// kilobytes of base64 that html/template would escape byte by byte on
// every answer. ok is false when the page cannot be cut (a marker missing
// or repeated); the caller then renders the template directly.
func (s *Sim) cutPage(key, name string, data map[string]any, markers []string) ([]string, bool) {
	s.mu.Lock()
	parts, ok := s.cutPages[key]
	s.mu.Unlock()
	if ok {
		return parts, true
	}
	data["Base"] = s.base
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, false
	}
	rest := buf.String()
	for _, m := range markers {
		before, after, found := strings.Cut(rest, m)
		if !found || strings.Contains(after, m) {
			return nil, false
		}
		parts = append(parts, before)
		rest = after
	}
	parts = append(parts, rest)
	s.mu.Lock()
	if len(s.cutPages) < maxCutPages {
		s.cutPages[key] = parts
	}
	s.mu.Unlock()
	return parts, true
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func (s *Sim) page(w http.ResponseWriter, status int, name string, data map[string]any, formOrigin string) {
	data["Base"] = s.base
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "simulator error", http.StatusInternalServerError)
		return
	}
	s.writePage(w, status, buf.Bytes(), formOrigin)
}

// writePage sends a rendered page with the simulator's headers.
func (s *Sim) writePage(w http.ResponseWriter, status int, page []byte, formOrigin string) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; form-action 'self' "+formOrigin+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(page)
}

const autopostJS = `"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var f = document.getElementById("autopost");
  if (f) { f.submit(); }
});
`

const simCSS = `body{font-family:system-ui,sans-serif;max-width:44rem;margin:1rem auto;padding:0 1rem;color:#1b1b1b}
.banner{background:#7a1f00;color:#fff;padding:.5rem 1rem;font-weight:600}
fieldset{border:1px solid #bbb;margin:1rem 0}label{display:block;margin:.4rem 0}
button{padding:.5rem 1rem;margin-right:.5rem}.muted{color:#555;font-size:.9rem}.error{color:#a00}
`

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>eIDAS proxy-service simulator – {{.Country.Names.EN}}</title><link rel="stylesheet" href="{{.Base}}/static/sim.css"></head><body>
<p class="banner">SIMULATOR – keine echte Anmeldung / not a real login: {{.Country.Names.DE}} / {{.Country.Names.EN}}</p>{{end}}
{{define "choose"}}{{template "head" .}}
<p class="muted">Anfrage von / request from {{.Connector}} · Mindestniveau / minimum level: <strong id="loa">{{.LoA}}</strong> · Attribute: {{.Attrs}}</p>
<form method="post" action="{{.Base}}/{{.Country.Code}}/answer" id="choose">
<input type="hidden" name="key" value="{{.Key}}">
<fieldset><legend>{{if .Legal}}Vertretung eines Unternehmens / acting for a company{{else}}Testperson / test citizen{{end}}</legend>
{{range $i, $p := .People}}<label><input type="radio" name="citizen" value="{{$p.ID}}" id="citizen-{{$p.ID}}"{{if eq $i 0}} checked{{end}}> {{$p.Label}}{{if and $.Legal $p.Company}} → {{$p.Company.Name.Latin}}{{end}}</label>
{{end}}</fieldset>
<fieldset><legend>Test: manipulierte Antwort / tampered answer</legend>
<label><input type="radio" name="tamper" value="" checked> keine / none</label>
<label><input type="radio" name="tamper" value="loa-low" id="tamper-loa"> Niveau „low“ melden / report level low</label>
<label><input type="radio" name="tamper" value="foreign-id" id="tamper-id"> Kennung eines anderen Staats / identifier of another country</label>
</fieldset>
<button type="submit" name="action" value="login" id="sim-login">Anmelden / Log in</button>
<button type="submit" name="action" value="cancel" id="sim-cancel">Abbrechen / Cancel</button>
</form></body></html>{{end}}
{{define "post"}}{{template "head" .}}
<p>Weiterleitung zum Dienst / returning to the service …</p>
<form method="post" action="{{.ACS}}" id="autopost">
<input type="hidden" name="SAMLResponse" value="{{.SAMLResponse}}">
{{if .RelayState}}<input type="hidden" name="RelayState" value="{{.RelayState}}">{{end}}
<noscript><p>JavaScript ist aus / JavaScript is off:</p></noscript><button type="submit" id="continue">Weiter / Continue</button>
</form><script src="{{.Base}}/static/autopost.js"></script></body></html>{{end}}
{{define "error"}}{{template "head" .}}<p class="error" id="sim-error">{{.Error}}</p></body></html>{{end}}
`))
