package eidassim

import (
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// BenchmarkSeal measures what the simulated node does for each answer
// with EC keys: build the Response and the assertion (Sven's natural-
// person attributes), encrypt the assertion to the connector (AES-256-GCM,
// ECDH-ES P-256 with kw-aes256), sign the Response (ECDSA P-256) and
// serialise it. The connector's Finish on the other side is
// BenchmarkFinish in package eidas.
func BenchmarkSeal(b *testing.B) {
	ca, caCert, err := NewCA("bench CA")
	if err != nil {
		b.Fatal(err)
	}
	sg, err := IssueSigner(ca, caCert, "SE proxy-service (bench)", false)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := GenerateMaterial(false)
	if err != nil {
		b.Fatal(err)
	}
	s := &Sim{}
	var sven *Citizen
	for _, c := range DefaultCountries() {
		for i := range c.Citizens {
			if c.Code == "SE" && c.Citizens[i].ID == "sven" {
				sven = &c.Citizens[i]
			}
		}
	}
	if sven == nil {
		b.Fatal("no test citizen sven in SE")
	}
	p := &pending{nodeCC: "DE", attrs: map[string]bool{}}
	for _, n := range []string{"PersonIdentifier", "CurrentFamilyName", "CurrentGivenName", "DateOfBirth", "BirthName", "PlaceOfBirth", "CurrentAddress"} {
		p.attrs["http://eidas.europa.eu/attributes/naturalperson/"+n] = false
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		params := ResponseParams{Issuer: "https://sim.example/SE/metadata", Destination: "https://broker.example/saml/connector/acs",
			Audience: "https://broker.example/saml/connector/metadata", InResponseTo: samlxml.NewID(), IssueInstant: now, AuthnInstant: now,
			LoA: "http://eidas.europa.eu/LoA/high", NameID: "SE/DE/" + sven.Local}
		params.Attributes = s.attributes(p, sven, params.NameID, "SE")
		resp, err := BuildResponse(params)
		if err != nil {
			b.Fatal(err)
		}
		as, err := BuildAssertion(params)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Seal(resp, as, sg, conn.EncryptionCert, false); err != nil {
			b.Fatal(err)
		}
	}
}
