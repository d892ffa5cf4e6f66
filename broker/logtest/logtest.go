package logtest

import (
	"strconv"
	"strings"
)

// Keys returns the attribute keys of one line of slog's text format
// (key=value pairs separated by spaces; a value containing spaces, quotes
// or '=' is a Go-quoted string). It stops at the first token that is not a
// pair, so a malformed tail is not mistaken for keys.
func Keys(line string) []string {
	var keys []string
	s := strings.TrimRight(line, "\r\n")
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return keys
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || strings.ContainsAny(s[:eq], " \"") {
			return keys
		}
		keys = append(keys, s[:eq])
		s = s[eq+1:]
		if strings.HasPrefix(s, `"`) {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return keys
			}
			s = s[len(q):]
			continue
		}
		if sp := strings.IndexByte(s, ' '); sp >= 0 {
			s = s[sp:]
		} else {
			s = ""
		}
	}
}

// Repeated returns, for every line of out that carries a key more than
// once, a short description "line N: key" (no values, which may be
// personal data in a failing test's output). Nil means every line is clean.
func Repeated(out string) []string {
	var bad []string
	for i, line := range strings.Split(out, "\n") {
		seen := map[string]bool{}
		for _, k := range Keys(line) {
			if seen[k] {
				bad = append(bad, "line "+strconv.Itoa(i+1)+": "+k)
			}
			seen[k] = true
		}
	}
	return bad
}
