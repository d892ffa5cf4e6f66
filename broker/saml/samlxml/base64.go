package samlxml

import (
	"encoding/base64"
	"errors"
	"strings"
)

// ErrBase64 is wrapped by DecodeBase64's errors.
var ErrBase64 = errors.New("not base64")

// DecodeBase64 decodes the content of an xs:base64Binary element or a
// SAMLResponse/SAMLRequest form field. Producers wrap it in lines and indent
// it (and some write "&#13;"), so XML white space is dropped first: only
// #x20, #x9, #xD and #xA, never other Unicode spaces, which have no place in
// base64 and mean the value is not what it claims. Standard alphabet with
// padding, as XML Schema and the SAML POST binding require.
func DecodeBase64(s string) ([]byte, error) {
	// The decoder skips CR and LF itself, so most values (one line, or
	// wrapped) decode at once without a scan for white space first; only
	// a value the decoder refuses is stripped of spaces and tabs too and
	// tried again, which gives the same result as stripping first.
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	if !strings.ContainsAny(s, " \t") {
		return nil, ErrBase64
	}
	b, err := base64.StdEncoding.DecodeString(StripSpace(s))
	if err != nil {
		return nil, ErrBase64
	}
	return b, nil
}

// StripSpace drops XML white space (#x20, #x9, #xD, #xA) from s, and
// nothing else.
func StripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}
