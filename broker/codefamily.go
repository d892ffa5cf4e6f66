package broker

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Authorization codes name their grant family, authenticated, so that a
// code presented again after its redemption revokes what it issued without
// a marker kept per login (RFC 6749 §10.5, RFC 9700 §4.5). The code is
//
//	random "." family "." base64url(HMAC-SHA256(key, random "." family)[:16])
//
// The family is the transaction ID the grant came from (the browser saw it
// already, in the login's URLs). Only the broker can make the tag, so a
// forged code cannot revoke someone else's family; a genuine code that
// merely expired unredeemed names a family without tokens, whose
// revocation changes nothing. The store key stays the hash of the whole
// code, as for any other code.

// codeMACKey derives a code key from a data key; every configured data key
// gives one, so codes issued before a rotation still name their family.
func codeMACKey(dataKey []byte) []byte {
	sum := sha256.Sum256(append([]byte("broker code family\x00"), dataKey...))
	return sum[:]
}

const codeTagLen = 16

func codeTag(key []byte, randomAndFamily string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(randomAndFamily))
	return m.Sum(nil)[:codeTagLen]
}

// newCode returns a fresh code naming family.
func (c *tokenCrypto) newCode(family string) string {
	body := randomID() + "." + family
	return body + "." + base64.RawURLEncoding.EncodeToString(codeTag(c.codeKeys[c.active], body))
}

// codeFamily returns the family a code names if its tag is genuine under
// any configured data key (compared in constant time), else "".
func (c *tokenCrypto) codeFamily(code string) string {
	i := strings.LastIndexByte(code, '.')
	if i < 0 {
		return ""
	}
	body, tag64 := code[:i], code[i+1:]
	random, family, ok := strings.Cut(body, ".")
	if !ok || random == "" || family == "" || strings.Contains(family, ".") {
		return ""
	}
	tag, err := base64.RawURLEncoding.DecodeString(tag64)
	if err != nil || len(tag) != codeTagLen {
		return ""
	}
	for _, id := range c.order {
		if hmac.Equal(tag, codeTag(c.codeKeys[id], body)) {
			return family
		}
	}
	return ""
}
