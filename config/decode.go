package config

import (
	"encoding"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// The decoder walks yaml.v3 nodes itself instead of calling Node.Decode:
// Node.Decode forgets KnownFields(true), stops at the first error and loses
// the line of a missing key. Walking the tree lets it report every unknown
// key, wrong type and bad value with its line in one pass, and decode each
// adapter's config block just as strictly into the registry's struct.

// Limits that keep a hostile or broken file from exhausting the process.
const (
	// maxNodes bounds the nodes visited, counting each expansion of an
	// alias again (a "billion laughs" file stops here).
	maxNodes = 200_000
	// maxDepth bounds nesting, counting alias hops (a self-referencing
	// anchor stops here).
	maxDepth = 64
	// maxSecretFile bounds a secret or key file read during parsing.
	maxSecretFile = 1 << 20
)

var (
	adapterType  = reflect.TypeFor[Adapter]()
	secretType   = reflect.TypeFor[Secret]()
	durationType = reflect.TypeFor[Duration]()
	pathType     = reflect.TypeFor[Path]()
	levelType    = reflect.TypeFor[assurance.Level]()

	// envRef is the only form of environment expansion: the whole value.
	envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)
)

// decoder holds the state of one Parse call.
type decoder struct {
	file string
	dir  string // directory of the file, for relative paths
	reg  Registry
	env  func(string) (string, bool)

	errs Errors
	// lines maps each path present in the file to the line of its key (or
	// list item), so validation can point at it or at its parent.
	lines map[string]int
	// set holds paths that had a non-null value.
	set map[string]bool
	// bad holds paths with a decoding error; validation stays silent on
	// them and below them, so one typo yields one message.
	bad      map[string]bool
	rootLine int
	nodes    int
	// signingAlgs are the algorithms of configured signing keys; nil when
	// none are configured (the broker then generates what clients need).
	signingAlgs map[string]bool
	stopped     bool // budget exhausted; reported once
}

func newDecoder(file string, reg Registry) *decoder {
	dir := "."
	if file != "" {
		dir = filepath.Dir(file)
	}
	return &decoder{
		file:  file,
		dir:   dir,
		reg:   reg,
		env:   os.LookupEnv,
		lines: map[string]int{},
		set:   map[string]bool{},
		bad:   map[string]bool{},
	}
}

// fail records a decoding error at path and marks the path bad.
func (d *decoder) fail(path string, line int, cause error, format string, args ...any) {
	d.bad[path] = true
	d.errs = append(d.errs, &FieldError{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...), Err: cause})
}

// invalid records a validation error at path, located by lineOf, unless the
// path or one of its parents already failed to decode.
func (d *decoder) invalid(path string, format string, args ...any) {
	d.invalidErr(path, nil, format, args...)
}

func (d *decoder) invalidErr(path string, cause error, format string, args ...any) {
	for p := path; ; p = parentPath(p) {
		if d.bad[p] {
			return
		}
		if p == "" {
			break
		}
	}
	d.errs = append(d.errs, &FieldError{File: d.file, Line: d.lineOf(path), Path: path, Msg: fmt.Sprintf(format, args...), Err: cause})
}

// lineOf returns the line of path, or of its nearest present ancestor: a
// missing key is reported on the mapping that should contain it.
func (d *decoder) lineOf(path string) int {
	for {
		if l, ok := d.lines[path]; ok {
			return l
		}
		if path == "" {
			return d.rootLine
		}
		path = parentPath(path)
	}
}

// has reports whether path was given a non-null value in the file.
func (d *decoder) has(path string) bool { return d.set[path] }

// parentPath strips the last ".key" or "[i]" from a path.
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// enter counts a node against the budget and resolves aliases. It returns
// nil when the walk must not go on.
func (d *decoder) enter(n *yaml.Node, path string, depth int) *yaml.Node {
	for {
		d.nodes++
		if d.nodes > maxNodes || depth > maxDepth {
			if !d.stopped {
				d.stopped = true
				d.fail(path, n.Line, nil, "document too large or too deeply nested (aliases count each time they are used)")
			}
			return nil
		}
		if n.Kind != yaml.AliasNode {
			return n
		}
		if n.Alias == nil {
			d.fail(path, n.Line, nil, "unknown alias %q", n.Value)
			return nil
		}
		n = n.Alias
		depth++
	}
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// describe names a node's kind for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
	}
	switch n.ShortTag() {
	case "!!str":
		return "a string"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "nothing"
	case "!!timestamp":
		return "a timestamp"
	case "!!binary":
		return "binary data"
	}
	return "a value tagged " + n.Tag
}

// wrongType reports a node of the wrong kind. A scalar that was wanted as a
// string gets a hint to quote it, the usual cause (id: 42, name: true).
func (d *decoder) wrongType(n *yaml.Node, path, want string) {
	got := describe(n)
	if want == "a string" && n.Kind == yaml.ScalarNode {
		d.fail(path, n.Line, nil, "want a string, got %s (quote it: %q)", got, n.Value)
		return
	}
	d.fail(path, n.Line, nil, "want %s, got %s", want, got)
}

// entry is one key of a mapping after merge keys are applied.
type entry struct {
	key     string
	keyNode *yaml.Node
	valNode *yaml.Node
}

// entries lists the keys of mapping n, reporting duplicate and non-string
// keys. Merge keys (<<: *anchor) contribute the keys the mapping does not
// set itself; earlier merge sources win over later ones, as YAML defines.
func (d *decoder) entries(n *yaml.Node, path string, depth int) []entry {
	var own []entry
	var merges []*yaml.Node
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode || (k.ShortTag() != "!!str" && k.ShortTag() != "!!int" && k.ShortTag() != "!!bool") {
			d.fail(path, k.Line, nil, "mapping key must be a string, got %s", describe(k))
			continue
		}
		if l, dup := first[k.Value]; dup {
			d.fail(joinKey(path, k.Value), k.Line, nil, "duplicate key (first at line %d)", l)
			continue
		}
		first[k.Value] = k.Line
		own = append(own, entry{key: k.Value, keyNode: k, valNode: v})
	}
	for _, m := range merges {
		src := d.enter(m, path, depth+1)
		if src == nil {
			continue
		}
		var sources []*yaml.Node
		switch src.Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{src}
		case yaml.SequenceNode:
			for _, s := range src.Content {
				s = d.enter(s, path, depth+1)
				if s == nil {
					continue
				}
				if s.Kind != yaml.MappingNode {
					d.fail(path, s.Line, nil, "merge (<<) wants mappings, got %s", describe(s))
					continue
				}
				sources = append(sources, s)
			}
		default:
			d.fail(path, m.Line, nil, "merge (<<) wants a mapping or a list of mappings, got %s", describe(src))
		}
		for _, s := range sources {
			for _, e := range d.entries(s, path, depth+1) {
				if _, ok := first[e.key]; ok {
					continue
				}
				first[e.key] = e.keyNode.Line
				own = append(own, e)
			}
		}
	}
	return own
}

// decode stores node n into v, reporting problems under path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, depth int) {
	n = d.enter(n, path, depth)
	if n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		d.set[path] = true
	}
	switch v.Type() {
	case adapterType:
		d.decodeAdapter(n, v, path, depth)
		return
	case secretType:
		d.decodeSecret(n, v, path, depth)
		return
	case durationType:
		d.decodeDuration(n, v, path)
		return
	case pathType:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			d.wrongType(n, path, "a string")
			return
		}
		if n.Value != "" {
			v.SetString(d.resolve(n.Value))
		}
		return
	}
	if isNull(n) {
		// An empty value means "not given": defaults and required
		// checks apply as if the key were absent.
		return
	}
	if v.Kind() != reflect.Pointer && v.CanAddr() {
		if u, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
			if err := u.UnmarshalYAML(n); err != nil {
				d.fail(path, n.Line, err, "%v", err)
			}
			return
		}
		if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
			d.decodeText(n, u, v.Type(), path)
			return
		}
	}
	switch v.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			d.wrongType(n, path, "a string")
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.wrongType(n, path, "a boolean (true or false)")
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.wrongType(n, path, "an integer")
			return
		}
		if err := n.Decode(&i); err != nil || v.OverflowInt(i) {
			d.fail(path, n.Line, nil, "integer %s out of range", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var u uint64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.wrongType(n, path, "an integer")
			return
		}
		if err := n.Decode(&u); err != nil || v.OverflowUint(u) {
			d.fail(path, n.Line, nil, "integer %s out of range (must not be negative)", n.Value)
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		var f float64
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!float" && n.ShortTag() != "!!int") || n.Decode(&f) != nil {
			d.wrongType(n, path, "a number")
			return
		}
		if v.OverflowFloat(f) {
			d.fail(path, n.Line, nil, "number %s out of range", n.Value)
			return
		}
		v.SetFloat(f)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.wrongType(n, path, "a list")
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			p := joinIndex(path, i)
			if _, ok := d.lines[p]; !ok {
				d.lines[p] = item.Line
			}
			d.decode(item, s.Index(i), p, depth+1)
		}
		v.Set(s)
	case reflect.Map:
		d.decodeMap(n, v, path, depth)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path, depth)
	case reflect.Struct:
		d.decodeStruct(n, v, path, depth)
	case reflect.Interface:
		if v.NumMethod() != 0 {
			d.fail(path, n.Line, nil, "cannot decode into %s (unsupported field type)", v.Type())
			return
		}
		var x any
		if err := n.Decode(&x); err != nil {
			d.fail(path, n.Line, err, "%v", err)
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		d.fail(path, n.Line, nil, "cannot decode into %s (unsupported field type)", v.Type())
	}
}

// decodeText handles encoding.TextUnmarshaler fields such as assurance.Level.
func (d *decoder) decodeText(n *yaml.Node, u encoding.TextUnmarshaler, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		if t == levelType {
			d.wrongType(n, path, "a level (low, substantial or high)")
		} else {
			d.wrongType(n, path, "a string")
		}
		return
	}
	if err := u.UnmarshalText([]byte(n.Value)); err != nil {
		if t == levelType {
			d.fail(path, n.Line, err, "invalid level %q (want low, substantial or high)", n.Value)
			return
		}
		d.fail(path, n.Line, err, "invalid value %q: %v", n.Value, err)
	}
}

func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.fail(path, n.Line, nil, "want a duration such as 30m, 2h or 90s, got %s", describe(n))
		return
	}
	t, err := time.ParseDuration(n.Value)
	if err != nil {
		d.fail(path, n.Line, err, "invalid duration %q (want e.g. 30m, 2h or 90s)", n.Value)
		return
	}
	v.SetInt(int64(t))
}

// decodeSecret reads a Secret from a literal, a whole-value ${NAME}
// reference, or a mapping {file: PATH}. Messages never contain the value.
func (d *decoder) decodeSecret(n *yaml.Node, v reflect.Value, path string, depth int) {
	if isNull(n) {
		return
	}
	before := len(d.errs)
	defer func() {
		// A secret that failed to load is reported once, not again as
		// "required" by validation.
		if len(d.errs) > before {
			d.bad[path] = true
		}
	}()
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() != "!!str" {
			d.fail(path, n.Line, nil, "want a string, ${NAME} or {file: PATH}, got %s", describe(n))
			return
		}
		val := n.Value
		if m := envRef.FindStringSubmatch(val); m != nil {
			e, ok := d.env(m[1])
			if !ok {
				d.fail(path, n.Line, nil, "environment variable %s is not set", m[1])
				return
			}
			if e == "" {
				d.fail(path, n.Line, nil, "environment variable %s is empty", m[1])
				return
			}
			val = e
		} else if strings.HasPrefix(val, "${") {
			d.fail(path, n.Line, nil, "malformed environment reference (want exactly ${NAME})")
			return
		}
		v.Set(reflect.ValueOf(Secret{value: val}))
	case yaml.MappingNode:
		var file string
		var fileLine int
		for _, e := range d.entries(n, path, depth) {
			p := joinKey(path, e.key)
			d.lines[p] = e.keyNode.Line
			if e.key != "file" {
				d.fail(p, e.keyNode.Line, nil, "unknown key (a secret mapping takes only file)")
				continue
			}
			fv := d.enter(e.valNode, p, depth+1)
			if fv == nil {
				return
			}
			if fv.Kind != yaml.ScalarNode || fv.ShortTag() != "!!str" {
				d.wrongType(fv, p, "a string")
				return
			}
			file, fileLine = fv.Value, e.keyNode.Line
		}
		if d.bad[path] {
			return
		}
		if file == "" {
			d.fail(joinKey(path, "file"), d.lineOf(path), nil, "required")
			return
		}
		b, err := d.readFile(file)
		if err != nil {
			d.fail(joinKey(path, "file"), fileLine, err, "read secret file %q: %v", file, osCause(err))
			return
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			d.fail(joinKey(path, "file"), fileLine, nil, "secret file %q is empty", file)
			return
		}
		v.Set(reflect.ValueOf(Secret{value: s}))
	default:
		d.wrongType(n, path, "a string, ${NAME} or {file: PATH}")
	}
}

// resolve makes a path from the file absolute, relative to its directory.
func (d *decoder) resolve(p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(d.dir, p)
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}

// readFile reads a file named in the config, bounded in size.
func (d *decoder) readFile(name string) ([]byte, error) {
	return readLimited(d.resolve(name), maxSecretFile)
}

func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && st.Size() > 0 {
		return nil, err
	}
	return b, nil
}

// osCause drops the absolute path from an os error: messages name the path
// as the admin wrote it, which also keeps golden files machine-independent.
func osCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string, depth int) {
	if n.Kind != yaml.MappingNode {
		d.wrongType(n, path, "a mapping")
		return
	}
	kt := v.Type().Key()
	if kt.Kind() != reflect.String {
		d.fail(path, n.Line, nil, "cannot decode into %s (map keys must be strings)", v.Type())
		return
	}
	m := reflect.MakeMap(v.Type())
	for _, e := range d.entries(n, path, depth) {
		p := joinKey(path, e.key)
		if _, ok := d.lines[p]; !ok {
			d.lines[p] = e.keyNode.Line
		}
		ev := reflect.New(v.Type().Elem()).Elem()
		d.decode(e.valNode, ev, p, depth+1)
		m.SetMapIndex(reflect.ValueOf(e.key).Convert(kt), ev)
	}
	v.Set(m)
}

// field is one decodable struct field.
type field struct {
	index []int
}

// structFields maps YAML keys to fields the way yaml.v3 names them: the
// yaml tag, else the lower-cased field name; "-" skips a field; ",inline"
// flattens an embedded struct.
func structFields(t reflect.Type) (map[string]field, []string) {
	fields := map[string]field{}
	var names []string
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("yaml")
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" && opts == "" {
				continue
			}
			idx := append(append([]int(nil), prefix...), i)
			if strings.Contains(","+opts+",", ",inline,") && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			if _, dup := fields[name]; !dup {
				names = append(names, name)
			}
			fields[name] = field{index: idx}
		}
	}
	walk(t, nil)
	return fields, names
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string, depth int) {
	if n.Kind != yaml.MappingNode {
		d.wrongType(n, path, "a mapping")
		return
	}
	fields, names := structFields(v.Type())
	for _, e := range d.entries(n, path, depth) {
		p := joinKey(path, e.key)
		if _, ok := d.lines[p]; !ok {
			d.lines[p] = e.keyNode.Line
		}
		f, ok := fields[e.key]
		if !ok {
			d.fail(p, e.keyNode.Line, nil, "%s", unknownKey(e.key, names))
			continue
		}
		d.decode(e.valNode, v.FieldByIndex(f.index), p, depth+1)
	}
}

// decodeAdapter decodes {id, type, max_level, config}; config goes strictly
// into the struct the registry builds for the type.
func (d *decoder) decodeAdapter(n *yaml.Node, v reflect.Value, path string, depth int) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.wrongType(n, path, "a mapping")
		return
	}
	fields, names := structFields(adapterType)
	names = append(names, "config")
	var cfg *yaml.Node
	for _, e := range d.entries(n, path, depth) {
		p := joinKey(path, e.key)
		if _, ok := d.lines[p]; !ok {
			d.lines[p] = e.keyNode.Line
		}
		if e.key == "config" {
			cfg = e.valNode
			continue
		}
		f, ok := fields[e.key]
		if !ok {
			d.fail(p, e.keyNode.Line, nil, "%s", unknownKey(e.key, names))
			continue
		}
		d.decode(e.valNode, v.FieldByIndex(f.index), p, depth+1)
	}
	a := v.Addr().Interface().(*Adapter)
	typePath := joinKey(path, "type")
	if a.Type == "" || d.bad[typePath] {
		return // validation reports the missing type
	}
	ctor, ok := d.reg[a.Type]
	if !ok || ctor == nil {
		d.fail(typePath, d.lineOf(typePath), nil, "unknown adapter type %q (%s)", a.Type, d.known())
		return
	}
	spec := ctor()
	rv := reflect.ValueOf(spec)
	if spec == nil || rv.Kind() != reflect.Pointer || rv.IsNil() {
		d.fail(typePath, d.lineOf(typePath), nil, "adapter type %q is registered without a usable config (want a non-nil pointer, got %T)", a.Type, spec)
		return
	}
	cfgPath := joinKey(path, "config")
	if cfg != nil {
		d.decode(cfg, rv.Elem(), cfgPath, depth+1)
	}
	for _, p := range spec.Validate() {
		full := cfgPath
		switch {
		case p.Path == "":
		case strings.HasPrefix(p.Path, "["):
			full += p.Path
		default:
			full += "." + p.Path
		}
		d.invalid(full, "%s", p.Msg)
	}
	a.Spec = spec
}

// known lists the registered adapter types for an error message.
func (d *decoder) known() string {
	if len(d.reg) == 0 {
		return "no adapter types are registered"
	}
	ts := make([]string, 0, len(d.reg))
	for t := range d.reg {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return "known: " + strings.Join(ts, ", ")
}

// unknownKey suggests the closest known key when a typo is likely, and
// lists them all otherwise.
func unknownKey(key string, names []string) string {
	// Allow one edit in short keys, two in longer ones, so a suggestion is
	// likely the intended key and not just any short name.
	limit := min(max(1, len(key)/3), 2)
	best, bestD := "", limit+1
	for _, n := range names {
		if dd := editDistance(key, n); dd < bestD {
			best, bestD = n, dd
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key (did you mean %s?)", best)
	}
	return "unknown key (want one of: " + strings.Join(names, ", ") + ")"
}

// editDistance is the Levenshtein distance, for typo suggestions.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
