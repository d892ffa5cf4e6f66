package xmlsec

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// Default parser limits. 512 KiB is far above any eIDAS Response (a few
// tens of KiB) and still holds the aggregated EU proxy-service metadata.
const (
	DefaultMaxBytes      = 512 << 10
	DefaultMaxDepth      = 64
	DefaultMaxAttributes = 256
	DefaultMaxNamespaces = 64
)

// Limits bound the work Parse will do. A zero field means the default.
type Limits struct {
	MaxBytes      int // input size in bytes
	MaxDepth      int // element nesting; the root element is depth 1
	MaxAttributes int // attributes (including namespace declarations) per element
	// MaxNamespaces bounds the distinct prefixes in scope at any element.
	// Without it, thousands of declarations on ancestors would make every
	// element's scope expensive to build (quadratic work).
	MaxNamespaces int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxAttributes <= 0 {
		l.MaxAttributes = DefaultMaxAttributes
	}
	if l.MaxNamespaces <= 0 {
		l.MaxNamespaces = DefaultMaxNamespaces
	}
	return l
}

// Parse parses data into an etree document, refusing anything this profile
// never needs and that has a history of parser attacks:
//
//   - any DOCTYPE or other "<!" directive (XXE, entity expansion; the Go
//     decoder would not expand entities, but refusing outright keeps the
//     behaviour independent of the decoder and gives a clear error);
//   - processing instructions other than a leading XML declaration;
//   - a declared encoding other than UTF-8, and invalid UTF-8;
//   - input larger than limits.MaxBytes, nesting deeper than
//     limits.MaxDepth, more than limits.MaxAttributes per element, more
//     than limits.MaxNamespaces prefixes in scope;
//   - namespace errors (undeclared prefixes, illegal declarations, colons in
//     local names) and duplicate attributes, including duplicates that only
//     appear after prefix resolution.
//
// Attribute values are normalised as the XML specification requires (a
// literal tab or line break becomes a space); the standard library decoder
// skips that step, which would make our canonical form differ from other
// implementations'. Comments are kept in the tree (canonicalisation drops
// them); CDATA sections become ordinary text.
func Parse(data []byte, limits Limits) (*etree.Document, error) {
	return parseInScope(data, limits, nil)
}

// parseInScope parses data as if it appeared where the namespace bindings in
// scope apply (used for decrypted content, which may use prefixes declared
// on ancestors of the EncryptedData). Bindings from scope that the document
// does not itself declare are added to its root, so the result is
// self-contained.
func parseInScope(data []byte, limits Limits, scope nsScope) (*etree.Document, error) {
	limits = limits.withDefaults()
	if len(data) > limits.MaxBytes {
		return nil, fmt.Errorf("parse xml: %d bytes exceeds limit %d: %w", len(data), limits.MaxBytes, ErrTooLarge)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("parse xml: %w", ErrInvalidUTF8)
	}
	if scope == nil {
		scope = baseScope()
	}
	// The fast tokenizer reads the plain XML that SAML is written in; at
	// anything else it gives up and the decoder parses the input afresh
	// (see fastTokenizer).
	str := string(data)
	p := &parser{data: data, str: str, limits: limits, doc: etree.NewDocument()}
	err := p.run(scope, (&fastTokenizer{data: data, str: str}).next)
	if errors.Is(err, errSlowPath) {
		p = &parser{data: data, limits: limits, doc: etree.NewDocument()}
		err = p.run(scope, decoderTokens(data))
	}
	if err != nil {
		return nil, fmt.Errorf("parse xml: %w", err)
	}
	if root := p.doc.Root(); root != nil {
		for _, prefix := range sortedKeys(scope) {
			uri := scope[prefix]
			if prefix == "xml" || prefix == "xmlns" || (prefix == "" && uri == "") {
				continue
			}
			key := "xmlns"
			if prefix != "" {
				key = "xmlns:" + prefix
			}
			if root.SelectAttr(key) == nil {
				root.CreateAttr(key, uri)
			}
		}
	}
	return p.doc, nil
}

// nsScope maps prefixes to namespace URIs; "" is the default namespace
// (mapped to "" when there is none).
type nsScope map[string]string

func baseScope() nsScope {
	return nsScope{"xml": namespaceXML}
}

type parser struct {
	data []byte
	// str, when set, is data as a string: text that the tokenizer
	// returns as a slice of data is taken from it without a copy.
	str    string
	limits Limits
	doc    *etree.Document
}

type openElement struct {
	el    *etree.Element
	scope nsScope
}

// tokenKind is the kind of a raw token.
type tokenKind uint8

const (
	tokStart tokenKind = iota + 1
	tokEnd
	tokText
	tokComment
	tokProcInst
	tokDirective
)

// token is one raw token, as encoding/xml's RawToken yields it, in a
// struct rather than the xml.Token interface: boxing every token would
// cost an allocation each.
type token struct {
	kind   tokenKind
	name   xml.Name   // tokStart, tokEnd
	attr   []xml.Attr // tokStart (valid until the next token)
	data   []byte     // tokText, tokComment, tokDirective; tokProcInst: the instruction
	target string     // tokProcInst
}

// tokenFunc yields the next raw token and its byte range in the input,
// or io.EOF.
type tokenFunc func() (token, int, int, error)

// decoderTokens reads data with encoding/xml in strict mode.
func decoderTokens(data []byte) tokenFunc {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = nil
	return func() (token, int, int, error) {
		start := int(dec.InputOffset())
		tok, err := dec.RawToken()
		if err == io.EOF {
			return token{}, start, start, io.EOF
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return token{}, 0, 0, fmt.Errorf("%w: line %d: %s", ErrMalformed, se.Line, se.Msg)
			}
			return token{}, 0, 0, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		var out token
		switch t := tok.(type) {
		case xml.StartElement:
			out = token{kind: tokStart, name: t.Name, attr: t.Attr}
		case xml.EndElement:
			out = token{kind: tokEnd, name: t.Name}
		case xml.CharData:
			out = token{kind: tokText, data: t}
		case xml.Comment:
			out = token{kind: tokComment, data: t}
		case xml.ProcInst:
			out = token{kind: tokProcInst, target: t.Target, data: t.Inst}
		case xml.Directive:
			out = token{kind: tokDirective, data: t}
		default:
			return token{}, 0, 0, fmt.Errorf("%w: unexpected token %T", ErrMalformed, tok)
		}
		return out, start, int(dec.InputOffset()), nil
	}
}

func (p *parser) run(initial nsScope, next tokenFunc) error {
	// The decoder refuses a non-UTF-8 declaration before returning it as a
	// token, so look at the declaration first for a precise error.
	if bytes.HasPrefix(p.data, []byte("<?xml")) && len(p.data) > 5 && isXMLSpace(p.data[5]) {
		if end := bytes.Index(p.data, []byte("?>")); end > 0 {
			if enc := procInstParam(string(p.data[5:end]), "encoding"); enc != "" && !strings.EqualFold(enc, "utf-8") {
				return fmt.Errorf("%w: %q", ErrEncoding, enc)
			}
		}
	}
	var stack []openElement
	sawRoot := false
	first := true
	for {
		tok, start, end, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		isFirst := first
		first = false
		switch tok.kind {
		case tokProcInst:
			if tok.target != "xml" {
				return fmt.Errorf("%w: <?%s?>", ErrProcInst, tok.target)
			}
			if !isFirst || start != 0 {
				return fmt.Errorf("%w: XML declaration not at the start", ErrMalformed)
			}
			if enc := procInstParam(string(tok.data), "encoding"); enc != "" && !strings.EqualFold(enc, "utf-8") {
				return fmt.Errorf("%w: %q", ErrEncoding, enc)
			}
			if v := procInstParam(string(tok.data), "version"); v != "1.0" {
				return fmt.Errorf("%w: XML version %q", ErrMalformed, v)
			}
		case tokDirective:
			return ErrDoctype
		case tokStart:
			if len(stack)+1 > p.limits.MaxDepth {
				return fmt.Errorf("%w: more than %d levels", ErrTooDeep, p.limits.MaxDepth)
			}
			if len(stack) == 0 && sawRoot {
				return fmt.Errorf("%w: more than one root element", ErrMalformed)
			}
			parentScope := initial
			var parent *etree.Element
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				parentScope, parent = top.scope, top.el
			}
			el, scope, err := p.startElement(xml.StartElement{Name: tok.name, Attr: tok.attr}, p.data[start:end], parentScope)
			if err != nil {
				return err
			}
			if parent == nil {
				p.doc.SetRoot(el)
				sawRoot = true
			} else {
				parent.AddChild(el)
			}
			stack = append(stack, openElement{el: el, scope: scope})
		case tokEnd:
			if len(stack) == 0 {
				return fmt.Errorf("%w: unexpected end tag", ErrMalformed)
			}
			top := stack[len(stack)-1].el
			if top.Space != tok.name.Space || top.Tag != tok.name.Local {
				return fmt.Errorf("%w: end tag does not match start tag", ErrMalformed)
			}
			stack = stack[:len(stack)-1]
		case tokText:
			if len(stack) == 0 {
				if len(bytes.TrimLeft(tok.data, " \t\r\n")) != 0 {
					return fmt.Errorf("%w: text outside the root element", ErrMalformed)
				}
				continue
			}
			stack[len(stack)-1].el.CreateText(p.text(tok.data, start))
		case tokComment:
			if len(stack) > 0 {
				stack[len(stack)-1].el.CreateComment(string(tok.data))
			}
		}
	}
	if len(stack) != 0 {
		return fmt.Errorf("%w: unexpected end of input", ErrMalformed)
	}
	if !sawRoot {
		return fmt.Errorf("%w: no root element", ErrMalformed)
	}
	return nil
}

// text returns character data t, which began at offset start of the
// input, as a string: sliced from p.str when t is that part of the input
// itself (the fast tokenizer's plain runs), copied otherwise.
func (p *parser) text(t []byte, start int) string {
	if p.str != "" && len(t) > 0 && start >= 0 && start+len(t) <= len(p.data) && &t[0] == &p.data[start] {
		return p.str[start : start+len(t)]
	}
	return string(t)
}

func (p *parser) startElement(t xml.StartElement, raw []byte, parentScope nsScope) (*etree.Element, nsScope, error) {
	if len(t.Attr) > p.limits.MaxAttributes {
		return nil, nil, fmt.Errorf("%w: %d on one element", ErrTooManyAttrs, len(t.Attr))
	}
	if err := checkName(t.Name); err != nil {
		return nil, nil, err
	}
	// Only a tag with a literal tab or line break can hold a value that
	// needs normalising; most tags have none, and their raw values need
	// not be cut out (nor the values copied).
	values := func(i int) string { return t.Attr[i].Value }
	if bytes.ContainsAny(raw, "\t\n\r") {
		normalized := make([]string, len(t.Attr))
		rawValues := rawAttrValues(raw)
		for i, a := range t.Attr {
			normalized[i] = a.Value
			if i < len(rawValues) && strings.ContainsAny(rawValues[i], "\t\n\r") {
				normalized[i] = normalizeAttrValue(rawValues[i])
			}
		}
		values = func(i int) string { return normalized[i] }
	}

	// Namespace declarations first: they apply to the element's own name
	// and attributes.
	scope := parentScope
	declared := false
	for i, a := range t.Attr {
		prefix, isDecl := nsDeclPrefix(a.Name)
		if !isDecl {
			continue
		}
		if err := checkNSDecl(prefix, values(i)); err != nil {
			return nil, nil, err
		}
		if !declared {
			scope = make(nsScope, len(parentScope)+2)
			for k, v := range parentScope {
				scope[k] = v
			}
			declared = true
		}
		scope[prefix] = values(i)
	}
	if declared && len(scope) > p.limits.MaxNamespaces+1 { // +1: the predeclared xml prefix
		return nil, nil, fmt.Errorf("%w: more than %d namespace prefixes in scope", ErrTooManyNamespaces, p.limits.MaxNamespaces)
	}

	if t.Name.Space != "" {
		if t.Name.Space == "xmlns" {
			return nil, nil, fmt.Errorf("%w: element uses the xmlns prefix", ErrNamespace)
		}
		if _, ok := scope[t.Name.Space]; !ok {
			return nil, nil, fmt.Errorf("%w: undeclared prefix %q", ErrNamespace, t.Name.Space)
		}
	}

	el := etree.NewElement(t.Name.Local)
	el.Space = t.Name.Space
	// Duplicates by expanded name: a short list suffices for the usual
	// handful of attributes; a map keeps many attributes linear.
	var seenArr [8][2]string
	seenList := seenArr[:0]
	var seen map[[2]string]struct{}
	if len(t.Attr) > len(seenArr) {
		seen = make(map[[2]string]struct{}, len(t.Attr))
	}
	if len(t.Attr) > 0 {
		el.Attr = make([]etree.Attr, 0, len(t.Attr))
	}
	for i, a := range t.Attr {
		if err := checkName(a.Name); err != nil {
			return nil, nil, err
		}
		var key [2]string
		if _, isDecl := nsDeclPrefix(a.Name); isDecl {
			key = [2]string{namespaceXMLNS, a.Name.Local}
			if a.Name.Space == "" {
				key = [2]string{namespaceXMLNS, ""}
			}
		} else {
			uri := ""
			if a.Name.Space != "" {
				var ok bool
				if uri, ok = scope[a.Name.Space]; !ok {
					return nil, nil, fmt.Errorf("%w: undeclared attribute prefix %q", ErrNamespace, a.Name.Space)
				}
			}
			key = [2]string{uri, a.Name.Local}
		}
		if seen != nil {
			if _, dup := seen[key]; dup {
				return nil, nil, fmt.Errorf("%w: %q", ErrDuplicateAttr, a.Name.Local)
			}
			seen[key] = struct{}{}
		} else {
			if slices.Contains(seenList, key) {
				return nil, nil, fmt.Errorf("%w: %q", ErrDuplicateAttr, a.Name.Local)
			}
			seenList = append(seenList, key)
		}
		name := a.Name.Local
		if a.Name.Space != "" {
			name = a.Name.Space + ":" + a.Name.Local
		}
		el.CreateAttr(name, values(i))
	}
	return el, scope, nil
}

// nsDeclPrefix reports whether n is a namespace declaration and for which
// prefix ("" for the default namespace).
func nsDeclPrefix(n xml.Name) (string, bool) {
	if n.Space == "xmlns" {
		return n.Local, true
	}
	if n.Space == "" && n.Local == "xmlns" {
		return "", true
	}
	return "", false
}

func checkNSDecl(prefix, uri string) error {
	switch {
	case prefix == "xmlns":
		return fmt.Errorf("%w: the xmlns prefix cannot be declared", ErrNamespace)
	case prefix == "xml" && uri != namespaceXML:
		return fmt.Errorf("%w: the xml prefix cannot be rebound", ErrNamespace)
	case prefix != "xml" && uri == namespaceXML:
		return fmt.Errorf("%w: the XML namespace cannot be bound to another prefix", ErrNamespace)
	case uri == namespaceXMLNS:
		return fmt.Errorf("%w: the xmlns namespace cannot be declared", ErrNamespace)
	case prefix != "" && uri == "":
		return fmt.Errorf("%w: prefix %q undeclared (not allowed in XML 1.0)", ErrNamespace, prefix)
	}
	return nil
}

// checkName refuses QNames the decoder splits oddly ("a:b:c", ":a", "a:").
func checkName(n xml.Name) error {
	if n.Local == "" || strings.Contains(n.Local, ":") {
		return fmt.Errorf("%w: invalid qualified name", ErrNamespace)
	}
	return nil
}

// procInstParam extracts a pseudo-attribute from an XML declaration.
func procInstParam(inst, name string) string {
	i := strings.Index(inst, name)
	for i >= 0 {
		rest := strings.TrimLeft(inst[i+len(name):], " \t\r\n")
		if strings.HasPrefix(rest, "=") {
			rest = strings.TrimLeft(rest[1:], " \t\r\n")
			if len(rest) > 0 && (rest[0] == '"' || rest[0] == '\'') {
				if j := strings.IndexByte(rest[1:], rest[0]); j >= 0 {
					return rest[1 : 1+j]
				}
			}
			return ""
		}
		next := strings.Index(inst[i+len(name):], name)
		if next < 0 {
			break
		}
		i += len(name) + next
	}
	return ""
}

// rawAttrValues returns the undecoded attribute values of a start tag, in
// document order. The decoder has already checked the tag's syntax, so the
// scan can be simple.
func rawAttrValues(tag []byte) []string {
	var out []string
	i := 1 // skip '<'
	for i < len(tag) && !isXMLSpace(tag[i]) && tag[i] != '>' && tag[i] != '/' {
		i++
	}
	for i < len(tag) {
		for i < len(tag) && isXMLSpace(tag[i]) {
			i++
		}
		if i >= len(tag) || tag[i] == '>' || tag[i] == '/' {
			break
		}
		for i < len(tag) && tag[i] != '=' {
			i++
		}
		i++ // '='
		for i < len(tag) && isXMLSpace(tag[i]) {
			i++
		}
		if i >= len(tag) {
			break
		}
		q := tag[i]
		i++
		j := bytes.IndexByte(tag[i:], q)
		if j < 0 {
			break
		}
		out = append(out, string(tag[i:i+j]))
		i += j + 1
	}
	return out
}

func isXMLSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// normalizeAttrValue applies XML 1.0 §2.11 line-end handling and §3.3.3
// attribute-value normalisation (CDATA type) to a raw attribute value, then
// resolves the predefined and character references. Character references
// keep their character: "&#10;" stays a line feed, a literal line feed
// becomes a space.
func normalizeAttrValue(raw string) string {
	raw = strings.ReplaceAll(raw, "\r\n", "\n")
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '\r', '\n', '\t':
			b.WriteByte(' ')
		case '&':
			j := strings.IndexByte(raw[i:], ';')
			if j < 0 {
				b.WriteByte(c)
				continue
			}
			ref := raw[i+1 : i+j]
			i += j
			switch {
			case ref == "lt":
				b.WriteByte('<')
			case ref == "gt":
				b.WriteByte('>')
			case ref == "amp":
				b.WriteByte('&')
			case ref == "apos":
				b.WriteByte('\'')
			case ref == "quot":
				b.WriteByte('"')
			case strings.HasPrefix(ref, "#x"):
				if n, err := strconv.ParseUint(ref[2:], 16, 32); err == nil {
					b.WriteRune(rune(n))
				}
			case strings.HasPrefix(ref, "#"):
				if n, err := strconv.ParseUint(ref[1:], 10, 32); err == nil {
					b.WriteRune(rune(n))
				}
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
