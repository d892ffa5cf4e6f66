package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestLoadToolAccountMethods(t *testing.T) {
	for _, m := range []string{"oidc-upstream", "bundid"} {
		t.Run(m, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run([]string{"load", "--method", m, "--logins", "10", "--concurrency", "2"}, &out, &errb); code != 0 {
				t.Fatalf("load exit %d: %s %s", code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), "logins: 10 ok, 0 failed") {
				t.Fatalf("output: %s", out.String())
			}
		})
	}
	var out, errb bytes.Buffer
	if code := run([]string{"load", "--method", "nope"}, &out, &errb); code != 2 {
		t.Fatalf("unknown method: exit %d", code)
	}
}
