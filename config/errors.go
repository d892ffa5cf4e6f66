package config

import (
	"sort"
	"strconv"
	"strings"
)

// FieldError is one problem in a configuration file, located by line and by
// path. Its Error text is the line an admin sees from check-config:
//
//	broker.yaml:14: adapters[1].config.metadata: required
//
// Path uses the file's own keys, dotted, with [i] for list items (0-based).
// For a missing key, Line is the line of the mapping that should hold it.
type FieldError struct {
	File string
	// Line is 1-based; 0 when the problem concerns the file as a whole and
	// no line can be named (the error text then leaves it out).
	Line int
	// Path is empty for problems of the whole document (syntax, emptiness).
	Path string
	Msg  string
	// Err is the underlying cause, if any (a failed os call, a parser
	// error); its text is already part of Msg.
	Err error
}

// Error formats "file:line: path: msg", leaving out the parts that are empty.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the cause, so errors.Is(err, fs.ErrNotExist) works through
// an Errors value.
func (e *FieldError) Unwrap() error { return e.Err }

// Errors is every problem found in one file, sorted by line. Parse and Load
// return it (never an empty one) when the file is invalid; it exists so an
// admin can fix a file in one round instead of one error per run.
type Errors []*FieldError

// Error prints one FieldError per line, without a trailing newline.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes the individual errors to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sorted orders by line (errors on one line keep the order they were found
// in, which follows the document) and drops repeats, which a merged anchor
// can produce once per use.
func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
	out := es[:0]
	seen := map[string]bool{}
	for _, e := range es {
		k := e.Error()
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}
