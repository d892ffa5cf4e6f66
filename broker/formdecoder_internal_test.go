package broker

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/schema"
)

// authRequestParams are the authorization request's parameters, as the
// library's struct tags name them.
var authRequestParams = []string{"scope", "response_type", "client_id", "redirect_uri", "state", "nonce",
	"response_mode", "display", "prompt", "max_age", "ui_locales", "id_token_hint", "login_hint",
	"acr_values", "code_challenge", "code_challenge_method", "request"}

// libraryDecode is the OIDC library's default decoder.
func libraryDecode(src url.Values) (*oidc.AuthRequest, error) {
	d := schema.NewDecoder()
	d.IgnoreUnknownKeys(true)
	var a oidc.AuthRequest
	err := d.Decode(&a, src)
	return &a, err
}

func ownDecode(src url.Values) (*oidc.AuthRequest, error) {
	var a oidc.AuthRequest
	err := newFormDecoder().Decode(&a, src)
	return &a, err
}

// compareDecoders fails t when the two decoders disagree on src.
func compareDecoders(t *testing.T, src url.Values) {
	t.Helper()
	want, wantErr := libraryDecode(src)
	got, gotErr := ownDecode(src)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%v: error %v, library %v", src, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%v:\n got %+v\nwant %+v", src, got, want)
	}
}

// The struct's tags and the decoder's cases name the same parameters.
func TestAuthRequestParamsAreTheStructs(t *testing.T) {
	var tags []string
	rt := reflect.TypeOf(oidc.AuthRequest{})
	for i := 0; i < rt.NumField(); i++ {
		if tag := rt.Field(i).Tag.Get("schema"); tag != "" && tag != "-" {
			tags = append(tags, strings.Split(tag, ",")[0])
		}
	}
	if !reflect.DeepEqual(tags, authRequestParams) {
		t.Fatalf("oidc.AuthRequest's parameters changed: %v", tags)
	}
}

func TestAuthRequestDecoderMatchesLibrary(t *testing.T) {
	values := []string{"", " ", "  ", "openid", "openid profile", " openid  profile ", "code", "x\x00y",
		"0", "1", "42", "-1", "+1", " 1", "1.5", "18446744073709551615", "18446744073709551616", "0x10",
		"de", "de-DE en", "en-US  xx-invalid", "und", "!!", "Prüfung ä", "https://portal.example/cb?x=1&y=2"}
	for _, name := range authRequestParams {
		for _, v := range values {
			compareDecoders(t, url.Values{name: {v}})
		}
		compareDecoders(t, url.Values{name: {"first", "last"}})
		compareDecoders(t, url.Values{name: {}})
	}
	// A whole request, with unknown parameters beside it.
	compareDecoders(t, url.Values{
		"scope": {"openid profile service:tax"}, "response_type": {"code"}, "client_id": {"portal"},
		"redirect_uri": {"https://portal.example/cb"}, "state": {"s"}, "nonce": {"n"}, "prompt": {"login consent"},
		"max_age": {"300"}, "ui_locales": {"de en"}, "acr_values": {"http://eidas.europa.eu/LoA/high"},
		"code_challenge": {strings.Repeat("c", 43)}, "code_challenge_method": {"S256"}, "claims": {`{"id_token":{}}`},
		"unknown": {"x"}, "scope.0": {"y"},
	})
}

// Parameter names are case-sensitive: "Scope" is an unknown parameter
// (the library's decoder took it for scope).
func TestAuthRequestNamesAreCaseSensitive(t *testing.T) {
	got, err := ownDecode(url.Values{"Scope": {"openid"}, "CLIENT_ID": {"portal"}})
	if err != nil || got.Scopes != nil || got.ClientID != "" {
		t.Fatalf("mixed-case names decoded: %+v, %v", got, err)
	}
}

// Other request types go to the library's decoder.
func TestFormDecoderFallsBack(t *testing.T) {
	var r oidc.RefreshTokenRequest
	if err := newFormDecoder().Decode(&r, url.Values{"refresh_token": {"rt"}, "scope": {"openid"}}); err != nil || r.RefreshToken != "rt" || len(r.Scopes) != 1 {
		t.Fatalf("refresh request: %+v, %v", r, err)
	}
}

func FuzzAuthRequestDecoder(f *testing.F) {
	f.Add(uint8(0), "openid profile", uint8(9), "300")
	f.Add(uint8(10), "de-DE en", uint8(9), "")
	f.Add(uint8(9), "-1", uint8(4), "state")
	f.Fuzz(func(t *testing.T, n1 uint8, v1 string, n2 uint8, v2 string) {
		src := url.Values{}
		src.Add(authRequestParams[int(n1)%len(authRequestParams)], v1)
		src.Add(authRequestParams[int(n2)%len(authRequestParams)], v2)
		compareDecoders(t, src)
	})
}
