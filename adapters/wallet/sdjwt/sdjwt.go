package sdjwt

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Limits that keep a hostile presentation from costing much.
const (
	MaxLength      = 256 << 10 // whole compact serialisation
	MaxDisclosures = 256
	maxDepth       = 16
)

// ErrMalformed is wrapped by every parsing error.
var ErrMalformed = errors.New("malformed sd-jwt")

// SDJWT is a parsed compact SD-JWT (optionally with Key Binding).
type SDJWT struct {
	IssuerJWT   string
	Disclosures []string
	KBJWT       string // empty when the SD-JWT has no key binding
}

// Parse splits s into its parts. It checks the shape only: the issuer JWT
// and a KB-JWT have three non-empty dot-separated parts, disclosures are
// base64url; nothing is verified.
func Parse(s string) (*SDJWT, error) {
	if len(s) > MaxLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxLength)
	}
	parts := strings.Split(s, "~")
	if len(parts) < 2 {
		return nil, fmt.Errorf("%w: no ~ separator", ErrMalformed)
	}
	if len(parts)-2 > MaxDisclosures {
		return nil, fmt.Errorf("%w: more than %d disclosures", ErrMalformed, MaxDisclosures)
	}
	out := &SDJWT{IssuerJWT: parts[0], KBJWT: parts[len(parts)-1]}
	if !isCompactJWS(out.IssuerJWT) {
		return nil, fmt.Errorf("%w: issuer-signed jwt is not a compact jws", ErrMalformed)
	}
	if out.KBJWT != "" && !isCompactJWS(out.KBJWT) {
		return nil, fmt.Errorf("%w: key binding jwt is not a compact jws", ErrMalformed)
	}
	for _, d := range parts[1 : len(parts)-1] {
		if d == "" || !isBase64URL(d) {
			return nil, fmt.Errorf("%w: empty or non-base64url disclosure", ErrMalformed)
		}
		out.Disclosures = append(out.Disclosures, d)
	}
	return out, nil
}

// Presented is the SD-JWT without its KB-JWT, ending in "~": the input of
// sd_hash.
func (s *SDJWT) Presented() string {
	var b strings.Builder
	b.WriteString(s.IssuerJWT)
	b.WriteByte('~')
	for _, d := range s.Disclosures {
		b.WriteString(d)
		b.WriteByte('~')
	}
	return b.String()
}

// String is the compact serialisation.
func (s *SDJWT) String() string { return s.Presented() + s.KBJWT }

func isCompactJWS(s string) bool {
	p := strings.Split(s, ".")
	if len(p) != 3 {
		return false
	}
	for _, x := range p {
		if x == "" || !isBase64URL(x) {
			return false
		}
	}
	return true
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// newHash returns the hash named by an _sd_alg value (IANA "Named
// Information Hash Algorithm" names); sha-256 is the default.
func newHash(alg string) (func() hash.Hash, error) {
	switch alg {
	case "", "sha-256":
		return sha256.New, nil
	case "sha-384":
		return sha512.New384, nil
	case "sha-512":
		return sha512.New, nil
	}
	return nil, fmt.Errorf("%w: unsupported _sd_alg %q", ErrMalformed, alg)
}

// Digest is base64url(hash(ASCII(s))): the digest of a disclosure, and
// sd_hash over a presented SD-JWT. Note that the encoded disclosure is
// hashed, not the JSON it decodes to.
func Digest(alg, s string) (string, error) {
	h, err := newHash(alg)
	if err != nil {
		return "", err
	}
	d := h()
	d.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(d.Sum(nil)), nil
}

// Disclosure is one decoded disclosure.
type Disclosure struct {
	Encoded string
	Salt    string
	// Name is the claim name; empty for an array element.
	Name         string
	ArrayElement bool
	Value        any
}

// DecodeDisclosure decodes a base64url disclosure: a JSON array of salt,
// name and value (object property) or salt and value (array element).
func DecodeDisclosure(enc string) (Disclosure, error) {
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return Disclosure{}, fmt.Errorf("%w: disclosure base64: %w", ErrMalformed, err)
	}
	var arr []any
	if err := decodeJSON(raw, &arr); err != nil {
		return Disclosure{}, fmt.Errorf("%w: disclosure json: %w", ErrMalformed, err)
	}
	d := Disclosure{Encoded: enc}
	var ok bool
	switch len(arr) {
	case 3:
		if d.Name, ok = arr[1].(string); !ok {
			return Disclosure{}, fmt.Errorf("%w: disclosure claim name is not a string", ErrMalformed)
		}
		if d.Name == "_sd" || d.Name == "..." {
			return Disclosure{}, fmt.Errorf("%w: disclosure uses the reserved claim name %q", ErrMalformed, d.Name)
		}
		d.Value = arr[2]
	case 2:
		d.ArrayElement = true
		d.Value = arr[1]
	default:
		return Disclosure{}, fmt.Errorf("%w: disclosure has %d elements", ErrMalformed, len(arr))
	}
	if d.Salt, ok = arr[0].(string); !ok {
		return Disclosure{}, fmt.Errorf("%w: disclosure salt is not a string", ErrMalformed)
	}
	return d, nil
}

// decodeJSON decodes strictly: numbers stay json.Number, nothing may follow
// the value, and nesting is bounded.
func decodeJSON(data []byte, v any) error {
	if err := checkDepth(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after json value")
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("trailing data after json value")
	}
	return nil
}

func checkDepth(data []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			if depth > maxDepth {
				return fmt.Errorf("json nested deeper than %d", maxDepth)
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return nil
}

// DecodePayload decodes a JWT payload with the same strictness as
// disclosures.
func DecodePayload(data []byte) (map[string]any, error) {
	var m map[string]any
	if err := decodeJSON(data, &m); err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%w: payload is not an object", ErrMalformed)
	}
	return m, nil
}

// Reconstruct applies the disclosures to the verified issuer payload and
// returns the processed claims (RFC 9901 §7.1, steps 3 to 5): every digest
// that a disclosure matches is replaced by the disclosed claim, digests
// without a disclosure (undisclosed claims and decoys) are dropped, and the
// _sd and _sd_alg claims are removed. It refuses a disclosure that no
// digest references, a digest that occurs twice, a disclosed name that
// already exists at its level, an object disclosure in an array position
// or the reverse.
func Reconstruct(payload map[string]any, disclosures []string) (map[string]any, error) {
	alg, _ := payload["_sd_alg"].(string)
	if v, ok := payload["_sd_alg"]; ok {
		if _, isString := v.(string); !isString {
			return nil, fmt.Errorf("%w: _sd_alg is not a string", ErrMalformed)
		}
	}
	byDigest := make(map[string]*Disclosure, len(disclosures))
	for _, enc := range disclosures {
		d, err := DecodeDisclosure(enc)
		if err != nil {
			return nil, err
		}
		dg, err := Digest(alg, enc)
		if err != nil {
			return nil, err
		}
		if _, dup := byDigest[dg]; dup {
			return nil, fmt.Errorf("%w: the same disclosure is presented twice", ErrMalformed)
		}
		byDigest[dg] = &d
	}
	r := &reconstructor{byDigest: byDigest, seen: map[string]bool{}}
	out, err := r.object(payload, 0)
	if err != nil {
		return nil, err
	}
	delete(out, "_sd_alg")
	for dg := range byDigest {
		if !r.used[dg] {
			return nil, fmt.Errorf("%w: a disclosure is not referenced by the issuer-signed jwt", ErrMalformed)
		}
	}
	return out, nil
}

type reconstructor struct {
	byDigest map[string]*Disclosure
	seen     map[string]bool // every digest met, referenced or not
	used     map[string]bool
}

func (r *reconstructor) markSeen(dg string) error {
	if r.seen[dg] {
		return fmt.Errorf("%w: a digest occurs more than once", ErrMalformed)
	}
	r.seen[dg] = true
	return nil
}

func (r *reconstructor) use(dg string) *Disclosure {
	d := r.byDigest[dg]
	if d != nil {
		if r.used == nil {
			r.used = map[string]bool{}
		}
		r.used[dg] = true
	}
	return d
}

func (r *reconstructor) object(in map[string]any, depth int) (map[string]any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested too deeply", ErrMalformed)
	}
	out := make(map[string]any, len(in))
	for k, v := range in {
		if k == "_sd" {
			continue
		}
		pv, err := r.value(v, depth+1)
		if err != nil {
			return nil, err
		}
		out[k] = pv
	}
	if sd, ok := in["_sd"]; ok {
		list, ok := sd.([]any)
		if !ok {
			return nil, fmt.Errorf("%w: _sd is not an array", ErrMalformed)
		}
		for _, x := range list {
			dg, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%w: _sd holds a non-string digest", ErrMalformed)
			}
			if err := r.markSeen(dg); err != nil {
				return nil, err
			}
			d := r.use(dg)
			if d == nil {
				continue // undisclosed or decoy
			}
			if d.ArrayElement {
				return nil, fmt.Errorf("%w: array-element disclosure referenced from _sd", ErrMalformed)
			}
			if _, clash := out[d.Name]; clash {
				return nil, fmt.Errorf("%w: disclosed claim %q already exists", ErrMalformed, d.Name)
			}
			pv, err := r.value(d.Value, depth+1)
			if err != nil {
				return nil, err
			}
			out[d.Name] = pv
		}
	}
	return out, nil
}

func (r *reconstructor) value(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested too deeply", ErrMalformed)
	}
	switch x := v.(type) {
	case map[string]any:
		return r.object(x, depth)
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				if dgv, ok := m["..."]; ok {
					if len(m) != 1 {
						return nil, fmt.Errorf("%w: array digest object has other keys", ErrMalformed)
					}
					dg, ok := dgv.(string)
					if !ok {
						return nil, fmt.Errorf("%w: array digest is not a string", ErrMalformed)
					}
					if err := r.markSeen(dg); err != nil {
						return nil, err
					}
					d := r.use(dg)
					if d == nil {
						continue
					}
					if !d.ArrayElement {
						return nil, fmt.Errorf("%w: object disclosure referenced from an array", ErrMalformed)
					}
					pv, err := r.value(d.Value, depth+1)
					if err != nil {
						return nil, err
					}
					out = append(out, pv)
					continue
				}
			}
			pv, err := r.value(e, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, pv)
		}
		return out, nil
	}
	return v, nil
}

// NewDisclosure makes a disclosure with a fresh 128-bit salt. name empty
// makes an array-element disclosure.
func NewDisclosure(name string, value any) (Disclosure, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return Disclosure{}, err
	}
	return disclosureWithSalt(base64.RawURLEncoding.EncodeToString(salt), name, value)
}

func disclosureWithSalt(salt, name string, value any) (Disclosure, error) {
	arr := []any{salt, value}
	if name != "" {
		arr = []any{salt, name, value}
	}
	raw, err := json.Marshal(arr)
	if err != nil {
		return Disclosure{}, err
	}
	return Disclosure{Encoded: base64.RawURLEncoding.EncodeToString(raw), Salt: salt, Name: name,
		ArrayElement: name == "", Value: value}, nil
}

// Conceal makes the named properties of obj selectively disclosable: each
// is replaced by its digest in obj's _sd array (sha-256). It returns the
// disclosures in the order of names.
func Conceal(obj map[string]any, names ...string) ([]string, error) {
	var out []string
	sd, _ := obj["_sd"].([]any)
	for _, n := range names {
		v, ok := obj[n]
		if !ok {
			continue
		}
		d, err := NewDisclosure(n, v)
		if err != nil {
			return nil, err
		}
		dg, _ := Digest("sha-256", d.Encoded)
		delete(obj, n)
		sd = append(sd, dg)
		out = append(out, d.Encoded)
	}
	if len(sd) > 0 {
		obj["_sd"] = sd
	}
	return out, nil
}

// ConcealElements makes every element of arr selectively disclosable.
func ConcealElements(arr []any) ([]any, []string, error) {
	outArr := make([]any, 0, len(arr))
	var ds []string
	for _, v := range arr {
		d, err := NewDisclosure("", v)
		if err != nil {
			return nil, nil, err
		}
		dg, _ := Digest("sha-256", d.Encoded)
		outArr = append(outArr, map[string]any{"...": dg})
		ds = append(ds, d.Encoded)
	}
	return outArr, ds, nil
}
