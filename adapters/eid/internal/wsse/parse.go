package wsse

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"github.com/beevik/etree"
)

// Limits bound what Parse accepts. Zero fields take the defaults.
type Limits struct {
	MaxBytes    int64 // default 1 MiB
	MaxDepth    int   // default 32
	MaxElements int   // default 10000
	MaxAttrs    int   // per element, default 32
}

// Defaults for Limits.
const (
	DefaultMaxBytes    = 1 << 20
	DefaultMaxDepth    = 32
	DefaultMaxElements = 10000
	DefaultMaxAttrs    = 32
)

// Errors of Parse, wrapped with detail.
var (
	ErrTooLarge  = errors.New("xml message too large")
	ErrDoctype   = errors.New("xml message has a DOCTYPE or other directive")
	ErrMalformed = errors.New("xml message malformed")
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}
	if l.MaxAttrs <= 0 {
		l.MaxAttrs = DefaultMaxAttrs
	}
	return l
}

// ReadLimited reads at most max bytes from r and fails with ErrTooLarge when
// there is more: a response is never buffered without a bound.
func ReadLimited(r io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return b, nil
}

// Parse checks b with a token pass before building the tree: directives
// (DOCTYPE and with it any entity declaration), processing instructions other
// than the XML declaration, duplicate attributes and excessive size, depth or
// element count are refused. Only then is the etree document built.
func Parse(b []byte, lim Limits) (*etree.Document, error) {
	lim = lim.withDefaults()
	if int64(len(b)) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(b), lim.MaxBytes)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	depth, elems, roots := 0, 0, 0
	first := true
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, ErrDoctype
		case xml.ProcInst:
			if t.Target != "xml" || !first {
				return nil, fmt.Errorf("%w: processing instruction %q", ErrMalformed, t.Target)
			}
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 {
					return nil, fmt.Errorf("%w: more than one root element", ErrMalformed)
				}
			}
			depth++
			elems++
			if depth > lim.MaxDepth {
				return nil, fmt.Errorf("%w: nesting deeper than %d", ErrMalformed, lim.MaxDepth)
			}
			if elems > lim.MaxElements {
				return nil, fmt.Errorf("%w: more than %d elements", ErrMalformed, lim.MaxElements)
			}
			if len(t.Attr) > lim.MaxAttrs {
				return nil, fmt.Errorf("%w: element %s has more than %d attributes", ErrMalformed, t.Name.Local, lim.MaxAttrs)
			}
			seen := make(map[xml.Name]bool, len(t.Attr))
			for _, a := range t.Attr {
				if seen[a.Name] {
					return nil, fmt.Errorf("%w: duplicate attribute %s on %s", ErrMalformed, a.Name.Local, t.Name.Local)
				}
				seen[a.Name] = true
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("%w: text outside the root element", ErrMalformed)
			}
		}
		first = false
	}
	if roots != 1 {
		return nil, fmt.Errorf("%w: no root element", ErrMalformed)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return doc, nil
}
