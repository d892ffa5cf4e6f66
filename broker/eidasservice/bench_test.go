package eidasservice

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"encoding/base64"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// acceptForBench runs everything acceptRequest does except the replay
// cache (a store write whose cost depends on the backend): binding,
// parsing, signature, content checks.
func acceptForBench(s *Service, r *http.Request) (*plan, error) {
	in, err := decodeBinding(httptest.NewRecorder(), r, s.cfg.MaxMessageBytes)
	if err != nil {
		return nil, err
	}
	root, issuer, err := peekIssuer(in.XML, s.cfg.MaxMessageBytes)
	if err != nil {
		return nil, err
	}
	c := s.byEntity[issuer]
	md, err := s.metadata(context.Background(), c)
	if err != nil {
		return nil, err
	}
	el, err := verifyRequest(in, root, md, s.cfg.Now(), s.cfg.MaxMessageBytes)
	if err != nil {
		return nil, err
	}
	req, err := readRequest(el)
	if err != nil {
		return nil, err
	}
	p, err := s.checkTransport(in, req, c, md, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	return p, s.checkContent(p)
}

// BenchmarkRequestVerification: one AuthnRequest (HTTP-POST) from receipt
// to an accepted plan.
func BenchmarkRequestVerification(b *testing.B) {
	for _, file := range []string{"request-at-pss-sha256.xml", "request-se-ecdsa-sha256.xml"} {
		b.Run(strings.TrimSuffix(strings.TrimPrefix(file, "request-"), ".xml"), func(b *testing.B) {
			s := fixtureService(b, "service-sign-ec")
			body := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(readFixtureFile(b, "requests", file))}}.Encode()
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/sso", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if _, err := acceptForBench(s, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBuildResponse: a success Response with the minimum data set and
// an address: assertion signed, encrypted to the connector, Response
// signed, serialised.
func BenchmarkBuildResponse(b *testing.B) {
	for _, tc := range []struct{ name, serviceKey, encCert string }{
		{"ECDSA-P256 sign, RSA-OAEP-3072", "service-sign-ec", "connector-at-enc"},
		{"ECDSA-P256 sign, ECDH-ES-P256", "service-sign-ec", "connector-se-enc"},
		{"RSA-PSS-3072 sign, RSA-OAEP-3072", "service-sign-rsa", "connector-at-enc"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := fixtureService(b, tc.serviceKey)
			a := benchAnswer(b, s, tc.encCert)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.buildResponse(a, nil, fixtureNow); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchAnswer(t testing.TB, s *Service, encCert string) *answer {
	id := adapters.Identity{Subject: "0a1b2c3d4e5f60718293a4b5c6d7e8f9", Level: assurance.High, AuthTime: fixtureNow, Claims: adapters.Claims{
		GivenName: "ERIKA", FamilyName: "MUSTERMANN", Birthdate: "1964-08-12",
		Address: &adapters.Address{StreetAddress: "HEIDESTRASSE 17", Locality: "KÖLN", PostalCode: "51147", Country: "DE"},
	}}
	rec := &txRecord{Country: "AT", Attrs: []requestedAttr{
		{Name: AttrPersonIdentifier, Required: true}, {Name: AttrFamilyName, Required: true}, {Name: AttrFirstName, Required: true},
		{Name: AttrDateOfBirth, Required: true}, {Name: AttrCurrentAddress}},
		Answer: answer{RequestID: "_req", Connector: "https://connector-at.test.example/metadata", ACS: "https://connector-at.test.example/acs",
			SigAlg: s.cfg.sigAlg, EncCert: fixtureCert(t, encCert).Raw, DataAlg: "http://www.w3.org/2009/xmlenc11#aes256-gcm",
			NameIDFmt: samlxml.NameIDPersistent, Level: levelReq{Minimum: "high"}}}
	a, st := s.release(rec, id)
	if st != nil {
		t.Fatalf("release: %+v", st)
	}
	return a
}

// TestBuildResponseShape checks the parts of a success Response the
// connector relies on, straight from the builder.
func TestBuildResponseShape(t *testing.T) {
	s := fixtureService(t, "service-sign-ec")
	a := benchAnswer(t, s, "connector-at-enc")
	xml, err := s.buildResponse(a, nil, fixtureNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`Destination="https://connector-at.test.example/acs"`, `InResponseTo="_req"`,
		`Consent="urn:oasis:names:tc:SAML:2.0:consent:obtained"`, `<saml2:EncryptedAssertion>`, `StatusCode Value="` + samlxml.StatusSuccess + `"`} {
		if !strings.Contains(string(xml), want) {
			t.Errorf("Response lacks %s", want)
		}
	}
	if strings.Count(string(xml), "EncryptedAssertion>") != 2 || strings.Contains(string(xml), "<saml2:Assertion") {
		t.Error("want exactly one EncryptedAssertion and no plain assertion")
	}
	_ = time.Second
}
