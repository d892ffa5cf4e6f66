package sp

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const tRef = "AbCdEfGhIjKlMnOpQrStUv"

// TestParsePostForm: the pre-sized reader fills PostForm and Form as
// Request.ParseForm does, and refuses what it refuses.
func TestParsePostForm(t *testing.T) {
	big := strings.Repeat("PD94+/=", 3000)
	for name, tc := range map[string]struct {
		ctype, body, query string
		wantErr            bool
	}{
		"saml form":      {ctype: "application/x-www-form-urlencoded", body: url.Values{"SAMLResponse": {big}, "RelayState": {tRef}}.Encode()},
		"with query":     {ctype: "application/x-www-form-urlencoded; charset=utf-8", body: "a=1&b=2&a=3", query: "a=q&c=4"},
		"bad escape":     {ctype: "application/x-www-form-urlencoded", body: "a=%zz", wantErr: true},
		"semicolon":      {ctype: "application/x-www-form-urlencoded", body: "a=1;b=2", wantErr: true},
		"too large":      {ctype: "application/x-www-form-urlencoded", body: "a=" + strings.Repeat("x", MaxForm), wantErr: true},
		"other type":     {ctype: "text/plain", body: "a=1"},
		"no type":        {body: "a=1"},
		"multipart type": {ctype: "multipart/form-data; boundary=x", body: "--x--"},
	} {
		t.Run(name, func(t *testing.T) {
			mk := func() *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/cb?"+tc.query, strings.NewReader(tc.body))
				if tc.ctype != "" {
					r.Header.Set("Content-Type", tc.ctype)
				}
				return r
			}
			ours, std := mk(), mk()
			std.Body = http.MaxBytesReader(nil, std.Body, MaxForm)
			errOurs, errStd := ParsePostForm(ours, MaxForm), std.ParseForm()
			if (errOurs != nil) != tc.wantErr || (errStd != nil) != tc.wantErr {
				t.Fatalf("errors: ours %v, ParseForm %v, want error %v", errOurs, errStd, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if ours.PostForm.Encode() != std.PostForm.Encode() || ours.Form.Encode() != std.Form.Encode() {
				t.Errorf("PostForm %.60q Form %.60q, ParseForm: %.60q %.60q", ours.PostForm.Encode(), ours.Form.Encode(), std.PostForm.Encode(), std.Form.Encode())
			}
		})
	}
}

// TestForwardACS: the ACS forwards a well-formed answer to the login's
// callback without decoding the Response, and refuses what ParseForm
// would refuse as well as unusable RelayState.
func TestForwardACS(t *testing.T) {
	h := ForwardACS("https://broker.example/", slog.New(slog.DiscardHandler), "test")
	post := func(ctype, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/acs", strings.NewReader(body))
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		w := httptest.NewRecorder()
		h(w, r)
		return w
	}
	const form = "application/x-www-form-urlencoded"
	w := post(form, url.Values{"SAMLResponse": {strings.Repeat("PD94+/=", 3000)}, "RelayState": {tRef}}.Encode())
	if w.Code != http.StatusTemporaryRedirect || w.Header().Get("Location") != "https://broker.example/login/cb/"+tRef {
		t.Fatalf("%d %q", w.Code, w.Header().Get("Location"))
	}
	// An escaped name still counts (a browser may escape any byte).
	if w := post(form, "SAML%52esponse=x&Relay%53tate="+tRef); w.Code != http.StatusTemporaryRedirect {
		t.Errorf("escaped names: %d", w.Code)
	}
	for name, tc := range map[string][2]string{
		"json":              {"application/json", `{"SAMLResponse":"x","RelayState":"` + tRef + `"}`},
		"no content type":   {"", "SAMLResponse=x&RelayState=" + tRef},
		"semicolon":         {form, "SAMLResponse=x;RelayState=" + tRef},
		"bad escape in key": {form, "SAMLResponse=x&Relay%zzState=" + tRef},
		"bad relay escape":  {form, "SAMLResponse=x&RelayState=%zz" + tRef},
		"two responses":     {form, "SAMLResponse=x&SAMLResponse=y&RelayState=" + tRef},
		"two relay states":  {form, "SAMLResponse=x&RelayState=" + tRef + "&RelayState=" + tRef},
		"URL relay state":   {form, "SAMLResponse=x&RelayState=" + url.QueryEscape("https://evil.example/aaaaaaaa")},
		"too large":         {form, "SAMLResponse=" + strings.Repeat("x", MaxForm) + "&RelayState=" + tRef},
	} {
		if w := post(tc[0], tc[1]); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %q", name, w.Code, w.Header().Get("Location"))
		}
	}
}
