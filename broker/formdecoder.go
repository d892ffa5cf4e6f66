package broker

import (
	"fmt"
	"strconv"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/schema"
)

// formDecoder is the decoder the OIDC library's endpoints decode request
// parameters with. The authorization request, decoded for every login,
// is decoded field by field; every other request type goes to the
// library's own reflective decoder. That decoder spent about thirty
// allocations on each authorization request (a reflect.New per field to
// find text unmarshalers, path parsing per parameter).
//
// The result is the reflective decoder's, parameter for parameter
// (TestAuthRequestDecoderMatchesLibrary compares both on a corpus, and a
// fuzz target keeps comparing): the last value of a parameter counts,
// space-delimited lists, locales and display are parsed by the library's
// own UnmarshalText, an empty max_age is zero, and a max_age that is not an
// unsigned integer is an error (the library answers invalid_request). One
// difference is deliberate: parameter names match exactly, as OAuth
// parameter names are case-sensitive, where the reflective decoder also
// took "Scope" for scope.
type formDecoder struct {
	fallback httphelper.Decoder
}

var _ httphelper.Decoder = formDecoder{}

func newFormDecoder() formDecoder {
	d := schema.NewDecoder()
	d.IgnoreUnknownKeys(true) // as the library's default decoder
	return formDecoder{fallback: d}
}

func (d formDecoder) Decode(dst any, src map[string][]string) error {
	if a, ok := dst.(*oidc.AuthRequest); ok {
		return decodeAuthRequest(a, src)
	}
	return d.fallback.Decode(dst, src)
}

func decodeAuthRequest(a *oidc.AuthRequest, src map[string][]string) error {
	for name, values := range src {
		v := ""
		if len(values) > 0 {
			v = values[len(values)-1]
		}
		switch name {
		case "scope":
			_ = a.Scopes.UnmarshalText([]byte(v)) // never fails
		case "response_type":
			a.ResponseType = oidc.ResponseType(v)
		case "client_id":
			a.ClientID = v
		case "redirect_uri":
			a.RedirectURI = v
		case "state":
			a.State = v
		case "nonce":
			a.Nonce = v
		case "response_mode":
			a.ResponseMode = oidc.ResponseMode(v)
		case "display":
			_ = a.Display.UnmarshalText([]byte(v)) // keeps only the four values Core names
		case "prompt":
			_ = a.Prompt.UnmarshalText([]byte(v))
		case "max_age":
			var n uint64
			if v != "" {
				var err error
				if n, err = strconv.ParseUint(v, 10, 0); err != nil {
					return fmt.Errorf("max_age: not an unsigned integer")
				}
			}
			age := uint(n)
			a.MaxAge = &age
		case "ui_locales":
			_ = a.UILocales.UnmarshalText([]byte(v))
		case "id_token_hint":
			a.IDTokenHint = v
		case "login_hint":
			a.LoginHint = v
		case "acr_values":
			_ = a.ACRValues.UnmarshalText([]byte(v))
		case "code_challenge":
			a.CodeChallenge = v
		case "code_challenge_method":
			a.CodeChallengeMethod = oidc.CodeChallengeMethod(v)
		case "request":
			a.RequestParam = v
		}
	}
	return nil
}
