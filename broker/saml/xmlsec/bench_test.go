package xmlsec

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// benchAssertion returns the fixture Response with extra attributes so the
// plaintext Response is about 10 KB, a typical eIDAS answer with the full
// natural-person data set.
func benchResponse(b *testing.B) *etree.Document {
	b.Helper()
	doc := parseFile(b, fixture(b, "attacks/unsigned.xml"))
	stmt := find(b, doc.Root(), ".//saml2:AttributeStatement")
	for i := 0; ; i++ {
		s, err := Serialize(doc.Root())
		if err != nil {
			b.Fatal(err)
		}
		if len(s) >= 10_000 {
			break
		}
		a := stmt.CreateElement("saml2:Attribute")
		a.CreateAttr("FriendlyName", fmt.Sprintf("Extra%d", i))
		a.CreateAttr("Name", fmt.Sprintf("http://eidas.europa.eu/attributes/naturalperson/Extra%d", i))
		a.CreateAttr("NameFormat", "urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
		v := a.CreateElement("saml2:AttributeValue")
		v.CreateAttr("xsi:type", "eidas-natural:CurrentAddressType")
		v.SetText("PGVpZGFzLW5hdHVyYWw6TG9jYXRvckRlc2lnbmF0b3I+MjI8L2VpZGFzLW5hdHVyYWw6TG9jYXRvckRlc2lnbmF0b3I+")
	}
	return doc
}

// benchSignedEncrypted builds the wire form of a signed Response carrying
// an EncryptedAssertion.
func benchSignedEncrypted(b *testing.B, signKey, encCert string, alg string) []byte {
	b.Helper()
	doc := benchResponse(b)
	a := find(b, doc.Root(), "./saml2:Assertion")
	ed, err := Encrypt(a, fixtureCert(b, encCert), EncryptOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ea := etree.NewElement("saml2:EncryptedAssertion")
	ea.AddChild(ed)
	doc.Root().InsertChildAt(a.Index(), ea)
	doc.Root().RemoveChild(a)
	key, cert := fixtureKey(b, signKey)
	if err := Sign(doc.Root(), key, []*x509.Certificate{cert}, alg); err != nil {
		b.Fatal(err)
	}
	out, err := Serialize(doc.Root())
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func benchVerifyDecrypt(b *testing.B, wire []byte, signCert string, dec crypto.PrivateKey) {
	opts := VerifyOptions{Trusted: []*x509.Certificate{fixtureCert(b, signCert)}, Now: fixtureClock}
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		doc, err := Parse(wire, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		signed, _, err := Verify(doc.Root(), opts)
		if err != nil {
			b.Fatal(err)
		}
		ea := samlxml.Children(signed, NamespaceSAML, "EncryptedAssertion")
		if _, err := Decrypt(ea[0], dec, DecryptOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// (a) RSA-3072 RSASSA-PSS-SHA256 + AES-256-GCM with xmlenc11#rsa-oaep.
func BenchmarkVerifyDecryptPSSRSAOAEP(b *testing.B) {
	wire := benchSignedEncrypted(b, "sign-rsa3072", "enc-rsa3072", SigRSAPSSSHA256)
	key, _ := fixtureKey(b, "enc-rsa3072")
	benchVerifyDecrypt(b, wire, "sign-rsa3072", key)
}

// (b) ECDSA P-256 + AES-256-GCM with ECDH-ES/ConcatKDF/kw-aes256 (P-256).
func BenchmarkVerifyDecryptECDSAECDHES(b *testing.B) {
	wire := benchSignedEncrypted(b, "sign-p256", "enc-p256", SigECDSASHA256)
	key, _ := fixtureKey(b, "enc-p256")
	benchVerifyDecrypt(b, wire, "sign-p256", key)
}

// benchPlainSigned is the ~10 KB Response with a plaintext assertion,
// signed by goxmldsig with RSA-SHA256 (PKCS#1 v1.5), RSA-3072.
func benchPlainSigned(b *testing.B) ([]byte, *x509.Certificate) {
	b.Helper()
	doc := benchResponse(b)
	key, cert := fixtureKey(b, "sign-rsa3072")
	ctx, err := dsig.NewSigningContext(key, [][]byte{cert.Raw})
	if err != nil {
		b.Fatal(err)
	}
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		b.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	signed, err := ctx.SignEnveloped(doc.Root())
	if err != nil {
		b.Fatal(err)
	}
	out, err := Serialize(signed)
	if err != nil {
		b.Fatal(err)
	}
	return out, cert
}

// (c) goxmldsig's own ValidationContext.Validate (parse included) of the
// same-sized document with RSA-SHA256, for comparison.
func BenchmarkGoxmldsigValidateRSASHA256(b *testing.B) {
	wire, cert := benchPlainSigned(b)
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	vc.Clock = dsig.NewFakeClockAt(fixtureClock())
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(wire); err != nil {
			b.Fatal(err)
		}
		if _, err := vc.Validate(doc.Root()); err != nil {
			b.Fatal(err)
		}
	}
}

// (c') Our Parse+Verify of exactly the goxmldsig-signed document
// (PKCS#1 v1.5 allowed), to compare like with like.
func BenchmarkVerifyRSASHA256SameDocument(b *testing.B) {
	wire, cert := benchPlainSigned(b)
	opts := VerifyOptions{Trusted: []*x509.Certificate{cert}, AllowRSAPKCS1v15: true, Now: fixtureClock}
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		doc, err := Parse(wire, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := Verify(doc.Root(), opts); err != nil {
			b.Fatal(err)
		}
	}
}

// Verification alone (PSS), without decryption.
func BenchmarkVerifyPSS(b *testing.B) {
	wire := benchSignedEncrypted(b, "sign-rsa3072", "enc-rsa3072", SigRSAPSSSHA256)
	opts := VerifyOptions{Trusted: []*x509.Certificate{fixtureCert(b, "sign-rsa3072")}, Now: fixtureClock}
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		doc, err := Parse(wire, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := Verify(doc.Root(), opts); err != nil {
			b.Fatal(err)
		}
	}
}
