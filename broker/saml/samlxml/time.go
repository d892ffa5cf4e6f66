package samlxml

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// TimeLayout is how the broker writes xs:dateTime: UTC with milliseconds,
// as the EU eIDAS-Node does, so that peers which parse narrowly accept it.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// ErrTime is wrapped by ParseTime's errors.
var ErrTime = errors.New("not an xs:dateTime with a time zone")

// FormatTime writes t in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime reads an xs:dateTime (any fraction) that carries a time zone.
// A value without one is refused: its instant would depend on the reader's
// zone, and a validity window read in the wrong zone is off by hours.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", Truncate(s, 40), ErrTime)
	}
	return t, nil
}

// Truncate makes a peer-controlled string safe to quote in an error or log
// line: control characters become spaces (no forged log lines) and at most
// n runes are kept (a peer cannot flood the log), cut on a rune boundary.
func Truncate(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if n < 0 {
		n = 0
	}
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
