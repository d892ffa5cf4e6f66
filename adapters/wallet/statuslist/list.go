package statuslist

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

// Status values (the registered ones; others are application specific and
// treated as not valid).
const (
	Valid     byte = 0x00
	Invalid   byte = 0x01
	Suspended byte = 0x02
)

// TokenType is the typ header of a Status List Token in JWT form.
const TokenType = "statuslist+jwt"

// maxListBytes bounds the decompressed list (a zip bomb costs nothing).
const maxListBytes = 8 << 20

// List is a decoded status list.
type List struct {
	Bits  int
	Bytes []byte
}

// New makes a list able to hold n entries of bits each, all Valid.
func New(bits, n int) (*List, error) {
	if !validBits(bits) || n < 1 {
		return nil, errors.New("status list: bits must be 1, 2, 4 or 8 and n positive")
	}
	return &List{Bits: bits, Bytes: make([]byte, (n*bits+7)/8)}, nil
}

func validBits(b int) bool { return b == 1 || b == 2 || b == 4 || b == 8 }

// Get returns the status at idx. Index 0 is in the least significant bits
// of the first byte.
func (l *List) Get(idx int) (byte, error) {
	if idx < 0 || idx >= len(l.Bytes)*8/l.Bits {
		return 0, fmt.Errorf("status list: index %d out of range", idx)
	}
	bit := idx * l.Bits
	mask := byte(1<<l.Bits - 1)
	return l.Bytes[bit/8] >> (bit % 8) & mask, nil
}

// Set sets the status at idx.
func (l *List) Set(idx int, v byte) error {
	if idx < 0 || idx >= len(l.Bytes)*8/l.Bits {
		return fmt.Errorf("status list: index %d out of range", idx)
	}
	bit := idx * l.Bits
	mask := byte(1<<l.Bits - 1)
	if v > mask {
		return fmt.Errorf("status list: value %d does not fit %d bits", v, l.Bits)
	}
	l.Bytes[bit/8] = l.Bytes[bit/8]&^(mask<<(bit%8)) | v<<(bit%8)
	return nil
}

// Encode is the status_list claim value: bits and lst (base64url of the
// zlib-compressed bytes).
func (l *List) Encode() (map[string]any, error) {
	var buf bytes.Buffer
	w, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(l.Bytes); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return map[string]any{"bits": l.Bits, "lst": base64.RawURLEncoding.EncodeToString(buf.Bytes())}, nil
}

// Decode reads a status_list claim value.
func Decode(bits int, lst string) (*List, error) {
	if !validBits(bits) {
		return nil, fmt.Errorf("status list: bits %d", bits)
	}
	raw, err := base64.RawURLEncoding.DecodeString(lst)
	if err != nil {
		return nil, fmt.Errorf("status list: lst base64: %w", err)
	}
	r, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("status list: lst zlib: %w", err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxListBytes+1))
	if err != nil {
		return nil, fmt.Errorf("status list: lst inflate: %w", err)
	}
	if len(data) > maxListBytes {
		return nil, errors.New("status list: larger than the limit")
	}
	if len(data) == 0 {
		return nil, errors.New("status list: empty")
	}
	return &List{Bits: bits, Bytes: data}, nil
}
