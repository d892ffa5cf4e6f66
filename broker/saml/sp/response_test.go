package sp

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

const (
	tIdP = "https://idp.test.example/metadata"
	tSP  = "https://sp.test.example/metadata"
	tACS = "https://sp.test.example/acs"
	tReq = "_req1"
)

// assertionXML is a plain assertion with a placeholder for the subject's
// name element.
func assertionXML(now time.Time, subjectName, audience string) string {
	ts := samlxml.FormatTime
	return `<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" IssueInstant="` + ts(now) + `" Version="2.0">` +
		`<saml2:Issuer>` + tIdP + `</saml2:Issuer><saml2:Subject>` + subjectName +
		`<saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml2:SubjectConfirmationData InResponseTo="` + tReq +
		`" NotOnOrAfter="` + ts(now.Add(5*time.Minute)) + `" Recipient="` + tACS + `"/></saml2:SubjectConfirmation></saml2:Subject>` +
		`<saml2:Conditions NotOnOrAfter="` + ts(now.Add(4*time.Minute)) + `"><saml2:AudienceRestriction><saml2:Audience>` + audience +
		`</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions>` +
		`<saml2:AuthnStatement AuthnInstant="` + ts(now) + `"><saml2:AuthnContext><saml2:AuthnContextClassRef>urn:x</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>` +
		`<saml2:AttributeStatement/></saml2:Assertion>`
}

// TestCheckAssertionSubject: the subject is exactly one NameID or one
// EncryptedID holding a NameID, decrypted under the policy.
func TestCheckAssertionSubject(t *testing.T) {
	enc := newTestCert(t, "sp-enc", nil, x509.Certificate{KeyUsage: x509.KeyUsageKeyAgreement})
	now := time.Now().UTC().Truncate(time.Second)
	encrypted := func(inner string) string {
		doc, err := xmlsec.Parse([]byte(inner), xmlsec.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		ed, err := xmlsec.Encrypt(doc.Root(), enc.cert, xmlsec.EncryptOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := xmlsec.Serialize(ed)
		if err != nil {
			t.Fatal(err)
		}
		return "<saml2:EncryptedID>" + string(b) + "</saml2:EncryptedID>"
	}
	nameID := `<saml2:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">pseudo-1</saml2:NameID>`
	standalone := `<saml2:NameID xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">pseudo-2</saml2:NameID>`
	exp := Expect{Peer: &Metadata{EntityID: tIdP}, EntityID: tSP, ACSURL: tACS, RequestID: tReq, Issued: now.Add(-time.Second),
		Now: now, Skew: time.Minute, DecryptionKey: enc.key}
	for _, tc := range []struct {
		name, subject, audience string
		want                    string
		err                     error
	}{
		{"NameID", nameID, tSP, "pseudo-1", nil},
		{"EncryptedID", encrypted(standalone), tSP, "pseudo-2", nil},
		{"both", nameID + encrypted(standalone), tSP, "", ErrMalformed},
		{"none", "", tSP, "", ErrMalformed},
		{"EncryptedID of something else", encrypted(`<saml2:Issuer xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion">x</saml2:Issuer>`), tSP, "", ErrMalformed},
		{"wrong audience", nameID, "https://other.test.example/metadata", "", ErrAudience},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := xmlsec.Parse([]byte(assertionXML(now, tc.subject, tc.audience)), xmlsec.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			a, err := exp.CheckAssertion(doc.Root())
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || a.NameID != tc.want || !strings.HasSuffix(a.NameIDFormat, ":persistent") || a.ID != "_a1" {
				t.Fatalf("%+v, %v", a, err)
			}
			if !a.NotOnOrAfter.Equal(now.Add(4 * time.Minute)) {
				t.Errorf("NotOnOrAfter %s: the earlier of Conditions and SubjectConfirmationData", a.NotOnOrAfter)
			}
		})
	}
}
