package bundidsim

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"html/template"
	"slices"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters/bundid"
	"github.com/ozg-broker/eidas-broker/adapters/demo"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// personAttributes are a test person's BundID attributes (by Name).
func (s *Sim) personAttributes(p demo.Person, spEntity string, lb levelButton) map[string]string {
	c := p.Claims
	out := map[string]string{
		bundid.AttrGivenName: c.GivenName, bundid.AttrSurname: c.FamilyName, bundid.AttrBirthdate: c.Birthdate,
		bundid.AttrBirthName: c.BirthFamilyName, bundid.AttrTitle: c.Title,
		bundid.AttrBPK2:          s.BPK2(p.ID, spEntity),
		bundid.AttrTrustLevel:    lb.STORK,
		bundid.AttrProvedBy:      lb.ProvedBy,
		bundid.AttrPostboxHandle: PostboxHandle(p.ID),
		bundid.AttrGender:        "9",
	}
	if c.PlaceOfBirth != nil {
		out[bundid.AttrPlaceOfBirth] = c.PlaceOfBirth.Locality
	}
	if c.Address != nil {
		out[bundid.AttrStreet], out[bundid.AttrPostalCode], out[bundid.AttrLocality] = c.Address.StreetAddress, c.Address.PostalCode, c.Address.Locality
		if c.Address.Country == "DE" {
			out[bundid.AttrCountry] = "D"
		}
	}
	if slices.Contains(c.Nationalities, "DE") {
		out[bundid.AttrNationality] = "D"
	}
	return out
}

// protocolAttributes carry no personal data and no per-attribute level.
var protocolAttributes = map[string]bool{bundid.AttrBPK2: true, bundid.AttrTrustLevel: true, bundid.AttrProvedBy: true}

func (s *Sim) response(p pending, person demo.Person, lb levelButton, t Tamper) ([]byte, error) {
	now := s.opts.Now()
	resp := s.responseElement(p, now, samlxml.StatusSuccess)
	as := etree.NewElement("saml2:Assertion")
	as.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	as.CreateAttr("xmlns:akdb", bundid.NSAKDB)
	as.CreateAttr("xmlns:xsi", samlxml.NSXSI)
	as.CreateAttr("xmlns:xs", "http://www.w3.org/2001/XMLSchema")
	as.CreateAttr("ID", samlxml.NewID())
	as.CreateAttr("IssueInstant", samlxml.FormatTime(now))
	as.CreateAttr("Version", "2.0")
	as.CreateElement("saml2:Issuer").SetText(s.EntityID())
	subj := as.CreateElement("saml2:Subject")
	nid := subj.CreateElement("saml2:NameID")
	nid.CreateAttr("SPNameQualifier", p.spEntity)
	if s.opts.Generic {
		nid.CreateAttr("Format", samlxml.NameIDPersistent)
		nid.SetText(s.BPK2(person.ID, p.spEntity))
	} else {
		nid.CreateAttr("Format", samlxml.NameIDTransient)
		nid.SetText(samlxml.NewID())
	}
	sc := subj.CreateElement("saml2:SubjectConfirmation")
	sc.CreateAttr("Method", samlxml.CMBearer)
	scd := sc.CreateElement("saml2:SubjectConfirmationData")
	scd.CreateAttr("InResponseTo", p.req.ID)
	scd.CreateAttr("NotOnOrAfter", samlxml.FormatTime(now.Add(5*time.Minute)))
	scd.CreateAttr("Recipient", p.req.ACS)
	cond := as.CreateElement("saml2:Conditions")
	cond.CreateAttr("NotBefore", samlxml.FormatTime(now.Add(-time.Second)))
	cond.CreateAttr("NotOnOrAfter", samlxml.FormatTime(now.Add(5*time.Minute)))
	cond.CreateElement("saml2:AudienceRestriction").CreateElement("saml2:Audience").SetText(p.spEntity)
	authn := as.CreateElement("saml2:AuthnStatement")
	authn.CreateAttr("AuthnInstant", samlxml.FormatTime(now))
	classRef := lb.STORK
	if s.opts.Generic {
		classRef = LandLevels[lb.STORK]
	}
	if t.ClassRef != "" {
		classRef = t.ClassRef
	}
	authn.CreateElement("saml2:AuthnContext").CreateElement("saml2:AuthnContextClassRef").SetText(classRef)
	stmt := as.CreateElement("saml2:AttributeStatement")
	values := s.personAttributes(person, p.spEntity, lb)
	if t.LevelAttribute != "" {
		values[bundid.AttrTrustLevel] = t.LevelAttribute
	}
	// Only what was requested comes back (BundID-SSB: RequestedAttributes
	// is the whole list); a Land account sends the person's data set.
	names := p.req.Attributes
	if s.opts.Generic {
		names = nil
		for n := range values {
			if !protocolAttributes[n] {
				names = append(names, n)
			}
		}
		slices.Sort(names)
	}
	for _, name := range names {
		v := values[name]
		if v == "" || v == "-" {
			continue
		}
		at := stmt.CreateElement("saml2:Attribute")
		at.CreateAttr("Name", name)
		at.CreateAttr("NameFormat", samlxml.AttrNameFormatURI)
		if !protocolAttributes[name] && !s.opts.Generic {
			at.CreateAttr("akdb:TrustLevel", lb.TrustLevel)
		}
		av := at.CreateElement("saml2:AttributeValue")
		av.CreateAttr("xsi:type", "xs:string")
		av.SetText(v)
	}
	if t.Assertion != nil {
		t.Assertion(as)
	}
	if t.Plain {
		resp.AddChild(as)
		return s.sign(resp, t)
	}
	ed, err := xmlsec.Encrypt(as, p.encCert, xmlsec.EncryptOptions{})
	if err != nil {
		return nil, err
	}
	resp.CreateElement("saml2:EncryptedAssertion").AddChild(ed)
	return s.sign(resp, t)
}

func (s *Sim) responseElement(p pending, now time.Time, status string) *etree.Element {
	r := etree.NewElement("saml2p:Response")
	r.CreateAttr("xmlns:saml2p", samlxml.NSProtocol)
	r.CreateAttr("xmlns:saml2", samlxml.NSAssertion)
	r.CreateAttr("Destination", p.req.ACS)
	r.CreateAttr("ID", samlxml.NewID())
	r.CreateAttr("InResponseTo", p.req.ID)
	r.CreateAttr("IssueInstant", samlxml.FormatTime(now))
	r.CreateAttr("Version", "2.0")
	r.CreateElement("saml2:Issuer").SetText(s.EntityID())
	sc := r.CreateElement("saml2p:Status").CreateElement("saml2p:StatusCode")
	if status == samlxml.StatusSuccess {
		sc.CreateAttr("Value", status)
	} else {
		sc.CreateAttr("Value", samlxml.StatusResponder)
		sc.CreateElement("saml2p:StatusCode").CreateAttr("Value", status)
	}
	return r
}

// errorResponse is the person's cancel: Responder / RequestDenied, the
// status BundID documents for a login that ends without the data.
func (s *Sim) errorResponse(p pending, t Tamper) ([]byte, error) {
	return s.sign(s.responseElement(p, s.opts.Now(), samlxml.StatusRequestDenied), t)
}

func (s *Sim) sign(resp *etree.Element, t Tamper) ([]byte, error) {
	if t.Unsigned {
		return sp.Serialize(resp)
	}
	key, certs := s.key, []*x509.Certificate{s.cert}
	if t.WrongKey {
		// Without KeyInfo the verifier tries every key of the metadata;
		// none made this signature.
		key, certs = s.wrongKey, nil
	}
	if err := xmlsec.Sign(resp, key, certs, xmlsec.SigECDSASHA256); err != nil {
		return nil, err
	}
	return sp.Serialize(resp)
}

const autoSubmit = `document.getElementById("bundidsim-post").submit();`

var autoSubmitHash = func() string {
	h := sha256.Sum256([]byte(autoSubmit))
	return base64.StdEncoding.EncodeToString(h[:])
}()

var postTemplate = template.Must(template.New("post").Parse(`<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>BundID-Simulator</title></head>
<body><form id="bundidsim-post" method="post" action="{{.ACS}}">
<input type="hidden" name="SAMLResponse" value="{{.SAMLResponse}}">
<input type="hidden" name="RelayState" value="{{.RelayState}}">
<noscript><button type="submit">Weiter / continue</button></noscript>
</form><script>` + autoSubmit + `</script></body></html>`))

const pageHTML = `<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>BundID (Simulator)</title>
<style>body{font-family:sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}.sim{background:#fff3cd;padding:.5rem}button{display:block;margin:.2rem 0}dt{font-weight:bold}</style></head>
<body><p class="sim">SIMULATOR – BundID (Nutzerkonto Bund), nur für Demo und Tests.</p>
<h1>Anmelden mit BundID / Log in with BundID</h1>
<dl>
<dt>Anfragende Stelle / requesting body</dt><dd id="bundidsim-org">{{.Req.OrganizationDisplayName}}</dd>
<dt>Online-Dienst (OnlineServiceId)</dt><dd id="bundidsim-service">{{.Req.OnlineServiceID}}</dd>
<dt>Mindestniveau / minimum level ({{.Req.Comparison}})</dt><dd id="bundidsim-level">{{.Req.Level}}</dd>
<dt>Angeboten / means enabled</dt><dd id="bundidsim-methods">{{range .Req.EnabledMethods}}{{.}} {{end}}</dd>
<dt>Angefragte Daten / attributes requested</dt><dd id="bundidsim-attributes">{{range .Req.Attributes}}{{.}} {{end}}</dd>
</dl>
<form method="post" action="answer">
<input type="hidden" name="request" value="{{.ID}}">
<fieldset><legend>Testperson / test person</legend>
{{range $i, $p := .People}}<label><input type="radio" name="person" value="{{$p.ID}}" id="bundidsim-person-{{$p.ID}}"{{if eq $i 0}} checked{{end}}> {{$p.Label}}</label><br>
{{end}}</fieldset>
<p>Anmelden mit / log in with:</p>
{{range .Levels}}<button type="submit" name="level" value="{{.Key}}" id="bundidsim-login-{{.Key}}">{{.Label}} ({{.STORK}})</button>
{{end}}
<button type="submit" name="action" value="cancel" id="bundidsim-cancel">Abbrechen / cancel</button>
</form></body></html>`
