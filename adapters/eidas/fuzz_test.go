package eidas

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

// fuzzSeeds are the generated Response fixtures: valid ones for both
// algorithm families and every attack.
func fuzzSeeds(f *testing.F) [][]byte {
	f.Helper()
	files, err := filepath.Glob(fixture(f, "responses/*.xml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no response fixtures: %v", err)
	}
	var out [][]byte
	for _, p := range files {
		if strings.HasSuffix(p, "oversized.xml") {
			continue // its size adds nothing but slowness as a seed
		}
		out = append(out, testfiles.Read(f, p))
	}
	return out
}

// acceptedOnlyGenuine is the oracle of the response fuzzers: whatever the
// input, an accepted login can only be one the genuine proxy-service key
// signed, i.e. the fixtures' person at the fixtures' level. Anything else
// accepted would be a forgery.
func acceptedOnlyGenuine(t *testing.T, id adapters.Identity, err error) {
	t.Helper()
	if err != nil {
		return
	}
	if id.Subject != fxPID || id.Claims.FamilyName != "Müller" {
		t.Fatalf("accepted a login for %q", id.Subject)
	}
}

// FuzzParseResponse feeds raw Response XML to the full check (parse,
// signature, status, decryption, assertion and attribute rules). It must
// never panic, and must never accept anything but the genuine content.
func FuzzParseResponse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	// The replay cache is in the way of repeated valid inputs (a correct
	// refusal); a fresh adapter per input would be too slow to fuzz.
	rsa := openFixture(f, fxConfig(f, "rsa", "at-proxy"))
	ec := openFixture(f, fxConfig(f, "ec", "at-proxy"))
	state, err := decodeState(fxState(f, rsa))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, a := range []*Adapter{rsa, ec} {
			id, err := a.processResponse(context.Background(), state, raw)
			acceptedOnlyGenuine(t, id, err)
		}
	})
}

// FuzzFinish fuzzes the HTTP layer in front of it: the POSTed form (both
// fields, encodings, size) as the browser delivers it.
func FuzzFinish(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(s)}, "RelayState": {fxRef}}.Encode())
	}
	f.Add("SAMLResponse=&RelayState=")
	f.Add("RelayState=" + fxRef + "&SAMLResponse=%zz")
	a := openFixture(f, fxConfig(f, "rsa", "at-proxy"))
	state := fxState(f, a)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, fxBase+"/login/cb/"+fxRef, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		id, err := a.Finish(context.Background(), adapters.Request{}, state, r)
		acceptedOnlyGenuine(t, id, err)
	})
}

// FuzzDecryptAssertion fuzzes what lies behind the Response signature: the
// EncryptedAssertion as a trusted but faulty (or compromised) proxy-service
// could send it. Decryption and every assertion and attribute rule must
// cope with any bytes without panicking. Seeds are the EncryptedAssertion
// elements of the fixtures, for RSA-OAEP and ECDH-ES.
func FuzzDecryptAssertion(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		doc, err := xmlsec.Parse(s, responseLimits)
		if err != nil {
			continue
		}
		if ea := doc.Root().FindElement("./EncryptedAssertion"); ea != nil {
			b, err := xmlsec.Serialize(ea)
			if err == nil {
				f.Add(b)
			}
		}
	}
	rsa := openFixture(f, fxConfig(f, "rsa", "at-proxy"))
	ec := openFixture(f, fxConfig(f, "ec", "at-proxy"))
	st, err := decodeState(fxState(f, rsa))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		doc, err := xmlsec.Parse(raw, responseLimits)
		if err != nil {
			return
		}
		for _, a := range []*Adapter{rsa, ec} {
			md, _, err := a.byCode["AT"].usable(fxClock())
			if err != nil {
				t.Fatal(err)
			}
			as, err := xmlsec.Decrypt(doc.Root(), a.decKey, xmlsec.DecryptOptions{Limits: responseLimits})
			if err != nil {
				continue
			}
			ai, err := a.checkAssertion(as, md, st, fxClock(), fxIssued)
			if err != nil {
				continue
			}
			if _, err := a.mapAttributes(ai.attrs, a.byCode["AT"], st); err != nil {
				continue
			}
			if !bytes.Contains(raw, []byte("CipherValue")) {
				t.Fatal("an assertion without ciphertext was accepted")
			}
		}
	})
}
