package config

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"time"
)

// redacted is what every printing path of a set Secret shows instead of its value.
const redacted = "[redacted]"

// NewSecret wraps a value obtained elsewhere (generated demo keys, tests).
func NewSecret(value string) Secret { return Secret{value: value} }

// Value returns the secret itself. Call it only where the secret is used,
// never to log or display it.
func (s Secret) Value() string { return s.value }

// IsSet reports whether the secret has a non-empty value.
func (s Secret) IsSet() bool { return s.value != "" }

// Equal compares candidate with the secret in constant time. Both sides are
// hashed first so that neither the content nor the length leaks through
// timing. An unset secret equals nothing.
func (s Secret) Equal(candidate string) bool {
	if s.value == "" {
		return false
	}
	a := sha256.Sum256([]byte(s.value))
	b := sha256.Sum256([]byte(candidate))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// String returns "[redacted]" for a set secret and "" for an unset one, so a
// config can be printed with %v or logged by accident without harm.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return redacted
}

// GoString covers %#v, which would otherwise print the struct's field.
func (s Secret) GoString() string { return "config.Secret{" + s.String() + "}" }

// Format makes every verb (%s, %v, %+v, %#v, %q, %x …) print the redacted
// form; without it %x or %+v on a containing struct could reveal the value.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v':
		if f.Flag('#') {
			fmt.Fprint(f, s.GoString())
			return
		}
	case 'q':
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	fmt.Fprint(f, s.String())
}

// MarshalText keeps the value out of any text encoding (and so out of
// structured logs that encode a Config).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON keeps the value out of JSON.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalYAML keeps the value out of YAML.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String prints the duration as time.Duration does ("2h0m0s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the form UnmarshalText reads.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a time.ParseDuration string ("30m", "2h", "90s"). Parse
// does not go through it (it reports the line itself), but JSON and other
// text decoders do.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("parse duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// Path is a file path in an adapter's config block. Parse resolves a
// relative path against the directory of the config file and stores the
// absolute result, so the adapter never depends on the working directory.
// Parse does not check that the file exists; the adapter's Validate may.
type Path string
