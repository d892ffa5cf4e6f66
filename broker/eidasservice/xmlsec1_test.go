package eidasservice_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	es "github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/eidasservice/democonnector"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// Interoperability with xmlsec1 (libxmlsec1 with OpenSSL), an independent
// implementation of XML Signature and XML Encryption. xmlsec1 1.2.37 has
// ECDSA and AES-GCM but no RSASSA-PSS, no xmlenc11#rsa-oaep and no ECDH-ES,
// so it checks what it can: our ECDSA signatures on metadata, Response and
// assertion, and our AES-GCM content encryption (with the content key
// unwrapped in Go). Missing xmlsec1 skips, unless BROKER_REQUIRE_XMLSEC1=1.
func xmlsec1(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv("BROKER_REQUIRE_XMLSEC1") == "1" {
			t.Fatal("xmlsec1 not found but BROKER_REQUIRE_XMLSEC1=1")
		}
		t.Skip("xmlsec1 not installed: skipping interoperability checks (BROKER_REQUIRE_XMLSEC1=1 makes this fatal)")
	}
	out, err := exec.Command(p, "--list-transforms").CombinedOutput()
	if err != nil {
		t.Fatalf("xmlsec1 --list-transforms: %v", err)
	}
	for _, need := range []string{`"ecdsa-sha256"`, `"aes256-gcm"`} {
		if !strings.Contains(string(out), need) {
			if os.Getenv("BROKER_REQUIRE_XMLSEC1") == "1" {
				t.Fatalf("xmlsec1 lacks %s", need)
			}
			t.Skipf("this xmlsec1 lacks %s", need)
		}
	}
	return p
}

func runXMLSec1(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("xmlsec1 %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

func tempFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestXMLSec1Interop(t *testing.T) {
	bin := xmlsec1(t)
	h := newHarness(t, harnessOpts{serviceKey: "service-sign-ec"})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pair(t, "service-sign-ec").Cert.Raw})
	certPath := tempFile(t, "service.cert.pem", certPEM)
	verify := func(name string, doc []byte, idNode string) {
		t.Helper()
		runXMLSec1(t, bin, "--verify", "--enabled-key-data", "key-name", "--pubkey-cert-pem", certPath, "--id-attr:ID", idNode, tempFile(t, name, doc))
	}

	t.Run("metadata (ECDSA)", func(t *testing.T) {
		md, err := h.svc.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		verify("metadata.xml", md, "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor")
	})

	b := h.browser()
	out := h.consent(b, h.eidLogin(b, h.postRequest(b, democonnector.RequestOptions{}), "erika"), "approve")
	_, form := out.form(t)
	raw, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Response (ECDSA)", func(t *testing.T) {
		verify("response.xml", raw, "urn:oasis:names:tc:SAML:2.0:protocol:Response")
	})
	t.Run("error Response to a stale request (ECDSA)", func(t *testing.T) {
		p := h.postRequest(h.browser(), democonnector.RequestOptions{IssueInstant: time.Now().Add(-time.Hour)})
		_, form := p.form(t)
		er, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
		if err != nil || !bytes.Contains(er, []byte(samlxml.StatusRequestDenied)) {
			t.Fatalf("not an error Response (%v):\n%s", err, er)
		}
		verify("error-response.xml", er, "urn:oasis:names:tc:SAML:2.0:protocol:Response")
	})

	doc, err := xmlsec.Parse(raw, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	enc := doc.FindElement("//EncryptedAssertion")
	encKey := pair(t, "connector-at-enc").Key.(*rsa.PrivateKey)
	assertion, err := xmlsec.Decrypt(enc, encKey, xmlsec.DecryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("assertion (ECDSA, InclusiveNamespaces)", func(t *testing.T) {
		b, err := xmlsec.Serialize(assertion)
		if err != nil {
			t.Fatal(err)
		}
		verify("assertion.xml", b, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion")
	})

	t.Run("AES-256-GCM content", func(t *testing.T) {
		// xmlsec1 1.2.37 cannot do xmlenc11#rsa-oaep: unwrap the content key
		// here (OAEP with SHA-256 and MGF1-SHA256, as the EncryptedKey says)
		// and let xmlsec1 decrypt the content with it.
		ed := enc.FindElement("./EncryptedData")
		if got := ed.FindElement("./EncryptionMethod").SelectAttrValue("Algorithm", ""); got != xmlsec.EncAES256GCM {
			t.Fatalf("content algorithm %s", got)
		}
		ek := enc.FindElement(".//EncryptedKey")
		if ek.FindElement("./EncryptionMethod").SelectAttrValue("Algorithm", "") != xmlsec.KeyTransportRSAOAEP ||
			ek.FindElement("./EncryptionMethod/DigestMethod").SelectAttrValue("Algorithm", "") != xmlsec.DigestSHA256 ||
			ek.FindElement("./EncryptionMethod/MGF").SelectAttrValue("Algorithm", "") != xmlsec.MGF1SHA256 {
			t.Fatal("EncryptedKey does not say rsa-oaep with SHA-256 and MGF1-SHA256")
		}
		ct, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(ek.FindElement("./CipherData/CipherValue").Text()), ""))
		if err != nil {
			t.Fatal(err)
		}
		cek, err := rsa.DecryptOAEP(sha256.New(), nil, encKey, ct, nil)
		if err != nil || len(cek) != 32 {
			t.Fatalf("unwrap content key: %v (%d bytes)", err, len(cek))
		}
		// A stand-alone EncryptedData without KeyInfo, keyed by name.
		alone := etree.NewDocument()
		c := ed.Copy()
		if ki := c.FindElement("./KeyInfo"); ki != nil {
			c.RemoveChild(ki)
		}
		alone.SetRoot(c)
		edBytes, err := xmlsec.Serialize(alone.Root())
		if err != nil {
			t.Fatal(err)
		}
		plain := runXMLSec1(t, bin, "--decrypt", "--aeskey:cek", tempFile(t, "cek.bin", cek), tempFile(t, "encdata.xml", edBytes))
		if !bytes.Contains(plain, []byte("Assertion")) || !bytes.Contains(plain, []byte(es.AttrPersonIdentifier)) {
			t.Fatalf("xmlsec1 decrypted something else:\n%s", plain)
		}
		// The plaintext xmlsec1 got is the assertion we decrypted in Go.
		pd, err := xmlsec.Parse(plain, xmlsec.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if pd.Root().SelectAttrValue("ID", "") != assertion.SelectAttrValue("ID", "") {
			t.Error("different assertion")
		}
	})
}
