package bundid_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters/bundid"
	"github.com/ozg-broker/eidas-broker/adapters/bundid/bundidsim"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
)

// attr finds an attribute element of the assertion by Name.
func attrEl(as *etree.Element, name string) *etree.Element {
	for _, at := range as.FindElements(".//Attribute") {
		if at.SelectAttrValue("Name", "") == name {
			return at
		}
	}
	return nil
}

func removeAttr(name string) func(*etree.Element) {
	return func(as *etree.Element) {
		if at := attrEl(as, name); at != nil {
			at.Parent().RemoveChild(at)
		}
	}
}

// TestLevelMapping is the level table through whole answers: every STORK
// value, unmapped values, the two level statements disagreeing (the lower
// wins), and a higher level claimed under a wrong key.
func TestLevelMapping(t *testing.T) {
	h := newHarness(t, nil)
	for _, c := range []struct {
		name   string
		key    string // the person's real level
		tamper bundidsim.Tamper
		want   assurance.Level
		err    error
	}{
		{"STORK 1 refused", "1", bundidsim.Tamper{}, 0, bundid.ErrLevel},
		{"STORK 2", "2", bundidsim.Tamper{}, assurance.Low, nil},
		{"STORK 3", "3", bundidsim.Tamper{}, assurance.Substantial, nil},
		{"STORK 4", "4", bundidsim.Tamper{}, assurance.High, nil},
		{"class ref unmapped", "4", bundidsim.Tamper{ClassRef: "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"}, 0, bundid.ErrLevel},
		{"class ref in eIDAS vocabulary", "4", bundidsim.Tamper{ClassRef: assurance.URIHigh}, 0, bundid.ErrLevel},
		{"class ref in another case", "4", bundidsim.Tamper{ClassRef: "stork-qaa-level-4"}, 0, bundid.ErrLevel},
		{"level attribute unmapped", "4", bundidsim.Tamper{LevelAttribute: "HOCH"}, 0, bundid.ErrLevel},
		{"level attribute absent: class ref alone", "3", bundidsim.Tamper{LevelAttribute: "-"}, assurance.Substantial, nil},
		{"class ref raised, attribute low: low", "2", bundidsim.Tamper{ClassRef: bundid.STORK4}, assurance.Low, nil},
		{"attribute raised, class ref low: low", "2", bundidsim.Tamper{LevelAttribute: bundid.STORK4}, assurance.Low, nil},
		{"both raised under a wrong key", "2", bundidsim.Tamper{ClassRef: bundid.STORK4, LevelAttribute: bundid.STORK4, WrongKey: true}, 0, sp.ErrSignature},
		{"level attribute twice", "4", bundidsim.Tamper{Assertion: func(as *etree.Element) {
			attrEl(as, bundid.AttrTrustLevel).CreateElement("saml2:AttributeValue").SetText(bundid.STORK2)
		}}, 0, bundid.ErrLevel},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.sim.SetTamper(c.tamper)
			defer h.sim.SetTamper(bundidsim.Tamper{})
			id, err := h.login(request(assurance.Low), c.key)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if err == nil && id.Level != c.want {
				t.Fatalf("level = %v, want %v", id.Level, c.want)
			}
		})
	}
}

// TestAttacks is the SAML attack set against the BundID profile.
func TestAttacks(t *testing.T) {
	h := newHarness(t, nil)
	for _, c := range []struct {
		name   string
		tamper bundidsim.Tamper
		edit   func(a *answer)
		err    error
	}{
		{"signed by a wrong key", bundidsim.Tamper{WrongKey: true}, nil, sp.ErrSignature},
		{"unsigned", bundidsim.Tamper{Unsigned: true}, nil, sp.ErrSignature},
		{"plain assertion", bundidsim.Tamper{Plain: true}, nil, sp.ErrPlainAssertion},
		{"signed content altered", bundidsim.Tamper{}, func(a *answer) {
			raw, _ := base64.StdEncoding.DecodeString(a.samlResponse)
			raw = []byte(strings.Replace(string(raw), `Version="2.0"`, `Version="2.0" Consent="x"`, 1))
			a.samlResponse = base64.StdEncoding.EncodeToString(raw)
		}, sp.ErrSignature},
		{"DOCTYPE", bundidsim.Tamper{}, func(a *answer) {
			raw, _ := base64.StdEncoding.DecodeString(a.samlResponse)
			raw = []byte(strings.Replace(string(raw), "?>", "?><!DOCTYPE r [<!ENTITY x \"y\">]>", 1))
			a.samlResponse = base64.StdEncoding.EncodeToString(raw)
		}, sp.ErrMalformed},
		{"RelayState of another login", bundidsim.Tamper{}, func(a *answer) { a.relayState = "ref-zzzzzzzzzzzzzzzzzzzzzz" }, nil},
		{"wrong audience", bundidsim.Tamper{Assertion: func(as *etree.Element) {
			as.FindElement(".//Audience").SetText("https://evil.example/sp")
		}}, nil, sp.ErrAudience},
		{"wrong recipient", bundidsim.Tamper{Assertion: func(as *etree.Element) {
			as.FindElement(".//SubjectConfirmationData").CreateAttr("Recipient", "https://evil.example/acs")
		}}, nil, sp.ErrRecipient},
		{"expired", bundidsim.Tamper{Assertion: func(as *etree.Element) {
			as.FindElement(".//Conditions").CreateAttr("NotOnOrAfter", "2001-01-01T00:00:00.000Z")
		}}, nil, sp.ErrExpired},
		{"bPK2 missing", bundidsim.Tamper{Assertion: removeAttr(bundid.AttrBPK2)}, nil, bundid.ErrSubject},
		{"bPK2 twice", bundidsim.Tamper{Assertion: func(as *etree.Element) {
			attrEl(as, bundid.AttrBPK2).CreateElement("saml2:AttributeValue").SetText("other")
		}}, nil, bundid.ErrSubject},
		{"attribute listed twice", bundidsim.Tamper{Assertion: func(as *etree.Element) {
			dup := attrEl(as, bundid.AttrSurname).Copy()
			attrEl(as, bundid.AttrSurname).Parent().AddChild(dup)
		}}, nil, sp.ErrMalformed},
		{"required attribute missing", bundidsim.Tamper{Assertion: removeAttr(bundid.AttrSurname)}, nil, bundid.ErrMissing},
		{"no AuthnContextClassRef", bundidsim.Tamper{Assertion: func(as *etree.Element) {
			ac := as.FindElement(".//AuthnContext")
			ac.RemoveChild(ac.SelectElement("AuthnContextClassRef"))
		}}, nil, bundid.ErrLevel},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.sim.SetTamper(c.tamper)
			defer h.sim.SetTamper(bundidsim.Tamper{})
			req := request(assurance.Low)
			a, state := h.run(req, "4")
			if c.edit != nil {
				c.edit(&a)
			}
			if c.name == "RelayState of another login" {
				// The ACS forwards by RelayState, so the answer lands at
				// another login's callback and Finish there refuses it.
				if _, err := h.ad.Finish(t.Context(), req, state, postRequest(t, "/login/cb/"+a.relayState, a)); !errors.Is(err, sp.ErrBinding) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			_, err := h.finish(req, state, a)
			if err == nil || c.err != nil && !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
		})
	}
}

// TestReplayAndCrossLogin: an accepted answer is single use, and an answer
// to one request is refused for another.
func TestReplayAndCrossLogin(t *testing.T) {
	h := newHarness(t, nil)
	req := request(assurance.Low)
	a, state := h.run(req, "4")
	if _, err := h.finish(req, state, a); err != nil {
		t.Fatal(err)
	}
	if _, err := h.finish(req, state, a); !errors.Is(err, sp.ErrReplay) {
		t.Fatalf("replay: %v", err)
	}
	_, otherState := h.run(req, "4")
	b, _ := h.run(req, "4")
	if _, err := h.finish(req, otherState, b); !errors.Is(err, sp.ErrInResponseTo) {
		t.Fatalf("answer to another request: %v", err)
	}
}

// TestGarbage: empty, non-XML and non-SAML answers are refused.
func TestGarbage(t *testing.T) {
	h := newHarness(t, nil)
	req := request(assurance.Low)
	_, state := h.run(req, "4")
	for _, body := range []string{"", "bm90IHhtbA==", base64.StdEncoding.EncodeToString([]byte("<x/>"))} {
		a := answer{samlResponse: body, relayState: testRef}
		if _, err := h.ad.Finish(t.Context(), req, state, postRequest(t, "/login/cb/"+testRef, a)); err == nil {
			t.Fatalf("%q accepted", body)
		}
	}
}
