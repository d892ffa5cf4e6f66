package eidas

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
	"github.com/ozg-broker/eidas-broker/config"
)

func vectorCerts(tb testing.TB, path string) []*x509.Certificate {
	tb.Helper()
	certs, err := ParseCertificatesPEM(testfiles.Read(tb, path))
	if err != nil {
		tb.Fatal(err)
	}
	return certs
}

// withPeer replaces the AT country's metadata by a fixed proxy-service
// (for vectors that come with a certificate but without metadata).
//
// The state's next refresh lies an hour ahead, as after a real load: a
// zero time would make the background refresh loop, if it has not yet
// looked, reload the fixture metadata at once and replace this peer.
func withPeer(a *Adapter, entityID string, certs []*x509.Certificate) {
	c := a.byCode["AT"]
	c.state.Store(&countryState{md: &Metadata{
		EntityID: entityID, IDP: true, SigningCerts: certs,
		ValidUntil: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
	}, sso: Endpoint{Binding: samlxml.BindingPOST, Location: "https://peer.test.example/sso"}, next: time.Now().Add(time.Hour)})
}

// TestVectorGeneratedPSS: generated/response-pss-encrypted.xml (an
// independent RSASSA-PSS + RSA-OAEP/AES-256-GCM producer) is accepted.
func TestVectorGeneratedPSS(t *testing.T) {
	v := vectors(t)
	c := fxConfig(t, "rsa", "at-proxy")
	c.EntityID = "https://broker.test.example/saml/eidas/metadata"
	c.EncryptionKeyFile = config.Path(filepath.Join(v, "generated/keys/broker-enc-rsa3072.key.pem"))
	c.EncryptionCertFile = config.Path(filepath.Join(v, "generated/keys/broker-enc-rsa3072.cert.pem"))
	a := openFixture(t, c)
	a.acsURL = "https://broker.test.example/saml/eidas/acs"
	withPeer(a, "https://eidas-node.test.example/metadata", vectorCerts(t, filepath.Join(v, "generated/keys/idp-sign-rsa3072.cert.pem")))
	st := loginState{V: stateVersion, ID: "_req-fixed-0001", Country: "AT", Floor: "substantial", Issued: fxIssued.Unix(), Ref: fxRef}
	for _, r := range a.requested {
		st.Attrs = append(st.Attrs, r.def.Name)
		if r.required {
			st.Required = append(st.Required, r.def.Name)
		}
	}
	state, _ := json.Marshal(st)
	id, err := a.Finish(context.Background(), adapters.Request{}, state, postResponse(testfiles.Read(t, filepath.Join(v, "generated/response-pss-encrypted.xml")), fxRef))
	if err != nil {
		t.Fatalf("valid vector refused: %v", err)
	}
	cl := id.Claims
	if id.Subject != "AT/DE/1234567890abc" || id.Level != assurance.Substantial || cl.FamilyName != "Müller" || cl.GivenName != "Anna Maria" || cl.Birthdate != "1985-03-21" {
		t.Errorf("identity %q %s %+v", id.Subject, id.Level, cl)
	}
	if !id.AuthTime.Equal(time.Date(2030, 6, 1, 11, 59, 30, 0, time.UTC)) {
		t.Errorf("auth time %s", id.AuthTime)
	}
}

// TestVectorsEIDASNodeResponses: every EU eIDAS-Node 2.9 response fixture
// is refused at the signature (unsigned, or broken by pretty-printing),
// before any decryption.
func TestVectorsEIDASNodeResponses(t *testing.T) {
	v := vectors(t)
	signer := vectorCerts(t, filepath.Join(v, "eidas-node-2.9/keys/eidasKeyStore/nist-demo-certificate.cert.pem"))
	tests := []struct {
		file string
		want []error
	}{
		{"saml_response.xml", []error{ErrSignature, xmlsec.ErrNotSigned}},
		{"saml_rsa_rsa-oaep-mgf1p_encrypted_response.xml", []error{ErrSignature, xmlsec.ErrNotSigned}},
		{"saml_rsa_rsa-oaep_encrypted_response.xml", []error{ErrSignature, xmlsec.ErrNotSigned}},
		{"saml_rsa_rsa-oaep_encrypted_response_DEREncodedKeyValue.xml", []error{ErrSignature}},
		{"INVALID_saml_rsa_rsa-oaep_encrypted_response_missing_keyInfo.xml", []error{ErrSignature}},
		{"INVALID_saml_rsa_rsa-oaep_encrypted_response_missing_pubkey.xml", []error{ErrSignature}},
		{"saml_ec_NistCurve_kw-aes256_encrypted_response.xml", []error{ErrSignature, xmlsec.ErrNotSigned}},
		{"saml_ec_Brainpool_kw-aes256_encrypted_response.xml", []error{ErrSignature}},
		{"saml_response_key_transport_rsa-oaep.xml", []error{ErrSignature}},
		{"saml_response_key_agreement_mgf1p.xml", []error{ErrSignature}},
		{"rsa-keyValues-encryptedAssertion.xml", []error{ErrSignature, xmlsec.ErrNotSigned}},
		{"rsa-unknowncert-encryptedAssertion.xml", []error{ErrSignature, xmlsec.ErrNotSigned}},
		{"testFullLoggingEidasResponse.xml", []error{ErrSignature}},
	}
	a := openFixture(t, fxConfig(t, "rsa", "at-proxy"))
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			raw := testfiles.Read(t, filepath.Join(v, "eidas-node-2.9/responses", tc.file))
			// Trust whatever certificate the signature names as well, so
			// the refusal shows the signature itself is broken, not just
			// untrusted.
			withPeer(a, "http://localhost:8080/EidasNodeProxy/ServiceMetadata", append(signer, keyInfoCerts(t, raw)...))
			_, err := a.Finish(context.Background(), adapters.Request{}, fxState(t, a), postResponse(raw, fxRef))
			if err == nil {
				t.Fatal("accepted")
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

// keyInfoCerts returns the certificates in the KeyInfo of the root
// element's signature.
func keyInfoCerts(t *testing.T, raw []byte) []*x509.Certificate {
	t.Helper()
	doc, err := xmlsec.Parse(raw, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	sig, ok, _ := sp.Child(doc.Root(), samlxml.NSDSig, "Signature")
	if !ok {
		return nil
	}
	var out []*x509.Certificate
	for _, xc := range sig.FindElements(".//X509Certificate") {
		if c, err := parseCertBase64(samlxml.Text(xc)); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// TestVectorsMetadata: third-party metadata vectors give their documented
// outcome under our trust policy.
func TestVectorsMetadata(t *testing.T) {
	v := vectors(t)
	embedded := func(rel string) []*x509.Certificate {
		ents, err := ParseMetadata(testfiles.Read(t, filepath.Join(v, rel)))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		root, err := xmlsec.Parse(testfiles.Read(t, filepath.Join(v, rel)), metadataLimits)
		if err != nil {
			t.Fatal(err)
		}
		sig, _, _ := sp.Child(root.Root(), samlxml.NSDSig, "Signature")
		var out []*x509.Certificate
		for _, xc := range sig.FindElements(".//X509Certificate") {
			c, err := parseCertBase64(samlxml.Text(xc))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		_ = ents
		return out
	}
	eeAnchor := embedded("ee-eidas-client/idp-metadata.xml")
	enAnchor := embedded("eidas-node-2.9/metadata/samplemetadata/ServiceMetadata.xml")
	gov := func(name string) []*x509.Certificate {
		return vectorCerts(t, filepath.Join(v, "governikus/keys", name))
	}
	tests := []struct {
		name    string
		file    string
		opts    VerifyMetadataOptions
		want    []error // nil: the signature verifies
		checkMD func(t *testing.T, md *Metadata)
	}{
		// EE: crypto valid, but rsa-sha512 is PKCS#1 v1.5 …
		{"ee valid crypto, PKCS#1 refused", "ee-eidas-client/idp-metadata.xml", VerifyMetadataOptions{Anchors: eeAnchor, IgnoreTime: true}, []error{ErrMetadata, xmlsec.ErrAlgorithmNotAllowed}, nil},
		// … and, once PKCS#1 is allowed, the entity ID is not an https URL.
		{"ee entity ID not https", "ee-eidas-client/idp-metadata.xml", VerifyMetadataOptions{Anchors: eeAnchor, IgnoreTime: true, AllowRSAPKCS1v15: true}, nil, func(t *testing.T, md *Metadata) {
			if err := checkProxyService(md, "EE", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, ErrMetadata) {
				t.Errorf("entity %q accepted: %v", md.EntityID, err)
			}
		}},
		{"ee expired", "ee-eidas-client/idp-metadata-expired.xml", VerifyMetadataOptions{Anchors: eeAnchor, AllowRSAPKCS1v15: true, IgnoreTime: true}, []error{ErrMetadata}, nil},
		{"ee invalid signature", "ee-eidas-client/idp-metadata-invalid_signature.xml", VerifyMetadataOptions{Anchors: eeAnchor, AllowRSAPKCS1v15: true, IgnoreTime: true}, []error{ErrMetadata}, nil},
		{"ee XXE", "ee-eidas-client/idp-metadata-xxe.xml", VerifyMetadataOptions{Anchors: eeAnchor, AllowRSAPKCS1v15: true}, []error{ErrMetadata, xmlsec.ErrDoctype}, nil},
		{"EN service metadata digest mismatch", "eidas-node-2.9/metadata/samplemetadata/ServiceMetadata.xml", VerifyMetadataOptions{Anchors: enAnchor, IgnoreTime: true}, []error{ErrMetadata, xmlsec.ErrDigestMismatch}, nil},
		{"EN EntityDescriptors3 digest mismatch", "eidas-node-2.9/metadata/EntityDescriptors3/ServiceMetadata.xml", VerifyMetadataOptions{Anchors: enAnchor, IgnoreTime: true}, []error{ErrMetadata, xmlsec.ErrDigestMismatch}, nil},
		{"EN requester-id metadata", "eidas-node-2.9/metadata/samplemetadata/ServiceMetadataWithRequesterId.xml", VerifyMetadataOptions{Anchors: enAnchor, IgnoreTime: true}, []error{ErrMetadata}, nil},
		{"EN two signing keys", "eidas-node-2.9/metadata/samplemetadata/ServiceMetadataWithTwoSigningKeys.xml", VerifyMetadataOptions{Anchors: enAnchor, IgnoreTime: true}, []error{ErrMetadata}, nil},
		{"GOV middleware RSA-2048", "governikus/metadata/Metadata.xml", VerifyMetadataOptions{Anchors: gov("middleware_sign_crypt.cert.pem"), IgnoreTime: true}, []error{ErrMetadata, xmlsec.ErrWeakKey}, nil},
		{"GOV wrong anchor", "governikus/metadata/Metadata.xml", VerifyMetadataOptions{Anchors: gov("WrongSignerCert.cert.pem"), IgnoreTime: true}, []error{ErrMetadata, xmlsec.ErrUntrustedCertificate}, nil},
		{"GOV unsigned", "governikus/metadata/Metadata_without_signature.xml", VerifyMetadataOptions{Anchors: gov("middleware_sign_crypt.cert.pem"), IgnoreTime: true}, []error{ErrMetadata, xmlsec.ErrNotSigned}, nil},
		{"GOV P-521 ECDSA valid", "governikus/metadata/metadata-9444.xml", VerifyMetadataOptions{Anchors: gov("embedded/metadata-9444-signer.cert.pem"), IgnoreTime: true}, nil, func(t *testing.T, md *Metadata) {
			if md.IDP || md.SPType != "public" || md.EntityID != "https://localhost:9444/eIDASDemoApplication/Metadata" {
				t.Errorf("parsed %+v", md)
			}
		}},
		{"GOV 9445 digest mismatch", "governikus/metadata/metadata-9445-invalid.xml", VerifyMetadataOptions{Anchors: gov("embedded/metadata-9444-signer.cert.pem"), IgnoreTime: true}, []error{ErrMetadata, xmlsec.ErrDigestMismatch}, nil},
		{"SEC EU aggregate unsigned", "swedenconnect/eu-metadata-idps.xml", VerifyMetadataOptions{Anchors: eeAnchor}, []error{ErrMetadata, xmlsec.ErrNotSigned}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ents, err := LoadMetadata(testfiles.Read(t, filepath.Join(v, tc.file)), tc.opts)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if tc.checkMD != nil {
					tc.checkMD(t, ents[0])
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
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

// TestVectorsMetadataKeyPolicy: unsigned GOV metadata with short or
// non-named-curve keys fails the key policy or certificate parsing.
func TestVectorsMetadataKeyPolicy(t *testing.T) {
	v := vectors(t)
	for _, f := range []string{"metadata-9444-shortsign-rsa.xml", "metadata-9444-shortcrypt-rsa.xml",
		"metadata-9444-shortsign-ec.xml", "metadata-9444-shortcrypt-ec.xml",
		"metadata-9444-explicit-sign.xml", "metadata-9444-explicit-crypt.xml"} {
		t.Run(f, func(t *testing.T) {
			ents, err := ParseMetadata(testfiles.Read(t, filepath.Join(v, "governikus/metadata", f)))
			if err == nil {
				err = checkEntityKeys(ents[0])
			}
			if !errors.Is(err, ErrMetadata) {
				t.Fatalf("got %v, want a refusal", err)
			}
			t.Logf("refused: %v", err)
		})
	}
}

// TestVectorsEUAggregate: the real EU proxy-service aggregate parses (18
// entities), even though it is not trusted as is (unsigned).
func TestVectorsEUAggregate(t *testing.T) {
	v := vectors(t)
	ents, err := ParseMetadata(testfiles.Read(t, filepath.Join(v, "swedenconnect/eu-metadata-idps.xml")))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 18 {
		t.Fatalf("%d entities, want 18", len(ents))
	}
	countries := map[string]int{}
	for _, e := range ents {
		if !e.IDP || len(e.SSO) == 0 {
			t.Errorf("%s: not a proxy-service with SSO", e.EntityID)
		}
		countries[e.NodeCountry]++
	}
	for _, cc := range []string{"AT", "BE", "CZ", "DK", "EE", "ES", "IT", "NL", "SK"} {
		if countries[cc] == 0 {
			t.Errorf("no entity for %s (have %v)", cc, countries)
		}
	}
	// Selecting one country from the aggregate works by NodeCountry.
	c := &country{code: "AT"}
	md, err := c.selectEntity(ents)
	if err != nil || md.NodeCountry != "AT" {
		t.Errorf("select AT: %v", err)
	}
}

// TestVectorsENAttributeMapping maps the attribute statement of an EU
// eIDAS-Node 2.9 assertion (decrypted from saml_response_key_transport_
// rsa-oaep.xml with its recipient key): an independent producer's
// LatinScript pair (BirthName Onases / Ωνάσης), base64 CurrentAddress and
// unknown attributes (eJustice role, ignored). Its PersonIdentifier is
// CA/CA/12345, so the test adapter plays node country CA asking CA.
func TestVectorsENAttributeMapping(t *testing.T) {
	v := vectors(t)
	raw := testfiles.Read(t, filepath.Join(v, "eidas-node-2.9/responses/saml_response_key_transport_rsa-oaep.xml"))
	doc, err := xmlsec.Parse(raw, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePrivateKeyPEM(testfiles.Read(t, filepath.Join(v, "eidas-node-2.9/keys/eidasKeyStore/local-demo-cert.key.pem")))
	if err != nil {
		t.Fatal(err)
	}
	ea := doc.Root().FindElement("./EncryptedAssertion")
	if ea == nil {
		t.Fatal("no EncryptedAssertion")
	}
	as, err := xmlsec.Decrypt(ea, key, xmlsec.DecryptOptions{})
	if err != nil {
		t.Fatalf("decrypt (CR 1.4 algorithms): %v", err)
	}
	stmt, err := sp.MustChild(as, samlxml.NSAssertion, "AttributeStatement")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fxConfig(t, "rsa", "at-proxy")
	cfg.NodeCountry = "CA"
	cfg.RequestedAttributes = nil
	for _, d := range Attributes() {
		if d.Type == Natural {
			cfg.RequestedAttributes = append(cfg.RequestedAttributes, RequestedAttribute{Name: d.FriendlyName, Required: d.Mandatory})
		}
	}
	a := openFixture(t, cfg)
	st := &loginState{}
	for _, r := range a.requested {
		st.Attrs = append(st.Attrs, r.def.Name)
		if r.required {
			st.Required = append(st.Required, r.def.Name)
		}
	}
	id, err := a.mapAttributes(stmt, &country{code: "CA"}, st)
	if err != nil {
		t.Fatalf("map: %v", err)
	}
	c := id.Claims
	if id.Subject != "CA/CA/12345" || c.FamilyName != "Garcia" || c.GivenName != "javier" || c.Birthdate != "1964-12-31" || c.Gender != "male" {
		t.Errorf("identity %q %+v", id.Subject, c)
	}
	if c.BirthFamilyName != "" || c.Extra["birth_name"] != "Onases" || c.Scripts["el"].Extra["birth_name"] != "Ωνάσης" {
		t.Errorf("LatinScript pair: %q %q / %+v", c.BirthFamilyName, c.Extra["birth_name"], c.Scripts)
	}
	ad := c.Address
	if ad == nil || ad.PostalCode != "1040" || ad.Locality != "ETTERBEEK CHASSE" || ad.Country != "BE" || ad.Region != "ETTERBEEK" ||
		ad.StreetAddress != "DIGIT building\nRue Belliard 28\nPO Box 1234" {
		t.Errorf("CurrentAddress %+v", ad)
	}
	if c.PlaceOfBirth == nil || c.PlaceOfBirth.Locality != "Paris" || c.PlaceOfBirth.Country != "ES" {
		t.Errorf("place of birth %+v", c.PlaceOfBirth)
	}
	if len(c.Nationalities) != 1 || c.Nationalities[0] != "ES" || c.Extra["country_of_residence"] != "BE" || c.Extra["email"] != "john.doe@mail.com" {
		t.Errorf("nationality / extras %v %v", c.Nationalities, c.Extra)
	}
	// The same statement asked from another country is refused (S33).
	if _, err := a.mapAttributes(stmt, &country{code: "AT"}, st); !errors.Is(err, ErrPersonIdentifier) {
		t.Errorf("CA identifier for AT: %v", err)
	}
}

// TestVectorsENAttributeRegistry cross-checks our attribute registry with
// the EU eIDAS-Node's: every Name URI we know exists there with the same
// person type and the same mandatory flag. (The file's DOCTYPE names an
// external DTD; it is cut off before parsing, never fetched.)
func TestVectorsENAttributeRegistry(t *testing.T) {
	v := vectors(t)
	raw := testfiles.Read(t, filepath.Join(v, "eidas-node-2.9/eidas-attributes.xml"))
	raw = regexp.MustCompile(`<!DOCTYPE[^>]*>`).ReplaceAll(raw, nil)
	doc, err := xmlsec.Parse(raw, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]string{}
	for _, e := range doc.Root().SelectElements("entry") {
		entries[e.SelectAttrValue("key", "")] = strings.TrimSpace(e.Text())
	}
	byURI := map[string]string{} // URI → entry number
	for k, val := range entries {
		if n, ok := strings.CutSuffix(k, ".NameUri"); ok {
			byURI[val] = n
		}
	}
	for _, d := range Attributes() {
		n, ok := byURI[d.Name]
		if !ok {
			t.Errorf("%s not in the EU registry", d.Name)
			continue
		}
		wantType := map[PersonType]string{Natural: "NaturalPerson", Legal: "LegalPerson"}[d.Type]
		if entries[n+".PersonType"] != wantType {
			t.Errorf("%s: person type %q", d.Name, entries[n+".PersonType"])
		}
		if (entries[n+".Required"] == "true") != d.Mandatory {
			t.Errorf("%s: required %q, ours %v", d.Name, entries[n+".Required"], d.Mandatory)
		}
		if fn := entries[n+".FriendlyName"]; fn != d.FriendlyName {
			t.Logf("%s: FriendlyName %q there, %q here (we key on the Name URI)", d.Name, fn, d.FriendlyName)
		}
	}
}

// TestVectorsKeySizes: third-party key pairs as our connector's signing
// key: RSA-2048 and P-224 are refused by the eIDAS key policy, RSA-3072,
// RSA-4096 and P-384 are accepted; a valid one then signs requests. The EN
// RSA-3072 certificate has expired, which Validate reports on its own.
func TestVectorsKeySizes(t *testing.T) {
	v := vectors(t)
	for _, tc := range []struct {
		base             string
		policyOK, usable bool
	}{
		{"eidas-node-2.9/keys/signatureTestKeystore/rsa-2048-cert", false, false},
		{"governikus/keys/rsa-2048/rsa-2048", false, false},
		{"governikus/keys/secp224r1/secp224r1", false, false},
		{"eidas-node-2.9/keys/signatureTestKeystore/rsa-3072-cert", true, false},
		{"governikus/keys/eidassignertest/eidassignertest", true, true},
		{"governikus/keys/eidassignertest_ec/eumw-test-ec", true, true},
	} {
		t.Run(filepath.Base(tc.base), func(t *testing.T) {
			key, err := sp.LoadKey(filepath.Join(v, tc.base+".key.pem"))
			if err != nil {
				t.Fatal(err)
			}
			cert := vectorCerts(t, filepath.Join(v, tc.base+".cert.pem"))[0]
			if err := sp.CheckKeyPair(key, cert); (err == nil) != tc.policyOK {
				t.Fatalf("key policy: %v, want ok=%v", err, tc.policyOK)
			} else if err != nil && !errors.Is(err, xmlsec.ErrWeakKey) {
				t.Errorf("refused for another reason: %v", err)
			}
			c := fxConfig(t, "rsa", "at-proxy")
			c.SigningKeyFile = config.Path(filepath.Join(v, tc.base+".key.pem"))
			c.SigningCertFile = config.Path(filepath.Join(v, tc.base+".cert.pem"))
			if ps := c.Validate(); (len(ps) == 0) != tc.usable {
				t.Fatalf("usable %v, want %v: %v", len(ps) == 0, tc.usable, ps)
			}
			if !tc.usable {
				return
			}
			a := openFixture(t, c)
			if _, _, err := a.Begin(context.Background(), adapters.Request{Ref: fxRef, Option: "AT", MinLevel: assurance.Low}); err != nil {
				t.Fatalf("begin with %s: %v", tc.base, err)
			}
		})
	}
}
