package eidas

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// beginRequest runs Begin and returns the verified AuthnRequest element,
// whichever binding carried it, and the state.
func beginRequest(t *testing.T, a *Adapter, req adapters.Request) (*etree.Element, adapters.Handoff, loginState) {
	t.Helper()
	ho, state, err := a.Begin(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var st loginState
	if err := json.Unmarshal(state, &st); err != nil {
		t.Fatal(err)
	}
	trusted := []*x509.Certificate{a.signCert}
	if ho.PostURL != "" {
		if ho.RedirectURL != "" || ho.Page != nil || ho.PostForm.Get("RelayState") != req.Ref {
			t.Fatalf("handoff %+v", ho)
		}
		raw, err := base64.StdEncoding.DecodeString(ho.PostForm.Get("SAMLRequest"))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := xmlsec.Parse(raw, xmlsec.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		ar, _, err := xmlsec.Verify(doc.Root(), xmlsec.VerifyOptions{Trusted: trusted, Now: fxClock})
		if err != nil {
			t.Fatalf("POST request signature: %v", err)
		}
		return ar, ho, st
	}
	u, err := url.Parse(ho.RedirectURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	i := strings.Index(u.RawQuery, "&Signature=")
	if i < 0 || q.Get("RelayState") != req.Ref {
		t.Fatalf("redirect query %q", u.RawQuery)
	}
	sig, err := base64.StdEncoding.DecodeString(q.Get("Signature"))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyRaw(a.signCert.PublicKey, q.Get("SigAlg"), []byte(u.RawQuery[:i]), sig); err != nil {
		t.Fatalf("redirect signature: %v", err)
	}
	deflated, err := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(deflated)))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xmlsec.Parse(raw, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Root().SelectElement("Signature") != nil {
		t.Error("Redirect binding request carries an XML signature")
	}
	return doc.Root(), ho, st
}

// TestAuthnRequest checks every part of the eIDAS v1.4 AuthnRequest for
// both bindings and the configurable parts.
func TestAuthnRequest(t *testing.T) {
	for _, binding := range []string{BindingNamePOST, BindingNameRedirect} {
		t.Run(binding, func(t *testing.T) {
			c := fxConfig(t, "rsa", "at-proxy")
			c.Countries[0].Binding = binding
			c.ProviderName = "Bürgerportal Musterstadt"
			c.RequesterID = "https://portal.example.de"
			a := openFixture(t, c)
			ar, _, st := beginRequest(t, a, adapters.Request{Ref: fxRef, Option: "AT", MinLevel: assurance.Substantial, Claims: []string{"family_name", "address"}})
			get := func(k string) string { return ar.SelectAttrValue(k, "") }
			if get("ForceAuthn") != "true" || get("IsPassive") != "false" || get("Version") != "2.0" ||
				get("Destination") != "https://proxy.at.test.example/eidas/sso" || get("ProviderName") != "Bürgerportal Musterstadt" ||
				get("ID") != st.ID || get("AssertionConsumerServiceURL") != "" || get("ProtocolBinding") != "" {
				t.Errorf("attributes %v", ar.Attr)
			}
			if iss := ar.SelectElement("Issuer"); iss == nil || iss.Text() != fxBase+"/saml/connector/metadata" || iss.SelectAttrValue("Format", "") != samlxml.NameIDEntity {
				t.Errorf("issuer %v", iss)
			}
			nip := ar.SelectElement("NameIDPolicy")
			if nip == nil || nip.SelectAttrValue("Format", "") != samlxml.NameIDPersistent || nip.SelectAttrValue("AllowCreate", "") != "true" {
				t.Errorf("NameIDPolicy %v", nip)
			}
			rac := ar.SelectElement("RequestedAuthnContext")
			if rac == nil || rac.SelectAttrValue("Comparison", "") != "minimum" || len(rac.SelectElements("AuthnContextClassRef")) != 1 ||
				rac.SelectElement("AuthnContextClassRef").Text() != "http://eidas.europa.eu/LoA/substantial" {
				t.Errorf("RequestedAuthnContext %v", rac)
			}
			if rid := ar.FindElement("./Scoping/RequesterID"); rid == nil || rid.Text() != "https://portal.example.de" {
				t.Errorf("RequesterID %v", rid)
			}
			ext := ar.SelectElement("Extensions")
			if ext == nil || ext.SelectElement("SPType") != nil {
				t.Fatal("SPType must be in metadata only by default")
			}
			got := map[string]string{}
			for _, ra := range ext.FindElements("./RequestedAttributes/RequestedAttribute") {
				if ra.SelectAttrValue("NameFormat", "") != samlxml.AttrNameFormatURI {
					t.Errorf("NameFormat %v", ra.Attr)
				}
				got[ra.SelectAttrValue("Name", "")] = ra.SelectAttrValue("isRequired", "")
			}
			// Minimum data set required; of the optional attributes only
			// those whose claims the portal asked for (data minimisation).
			want := map[string]string{
				AttrPersonIdentifier: "true", AttrFamilyName: "true", AttrFirstName: "true", AttrDateOfBirth: "true",
				AttrCurrentAddress: "false",
			}
			if len(got) != len(want) {
				t.Errorf("requested %v", got)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s isRequired %q, want %q", k, got[k], v)
				}
			}
			if st.Country != "AT" || st.Floor != "substantial" || st.Ref != fxRef || len(st.Attrs) != 5 || len(st.Required) != 4 {
				t.Errorf("state %+v", st)
			}
		})
	}
}

// TestAuthnRequestVariants: SPType in the request, the legal data set,
// non-notified floors (exact), transient NameID, and refusals.
func TestAuthnRequestVariants(t *testing.T) {
	t.Run("SPType in request", func(t *testing.T) {
		c := fxConfig(t, "ec", "at-proxy")
		c.SPType, c.SPTypeIn = SPTypePrivate, SPTypeInRequest
		a := openFixture(t, c)
		ar, _, _ := beginRequest(t, a, adapters.Request{Ref: fxRef, Option: "AT", MinLevel: assurance.High})
		if sp := ar.FindElement("./Extensions/SPType"); sp == nil || sp.Text() != "private" {
			t.Errorf("SPType %v", sp)
		}
		if r := ar.FindElement("./RequestedAuthnContext/AuthnContextClassRef"); r.Text() != "http://eidas.europa.eu/LoA/high" {
			t.Errorf("level %s", r.Text())
		}
		md, err := a.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(md, []byte("SPType")) {
			t.Error("SPType in metadata and request")
		}
	})
	t.Run("legal person, isRequired from config", func(t *testing.T) {
		c := fxConfig(t, "rsa", "at-proxy")
		c.PersonType = string(Legal)
		c.RequestedAttributes = []RequestedAttribute{{Name: "LegalPersonIdentifier", Required: true}, {Name: "LegalName", Required: true}, {Name: "LEI", Required: true}, {Name: "VATRegistration"}}
		a := openFixture(t, c)
		ar, _, st := beginRequest(t, a, adapters.Request{Ref: fxRef, Option: "AT", MinLevel: assurance.Low})
		got := map[string]string{}
		for _, ra := range ar.FindElements(".//RequestedAttribute") {
			got[ra.SelectAttrValue("Name", "")] = ra.SelectAttrValue("isRequired", "")
		}
		if len(got) != 3 || got[AttrLEI] != "true" || got[AttrLegalName] != "true" || got[AttrLegalPersonIdentifier] != "true" {
			t.Errorf("requested %v (VATRegistration is optional and its claim not asked)", got)
		}
		for n := range got {
			if !strings.HasPrefix(n, legalPrefix) {
				t.Errorf("natural attribute %s in a legal request", n)
			}
		}
		if len(st.Required) != 3 {
			t.Errorf("state %+v", st)
		}
		if a.Info().Name.EN == "" || !strings.Contains(a.Info().Name.EN, "company") {
			t.Errorf("name %+v", a.Info().Name)
		}
	})
	t.Run("non-notified floor", func(t *testing.T) {
		nn, err := assurance.ParseURI("http://eidas.europa.eu/NotNotified/LoA/substantial")
		if err != nil {
			t.Fatal(err)
		}
		c := fxConfig(t, "rsa", "at-proxy")
		c.NameIDFormat = "transient"
		a := openFixture(t, c)
		// Countries are configured with notified levels, which never
		// satisfy a non-notified floor: Begin refuses before any request.
		if _, _, err := a.Begin(context.Background(), adapters.Request{Ref: fxRef, Option: "AT", MinLevel: nn}); !errors.Is(err, ErrLevelUnreachable) {
			t.Fatalf("begin: %v", err)
		}
		// Were it asked, the request would say "exact" (MF v1.4 §2.4.1).
		ar := a.authnRequest("_x", "https://proxy.at.test.example/eidas/sso", nn, a.requested, fxClock())
		rac := ar.SelectElement("RequestedAuthnContext")
		if rac.SelectAttrValue("Comparison", "") != "exact" || rac.SelectElement("AuthnContextClassRef").Text() != nn.URI() {
			t.Errorf("RequestedAuthnContext %v", rac.Attr)
		}
		if f := ar.SelectElement("NameIDPolicy").SelectAttrValue("Format", ""); f != samlxml.NameIDTransient {
			t.Errorf("NameIDPolicy %s", f)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		a := openFixture(t, fxConfig(t, "rsa", "at-proxy"))
		for _, tc := range []struct {
			req  adapters.Request
			want error
		}{
			{adapters.Request{Ref: fxRef, Option: "FR"}, ErrUnknownCountry},
			{adapters.Request{Ref: "short", Option: "AT"}, ErrState},
			{adapters.Request{Ref: "https://evil.example/x?y=zzzzzzzz", Option: "AT"}, ErrState},
		} {
			if _, _, err := a.Begin(context.Background(), tc.req); !errors.Is(err, tc.want) {
				t.Errorf("%+v: %v, want %v", tc.req, err, tc.want)
			}
		}
	})
}

// TestRedirectRoundTripOfSignRaw: the raw signatures of the Redirect
// binding verify for both key types, and not for other data or methods.
func TestRedirectRoundTripOfSignRaw(t *testing.T) {
	for _, set := range []string{"rsa", "ec"} {
		a := openFixture(t, fxConfig(t, set, "at-proxy"))
		data := []byte("SAMLRequest=abc&RelayState=def&SigAlg=" + url.QueryEscape(a.signAlg))
		sig, err := SignRaw(a.signer, a.signAlg, data)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyRaw(a.signCert.PublicKey, a.signAlg, data, sig); err != nil {
			t.Errorf("%s: %v", set, err)
		}
		if err := VerifyRaw(a.signCert.PublicKey, a.signAlg, append(data, 'x'), sig); !errors.Is(err, xmlsec.ErrSignatureInvalid) {
			t.Errorf("%s: changed data: %v", set, err)
		}
		if err := VerifyRaw(a.signCert.PublicKey, "http://www.w3.org/2000/09/xmldsig#rsa-sha1", data, sig); !errors.Is(err, xmlsec.ErrAlgorithmNotAllowed) {
			t.Errorf("%s: SHA-1: %v", set, err)
		}
	}
}
