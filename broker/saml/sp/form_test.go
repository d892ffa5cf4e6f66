package sp

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// formCases are bodies parseFormBody must read as url.ParseQuery does.
var formCases = []string{
	"", "&", "&&a=1&&", "a", "a=", "=", "=x", "a=1&a=2&b=3", "a=%41%4a%4A+b", "+=+",
	"SAMLResponse=" + url.QueryEscape(strings.Repeat("PD94\xfb+/=", 50)) + "&RelayState=AbCdEfGhIjKlMnOpQrSt",
	"a=%zz", "a=%4", "a=%", "%=1", "a=1&b=%G1&c=%zz", "a=%41&%=x", "a=1;b=2", "a=%zz;b", "a=%41%",
	"SAML%52esponse=x", "a=%00%ff%FF", "ü=é%C3%BC",
	strings.Repeat("a=1&", 70) + "b=%zz", strings.Repeat("a=%41&", 63) + "c=%2",
}

// TestParseFormBody: parseFormBody gives url.ParseQuery's values and
// error for each case.
func TestParseFormBody(t *testing.T) {
	for _, body := range formCases {
		checkFormBody(t, body)
	}
}

// FuzzParseFormBody: the same for any body.
func FuzzParseFormBody(f *testing.F) {
	for _, body := range formCases {
		f.Add(body)
	}
	f.Fuzz(checkFormBody)
}

func checkFormBody(t *testing.T, body string) {
	want, wantErr := url.ParseQuery(body)
	got, err := parseFormBody([]byte(body))
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("%.80q: error %v, url.ParseQuery: %v", body, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%.80q: %v, url.ParseQuery: %v", body, got, want)
	}
}

// BenchmarkParsePostForm: a SAML answer's form (11 KB of percent-encoded
// base64 and RelayState) read by ParsePostForm.
func BenchmarkParsePostForm(b *testing.B) {
	raw := make([]byte, 8<<10)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	body := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(raw)}, "RelayState": {tRef}}.Encode()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/login/cb/"+tRef, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := ParsePostForm(r, MaxForm); err != nil || len(r.PostForm["SAMLResponse"]) != 1 {
			b.Fatal(err)
		}
	}
}
