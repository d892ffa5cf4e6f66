package broker

import (
	"strings"
	"testing"
)

func TestCodeFamily(t *testing.T) {
	old := newTokenCrypto([]DataKey{testDataKey("a-old", true)})
	rotated := newTokenCrypto([]DataKey{testDataKey("b-new", true), testDataKey("a-old", false)})
	other := newTokenCrypto([]DataKey{testDataKey("c-other", true)})

	code := old.newCode("family-1")
	random, rest, _ := strings.Cut(code, ".")
	family, tag, _ := strings.Cut(rest, ".")
	for _, tc := range []struct {
		name string
		c    *tokenCrypto
		code string
		want string
	}{
		{"genuine", old, code, "family-1"},
		{"after a rotation, under the retired key", rotated, code, "family-1"},
		{"new code after the rotation", rotated, rotated.newCode("family-2"), "family-2"},
		{"unknown key", other, code, ""},
		{"another family, same tag", old, random + ".family-2." + tag, ""},
		{"another random part, same tag", old, "x" + random + "." + family + "." + tag, ""},
		{"tag cut short", old, random + "." + family + "." + tag[:10], ""},
		{"tag not base64url", old, random + "." + family + ".!!!!", ""},
		{"no tag", old, random + "." + family, ""},
		{"a plain random code", old, randomID(), ""},
		{"empty family", old, random + ".." + tag, ""},
		{"empty", old, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.codeFamily(tc.code); got != tc.want {
				t.Fatalf("codeFamily = %q, want %q", got, tc.want)
			}
		})
	}
}
