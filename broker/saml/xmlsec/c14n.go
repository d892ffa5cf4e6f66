package xmlsec

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/beevik/etree"
)

// Canonicalize returns the Exclusive XML Canonicalization 1.0 (without
// comments) of the subtree rooted at el, evaluated in el's document context:
// namespace prefixes declared on ancestors are resolved, and rendered where
// they are visibly utilised. inclusivePrefixes is the InclusiveNamespaces
// PrefixList ("#default" names the default namespace).
//
// The implementation writes directly from the etree tree without copying or
// mutating it. It is our own rather than goxmldsig's because the enveloped
// signature has to be skipped without first copying the tree, and because
// the result has to agree byte for byte with other implementations (tests
// check it against xmlsec1).
func Canonicalize(el *etree.Element, inclusivePrefixes []string) ([]byte, error) {
	return canonicalize(el, c14nOptions{inclusive: inclusivePrefixes})
}

// Serialize writes el and its subtree as XML that parses back to the same
// tree, so that signatures over it stay valid: every namespace binding in
// scope is declared on el, each descendant keeps its own declarations,
// comments are kept, and characters that an XML parser would normalise
// (tab, line feed and carriage return in attribute values, carriage return
// in text) are written as character references. Attributes come out in
// canonical order. No XML declaration is written.
//
// Use it instead of etree's writer for signed or to-be-signed documents:
// etree writes those characters literally, and a receiver's parser then
// turns them into spaces or line feeds, which breaks the signature.
func Serialize(el *etree.Element) ([]byte, error) {
	if el == nil {
		return nil, fmt.Errorf("serialize: %w: nil element", ErrMalformed)
	}
	scope, err := scopeAt(el.Parent())
	if err != nil {
		return nil, fmt.Errorf("serialize: %w", err)
	}
	w := &c14nWriter{preserve: true}
	w.buf.Grow(sizeHint(el))
	if err := w.element(el, scope, nsScope{}, true); err != nil {
		return nil, fmt.Errorf("serialize: %w", err)
	}
	return w.buf.Bytes(), nil
}

type c14nOptions struct {
	inclusive []string       // PrefixList tokens; "#default" = default namespace
	exclude   *etree.Element // subtree left out (the enveloped signature)
	allAtApex bool           // render every in-scope binding on the apex
	// maxBytes caps the output (0 = no cap). Exclusive c14n repeats a
	// declaration on every element that uses it, so a long namespace URI
	// used by many small elements amplifies; Verify caps it because it
	// canonicalises attacker-supplied trees.
	maxBytes int
}

func canonicalize(el *etree.Element, opts c14nOptions) ([]byte, error) {
	if el == nil {
		return nil, fmt.Errorf("canonicalize: %w: nil element", ErrMalformed)
	}
	scope, err := scopeAt(el.Parent())
	if err != nil {
		return nil, fmt.Errorf("canonicalize: %w", err)
	}
	w := &c14nWriter{exclude: opts.exclude, maxBytes: opts.maxBytes}
	hint := sizeHint(el)
	if opts.maxBytes > 0 {
		hint = min(hint, opts.maxBytes)
	}
	w.buf.Grow(hint)
	for _, p := range opts.inclusive {
		if p == "#default" {
			p = ""
		}
		w.inclusive = append(w.inclusive, p)
	}
	if err := w.element(el, scope, nsScope{}, opts.allAtApex); err != nil {
		return nil, fmt.Errorf("canonicalize: %w", err)
	}
	return w.buf.Bytes(), nil
}

// sizeHint estimates the serialised size of el's subtree (names,
// attributes and text, plus a margin per element for declarations and
// markup), so that the output buffer is allocated once rather than grown
// through doubling; large texts (base64 values) dominate. It is capped
// at the default parser limit.
func sizeHint(el *etree.Element) int {
	n := 0
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		n += 2*(len(e.Space)+len(e.Tag)) + 80
		for _, a := range e.Attr {
			n += len(a.Space) + len(a.Key) + len(a.Value) + 4
		}
		for _, tok := range e.Child {
			switch t := tok.(type) {
			case *etree.Element:
				walk(t)
			case *etree.CharData:
				n += len(t.Data)
			}
			if n > DefaultMaxBytes {
				return
			}
		}
	}
	walk(el)
	return min(n, DefaultMaxBytes)
}

// scopeAt returns the namespace bindings in scope inside el (el's own
// declarations included); nil yields the base scope.
func scopeAt(el *etree.Element) (nsScope, error) {
	var chain []*etree.Element
	for e := el; e != nil; e = e.Parent() {
		chain = append(chain, e)
	}
	scope := baseScope()
	for i := len(chain) - 1; i >= 0; i-- {
		for _, a := range chain[i].Attr {
			if prefix, ok := attrDeclPrefix(a); ok {
				scope[prefix] = a.Value
			}
		}
	}
	return scope, nil
}

// attrDeclPrefix reports whether a is a namespace declaration.
func attrDeclPrefix(a etree.Attr) (string, bool) {
	if a.Space == "xmlns" {
		return a.Key, true
	}
	if a.Space == "" && a.Key == "xmlns" {
		return "", true
	}
	return "", false
}

type c14nWriter struct {
	buf       bytes.Buffer
	inclusive []string
	exclude   *etree.Element
	// preserve switches to Serialize's rules: declarations as written
	// (plus all in-scope ones on the apex) and comments kept.
	preserve bool
	maxBytes int
	// Scratch space for one start tag (see element).
	decls []nsDecl
	attrs []c14nAttr
}

type nsDecl struct{ prefix, uri string }

type c14nAttr struct {
	uri, local, qname, value string
}

func (w *c14nWriter) element(e *etree.Element, parentScope, rendered nsScope, allAtApex bool) error {
	if w.maxBytes > 0 && w.buf.Len() > w.maxBytes {
		return fmt.Errorf("%w: canonical form exceeds %d bytes", ErrTooLarge, w.maxBytes)
	}
	scope := parentScope
	copied := false
	for _, a := range e.Attr {
		if prefix, ok := attrDeclPrefix(a); ok {
			if !copied {
				scope = make(nsScope, len(parentScope)+2)
				for k, v := range parentScope {
					scope[k] = v
				}
				copied = true
			}
			scope[prefix] = a.Value
		}
	}

	// The declarations and attributes of this element live in the
	// writer's scratch slices: both are used up in the start tag, before
	// the children reuse them.
	w.decls = w.decls[:0]
	consider := func(prefix string) error { return w.consider(prefix, scope, rendered) }

	if err := consider(e.Space); err != nil {
		return err
	}
	attrs := w.attrs[:0]
	for _, a := range e.Attr {
		if _, ok := attrDeclPrefix(a); ok {
			continue
		}
		ca := c14nAttr{local: a.Key, qname: a.Key, value: a.Value}
		switch a.Space {
		case "":
		case "xml":
			ca.uri, ca.qname = namespaceXML, "xml:"+a.Key
		default:
			if err := consider(a.Space); err != nil {
				return err
			}
			ca.uri, ca.qname = scope[a.Space], a.Space+":"+a.Key
		}
		attrs = append(attrs, ca)
	}
	for _, p := range w.inclusive {
		if _, ok := scope[p]; ok || p == "" {
			if err := consider(p); err != nil {
				return err
			}
		}
	}
	if w.preserve {
		for _, a := range e.Attr {
			if p, ok := attrDeclPrefix(a); ok {
				if err := consider(p); err != nil {
					return err
				}
			}
		}
	}
	if allAtApex {
		for _, p := range sortedKeys(scope) {
			if err := consider(p); err != nil {
				return err
			}
		}
	}
	w.attrs = attrs[:0] // keep the grown slice for the next element
	decls := w.decls
	// slices.SortFunc rather than sort.Slice: no reflection and no
	// allocation for every element of every message.
	if len(decls) > 1 {
		slices.SortFunc(decls, func(a, b nsDecl) int { return strings.Compare(a.prefix, b.prefix) })
	}
	if len(attrs) > 1 {
		slices.SortFunc(attrs, func(a, b c14nAttr) int {
			if c := strings.Compare(a.uri, b.uri); c != 0 {
				return c
			}
			return strings.Compare(a.local, b.local)
		})
	}

	w.buf.WriteByte('<')
	w.writeName(e)
	for _, d := range decls {
		if d.prefix == "" {
			w.buf.WriteString(` xmlns="`)
		} else {
			w.buf.WriteString(` xmlns:`)
			w.buf.WriteString(d.prefix)
			w.buf.WriteString(`="`)
		}
		escapeAttr(&w.buf, d.uri)
		w.buf.WriteByte('"')
	}
	for _, a := range attrs {
		w.buf.WriteByte(' ')
		w.buf.WriteString(a.qname)
		w.buf.WriteString(`="`)
		escapeAttr(&w.buf, a.value)
		w.buf.WriteByte('"')
	}
	w.buf.WriteByte('>')

	childRendered := rendered
	if len(decls) > 0 {
		childRendered = make(nsScope, len(rendered)+len(decls))
		for k, v := range rendered {
			childRendered[k] = v
		}
		for _, d := range decls {
			childRendered[d.prefix] = d.uri
		}
	}
	for _, tok := range e.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if t == w.exclude {
				continue
			}
			if err := w.element(t, scope, childRendered, false); err != nil {
				return err
			}
		case *etree.CharData:
			escapeText(&w.buf, t.Data)
		case *etree.Comment:
			// Exclusive c14n without comments; Serialize keeps them.
			if w.preserve {
				w.buf.WriteString("<!--")
				w.buf.WriteString(t.Data)
				w.buf.WriteString("-->")
			}
		case *etree.ProcInst:
			w.buf.WriteString("<?")
			w.buf.WriteString(t.Target)
			if t.Inst != "" {
				w.buf.WriteByte(' ')
				w.buf.WriteString(t.Inst)
			}
			w.buf.WriteString("?>")
		case *etree.Directive:
			return fmt.Errorf("%w: directive inside an element", ErrDoctype)
		}
	}
	w.buf.WriteString("</")
	w.writeName(e)
	w.buf.WriteByte('>')
	if w.maxBytes > 0 && w.buf.Len() > w.maxBytes {
		return fmt.Errorf("%w: canonical form exceeds %d bytes", ErrTooLarge, w.maxBytes)
	}
	return nil
}

// consider adds the declaration of prefix to w.decls if this element
// must render it: it is in scope with a binding that the output does not
// already have in force (rendered).
func (w *c14nWriter) consider(prefix string, scope, rendered nsScope) error {
	if prefix == "xml" {
		return nil
	}
	for _, d := range w.decls {
		if d.prefix == prefix {
			return nil
		}
	}
	uri, ok := scope[prefix]
	if prefix == "" {
		if uri != rendered[""] {
			w.decls = append(w.decls, nsDecl{"", uri})
		}
		return nil
	}
	if !ok {
		return fmt.Errorf("%w: undeclared prefix %q", ErrNamespace, prefix)
	}
	if prev, ok := rendered[prefix]; ok && prev == uri {
		return nil
	}
	w.decls = append(w.decls, nsDecl{prefix, uri})
	return nil
}

// writeName writes e's qualified name.
func (w *c14nWriter) writeName(e *etree.Element) {
	if e.Space != "" {
		w.buf.WriteString(e.Space)
		w.buf.WriteByte(':')
	}
	w.buf.WriteString(e.Tag)
}

func escapeText(b *bytes.Buffer, s string) { textEscapes.write(b, s) }

func escapeAttr(b *bytes.Buffer, s string) { attrEscapes.write(b, s) }

// textEscapes and attrEscapes are Canonical XML's escapes of text and of
// attribute values.
var (
	textEscapes = newEscaper(map[byte]string{'&': "&amp;", '<': "&lt;", '>': "&gt;", '\r': "&#xD;"})
	attrEscapes = newEscaper(map[byte]string{'&': "&amp;", '<': "&lt;", '"': "&quot;", '\t': "&#x9;", '\n': "&#xA;", '\r': "&#xD;"})
)

// escaper replaces the bytes it marks; the scan tests one byte table per
// byte of a value, and the runs between escapes are copied whole (most
// values, the base64 of signatures and ciphertext among them, need none).
type escaper struct {
	marked [256]bool
	with   [256]string
}

func newEscaper(m map[byte]string) *escaper {
	e := &escaper{}
	for c, r := range m {
		e.marked[c], e.with[c] = true, r
	}
	return e
}

func (e *escaper) write(b *bytes.Buffer, s string) {
	start := 0
	for i := 0; i < len(s); i++ {
		if e.marked[s[i]] {
			b.WriteString(s[start:i])
			b.WriteString(e.with[s[i]])
			start = i + 1
		}
	}
	b.WriteString(s[start:])
}

func sortedKeys(m nsScope) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
