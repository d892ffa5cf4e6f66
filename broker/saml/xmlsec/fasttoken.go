package xmlsec

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// errSlowPath means the input left the fast tokenizer's subset; Parse then
// starts over with encoding/xml.
var errSlowPath = errors.New("xmlsec: outside the fast tokenizer's subset")

// fastTokenizer reads the plain subset of XML that SAML messages and
// metadata are written in: an XML declaration at the very start, start and
// end tags with ASCII names (at most one colon) and quoted attribute
// values, text, and the predefined and character references. On that
// subset it yields exactly the tokens encoding/xml's RawToken yields in
// strict mode (a self-closing tag as a start and an end token; \r\n and \r
// in text and attribute values as \n), at a fraction of the cost: the
// decoder reads byte by byte through an interface, and the large base64
// texts of an encrypted or signed message dominate parsing.
//
// It never decides that input is malformed. At anything outside the
// subset (comments, CDATA, DOCTYPE, other processing instructions,
// non-ASCII names, a character outside the XML character range, "]]>" in
// text, a reference it does not know, any tag syntax it does not expect)
// it returns errSlowPath, and the whole input is parsed again by
// encoding/xml, which accepts or refuses it with its precise message. So
// every refusal and every unusual input keeps the decoder's behaviour;
// FuzzFastTokenizer checks that both paths build the same tree whenever
// the fast one finishes.
type fastTokenizer struct {
	data []byte
	// str is data as a string, made once: names and attribute values
	// that need no decoding are sliced from it instead of each being
	// copied into a string of its own.
	str     string
	pos     int
	closing xml.Name // the end token a self-closing tag still owes
	closes  bool     // closing is owed
	buf     []byte
	attrs   []xml.Attr // reused: a start token is consumed before the next
}

// next returns the next token and its byte range, or io.EOF.
func (t *fastTokenizer) next() (token, int, int, error) {
	if t.str == "" && len(t.data) > 0 {
		t.str = string(t.data)
	}
	if t.closes {
		t.closes = false
		return token{kind: tokEnd, name: t.closing}, t.pos, t.pos, nil
	}
	start := t.pos
	if start >= len(t.data) {
		return token{}, start, start, io.EOF
	}
	if t.data[start] != '<' {
		text, _, err := t.text(-1)
		if err != nil {
			return token{}, 0, 0, err
		}
		return token{kind: tokText, data: text}, start, t.pos, nil
	}
	if start+1 >= len(t.data) {
		return token{}, 0, 0, errSlowPath
	}
	switch t.data[start+1] {
	case '/':
		t.pos += 2
		name, ok := t.name()
		if !ok {
			return token{}, 0, 0, errSlowPath
		}
		t.space()
		if t.pos >= len(t.data) || t.data[t.pos] != '>' {
			return token{}, 0, 0, errSlowPath
		}
		t.pos++
		return token{kind: tokEnd, name: name}, start, t.pos, nil
	case '?':
		return t.declaration()
	case '!':
		return token{}, 0, 0, errSlowPath
	}
	t.pos++
	name, ok := t.name()
	if !ok {
		return token{}, 0, 0, errSlowPath
	}
	el := xml.StartElement{Name: name, Attr: t.attrs[:0]}
	for {
		spaced := t.space()
		if t.pos >= len(t.data) {
			return token{}, 0, 0, errSlowPath
		}
		switch t.data[t.pos] {
		case '>':
			t.pos++
			t.attrs = el.Attr
			return token{kind: tokStart, name: el.Name, attr: el.Attr}, start, t.pos, nil
		case '/':
			if t.pos+1 >= len(t.data) || t.data[t.pos+1] != '>' {
				return token{}, 0, 0, errSlowPath
			}
			t.pos += 2
			t.closing, t.closes = el.Name, true
			t.attrs = el.Attr
			return token{kind: tokStart, name: el.Name, attr: el.Attr}, start, t.pos, nil
		}
		if !spaced {
			return token{}, 0, 0, errSlowPath
		}
		an, ok := t.name()
		if !ok {
			return token{}, 0, 0, errSlowPath
		}
		t.space()
		if t.pos >= len(t.data) || t.data[t.pos] != '=' {
			return token{}, 0, 0, errSlowPath
		}
		t.pos++
		t.space()
		if t.pos >= len(t.data) || (t.data[t.pos] != '"' && t.data[t.pos] != '\'') {
			return token{}, 0, 0, errSlowPath
		}
		q := t.data[t.pos]
		t.pos++
		vstart := t.pos
		v, copied, err := t.text(int(q))
		if err != nil {
			return token{}, 0, 0, err
		}
		value := t.str[vstart : vstart+len(v)]
		if copied {
			value = string(v)
		}
		el.Attr = append(el.Attr, xml.Attr{Name: an, Value: value})
	}
}

// declaration reads the XML declaration, accepted only at the very start
// with version 1.0 and, if named, the UTF-8 encoding.
func (t *fastTokenizer) declaration() (token, int, int, error) {
	const open = "<?xml"
	start := t.pos
	if start != 0 || !strings.HasPrefix(string(t.data[:min(len(t.data), len(open)+1)]), open) ||
		len(t.data) <= len(open) || !isXMLSpace(t.data[len(open)]) {
		return token{}, 0, 0, errSlowPath
	}
	t.pos = len(open)
	t.space()
	end := indexFrom(t.data, t.pos, "?>")
	if end < 0 {
		return token{}, 0, 0, errSlowPath
	}
	inst := t.data[t.pos:end]
	for _, c := range inst {
		if !(isNameByte(c) || c == ' ' || c == '=' || c == '"' || c == '\'') {
			return token{}, 0, 0, errSlowPath
		}
	}
	s := string(inst)
	if procInstParam(s, "version") != "1.0" {
		return token{}, 0, 0, errSlowPath
	}
	if enc := procInstParam(s, "encoding"); enc != "" && !strings.EqualFold(enc, "utf-8") {
		return token{}, 0, 0, errSlowPath
	}
	t.pos = end + 2
	return token{kind: tokProcInst, target: "xml", data: inst}, start, t.pos, nil
}

func indexFrom(b []byte, from int, s string) int {
	if i := bytes.Index(b[from:], []byte(s)); i >= 0 {
		return from + i
	}
	return -1
}

// space skips XML white space and reports whether there was any.
func (t *fastTokenizer) space() bool {
	p := t.pos
	for t.pos < len(t.data) && isXMLSpace(t.data[t.pos]) {
		t.pos++
	}
	return t.pos > p
}

// name reads an ASCII name, split at its one colon as encoding/xml does;
// it must end at white space, '>', '/' or '='.
func (t *fastTokenizer) name() (xml.Name, bool) {
	p := t.pos
	colon := -1
	for t.pos < len(t.data) {
		c := t.data[t.pos]
		if c == ':' {
			if colon >= 0 {
				return xml.Name{}, false
			}
			colon = t.pos
		} else if !isNameByte(c) {
			break
		}
		t.pos++
	}
	if t.pos >= len(t.data) {
		return xml.Name{}, false
	}
	switch t.data[t.pos] {
	case ' ', '\t', '\r', '\n', '>', '/', '=':
	default:
		return xml.Name{}, false
	}
	if colon < 0 {
		if !isNameStart(t.data, p, t.pos) {
			return xml.Name{}, false
		}
		return xml.Name{Local: t.str[p:t.pos]}, true
	}
	if !isNameStart(t.data, p, colon) || !isNameStart(t.data, colon+1, t.pos) {
		return xml.Name{}, false
	}
	return xml.Name{Space: t.str[p:colon], Local: t.str[colon+1 : t.pos]}, true
}

// isNameStart: b[from:to] is non-empty and starts with a letter or '_'.
func isNameStart(b []byte, from, to int) bool {
	if from >= to {
		return false
	}
	c := b[from]
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}

// text reads character data up to '<' (quote < 0) or up to the closing
// quote, which it consumes. Plain runs are returned without copying (as
// a slice of data starting at the position text began); copied reports
// a decoded copy.
func (t *fastTokenizer) text(quote int) (out []byte, copied bool, err error) {
	p := t.pos
	t.buf = t.buf[:0]
	for t.pos < len(t.data) {
		// Runs of ordinary characters (the base64 of signatures,
		// certificates and ciphertext) are skipped, or copied, in one go.
		if plainText[t.data[t.pos]] {
			q := t.pos + 1
			for q < len(t.data) && plainText[t.data[q]] {
				q++
			}
			if copied {
				t.buf = append(t.buf, t.data[t.pos:q]...)
			}
			t.pos = q
			continue
		}
		c := t.data[t.pos]
		switch {
		case quote >= 0 && int(c) == quote:
			out := t.data[p:t.pos]
			if copied {
				out = t.buf
			}
			t.pos++
			return out, copied, nil
		case c == '<':
			if quote >= 0 {
				return nil, false, errSlowPath
			}
			if copied {
				return t.buf, true, nil
			}
			return t.data[p:t.pos], false, nil
		case c == '&' || c == '\r':
			if !copied {
				t.buf = append(t.buf, t.data[p:t.pos]...)
				copied = true
			}
			if c == '\r' {
				t.buf = append(t.buf, '\n')
				t.pos++
				if t.pos < len(t.data) && t.data[t.pos] == '\n' {
					t.pos++
				}
				continue
			}
			r, n, ok := reference(t.data[t.pos:])
			if !ok {
				return nil, false, errSlowPath
			}
			t.buf = utf8.AppendRune(t.buf, r)
			t.pos += n
			continue
		case c == ']':
			if quote < 0 && t.pos+2 < len(t.data) && t.data[t.pos+1] == ']' && t.data[t.pos+2] == '>' {
				return nil, false, errSlowPath
			}
		case c < 0x20:
			if c != '\t' && c != '\n' {
				return nil, false, errSlowPath
			}
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(t.data[t.pos:])
			if (r == utf8.RuneError && n == 1) || !inCharRange(r) {
				return nil, false, errSlowPath
			}
			if copied {
				t.buf = append(t.buf, t.data[t.pos:t.pos+n]...)
			}
			t.pos += n
			continue
		}
		if copied {
			t.buf = append(t.buf, c)
		}
		t.pos++
	}
	if quote >= 0 {
		return nil, false, errSlowPath
	}
	if copied {
		return t.buf, true, nil
	}
	return t.data[p:t.pos], false, nil
}

// plainText marks the bytes that text passes through unchanged in any
// context: ASCII characters other than controls (tab and line feed
// excepted), '<', '&', '\r', ']' and the quotes. Everything else takes
// text's careful path. Read-only after initialisation.
var plainText = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range "<&]\"'" {
		t[c] = false
	}
	t['\t'], t['\n'] = true, true
	return t
}()

// reference decodes the reference at the start of b ("&lt;", "&#10;",
// "&#x2F;"): its character and length. Only the predefined entities and
// character references to characters in the XML range are known.
func reference(b []byte) (rune, int, bool) {
	end := -1
	for i := 1; i < len(b) && i < 16; i++ {
		if b[i] == ';' {
			end = i
			break
		}
	}
	if end < 0 {
		return 0, 0, false
	}
	ref := string(b[1:end])
	switch ref {
	case "lt":
		return '<', end + 1, true
	case "gt":
		return '>', end + 1, true
	case "amp":
		return '&', end + 1, true
	case "apos":
		return '\'', end + 1, true
	case "quot":
		return '"', end + 1, true
	}
	digits, base := "", 10
	switch {
	case strings.HasPrefix(ref, "#x"):
		digits, base = ref[2:], 16
	case strings.HasPrefix(ref, "#"):
		digits = ref[1:]
	default:
		return 0, 0, false
	}
	if digits == "" || strings.ContainsAny(digits, "+-_") {
		return 0, 0, false
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if err != nil || !inCharRange(rune(n)) {
		return 0, 0, false
	}
	return rune(n), end + 1, true
}

// inCharRange is the XML 1.0 Char production.
func inCharRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
