package samltool

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/eidas"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
	"github.com/ozg-broker/eidas-broker/config"
)

func fx(tb testing.TB, rel string) string {
	return testfiles.Path(tb, "testdata", "eidas", filepath.FromSlash(rel))
}

// vectors returns the shared vector folder or skips the test.
func vectors(tb testing.TB) string {
	tb.Helper()
	return testfiles.VectorsCoveredBy(tb, "the generated fixtures in testdata/eidas still cover the tools")
}

func certs(tb testing.TB, path string) []*x509.Certificate {
	tb.Helper()
	c, err := eidas.ParseCertificatesPEM(testfiles.Read(tb, path))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func key(tb testing.TB, path string) crypto.Signer {
	tb.Helper()
	k, err := eidas.ParsePrivateKeyPEM(testfiles.Read(tb, path))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func deflateB64(tb testing.TB, b []byte) string {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = w.Write(b)
	_ = w.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestDecodeForms(t *testing.T) {
	xml := testfiles.Read(t, fx(t, "responses/rsa-valid.xml"))
	b64 := base64.StdEncoding.EncodeToString(xml)
	wrapped := ""
	for i := 0; i < len(b64); i += 76 {
		wrapped += b64[i:min(i+76, len(b64))] + "\r\n"
	}
	tests := []struct {
		name, input, form, param, relay string
	}{
		{"xml", string(xml), "xml", "", ""},
		{"base64", b64, "base64", "", ""},
		{"base64 with line breaks", wrapped, "base64", "", ""},
		{"url-encoded base64", url.QueryEscape(b64), "base64", "", ""},
		{"form body", url.Values{"SAMLResponse": {b64}, "RelayState": {"ref-1"}}.Encode(), "base64", "SAMLResponse", "ref-1"},
		{"redirect URL", "https://node.example/sso?SAMLResponse=" + url.QueryEscape(deflateB64(t, xml)) + "&RelayState=r2", "deflate", "SAMLResponse", "r2"},
		{"deflated value", deflateB64(t, xml), "deflate", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode([]byte(tc.input))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(bytes.TrimSpace(m.XML), bytes.TrimSpace(xml)) || m.Form != tc.form || m.Param != tc.param || m.RelayState != tc.relay {
				t.Errorf("form %s param %s relay %q, %d bytes", m.Form, m.Param, m.RelayState, len(m.XML))
			}
		})
	}
	for _, bad := range []string{"", "hello world", "SAMLRequest=a&SAMLResponse=b", "SAMLResponse=x&SAMLResponse=y", base64.StdEncoding.EncodeToString([]byte("not xml"))} {
		if _, err := Decode([]byte(bad)); !errors.Is(err, ErrInput) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// connectorRequest returns a signed AuthnRequest of the real adapter (POST
// form value, or Redirect URL) with the fixture keys.
func connectorRequest(t *testing.T, binding string) adapters.Handoff {
	t.Helper()
	c := eidas.NewConfig()
	c.SigningKeyFile = config.Path(fx(t, "keys/connector-sign-rsa3072.key.pem"))
	c.SigningCertFile = config.Path(fx(t, "keys/connector-sign-rsa3072.cert.pem"))
	c.EncryptionKeyFile = config.Path(fx(t, "keys/connector-enc-rsa3072.key.pem"))
	c.EncryptionCertFile = config.Path(fx(t, "keys/connector-enc-rsa3072.cert.pem"))
	c.Countries = []eidas.Country{{Code: "AT", Level: assurance.High, Binding: binding,
		MetadataFile: config.Path(fx(t, "metadata/at-proxy.xml")), TrustAnchorFile: config.Path(fx(t, "keys/anchor-ca.cert.pem"))}}
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	a, err := c.Open("eidas", adapters.Deps{BaseURL: "https://broker.test.example", Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	ho, _, err := a.Begin(context.Background(), adapters.Request{Ref: "ref-0123456789abcdef", Option: "AT", MinLevel: assurance.Substantial})
	if err != nil {
		t.Fatal(err)
	}
	return ho
}

func TestVerify(t *testing.T) {
	idpRSA := certs(t, fx(t, "keys/idp-at-rsa3072.cert.pem"))
	mdCerts, err := TrustFromMetadata(testfiles.Read(t, fx(t, "metadata/at-proxy.xml")))
	if err != nil {
		t.Fatal(err)
	}
	anchor := certs(t, fx(t, "keys/anchor-ca.cert.pem"))
	connector := certs(t, fx(t, "keys/connector-sign-rsa3072.cert.pem"))
	post := connectorRequest(t, eidas.BindingNamePOST)
	redirect := connectorRequest(t, eidas.BindingNameRedirect)
	postXML, _ := base64.StdEncoding.DecodeString(post.PostForm.Get("SAMLRequest"))
	resp := func(name string) []byte { return testfiles.Read(t, fx(t, "responses/"+name+".xml")) }
	tests := []struct {
		name  string
		msg   []byte
		trust Trust
		kind  string
		want  []error // nil: valid
	}{
		{"response, signing cert", resp("rsa-valid"), Trust{Certs: idpRSA}, "Response", nil},
		{"response, metadata certs", resp("rsa-valid"), Trust{Certs: mdCerts}, "Response", nil},
		{"ECDSA response, metadata certs", resp("ec-valid"), Trust{Certs: mdCerts}, "Response", nil},
		{"signed assertion inside", resp("rsa-valid-signed-assertion"), Trust{Certs: mdCerts}, "Response", nil},
		{"expired response: no time checks", resp("rsa-expired"), Trust{Certs: mdCerts}, "Response", nil},
		{"tampered", resp("rsa-tampered-after-signing"), Trust{Certs: mdCerts}, "", []error{ErrInvalid, xmlsec.ErrDigestMismatch}},
		{"unsigned", resp("rsa-unsigned"), Trust{Certs: mdCerts}, "", []error{ErrInvalid, xmlsec.ErrNotSigned}},
		{"attacker key in KeyInfo", resp("rsa-untrusted-keyinfo"), Trust{Certs: mdCerts}, "", []error{ErrInvalid, xmlsec.ErrUntrustedCertificate}},
		{"wrapping", resp("rsa-xsw1-original-inside-signature"), Trust{Certs: mdCerts}, "", []error{ErrInvalid}},
		{"SHA-1", resp("rsa-rsa-sha1"), Trust{Certs: mdCerts}, "", []error{ErrInvalid, xmlsec.ErrAlgorithmNotAllowed}},
		{"PKCS#1 v1.5 refused", resp("rsa-valid-pkcs1"), Trust{Certs: mdCerts}, "", []error{ErrInvalid, xmlsec.ErrAlgorithmNotAllowed}},
		{"PKCS#1 v1.5 allowed", resp("rsa-valid-pkcs1"), Trust{Certs: mdCerts, AllowRSAPKCS1v15: true}, "Response", nil},
		{"doctype", resp("rsa-doctype"), Trust{Certs: mdCerts}, "", []error{ErrInput, xmlsec.ErrDoctype}},
		{"metadata, anchor", testfiles.Read(t, fx(t, "metadata/at-proxy.xml")), Trust{Certs: anchor}, "EntityDescriptor", nil},
		{"metadata, ECDSA, anchor", testfiles.Read(t, fx(t, "metadata/at-proxy-ec-signed.xml")), Trust{Certs: anchor}, "EntityDescriptor", nil},
		{"expired metadata: no time checks", testfiles.Read(t, fx(t, "metadata/at-proxy-expired.xml")), Trust{Certs: anchor}, "EntityDescriptor", nil},
		{"metadata, bad signature", testfiles.Read(t, fx(t, "metadata/at-proxy-bad-signature.xml")), Trust{Certs: anchor}, "", []error{ErrInvalid, xmlsec.ErrDigestMismatch}},
		{"metadata, untrusted signer", testfiles.Read(t, fx(t, "metadata/at-proxy-untrusted-signer.xml")), Trust{Certs: anchor}, "", []error{ErrInvalid}},
		{"metadata, unsigned", testfiles.Read(t, fx(t, "metadata/at-proxy-unsigned.xml")), Trust{Certs: anchor}, "", []error{ErrInvalid, xmlsec.ErrNotSigned}},
		{"AuthnRequest, POST form value", []byte(post.PostForm.Get("SAMLRequest")), Trust{Certs: connector}, "AuthnRequest", nil},
		{"AuthnRequest, tampered", bytes.Replace(postXML, []byte(`ForceAuthn="true"`), []byte(`ForceAuthn="false"`), 1), Trust{Certs: connector}, "", []error{ErrInvalid, xmlsec.ErrDigestMismatch}},
		{"AuthnRequest, other signer", postXML, Trust{Certs: idpRSA}, "", []error{ErrInvalid}},
		{"AuthnRequest, Redirect URL", []byte(redirect.RedirectURL), Trust{Certs: connector}, "AuthnRequest", nil},
		{"AuthnRequest, Redirect tampered RelayState", []byte(strings.Replace(redirect.RedirectURL, "RelayState=ref", "RelayState=fer", 1)), Trust{Certs: connector}, "", []error{ErrInvalid, xmlsec.ErrSignatureInvalid}},
		{"AuthnRequest, Redirect without signature", []byte(redirect.RedirectURL[:strings.Index(redirect.RedirectURL, "&SigAlg=")]), Trust{Certs: connector}, "", []error{ErrInvalid, xmlsec.ErrNotSigned}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Verify(tc.msg, tc.trust)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if res.Kind != tc.kind || res.Signer == nil {
					t.Errorf("result %+v", res)
				}
				return
			}
			if err == nil {
				t.Fatalf("valid, want %v", tc.want)
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("%v does not wrap %v", err, w)
				}
			}
		})
	}
}

// TestVerifyVectors: independent producers' messages give the outcome the
// vector README documents under the eIDAS v1.4 policy.
func TestVerifyVectors(t *testing.T) {
	v := vectors(t)
	gov := certs(t, filepath.Join(v, "governikus/keys/EidasSignerTest_x509-old.cert.pem"))
	tests := []struct {
		file  string
		trust Trust
		want  []error
	}{
		// PSS-signed, valid, but by a 2048-bit key: refused for key size.
		{"governikus/requests/EidasSamlRequest_13062017.xml", Trust{Certs: gov}, []error{ErrInvalid, xmlsec.ErrWeakKey}},
		{"governikus/requests/EidasSamlRequest_07022017.xml", Trust{Certs: gov}, []error{ErrInvalid}},
		// PKCS#1 v1.5 with a SHA-1 digest: refused even where PKCS#1 is allowed.
		{"governikus/requests/EidasSamlRequestWithoutProviderName.xml", Trust{Certs: gov, AllowRSAPKCS1v15: true}, []error{ErrInvalid}},
		{"governikus/requests/EidasSamlRequestWithOnlyProviderName.xml", Trust{Certs: gov}, []error{ErrInvalid, xmlsec.ErrAlgorithmNotAllowed}},
		{"eidas-node-2.9/requests/testFullLoggingEidasRequest.xml", Trust{Certs: gov}, []error{ErrInvalid, xmlsec.ErrNotSigned}},
		{"governikus/requests/negAuthReq.xml", Trust{Certs: gov}, []error{ErrInvalid}},
		// P-521 ECDSA metadata with raw r‖s: valid.
		{"governikus/metadata/metadata-9444.xml", Trust{Certs: certs(t, filepath.Join(v, "governikus/keys/embedded/metadata-9444-signer.cert.pem"))}, nil},
		{"governikus/metadata/metadata-9445-invalid.xml", Trust{Certs: certs(t, filepath.Join(v, "governikus/keys/embedded/metadata-9444-signer.cert.pem"))}, []error{ErrInvalid, xmlsec.ErrDigestMismatch}},
		{"ee-eidas-client/idp-metadata-xxe.xml", Trust{Certs: gov}, []error{ErrInput, xmlsec.ErrDoctype}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			_, err := Verify(testfiles.Read(t, filepath.Join(v, tc.file)), tc.trust)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("valid")
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("%v does not wrap %v", err, w)
				}
			}
			t.Logf("refused: %v", err)
		})
	}
}

func TestDecrypt(t *testing.T) {
	rsaKey := key(t, fx(t, "keys/connector-enc-rsa3072.key.pem"))
	ecKey := key(t, fx(t, "keys/connector-enc-p256.key.pem"))
	resp := func(name string) []byte { return testfiles.Read(t, fx(t, "responses/"+name+".xml")) }
	for _, tc := range []struct {
		name string
		msg  []byte
		key  crypto.PrivateKey
		want error
	}{
		{"RSA-OAEP", resp("rsa-valid"), rsaKey, nil},
		{"ECDH-ES", resp("ec-valid"), ecKey, nil},
		{"ECDH-ES, base64 form", []byte(base64.StdEncoding.EncodeToString(resp("ec-valid-aes128"))), ecKey, nil},
		{"wrong key", resp("rsa-valid"), key(t, fx(t, "keys/attacker-rsa3072.key.pem")), xmlsec.ErrDecryptionFailed},
		{"key of the other type", resp("rsa-valid"), ecKey, xmlsec.ErrKeyType},
		{"CBC", resp("rsa-cbc"), rsaKey, xmlsec.ErrCBCRefused},
		{"rsa-1_5", resp("rsa-rsa-1_5"), rsaKey, xmlsec.ErrRSA15Refused},
		{"cancel status", resp("rsa-status-cancel"), rsaKey, ErrNoEncryptedAssertion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Decrypt(tc.msg, tc.key, DecryptOptions{})
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 1 || !bytes.Contains(out[0], []byte("Assertion")) || !bytes.Contains(out[0], []byte("AT/DE/1234567890abc")) {
				t.Errorf("decrypted %s", out)
			}
		})
	}
}

// TestDecryptVectors: every EU eIDAS-Node response gives the decryption
// outcome the vector README documents: the eIDAS v1.4 key transport opens
// as is, the pre-1.4 one (rsa-oaep-mgf1p, SHA-1 OAEP) only with the legacy
// option, and the rest is refused for its own reason.
func TestDecryptVectors(t *testing.T) {
	v := vectors(t)
	testRSA := key(t, filepath.Join(v, "eidas-node-2.9/keys/test/test-rsa.key.pem"))
	testEC := key(t, filepath.Join(v, "eidas-node-2.9/keys/test/test-ec-nist.key.pem"))
	demoRSA := key(t, filepath.Join(v, "eidas-node-2.9/keys/eidasKeyStore/local-demo-cert.key.pem"))
	for _, tc := range []struct {
		file      string
		key       crypto.PrivateKey
		want      error // without the legacy option; nil: opens
		legacyErr error // with it; nil: opens
	}{
		{"saml_response.xml", testRSA, ErrNoEncryptedAssertion, ErrNoEncryptedAssertion},
		{"saml_rsa_rsa-oaep-mgf1p_encrypted_response.xml", testRSA, xmlsec.ErrAlgorithmNotAllowed, nil},
		{"saml_rsa_rsa-oaep_encrypted_response.xml", testRSA, xmlsec.ErrAlgorithmNotAllowed, nil},
		{"saml_rsa_rsa-oaep_encrypted_response_DEREncodedKeyValue.xml", testRSA, xmlsec.ErrAlgorithmNotAllowed, nil},
		{"INVALID_saml_rsa_rsa-oaep_encrypted_response_missing_keyInfo.xml", testRSA, xmlsec.ErrAlgorithmNotAllowed, nil},
		{"INVALID_saml_rsa_rsa-oaep_encrypted_response_missing_pubkey.xml", testRSA, xmlsec.ErrAlgorithmNotAllowed, nil},
		{"saml_ec_NistCurve_kw-aes256_encrypted_response.xml", testEC, nil, nil},
		{"saml_ec_Brainpool_kw-aes256_encrypted_response.xml", testEC, xmlsec.ErrUnsupportedCurve, xmlsec.ErrUnsupportedCurve},
		{"saml_response_key_transport_rsa-oaep.xml", demoRSA, nil, nil},
		{"saml_response_key_agreement_mgf1p.xml", testEC, xmlsec.ErrEncryptionStructure, xmlsec.ErrEncryptionStructure},
		{"rsa-keyValues-encryptedAssertion.xml", testRSA, xmlsec.ErrAlgorithmNotAllowed, nil},
		{"rsa-unknowncert-encryptedAssertion.xml", testRSA, xmlsec.ErrAlgorithmNotAllowed, xmlsec.ErrDecryptionFailed},
		{"testFullLoggingEidasResponse.xml", testEC, xmlsec.ErrUnsupportedCurve, xmlsec.ErrUnsupportedCurve},
	} {
		t.Run(tc.file, func(t *testing.T) {
			msg := testfiles.Read(t, filepath.Join(v, "eidas-node-2.9/responses", tc.file))
			for _, legacy := range []bool{false, true} {
				want := tc.want
				if legacy {
					want = tc.legacyErr
				}
				out, err := Decrypt(msg, tc.key, DecryptOptions{AllowLegacyKeyTransport: legacy})
				if want != nil {
					if !errors.Is(err, want) {
						t.Errorf("legacy=%v: got %v, want %v", legacy, err, want)
					}
					continue
				}
				if err != nil {
					t.Errorf("legacy=%v: %v", legacy, err)
					continue
				}
				if len(out) != 1 || !bytes.Contains(out[0], []byte("PersonIdentifier")) {
					t.Errorf("legacy=%v: decrypted %.200s", legacy, out)
				}
			}
		})
	}
}

// TestVerifyGOVRequests: every Governikus AuthnRequest is refused under
// eIDAS v1.4 (2048-bit signer, PKCS#1 v1.5, SHA-1, broken digests,
// untrusted embedded signer, schema violation), each for a stated reason.
func TestVerifyGOVRequests(t *testing.T) {
	v := vectors(t)
	gov := certs(t, filepath.Join(v, "governikus/keys/EidasSignerTest_x509-old.cert.pem"))
	for _, tc := range []struct {
		file string
		want error
	}{
		{"EidasSamlRequest_290216.xml", xmlsec.ErrWeakKey},
		{"EidasSamlRequest_06042017.xml", xmlsec.ErrWeakKey},
		{"EidasSamlRequest_07022017.xml", xmlsec.ErrWeakKey},
		{"EidasSamlRequest_13062017.xml", xmlsec.ErrWeakKey},
		{"EidasSamlRequestWithoutProviderName.xml", xmlsec.ErrAlgorithmNotAllowed},
		{"EidasSamlRequestWithOnlyProviderName.xml", xmlsec.ErrAlgorithmNotAllowed},
		{"EidasSamlRequestWithOnlyRequesterId.xml", xmlsec.ErrAlgorithmNotAllowed},
		{"EidasSamlRequestWithProviderNameAndRequesterId.xml", xmlsec.ErrAlgorithmNotAllowed},
		// Signed by an embedded certificate nobody trusts here.
		{"EidasSamlRequestWithWrongNameIDPolicyType.xml", xmlsec.ErrUntrustedCertificate},
		{"EidasSamlRequestWithoutNameIDPolicy.xml", xmlsec.ErrUntrustedCertificate},
		{"posAuthReq.xml", xmlsec.ErrUntrustedCertificate},
		{"negAuthReq.xml", xmlsec.ErrSignatureStructure},
	} {
		t.Run(tc.file, func(t *testing.T) {
			res, err := Verify(testfiles.Read(t, filepath.Join(v, "governikus/requests", tc.file)), Trust{Certs: gov})
			if err == nil {
				t.Fatalf("valid: %+v", res)
			}
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			// Summaries still work on refused messages.
			if out, err := Inspect(testfiles.Read(t, filepath.Join(v, "governikus/requests", tc.file))); err != nil || !strings.Contains(out, "AuthnRequest") {
				t.Errorf("inspect: %v", err)
			}
		})
	}
}

func TestInspect(t *testing.T) {
	post := connectorRequest(t, eidas.BindingNamePOST)
	redirect := connectorRequest(t, eidas.BindingNameRedirect)
	tests := []struct {
		name   string
		input  []byte
		want   []string
		absent []string
	}{
		{"encrypted response", testfiles.Read(t, fx(t, "responses/ec-valid.xml")), []string{
			"message:", "Response", "Issuer:", "https://proxy.at.test.example/eidas/metadata", "status:", "Success",
			"1 encrypted, 0 plain", "ecdsa-sha256", "aes256-gcm", "ECDH-ES",
		}, nil},
		// A plain assertion is summarised without its personal data.
		{"plain assertion", testfiles.Read(t, fx(t, "responses/rsa-plain-assertion.xml")), []string{
			"0 encrypted, 1 plain", "CurrentFamilyName", "LoA/substantial", "value(s) not shown",
		}, []string{"Müller", "1234567890abc", "1985-03-21"}},
		{"cancel", testfiles.Read(t, fx(t, "responses/rsa-status-cancel.xml")), []string{"RequestDenied", "Citizen cancelled"}, nil},
		{"AuthnRequest POST", []byte(url.Values{"SAMLRequest": post.PostForm["SAMLRequest"], "RelayState": {"ref-1"}}.Encode()), []string{
			"AuthnRequest", "HTTP-POST", "ForceAuthn:", "true", "minimum http://eidas.europa.eu/LoA/substantial",
			"naturalperson/PersonIdentifier required=true", "NameIDPolicy:", "sha256-rsa-MGF1",
		}, nil},
		{"AuthnRequest Redirect", []byte(redirect.RedirectURL), []string{"HTTP-Redirect", "query signature:", "sha256-rsa-MGF1", "RelayState:"}, nil},
		{"metadata", testfiles.Read(t, fx(t, "metadata/at-proxy.xml")), []string{
			"EntityDescriptor", "entityID:", "IDPSSODescriptor", "NodeCountry", "AT", "RSA-3072", "EC P-256", "SingleSignOnService",
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Inspect(tc.input)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("summary lacks %q:\n%s", w, out)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(out, a) {
					t.Errorf("summary shows %q:\n%s", a, out)
				}
			}
		})
	}
	if _, err := Inspect(testfiles.Read(t, fx(t, "responses/rsa-entity-expansion.xml"))); !errors.Is(err, xmlsec.ErrDoctype) {
		t.Errorf("entity expansion: %v", err)
	}
}
