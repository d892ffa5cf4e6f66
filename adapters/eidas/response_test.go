package eidas

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

// responseCases gives, for every generated Response fixture, the outcome:
// nil errors mean accepted (then check runs), otherwise every listed
// sentinel must be wrapped by Finish's error. The reference column names
// the attack of specs/security.md §2.
var responseCases = map[string]struct {
	want  []error
	check func(t *testing.T, id adapters.Identity)
	ref   string
	legal bool // run with person_type legal
}{
	"rsa-valid":                  {check: checkAnna, ref: "RSASSA-PSS + RSA-OAEP/AES-256-GCM"},
	"ec-valid":                   {check: checkAnna, ref: "ECDSA P-256 + ECDH-ES/AES-256-GCM"},
	"rsa-valid-signed-assertion": {check: checkAnna},
	"ec-valid-signed-assertion":  {check: checkAnna},
	"ec-valid-aes128":            {check: checkAnna, ref: "AES-128-GCM, kw-aes128"},
	"rsa-valid-latin-script": {check: func(t *testing.T, id adapters.Identity) {
		// The Greek form is kept under its language tag (OIDC Core §5.2
		// family_name#el), the Latin one where every portal reads it.
		if id.Claims.FamilyName != "Papadopoulou" || id.Claims.Scripts["el"].FamilyName != "Παπαδοπούλου" {
			t.Errorf("LatinScript: %q / %+v", id.Claims.FamilyName, id.Claims.Scripts)
		}
	}},
	// PKCS#1 v1.5 is outside eIDAS v1.4: refused unless the country allows it.
	"rsa-valid-pkcs1": {want: []error{ErrSignature, xmlsec.ErrAlgorithmNotAllowed}},

	"rsa-xsw1-original-inside-signature":                 {want: []error{ErrSignature, xmlsec.ErrSignatureStructure}, ref: "S1"},
	"rsa-xsw2-evil-sibling":                              {want: []error{ErrSignature, xmlsec.ErrDigestMismatch}, ref: "S2"},
	"rsa-xsw3-evil-assertion-first":                      {want: []error{ErrSignature, xmlsec.ErrDigestMismatch}, ref: "S3"},
	"rsa-xsw3-unsigned-response-evil-assertion-first":    {want: []error{ErrSignature, xmlsec.ErrNotSigned}, ref: "S3"},
	"rsa-xsw4-assertion-inside-evil":                     {want: []error{ErrSignature, xmlsec.ErrDigestMismatch}, ref: "S4"},
	"rsa-xsw4-unsigned-response-signed-inside-evil":      {want: []error{ErrSignature, xmlsec.ErrNotSigned}, ref: "S4"},
	"rsa-xsw5-evil-content-keeps-signature":              {want: []error{ErrSignature, xmlsec.ErrReference}, ref: "S5"},
	"rsa-xsw5-unsigned-response-signed-assertion-edited": {want: []error{ErrSignature, xmlsec.ErrNotSigned}, ref: "S5"},
	"rsa-xsw5-duplicate-id-in-extensions":                {want: []error{ErrSignature}, ref: "S5"},
	"rsa-xsw6-original-inside-signature-evil-content":    {want: []error{ErrSignature}, ref: "S6"},
	"rsa-xsw7-evil-assertion-in-extensions":              {want: []error{ErrSignature, xmlsec.ErrDigestMismatch}, ref: "S7"},
	"rsa-xsw7-signed-plain-assertion-in-extensions":      {want: []error{ErrPlainAssertion}, ref: "S7"},
	"rsa-xsw7-signed-encrypted-assertion-in-extensions":  {want: []error{ErrAssertionCount}, ref: "S7"},
	"rsa-xsw8-original-in-signature-object":              {want: []error{ErrSignature}, ref: "S8"},
	"rsa-xsw9a-second-signature":                         {want: []error{ErrSignature, xmlsec.ErrMultipleSignatures}, ref: "S9a"},
	"rsa-xsw9a-evil-root-wraps-signed":                   {want: []error{ErrSignature, xmlsec.ErrNotSigned}, ref: "S9a"},
	"rsa-xsw9b-error-response-with-assertion":            {want: []error{adapters.ErrCancelled, ErrStatus}, ref: "S9b"},
	"rsa-xsw9d-signature-moved-to-evil-root":             {want: []error{ErrSignature, xmlsec.ErrReference}, ref: "S9d"},
	"rsa-xsw9d-unsigned-response-signed-assertion":       {want: []error{ErrSignature, xmlsec.ErrNotSigned}, ref: "S9d/S13"},

	// A comment in signed text is dropped by c14n (the signature stays
	// valid); the value read is the whole signed text, never a prefix.
	"rsa-comment-in-issuer":            {check: checkAnna, ref: "S10"},
	"rsa-comment-in-person-identifier": {check: checkAnna, ref: "S10"},

	"rsa-unsigned":                {want: []error{ErrSignature, xmlsec.ErrNotSigned}, ref: "S11"},
	"rsa-tampered-after-signing":  {want: []error{ErrSignature, xmlsec.ErrDigestMismatch}, ref: "S12"},
	"rsa-untrusted-keyinfo":       {want: []error{ErrSignature, xmlsec.ErrUntrustedCertificate}, ref: "S21"},
	"rsa-attacker-no-keyinfo":     {want: []error{ErrSignature, xmlsec.ErrSignatureInvalid}, ref: "S21"},
	"rsa-assertion-bad-signature": {want: []error{ErrSignature, xmlsec.ErrDigestMismatch}, ref: "inner signature"},
	"rsa-sha1-digest":             {want: []error{ErrSignature, xmlsec.ErrAlgorithmNotAllowed}, ref: "S20"},
	"rsa-rsa-sha1":                {want: []error{ErrSignature, xmlsec.ErrAlgorithmNotAllowed}, ref: "S20"},
	"ec-ecdsa-sha1":               {want: []error{ErrSignature, xmlsec.ErrAlgorithmNotAllowed}, ref: "S20"},

	"rsa-two-encrypted-assertions": {want: []error{ErrAssertionCount}, ref: "S14"},
	"rsa-plain-assertion":          {want: []error{ErrPlainAssertion}, ref: "S14"},
	"rsa-plain-and-encrypted":      {want: []error{ErrPlainAssertion}, ref: "S14"},

	"rsa-expired":                  {want: []error{ErrExpired}, ref: "S16"},
	"rsa-conditions-expired":       {want: []error{ErrExpired}, ref: "S16"},
	"rsa-not-yet-valid":            {want: []error{ErrNotYetValid}, ref: "S16"},
	"rsa-conditions-not-yet-valid": {want: []error{ErrNotYetValid}, ref: "S16"},
	"rsa-authn-before-request":     {want: []error{ErrExpired}, ref: "ForceAuthn"},
	"rsa-no-timezone":              {want: []error{ErrMalformed}},

	"rsa-wrong-audience":                 {want: []error{ErrAudience}, ref: "S17"},
	"rsa-wrong-destination":              {want: []error{ErrDestination}, ref: "S17"},
	"rsa-missing-destination":            {want: []error{ErrDestination}, ref: "S17"},
	"rsa-wrong-recipient":                {want: []error{ErrRecipient}, ref: "S17"},
	"rsa-wrong-in-response-to":           {want: []error{ErrInResponseTo}, ref: "S18"},
	"rsa-assertion-wrong-in-response-to": {want: []error{ErrInResponseTo}, ref: "S18"},
	"rsa-unsolicited":                    {want: []error{ErrUnsolicited}, ref: "S18"},
	"rsa-unknown-issuer":                 {want: []error{ErrIssuer}, ref: "S19"},
	"rsa-assertion-issuer-mismatch":      {want: []error{ErrIssuer}, ref: "S19"},
	"rsa-unknown-condition":              {want: []error{ErrMalformed}},
	"rsa-encrypted-attribute":            {want: []error{ErrMalformed}},

	"rsa-cbc":                 {want: []error{ErrDecryption, xmlsec.ErrCBCRefused}, ref: "S27"},
	"ec-cbc":                  {want: []error{ErrDecryption, xmlsec.ErrCBCRefused}, ref: "S27"},
	"rsa-rsa-1_5":             {want: []error{ErrDecryption, xmlsec.ErrRSA15Refused}, ref: "S28"},
	"rsa-oaep-mgf1p":          {want: []error{ErrDecryption, xmlsec.ErrAlgorithmNotAllowed}, ref: "S28"},
	"rsa-wrong-recipient-key": {want: []error{ErrDecryption, xmlsec.ErrDecryptionFailed}},

	"rsa-loa-downgrade":             {want: []error{ErrLoADowngrade}, ref: "S32"},
	"ec-loa-downgrade":              {want: []error{ErrLoADowngrade}, ref: "S32"},
	"rsa-loa-not-notified":          {want: []error{ErrLoADowngrade}, ref: "S32"},
	"rsa-loa-unknown":               {want: []error{ErrLoADowngrade, assurance.ErrUnknown}},
	"rsa-pid-country-mismatch":      {want: []error{ErrPersonIdentifier}, ref: "S33"},
	"rsa-pid-destination-mismatch":  {want: []error{ErrPersonIdentifier}, ref: "S33"},
	"rsa-pid-whitespace":            {want: []error{ErrPersonIdentifier}},
	"rsa-missing-date-of-birth":     {want: []error{ErrMissingAttribute}},
	"rsa-missing-person-identifier": {want: []error{ErrMissingAttribute}},
	"rsa-representative":            {want: []error{ErrRepresentation}},

	"rsa-status-cancel":      {want: []error{adapters.ErrCancelled, ErrStatus}},
	"ec-status-authn-failed": {want: []error{ErrAuthnFailed, ErrStatus}},
	"rsa-status-error":       {want: []error{ErrStatus}},

	"rsa-valid-legal-representative": {legal: true, check: func(t *testing.T, id adapters.Identity) {
		c := id.Claims
		if id.Subject != "AT/DE/7781X22AB" || c.FamilyName != "Gruber" || c.GivenName != "Franz" || c.Birthdate != "1971-11-02" {
			t.Errorf("representative %q %+v", id.Subject, c)
		}
		if le := c.LegalEntity; le == nil || le.Name != "Gruber Bau GmbH" || le.Identifier != "AT/DE/FN123456a" || le.Country != "AT" {
			t.Errorf("legal entity %+v", c.LegalEntity)
		}
		// LEI was sent but not requested (the default legal request is the
		// minimum data set): data minimisation drops it.
		if _, ok := c.Extra["legal_lei"]; ok {
			t.Errorf("unrequested LEI released")
		}
	}},
	"rsa-legal-identifier-country-mismatch": {legal: true, want: []error{ErrPersonIdentifier}, ref: "S33"},

	"rsa-doctype":          {want: []error{ErrMalformed, xmlsec.ErrDoctype}, ref: "S23"},
	"rsa-entity-expansion": {want: []error{ErrMalformed, xmlsec.ErrDoctype}, ref: "S24"},
	"rsa-deep-nesting":     {want: []error{ErrMalformed, xmlsec.ErrTooDeep}, ref: "S26"},
	"rsa-oversized":        {want: []error{ErrMalformed, xmlsec.ErrTooLarge}, ref: "S26"},
}

func checkAnna(t *testing.T, id adapters.Identity) {
	t.Helper()
	if id.Subject != fxPID || id.Level != assurance.Substantial {
		t.Errorf("identity %q at %s", id.Subject, id.Level)
	}
	c := id.Claims
	if c.FamilyName != "Müller" || c.GivenName != "Anna Maria" || c.Birthdate != "1985-03-21" || c.Gender != "female" {
		t.Errorf("claims %+v", c)
	}
	// BirthName holds first names and family name at birth: birth_name,
	// never birth_family_name.
	if c.BirthFamilyName != "" || c.Extra["birth_name"] != "Anna Maria Huber" {
		t.Errorf("claims %+v", c)
	}
	if c.Address == nil || c.Address.StreetAddress != "Praterstraße 12" || c.Address.Locality != "Wien" || c.Address.PostalCode != "1020" || c.Address.Country != "AT" {
		t.Errorf("address %+v", c.Address)
	}
	if !id.AuthTime.Equal(fxIssued.Add(30 * 1e9)) {
		t.Errorf("auth time %s", id.AuthTime)
	}
}

// TestResponseFixtures runs every generated Response through Finish and
// checks its expected outcome; a fixture without an expectation fails, so
// new attacks cannot be added silently.
func TestResponseFixtures(t *testing.T) {
	files, err := filepath.Glob(fixture(t, "responses/*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no response fixtures (run go run ./testdata/eidas/gen): %v", err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			tc, ok := responseCases[name]
			if !ok {
				t.Fatalf("fixture %s has no expected outcome", name)
			}
			id, err := finishFixture(t, name)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				tc.check(t, id)
				return
			}
			if err == nil {
				t.Fatalf("accepted %q, want %v", id.Subject, tc.want)
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("error %v does not wrap %v", err, w)
				}
			}
			if tc.ref != "" {
				t.Logf("%s refused: %v", tc.ref, err)
			}
		})
	}
	for name := range responseCases {
		if !seen[name] {
			t.Errorf("expected fixture %s is missing", name)
		}
	}
}

// finishFixture runs one generated Response through Finish on a fresh
// adapter (so the replay cache never interferes) configured as the case
// says.
func finishFixture(t *testing.T, name string) (adapters.Identity, error) {
	t.Helper()
	set, _, _ := strings.Cut(name, "-")
	cfg := fxConfig(t, set, "at-proxy")
	if responseCases[name].legal {
		cfg.PersonType = string(Legal)
	}
	a := openFixture(t, cfg)
	return a.Finish(context.Background(), adapters.Request{}, fxState(t, a), postResponse(testfiles.Read(t, fixture(t, "responses/"+name+".xml")), fxRef))
}

// TestPKCS1AllowedByCountry shows allow_rsa_pkcs1v15 opening exactly that.
func TestPKCS1AllowedByCountry(t *testing.T) {
	c := fxConfig(t, "rsa", "at-proxy")
	c.Countries[0].AllowRSAPKCS1v15 = true
	a := openFixture(t, c)
	id, err := a.Finish(context.Background(), adapters.Request{}, fxState(t, a), postResponse(testfiles.Read(t, fixture(t, "responses/rsa-valid-pkcs1.xml")), fxRef))
	if err != nil {
		t.Fatal(err)
	}
	checkAnna(t, id)
}

// TestLegacyKeyTransportAllowedByCountry: allow_legacy_key_transport opens
// rsa-oaep-mgf1p for that country, and nothing else (CBC stays refused).
func TestLegacyKeyTransportAllowedByCountry(t *testing.T) {
	c := fxConfig(t, "rsa", "at-proxy")
	c.Countries[0].AllowLegacyKeyTransport = true
	a := openFixture(t, c)
	id, err := a.Finish(context.Background(), adapters.Request{}, fxState(t, a), postResponse(testfiles.Read(t, fixture(t, "responses/rsa-oaep-mgf1p.xml")), fxRef))
	if err != nil {
		t.Fatal(err)
	}
	checkAnna(t, id)
	a = openFixture(t, c)
	_, err = a.Finish(context.Background(), adapters.Request{}, fxState(t, a), postResponse(testfiles.Read(t, fixture(t, "responses/rsa-cbc.xml")), fxRef))
	if !errors.Is(err, xmlsec.ErrCBCRefused) {
		t.Fatalf("CBC with legacy key transport allowed: %v", err)
	}
}

// TestReplay: the same Response with a second, otherwise valid state (as a
// second replica would see it) is refused; so is a store failure.
func TestReplay(t *testing.T) {
	a := openFixture(t, fxConfig(t, "rsa", "at-proxy"))
	xml := testfiles.Read(t, fixture(t, "responses/rsa-valid.xml"))
	if _, err := a.Finish(context.Background(), adapters.Request{}, fxState(t, a), postResponse(xml, fxRef)); err != nil {
		t.Fatal(err)
	}
	_, err := a.Finish(context.Background(), adapters.Request{}, fxState(t, a), postResponse(xml, fxRef))
	if !errors.Is(err, ErrReplay) {
		t.Fatalf("second use: %v, want ErrReplay", err)
	}
}

func TestReplayCacheDownFailsClosed(t *testing.T) {
	a := openFixture(t, fxConfig(t, "rsa", "at-proxy"))
	_ = a.store.Close()
	_, err := a.Finish(context.Background(), adapters.Request{}, fxState(t, a), postResponse(testfiles.Read(t, fixture(t, "responses/rsa-valid.xml")), fxRef))
	if !errors.Is(err, ErrReplayCache) {
		t.Fatalf("got %v, want ErrReplayCache", err)
	}
}

func TestFinishBinding(t *testing.T) {
	a := openFixture(t, fxConfig(t, "rsa", "at-proxy"))
	xml := testfiles.Read(t, fixture(t, "responses/rsa-valid.xml"))
	oversized := []byte("<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">" + strings.Repeat(" ", maxMessage) + "</samlp:Response>")
	notBase64 := postResponse(xml, fxRef)
	notBase64.Body = io.NopCloser(strings.NewReader("SAMLResponse=%25%25%25&RelayState=" + fxRef))
	twice := postResponse(xml, fxRef)
	twice.Body = io.NopCloser(strings.NewReader("SAMLResponse=a&SAMLResponse=b&RelayState=" + fxRef))
	tests := []struct {
		name  string
		state []byte
		req   *http.Request
		want  error
	}{
		{"GET", fxState(t, a), httptest.NewRequest(http.MethodGet, fxBase+"/login/cb/"+fxRef, nil), ErrBinding},
		{"relay state of another login", fxState(t, a), postResponse(xml, "another-ref-0123456789abcdef"), ErrBinding},
		{"two SAMLResponse values", fxState(t, a), twice, ErrBinding},
		{"not base64", fxState(t, a), notBase64, ErrBinding},
		{"garbage state", []byte("{"), postResponse(xml, fxRef), ErrState},
		{"state of another version", []byte(`{"v":9,"id":"x","c":"AT","t":1}`), postResponse(xml, fxRef), ErrState},
		{"oversized message (S26)", fxState(t, a), postResponse(oversized, fxRef), xmlsec.ErrTooLarge},
		{"oversized form (S26)", fxState(t, a), postResponse([]byte(strings.Repeat("A", maxForm)), fxRef), ErrBinding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Finish(context.Background(), adapters.Request{}, tc.state, tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
