package xmlsec

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

// Interoperability with xmlsec1 (libxmlsec1, OpenSSL back end), an
// independent implementation of XML Signature and XML Encryption. Missing
// xmlsec1 skips these tests unless BROKER_REQUIRE_XMLSEC1=1.
//
// xmlsec1 1.2.x has ECDSA (raw r‖s), RSA PKCS#1 v1.5, AES-GCM and
// rsa-oaep-mgf1p with SHA-1, but no RSASSA-PSS, no xmlenc11#rsa-oaep and no
// ECDH-ES; those directions are probed from --list-transforms and skipped
// with a message when absent.

type xmlsec1Tool struct {
	path       string
	transforms string
}

func findXMLSec1(t *testing.T) *xmlsec1Tool {
	t.Helper()
	path, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv("BROKER_REQUIRE_XMLSEC1") == "1" {
			t.Fatal("xmlsec1 not found but BROKER_REQUIRE_XMLSEC1=1")
		}
		t.Skip("xmlsec1 not installed; skipping interoperability tests (set BROKER_REQUIRE_XMLSEC1=1 to make this fatal)")
	}
	out, err := exec.Command(path, "--list-transforms").CombinedOutput()
	if err != nil {
		t.Fatalf("xmlsec1 --list-transforms: %v\n%s", err, out)
	}
	return &xmlsec1Tool{path: path, transforms: string(out)}
}

// has reports whether xmlsec1 lists the named transform (quoted name).
func (x *xmlsec1Tool) has(name string) bool {
	return strings.Contains(x.transforms, `"`+name+`"`)
}

func (x *xmlsec1Tool) run(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(x.path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return nil, fmt.Errorf("xmlsec1 %s: %w\n%s", args[0], err, stderr.String())
	}
	return stdout.Bytes(), nil
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func docBytes(t *testing.T, doc *etree.Document) []byte {
	t.Helper()
	b, err := Serialize(doc.Root())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tortureSigned is a document whose signed element (not the root) exercises
// the canonicalisation corners: namespaces declared on ancestors (used and
// unused), a default namespace undeclared inside, attributes whose prefix
// order differs from their namespace order, xml:lang on an ancestor (not
// inherited by exclusive c14n), escaped text and attribute values, a
// literal line break in an attribute (normalised to a space by parsers), a
// carriage return as character reference, CDATA, comments, empty elements,
// non-ASCII text, and a prefix used only inside an attribute value (kept
// through the InclusiveNamespaces PrefixList).
const tortureSigned = `<?xml version="1.0" encoding="UTF-8"?>
<!-- leading comment -->
<outer xmlns="urn:default" xmlns:unused="urn:unused" xmlns:z="urn:a" xmlns:a="urn:z" xmlns:q="urn:qname" xml:lang="de">
  <t:Signed xmlns:t="urn:torture" ID="_torture-1" z:attr="1" a:attr="2" plain="x &amp; y &lt; z &gt; w &quot;q&quot; 'a'" tabs="a&#9;b&#10;c&#13;d" literal="line1
line2">
    <child>default namespace from an ancestor</child>
    <none xmlns="">undeclared default <inner xmlns="urn:other">re-declared</inner></none>
    <t:text xml:lang="en">a &amp; b &lt; c &gt; d &#13; e <![CDATA[<cdata> & ]]> Grüße 東京</t:text>
    <!-- a comment that must not be signed -->
    <t:empty/>
    <t:same xmlns:t="urn:torture"><t:deep z:x="y"/></t:same>
    <t:rebind xmlns:t="urn:rebound"><t:x/></t:rebind>
    <t:typed type="q:Name">uses q only in content</t:typed>
  </t:Signed>
</outer>
`

func TestXMLSec1VerifiesOurSignatures(t *testing.T) {
	x := findXMLSec1(t)
	cases := []struct {
		name, key, alg string
		need           string // transform xmlsec1 must list
	}{
		{"ecdsa-sha256-p256", "sign-p256", SigECDSASHA256, "ecdsa-sha256"},
		{"ecdsa-sha384-p384", "sign-p384", SigECDSASHA384, "ecdsa-sha384"},
		{"ecdsa-sha512-p521", "sign-p521", SigECDSASHA512, "ecdsa-sha512"},
		{"ecdsa-sha256-p521", "sign-p521", SigECDSASHA256, "ecdsa-sha256"},
		{"rsa-sha256", "sign-rsa3072", SigRSASHA256, "rsa-sha256"},
		{"rsa-sha512", "sign-rsa3072", SigRSASHA512, "rsa-sha512"},
		{"pss-sha256", "sign-rsa3072", SigRSAPSSSHA256, "rsa-pss-sha256"},
		{"pss-sha512", "sign-rsa3072", SigRSAPSSSHA512, "rsa-pss-sha512"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !x.has(tc.need) {
				t.Skipf("this xmlsec1 has no %s transform (xmlsec1 1.2.x lacks RSASSA-PSS)", tc.need)
			}
			key, cert := fixtureKey(t, tc.key)
			for _, doc := range []struct {
				name, file, idNode string
				sign               func(*etree.Document) error
			}{
				{"response", "signed/response-pss-sha256.xml", "urn:oasis:names:tc:SAML:2.0:protocol:Response", func(d *etree.Document) error {
					removeSignature(d.Root())
					return SignWithOptions(d.Root(), key, []*x509.Certificate{cert}, SignOptions{Algorithm: tc.alg, AllowRSAPKCS1v15: true})
				}},
				{"torture", "", "urn:torture:Signed", func(d *etree.Document) error {
					return SignWithOptions(find(t, d.Root(), "./t:Signed"), key, []*x509.Certificate{cert}, SignOptions{
						Algorithm: tc.alg, AllowRSAPKCS1v15: true, InclusivePrefixes: []string{"q"}})
				}},
			} {
				var d *etree.Document
				var err error
				if doc.file != "" {
					d = parseFile(t, fixture(t, doc.file))
				} else if d, err = Parse([]byte(tortureSigned), Limits{}); err != nil {
					t.Fatal(err)
				}
				if err := doc.sign(d); err != nil {
					t.Fatal(err)
				}
				signed := docBytes(t, d)
				certPath := writeTemp(t, "cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
				// key-name only: xmlsec1 must use the loaded key, not KeyInfo.
				args := []string{"--verify", "--enabled-key-data", "key-name", "--pubkey-cert-pem", certPath, "--id-attr:ID", doc.idNode}
				if _, err := x.run(t, append(args, writeTemp(t, "signed.xml", signed))...); err != nil {
					t.Fatalf("%s: xmlsec1 rejected our signature: %v", doc.name, err)
				}
				// Control: xmlsec1 must reject the same document once altered.
				tampered := bytes.Replace(signed, []byte("Anna Maria"), []byte("Anna Marie"), 1)
				if doc.file == "" {
					tampered = bytes.Replace(signed, []byte("re-declared"), []byte("re-declareD"), 1)
				}
				if _, err := x.run(t, append(args, writeTemp(t, "tampered.xml", tampered))...); err == nil {
					t.Fatalf("%s: xmlsec1 accepted a tampered document; the harness proves nothing", doc.name)
				}
			}
		})
	}
}

func removeSignature(e *etree.Element) {
	for _, s := range samlxml.Children(e, NamespaceDSig, "Signature") {
		e.RemoveChild(s)
	}
}

// signatureTemplate is an enveloped-signature template for xmlsec1 --sign.
func signatureTemplate(alg, digest, id, prefixList string) string {
	inc := ""
	if prefixList != "" {
		inc = `<ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="` + prefixList + `"/>`
	}
	return `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
		`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
		`<ds:SignatureMethod Algorithm="` + alg + `"/>` +
		`<ds:Reference URI="#` + id + `"><ds:Transforms>` +
		`<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
		`<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">` + inc + `</ds:Transform>` +
		`</ds:Transforms><ds:DigestMethod Algorithm="` + digest + `"/><ds:DigestValue></ds:DigestValue></ds:Reference>` +
		`</ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data></ds:X509Data></ds:KeyInfo></ds:Signature>`
}

func TestXMLSec1SignaturesVerifiedByUs(t *testing.T) {
	x := findXMLSec1(t)
	cases := []struct {
		name, key, alg, digest string
		pkcs1                  bool
	}{
		{"ecdsa-sha256-p256", "sign-p256", SigECDSASHA256, DigestSHA256, false},
		{"ecdsa-sha384-p384", "sign-p384", SigECDSASHA384, DigestSHA384, false},
		{"ecdsa-sha512-p521", "sign-p521", SigECDSASHA512, DigestSHA512, false},
		{"rsa-sha256", "sign-rsa3072", SigRSASHA256, DigestSHA256, true},
		{"rsa-sha384", "sign-rsa3072", SigRSASHA384, DigestSHA384, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, cert := fixtureKey(t, tc.key)
			keyPath := fixture(t, "keys/"+tc.key+".key.pem")
			certPath := fixture(t, "keys/"+tc.key+".cert.pem")
			for _, doc := range []struct {
				name, idNode, id, prefixes string
				build                      func() *etree.Document
				target                     string
				check                      func(t *testing.T, signed *etree.Element)
			}{
				{"response", "urn:oasis:names:tc:SAML:2.0:protocol:Response", "_resp-0001", "", func() *etree.Document {
					d := parseFile(t, fixture(t, "attacks/unsigned.xml"))
					tmpl, err := Parse([]byte(signatureTemplate(tc.alg, tc.digest, "_resp-0001", "")), Limits{})
					if err != nil {
						t.Fatal(err)
					}
					iss := find(t, d.Root(), "./saml2:Issuer")
					d.Root().InsertChildAt(iss.Index()+1, tmpl.Root())
					return d
				}, "", func(t *testing.T, signed *etree.Element) {
					if got := find(t, signed, "./saml2:Assertion/saml2:Subject/saml2:NameID").Text(); got != "AT/DE/alice-0001" {
						t.Fatalf("NameID %q", got)
					}
				}},
				{"torture", "urn:torture:Signed", "_torture-1", "q", func() *etree.Document {
					d, err := Parse([]byte(tortureSigned), Limits{})
					if err != nil {
						t.Fatal(err)
					}
					tmpl, err := Parse([]byte(signatureTemplate(tc.alg, tc.digest, "_torture-1", "q")), Limits{})
					if err != nil {
						t.Fatal(err)
					}
					find(t, d.Root(), "./t:Signed").InsertChildAt(0, tmpl.Root())
					return d
				}, "./t:Signed", func(t *testing.T, signed *etree.Element) {
					if got := signed.SelectAttrValue("literal", ""); got != "line1 line2" {
						t.Fatalf("literal line break not normalised: %q", got)
					}
					if got := signed.SelectAttrValue("tabs", ""); got != "a\tb\nc\rd" {
						t.Fatalf("character references not kept: %q", got)
					}
					if signed.SelectAttrValue("xmlns:q", "") != "urn:qname" {
						t.Fatal("PrefixList prefix q lost in the signed element")
					}
				}},
			} {
				d := doc.build()
				tmplPath := writeTemp(t, "template.xml", docBytes(t, d))
				out, err := x.run(t, "--sign", "--privkey-pem", keyPath+","+certPath, "--id-attr:ID", doc.idNode, tmplPath)
				if err != nil {
					t.Fatal(err)
				}
				signedDoc, err := Parse(out, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				el := signedDoc.Root()
				if doc.target != "" {
					el = find(t, el, doc.target)
				}
				signed, got, err := Verify(el, VerifyOptions{Trusted: []*x509.Certificate{cert}, AllowRSAPKCS1v15: tc.pkcs1, Now: fixtureClock})
				if err != nil {
					t.Fatalf("%s: our verifier rejected xmlsec1's signature: %v", doc.name, err)
				}
				if !got.Equal(cert) {
					t.Fatalf("%s: verified with the wrong certificate", doc.name)
				}
				doc.check(t, signed)
				if tc.pkcs1 {
					if _, _, err := Verify(el, VerifyOptions{Trusted: []*x509.Certificate{cert}, Now: fixtureClock}); !errIsAny(err, ErrAlgorithmNotAllowed) {
						t.Fatalf("%s: PKCS#1 v1.5 accepted without AllowRSAPKCS1v15: %v", doc.name, err)
					}
				}
			}
		})
	}
}

// encryptionTemplate is an EncryptedData template for xmlsec1 --encrypt
// (AES-GCM content key transported with rsa-oaep-mgf1p, SHA-1).
func encryptionTemplate(dataAlg string) string {
	return `<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">` +
		`<xenc:EncryptionMethod Algorithm="` + dataAlg + `"/>` +
		`<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey>` +
		`<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p">` +
		`<ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/></xenc:EncryptionMethod>` +
		`<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>` +
		`<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>`
}

func TestXMLSec1EncryptionDecryptedByUs(t *testing.T) {
	x := findXMLSec1(t)
	key, _ := fixtureKey(t, "enc-rsa3072")
	certPath := fixture(t, "keys/enc-rsa3072.cert.pem")
	plainDoc := parseFile(t, fixture(t, "attacks/unsigned.xml"))
	want, err := Canonicalize(find(t, plainDoc.Root(), "./saml2:Assertion"), nil)
	if err != nil {
		t.Fatal(err)
	}
	dataPath := writeTemp(t, "data.xml", testfiles.Read(t, fixture(t, "attacks/unsigned.xml")))
	cases := []struct {
		name, alg, session string
		want               error
	}{
		{"aes256-gcm", EncAES256GCM, "aes-256", nil},
		{"aes128-gcm", EncAES128GCM, "aes-128", nil},
		{"aes192-gcm", EncAES192GCM, "aes-192", nil},
		{"aes256-cbc refused", encAES256CBC, "aes-256", ErrCBCRefused},
		{"aes128-cbc refused", encAES128CBC, "aes-128", ErrCBCRefused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmplPath := writeTemp(t, "template.xml", []byte(encryptionTemplate(tc.alg)))
			out, err := x.run(t, "--encrypt", "--pubkey-cert-pem", certPath, "--session-key", tc.session,
				"--xml-data", dataPath, "--node-name", NamespaceSAML+":Assertion", tmplPath)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Parse(out, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			ed := find(t, doc.Root(), "./xenc:EncryptedData")
			// xmlsec1 only offers rsa-oaep-mgf1p with SHA-1, which eIDAS 1.4
			// forbids: refused by default, opened as legacy.
			if _, err := Decrypt(ed, key, DecryptOptions{}); !errIsAny(err, ErrAlgorithmNotAllowed) {
				t.Fatalf("default options: %v, want ErrAlgorithmNotAllowed", err)
			}
			got, err := Decrypt(ed, key, DecryptOptions{AllowLegacyKeyTransport: true})
			wantErr(t, err, tc.want)
			if tc.want != nil {
				// Opened only where the caller's policy allows AES-CBC.
				if got, err = Decrypt(ed, key, DecryptOptions{AllowLegacyKeyTransport: true, AllowAESCBC: true}); err != nil {
					t.Fatalf("with AllowAESCBC: %v", err)
				}
			}
			c, err := Canonicalize(got, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(c, want) {
				t.Fatalf("decrypted assertion differs:\n%s\nwant\n%s", c, want)
			}
		})
	}
}

func TestXMLSec1DecryptsOurEncryption(t *testing.T) {
	x := findXMLSec1(t)
	keyPath := fixture(t, "keys/enc-rsa3072.key.pem")
	rsaCert := fixtureCert(t, "enc-rsa3072")
	cases := []struct {
		name string
		cert *x509.Certificate
		opts EncryptOptions
		need string
	}{
		{"aes256-gcm+rsa-oaep-mgf1p", rsaCert, EncryptOptions{KeyTransport: KeyTransportRSAOAEPMGF1P, OAEPDigest: DigestSHA1, AllowLegacyKeyTransport: true}, "rsa-oaep-mgf1p"},
		{"aes128-gcm+rsa-oaep-mgf1p", rsaCert, EncryptOptions{DataAlgorithm: EncAES128GCM, KeyTransport: KeyTransportRSAOAEPMGF1P, OAEPDigest: DigestSHA1, AllowLegacyKeyTransport: true}, "rsa-oaep-mgf1p"},
		// eIDAS 1.4 defaults; xmlsec1 1.3+ names xmlenc11#rsa-oaep "rsa-oaep".
		{"aes256-gcm+xmlenc11-rsa-oaep", rsaCert, EncryptOptions{}, "rsa-oaep"},
		{"aes256-gcm+ecdh-es", fixtureCert(t, "enc-p256"), EncryptOptions{}, "ecdh"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !x.has(tc.need) {
				t.Skipf("this xmlsec1 has no %s transform (xmlsec1 1.2.x lacks xmlenc11#rsa-oaep and ECDH-ES)", tc.need)
			}
			doc := parseFile(t, fixture(t, "attacks/unsigned.xml"))
			a := find(t, doc.Root(), "./saml2:Assertion")
			want, err := Canonicalize(a, nil)
			if err != nil {
				t.Fatal(err)
			}
			ed, err := Encrypt(a, tc.cert, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			doc.Root().InsertChildAt(a.Index(), ed)
			doc.Root().RemoveChild(a)
			k := keyPath
			if tc.need == "ecdh" {
				k = fixture(t, "keys/enc-p256.key.pem")
			}
			out, err := x.run(t, "--decrypt", "--enabled-key-data", "enc-key,rsa,ecdsa", "--privkey-pem", k, writeTemp(t, "enc.xml", docBytes(t, doc)))
			if err != nil {
				t.Fatalf("xmlsec1 could not decrypt our EncryptedData: %v", err)
			}
			dec, err := Parse(out, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := Canonicalize(find(t, dec.Root(), "./saml2:Assertion"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("xmlsec1 plaintext differs:\n%s\nwant\n%s", got, want)
			}
		})
	}
}
