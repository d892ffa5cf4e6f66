package xmlsec

import (
	"bytes"
	"crypto"
	"os"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

// fuzzLimits keep single inputs cheap.
func fuzzLimits() Limits { return Limits{MaxBytes: 64 << 10} }

// seedFixtures adds every committed fixture under the given folders.
func seedFixtures(f *testing.F, dirs ...string) {
	f.Helper()
	for _, d := range dirs {
		entries, err := os.ReadDir(fixture(f, d))
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			if filepath.Ext(e.Name()) == ".xml" {
				f.Add(testfiles.Read(f, fixture(f, d+"/"+e.Name())))
			}
		}
	}
}

// FuzzParse: Parse never panics, and whatever it accepts canonicalises and
// serialises to bytes that parse again to the same canonical form.
func FuzzParse(f *testing.F) {
	seedFixtures(f, "attacks", "signed")
	for _, s := range []string{
		`<a/>`, `<a xmlns="urn:x"><b xmlns=""/></a>`, "<a x=\"1\n2\">\r\n</a>", `<p:a xmlns:p="urn:p" p:x="&#9;"/>`,
		`<a><![CDATA[]]><!----></a>`, `<a:b:c/>`, `<a><!>DOCTYPE a=></a>`,
	} {
		f.Add([]byte(s))
	}
	roomy := Limits{MaxBytes: 16 << 20, MaxDepth: 1000, MaxAttributes: 100000}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data, fuzzLimits())
		if err != nil {
			return
		}
		c, err := Canonicalize(doc.Root(), nil)
		if err != nil {
			t.Fatalf("canonicalize accepted input: %v", err)
		}
		again, err := Parse(c, roomy)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%q", err, c)
		}
		c2, err := Canonicalize(again.Root(), nil)
		if err != nil || !bytes.Equal(c, c2) {
			t.Fatalf("canonical form not a fixed point: %v\n%q\n%q", err, c, c2)
		}
		s, err := Serialize(doc.Root())
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(s, roomy)
		if err != nil {
			t.Fatalf("serialised form does not parse: %v\n%q", err, s)
		}
		c3, err := Canonicalize(back.Root(), nil)
		if err != nil || !bytes.Equal(c, c3) {
			t.Fatalf("serialise round trip changed the document: %v", err)
		}
	})
}

// FuzzVerify: Verify never panics on any parseable input, and when it
// accepts, the returned element is exactly the canonical signed content
// and the certificate is a trusted one.
func FuzzVerify(f *testing.F) {
	seedFixtures(f, "signed", "attacks")
	opts := fixtureVerifyOptions(f)
	opts.Limits = fuzzLimits()
	opts.AllowRSAPKCS1v15 = true
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data, fuzzLimits())
		if err != nil {
			return
		}
		n := 0
		var walk func(e *etree.Element)
		walk = func(e *etree.Element) {
			if n++; n > 64 {
				return
			}
			signed, cert, err := Verify(e, opts)
			if err == nil {
				trusted := false
				for _, c := range opts.Trusted {
					trusted = trusted || c.Equal(cert)
				}
				if !trusted {
					t.Fatal("accepted with an untrusted certificate")
				}
				sig := samlxml.Children(e, NamespaceDSig, "Signature")[0]
				want, _ := canonicalize(e, c14nOptions{exclude: sig, inclusive: prefixListOf(sig)})
				got, _ := Canonicalize(signed, prefixListOf(sig))
				if !bytes.Equal(got, want) {
					t.Fatal("returned element differs from the signed content")
				}
			}
			for _, c := range e.ChildElements() {
				walk(c)
			}
		}
		walk(doc.Root())
	})
}

func prefixListOf(sig *etree.Element) []string {
	ts := sig.FindElements("./SignedInfo/Reference/Transforms/Transform")
	if len(ts) != 2 {
		return nil
	}
	p, _ := c14nMethod(ts[1])
	return p
}

// FuzzDecrypt: Decrypt never panics, whatever the structure, algorithms or
// ciphertext, with RSA and EC keys and both option sets.
func FuzzDecrypt(f *testing.F) {
	seedFixtures(f, "encrypted")
	for _, a := range []string{"cbc-aes128.xml", "rsa-1_5.xml", "truncated-gcm-tag.xml", "key-transport-with-agreement.xml", "ecdh-tampered-wrapped-key.xml"} {
		f.Add(testfiles.Read(f, fixture(f, "attacks/"+a)))
	}
	rsaKey, _ := fixtureKey(f, "enc-rsa3072")
	p256, _ := fixtureKey(f, "enc-p256")
	keys := []crypto.PrivateKey{rsaKey, p256}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data, fuzzLimits())
		if err != nil {
			return
		}
		var targets []*etree.Element
		targets = append(targets, doc.Root().FindElements("//EncryptedAssertion")...)
		targets = append(targets, doc.Root().FindElements("//EncryptedData")...)
		if len(targets) > 4 {
			targets = targets[:4]
		}
		for _, el := range targets {
			for _, k := range keys {
				for _, legacy := range []bool{false, true} {
					out, err := Decrypt(el, k, DecryptOptions{Limits: fuzzLimits(), AllowLegacyKeyTransport: legacy})
					if (err == nil) == (out == nil) {
						t.Fatal("Decrypt must return exactly one of element and error")
					}
				}
			}
		}
	})
}
