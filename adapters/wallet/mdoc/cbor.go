package mdoc

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/fxamacker/cbor/v2"
)

// MaxDeviceResponse bounds a DeviceResponse.
const MaxDeviceResponse = 256 << 10

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed mdoc")

// The codec modes are immutable after construction.
var (
	decMode = mustDecMode()
	encMode = mustEncMode()
)

func mustDecMode() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		MaxNestedLevels:  16,
		MaxArrayElements: 4096,
		MaxMapPairs:      4096,
		DefaultMapType:   reflect.TypeOf(map[string]any(nil)),
		TimeTag:          cbor.DecTagOptional,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}

func mustEncMode() cbor.EncMode {
	m, err := cbor.EncOptions{Sort: cbor.SortCoreDeterministic, Time: cbor.TimeRFC3339, TimeTag: cbor.EncTagRequired,
		IndefLength: cbor.IndefLengthForbidden}.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}

// Unmarshal decodes strictly.
func Unmarshal(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

// Marshal encodes deterministically (RFC 8949 §4.2.1 core rules).
func Marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// tag24 wraps encoded CBOR as #6.24(bstr).
func tag24(encoded []byte) ([]byte, error) {
	return Marshal(cbor.Tag{Number: 24, Content: encoded})
}

// untag24 returns the content of #6.24(bstr).
func untag24(data []byte) ([]byte, error) {
	var t cbor.RawTag
	if err := Unmarshal(data, &t); err != nil {
		return nil, err
	}
	if t.Number != 24 {
		return nil, fmt.Errorf("%w: tag %d, want 24", ErrMalformed, t.Number)
	}
	var content []byte
	if err := Unmarshal(t.Content, &content); err != nil {
		return nil, err
	}
	return content, nil
}
