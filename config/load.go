package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxFile bounds the size of a configuration file; real ones are a few KiB.
const maxFile = 4 << 20

// AdapterSpec is the type-specific configuration of one adapter type: the
// struct its adapter package declares and the Registry constructs. Parse
// decodes the adapter's `config:` block into it as strictly as the rest of
// the file (unknown keys, wrong types and bad values are errors with line
// and path), then calls Validate.
//
// The struct may use Secret, Duration, Path and assurance.Level fields; they
// decode exactly as in the main file. Whatever the constructor pre-fills
// survives when the file leaves the key out, so a constructor is the place
// for defaults.
type AdapterSpec interface {
	// Validate checks the decoded values and returns every problem, not the
	// first. Paths are relative to the config block ("metadata.url",
	// "countries[2].level"); Parse prefixes them and finds their line. A
	// problem with a key that is absent is reported on its parent's line.
	Validate() []Problem
}

// Problem is one invalid value found by AdapterSpec.Validate.
type Problem struct {
	// Path is relative to the adapter's config block, in the file's own
	// key names: dotted keys, [i] for list items; "" for the block itself.
	Path string
	// Msg is short and lowercase: "required", "must be https".
	Msg string
}

// Registry maps an adapter `type` to a constructor of its AdapterSpec. It
// is filled by cmd/broker, the only place that imports the adapter
// packages; config itself knows no adapter. Constructors must return a
// fresh non-nil pointer on every call.
type Registry map[string]func() AdapterSpec

// Load reads and parses the configuration file at path (see Parse). A file
// that cannot be read yields a plain error; an invalid one yields Errors.
func Load(path string, reg Registry) (*Config, error) {
	data, err := readLimited(path, maxFile)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, osCause(err))
	}
	return Parse(path, data, reg)
}

// Parse decodes and validates a configuration file. filename names the file
// in error messages (give it as the admin typed it) and anchors relative
// paths (secret files, jwks_file, keys.signing[].file, Path fields): they
// are resolved against filename's directory and stored as absolute paths.
//
// On success every default is applied (see docs/configuration.md). On
// failure the error is Errors, with every problem of the file sorted by line,
// and the Config is nil: there is no partially valid configuration.
func Parse(filename string, data []byte, reg Registry) (*Config, error) {
	d := newDecoder(filename, reg)
	c := d.parse(data)
	if len(d.errs) > 0 {
		return nil, d.errs.sorted()
	}
	c.applyDefaults()
	return c, nil
}

// parse runs decoding and validation, collecting errors in d.errs.
func (d *decoder) parse(data []byte) *Config {
	if len(data) > maxFile {
		d.fail("", 0, nil, "file larger than %d bytes", maxFile)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.fail("", 1, nil, "empty file")
			return nil
		}
		d.syntax(err)
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntax(err)
		return nil
	default:
		d.fail("", next.Line, nil, "a second YAML document; the file must hold exactly one")
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		d.fail("", 1, nil, "empty file")
		return nil
	}
	root := doc.Content[0]
	d.rootLine = root.Line
	if isNull(root) {
		d.fail("", root.Line, nil, "empty file")
		return nil
	}
	if r := d.enter(root, "", 0); r != nil && r.Kind != yaml.MappingNode {
		d.fail("", root.Line, nil, "want a mapping of configuration keys, got %s", describe(r))
		return nil
	}
	d.nodes = 0
	c := &Config{}
	d.decode(root, reflect.ValueOf(c).Elem(), "", 0)
	if d.stopped {
		return nil
	}
	d.validate(c)
	return c
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the messages of yaml.v3's parser (as opposed to its
// scanner). yaml.v3 prints their line 0-based, and the line where the
// enclosing construct began (the "[" of an unclosed list), so 1 is added.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// readerProblem reports errors about the bytes themselves (encoding,
// control characters), which yaml.v3 locates by offset, not by line.
func readerProblem(msg string) bool {
	return strings.Contains(msg, "UTF-8") || strings.Contains(msg, "UTF-16") ||
		msg == "control characters are not allowed" || msg == "invalid Unicode character" ||
		strings.HasPrefix(msg, "input error")
}

// syntax turns a yaml.v3 parse error into a FieldError with its line.
func (d *decoder) syntax(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	switch {
	case parserProblems[msg]:
		line++
	case line == 0 && !readerProblem(msg):
		line = 1 // yaml.v3 leaves out "line" for problems on the first line
	}
	d.fail("", line, err, "syntax error: %s", msg)
}

// Check is `broker check-config FILE`: it loads path with reg and writes
// either every error, one per line, or "FILE: ok" to w. It returns the exit
// code: 0 valid, 1 invalid, 2 unreadable.
func Check(path string, reg Registry, w io.Writer) int {
	_, err := Load(path, reg)
	var errs Errors
	switch {
	case err == nil:
		fmt.Fprintf(w, "%s: ok\n", path)
		return 0
	case errors.As(err, &errs):
		fmt.Fprintln(w, errs.Error())
		return 1
	default:
		fmt.Fprintln(w, err)
		return 2
	}
}
