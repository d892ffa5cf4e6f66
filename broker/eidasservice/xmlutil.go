package eidasservice

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// is reports whether e is the element {ns}local.
func is(e *etree.Element, ns, local string) bool {
	return e != nil && e.Tag == local && e.NamespaceURI() == ns
}

// children returns e's child elements named {ns}local.
func children(e *etree.Element, ns, local string) []*etree.Element {
	if e == nil {
		return nil
	}
	var out []*etree.Element
	for _, c := range e.ChildElements() {
		if is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// child returns the first child {ns}local of e, or nil.
func child(e *etree.Element, ns, local string) *etree.Element {
	if cs := children(e, ns, local); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// text returns the character data directly inside e, trimmed of XML white
// space. Comments are skipped, so "a<!---->b" reads as "ab", never "a"
// (comment-injection attacks rely on readers that stop at a comment).
func text(e *etree.Element) string {
	if e == nil {
		return ""
	}
	var b strings.Builder
	for _, t := range e.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return strings.Trim(b.String(), " \t\r\n")
}

// attr returns the value of the unqualified attribute key of e and whether
// it is present.
func attr(e *etree.Element, key string) (string, bool) {
	for _, a := range e.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

func getAttr(e *etree.Element, key string) string {
	v, _ := attr(e, key)
	return v
}

// newID returns a fresh SAML ID: an NCName (it must not start with a
// digit) with 160 random bits.
func newID() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return "_" + hex.EncodeToString(b)
}

const samlTime = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(samlTime) }

// parseTime reads an xs:dateTime as SAML uses it (UTC, optional fraction).
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// truncate shortens peer-controlled strings before they go into errors
// or logs.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
