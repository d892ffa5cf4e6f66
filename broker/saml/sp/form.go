package sp

import (
	"bytes"
	"net/url"
)

// maxFastPairs bounds the pairs parseFormBody decodes itself; a longer
// form goes to url.ParseQuery, which applies the runtime's own limit.
const maxFastPairs = 64

// parseFormBody is url.ParseQuery(string(body)), values and error alike,
// built with fewer copies: the SAML forms are tens of kilobytes of
// percent-encoded base64, which url.ParseQuery copies into a string and
// then unescapes byte by byte into another. Here each pair is decoded in
// place (an escape only shrinks) and becomes a string once. body is
// overwritten. A body with a semicolon or with many pairs is handed to
// url.ParseQuery whole, before anything is written.
func parseFormBody(body []byte) (url.Values, error) {
	if bytes.IndexByte(body, ';') >= 0 || bytes.Count(body, []byte("&")) >= maxFastPairs {
		return url.ParseQuery(string(body))
	}
	form := make(url.Values, 2)
	for len(body) > 0 {
		var pair []byte
		pair, body, _ = bytes.Cut(body, []byte("&"))
		if len(pair) == 0 {
			continue
		}
		k, v, _ := bytes.Cut(pair, []byte("="))
		key, err := unescapeInPlace(k)
		if err != nil {
			return nil, err
		}
		value, err := unescapeInPlace(v)
		if err != nil {
			return nil, err
		}
		form[key] = append(form[key], value)
	}
	return form, nil
}

// unescapeInPlace is url.QueryUnescape of b, decoded within b. A bad
// escape is the error QueryUnescape gives; url.ParseQuery stops at the
// first such (in order, key before value), so the first error here is
// its error too. The bytes from a bad escape on are still as received.
func unescapeInPlace(b []byte) (string, error) {
	i := bytes.IndexByte(b, '%')
	if i < 0 {
		plusToSpace(b)
		return string(b), nil
	}
	plusToSpace(b[:i])
	// The runs between escapes (the base64 between its escaped '+', '/'
	// and '=') are moved whole; a '+' in a run is a space, an escaped one
	// (%2B) is not.
	w := i
	for {
		if i+2 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) {
			return "", url.EscapeError(b[i:min(i+3, len(b))])
		}
		b[w] = unhex(b[i+1])<<4 | unhex(b[i+2])
		w, i = w+1, i+3
		n := bytes.IndexByte(b[i:], '%')
		if n < 0 {
			n = len(b) - i
		}
		copy(b[w:], b[i:i+n])
		plusToSpace(b[w : w+n])
		w, i = w+n, i+n
		if i == len(b) {
			return string(b[:w]), nil
		}
	}
}

// plusToSpace replaces each '+' in b by a space.
func plusToSpace(b []byte) {
	for {
		j := bytes.IndexByte(b, '+')
		if j < 0 {
			return
		}
		b[j] = ' '
		b = b[j+1:]
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
