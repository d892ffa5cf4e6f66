package eidas

import (
	"context"
	"errors"
	"testing"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

// attackCatalogue is the connector's part of the SAML attack catalogue
// (specs/security.md §2) with the generated fixtures that prove each attack
// refused. Every fixture listed must be refused with the reason its
// responseCases entry names; the test fails if a listed fixture is missing,
// so the catalogue cannot silently lose coverage. All fixtures live in
// testdata/eidas/responses (go run ./testdata/eidas/gen), so a clone
// without the shared vectors still covers every attack.
var attackCatalogue = []struct {
	attack   string
	fixtures []string
}{
	{"S1 XSW1: original moved into the Signature", []string{"rsa-xsw1-original-inside-signature"}},
	{"S2 XSW2: forged sibling before the Signature", []string{"rsa-xsw2-evil-sibling"}},
	{"S3 XSW3: forged assertion placed first", []string{"rsa-xsw3-evil-assertion-first", "rsa-xsw3-unsigned-response-evil-assertion-first"}},
	{"S4 XSW4: signed content inside a forged assertion", []string{"rsa-xsw4-assertion-inside-evil", "rsa-xsw4-unsigned-response-signed-inside-evil"}},
	{"S5 XSW5: forged content keeps the signature, original elsewhere", []string{"rsa-xsw5-evil-content-keeps-signature", "rsa-xsw5-unsigned-response-signed-assertion-edited", "rsa-xsw5-duplicate-id-in-extensions"}},
	{"S6 XSW6: original inside the Signature, forged content outside", []string{"rsa-xsw6-original-inside-signature-evil-content"}},
	{"S7 XSW7: assertion hidden in Extensions", []string{"rsa-xsw7-evil-assertion-in-extensions", "rsa-xsw7-signed-plain-assertion-in-extensions", "rsa-xsw7-signed-encrypted-assertion-in-extensions"}},
	{"S8 XSW8: original in ds:Object", []string{"rsa-xsw8-original-in-signature-object"}},
	{"S9 wrapping variants (second signature, error response with assertion, moved signature)", []string{"rsa-xsw9a-second-signature", "rsa-xsw9a-evil-root-wraps-signed", "rsa-xsw9b-error-response-with-assertion", "rsa-xsw9d-signature-moved-to-evil-root", "rsa-xsw9d-unsigned-response-signed-assertion"}},
	{"S11 signature exclusion", []string{"rsa-unsigned"}},
	{"S12 tampered after signing", []string{"rsa-tampered-after-signing"}},
	{"S13 encrypted assertion without Response signature", []string{"rsa-xsw9d-unsigned-response-signed-assertion"}},
	{"S14 two assertions / plain assertion", []string{"rsa-two-encrypted-assertions", "rsa-plain-assertion", "rsa-plain-and-encrypted"}},
	{"S16 expired", []string{"rsa-expired", "rsa-conditions-expired", "rsa-authn-before-request"}},
	{"S16 not yet valid", []string{"rsa-not-yet-valid", "rsa-conditions-not-yet-valid"}},
	{"S17 wrong audience", []string{"rsa-wrong-audience"}},
	{"S17 wrong or missing destination", []string{"rsa-wrong-destination", "rsa-missing-destination"}},
	{"S17 wrong recipient", []string{"rsa-wrong-recipient"}},
	{"S18 wrong InResponseTo", []string{"rsa-wrong-in-response-to", "rsa-assertion-wrong-in-response-to"}},
	{"S18 unsolicited", []string{"rsa-unsolicited"}},
	{"S19 unknown issuer", []string{"rsa-unknown-issuer", "rsa-assertion-issuer-mismatch"}},
	{"S20 SHA-1", []string{"rsa-rsa-sha1", "rsa-sha1-digest", "ec-ecdsa-sha1"}},
	{"S20 PKCS#1 v1.5 signature (eIDAS allow-list)", []string{"rsa-valid-pkcs1"}},
	{"S21 untrusted KeyInfo certificate / attacker key", []string{"rsa-untrusted-keyinfo", "rsa-attacker-no-keyinfo"}},
	{"S23 DOCTYPE / XXE", []string{"rsa-doctype"}},
	{"S24 entity expansion", []string{"rsa-entity-expansion"}},
	{"S26 oversized and deep input", []string{"rsa-oversized", "rsa-deep-nesting"}},
	{"S27 CBC", []string{"rsa-cbc", "ec-cbc"}},
	{"S28 rsa-1_5 and legacy key transport", []string{"rsa-rsa-1_5", "rsa-oaep-mgf1p"}},
	{"S32 LoA downgrade", []string{"rsa-loa-downgrade", "ec-loa-downgrade", "rsa-loa-not-notified"}},
	{"S33 PersonIdentifier country mismatch", []string{"rsa-pid-country-mismatch", "rsa-pid-destination-mismatch", "rsa-legal-identifier-country-mismatch"}},
	{"cancel status", []string{"rsa-status-cancel"}},
}

func TestAttackCatalogue(t *testing.T) {
	for _, at := range attackCatalogue {
		t.Run(at.attack, func(t *testing.T) {
			for _, name := range at.fixtures {
				tc, ok := responseCases[name]
				if !ok || len(tc.want) == 0 {
					t.Fatalf("%s: no refusal expected for fixture %s", at.attack, name)
				}
				_, err := finishFixture(t, name)
				if err == nil {
					t.Fatalf("%s: %s accepted", at.attack, name)
				}
				for _, w := range tc.want {
					if !errors.Is(err, w) {
						t.Errorf("%s: %v does not wrap %v", name, err, w)
					}
				}
			}
		})
	}
	// S10: a comment splitting signed text changes nothing: the whole
	// value is read (the login is accepted with the genuine identifier).
	t.Run("S10 comment injection", func(t *testing.T) {
		for _, name := range []string{"rsa-comment-in-issuer", "rsa-comment-in-person-identifier"} {
			id, err := finishFixture(t, name)
			if err != nil || id.Subject != fxPID {
				t.Errorf("%s: %q %v", name, id.Subject, err)
			}
		}
	})
	// S15: the same Response twice, the second time through another
	// adapter instance (another replica) sharing the store.
	t.Run("S15 replay across replicas", func(t *testing.T) {
		for _, name := range []string{"rsa-valid", "ec-valid"} {
			set := name[:len(name)-len("-valid")]
			st := memory.New(memory.WithClock(fxClock))
			t.Cleanup(func() { _ = st.Close() })
			open := func() *Adapter {
				a, err := fxConfig(t, set, "at-proxy").Open("eidas", adapters.Deps{BaseURL: fxBase, Store: st, Now: fxClock})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = a.Close() })
				return a
			}
			first, second := open(), open()
			xml := testfiles.Read(t, fixture(t, "responses/"+name+".xml"))
			if _, err := first.Finish(context.Background(), adapters.Request{}, fxState(t, first), postResponse(xml, fxRef)); err != nil {
				t.Fatalf("%s first use: %v", name, err)
			}
			if _, err := second.Finish(context.Background(), adapters.Request{}, fxState(t, second), postResponse(xml, fxRef)); !errors.Is(err, ErrReplay) {
				t.Fatalf("%s replayed: %v, want ErrReplay", name, err)
			}
		}
	})
}

// TestStatusMapping: only a cancel becomes adapters.ErrCancelled (the
// portal gets access_denied); other failures keep specific reasons.
func TestStatusMapping(t *testing.T) {
	tests := []struct {
		name              string
		xml               string
		want              []error
		notCancel, isNone bool
	}{
		{"success", `<StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>`, nil, false, true},
		{"request denied", `<StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:RequestDenied"/></StatusCode>`, []error{adapters.ErrCancelled, ErrStatus}, false, false},
		{"nested cancel", `<StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"><StatusCode Value="http://id.example.eu/status/1.0/cancel"/></StatusCode></StatusCode>`, []error{adapters.ErrCancelled, ErrStatus}, false, false},
		{"authn failed", `<StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/></StatusCode>`, []error{ErrAuthnFailed, ErrStatus}, true, false},
		{"no authn context", `<StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Requester"><StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"/></StatusCode>`, []error{ErrLevelUnreachable, ErrStatus}, true, false},
		{"invalid name ID policy", `<StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Requester"><StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"/></StatusCode>`, []error{ErrStatus}, true, false},
		{"success with sub-code", `<StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"><StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:RequestDenied"/></StatusCode>`, []error{ErrMalformed}, true, false},
		{"no value", `<StatusCode/>`, []error{ErrMalformed}, true, false},
		{"two codes", `<StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/><StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>`, []error{ErrMalformed}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := etree.NewDocument()
			if err := doc.ReadFromString(`<Status xmlns="` + samlxml.NSProtocol + `">` + tc.xml + `<StatusMessage>msg</StatusMessage></Status>`); err != nil {
				t.Fatal(err)
			}
			err := statusError(doc.Root())
			if tc.isNone {
				if err != nil {
					t.Fatalf("success mapped to %v", err)
				}
				return
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("%v does not wrap %v", err, w)
				}
			}
			if tc.notCancel && errors.Is(err, adapters.ErrCancelled) {
				t.Errorf("%v must not count as a cancel", err)
			}
		})
	}
}

// TestCheckLevel: the LoA rule on its own (S32), including the
// non-notified class, which never satisfies a notified minimum.
func TestCheckLevel(t *testing.T) {
	nnHigh, err := assurance.ParseURI("http://eidas.europa.eu/NotNotified/LoA/high")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		got, floor assurance.Level
		exact, ok  bool
	}{
		{assurance.High, assurance.Substantial, false, true},
		{assurance.Substantial, assurance.Substantial, false, true},
		{assurance.Low, assurance.Substantial, false, false},
		{nnHigh, assurance.Low, false, false},
		{nnHigh, nnHigh, true, true},
		{assurance.High, nnHigh, true, false},
	}
	for _, tc := range tests {
		err := checkLevel(tc.got, tc.floor, tc.exact)
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrLoADowngrade) {
			t.Errorf("got %s for floor %s (exact %v): %v", tc.got, tc.floor, tc.exact, err)
		}
	}
}
