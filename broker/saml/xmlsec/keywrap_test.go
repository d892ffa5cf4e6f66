package xmlsec

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The vectors are from RFC 3394 §4.
func TestAESKeyWrapRFC3394(t *testing.T) {
	cases := []struct{ name, kek, key, wrapped string }{
		{"4.1 128-bit key, 128-bit KEK", "000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
			"1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5"},
		{"4.3 128-bit key, 256-bit KEK", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF",
			"64E8C3F9CE0F5BA2 63E9777905818A2A 93C8191E7D6E8AE7"},
		{"4.6 256-bit key, 256-bit KEK", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
			"28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kek, key, want := unhex(t, tc.kek), unhex(t, tc.key), unhex(t, tc.wrapped)
			got, err := aesKeyWrap(kek, key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("wrap = %X, want %X", got, want)
			}
			back, err := aesKeyUnwrap(kek, want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, key) {
				t.Fatalf("unwrap = %X", back)
			}
			bad := append([]byte{}, want...)
			bad[len(bad)-1] ^= 1
			if _, err := aesKeyUnwrap(kek, bad); !errIsAny(err, ErrDecryptionFailed) {
				t.Fatalf("tampered: %v", err)
			}
		})
	}
	for _, n := range []int{0, 8, 17, 23} {
		if _, err := aesKeyUnwrap(make([]byte, 16), make([]byte, n)); !errIsAny(err, ErrDecryptionFailed) {
			t.Errorf("unwrap of %d bytes: %v", n, err)
		}
	}
	if _, err := aesKeyWrap(make([]byte, 16), make([]byte, 12)); err == nil {
		t.Error("wrap of 12 bytes must fail")
	}
}

func TestConcatKDF(t *testing.T) {
	// Output longer than one hash block uses counters 1 and 2.
	z := []byte("shared secret")
	other := []byte{0x01, 0x02}
	out := concatKDF(crypto.SHA256, z, other, 48)
	h1 := crypto.SHA256.New()
	h1.Write([]byte{0, 0, 0, 1})
	h1.Write(z)
	h1.Write(other)
	h2 := crypto.SHA256.New()
	h2.Write([]byte{0, 0, 0, 2})
	h2.Write(z)
	h2.Write(other)
	want := append(h1.Sum(nil), h2.Sum(nil)[:16]...)
	if !bytes.Equal(out, want) {
		t.Fatalf("got %X want %X", out, want)
	}
}

func TestKDFBitString(t *testing.T) {
	cases := []struct {
		in   string
		want []byte
		err  error
	}{
		{"", nil, nil},
		{"00", []byte{}, nil},
		{"0000", []byte{0}, nil},
		{" 00abcd ", []byte{0xab, 0xcd}, nil},
		{"03ff", nil, ErrUnsupportedAlgorithm},
		{"zz", nil, ErrEncryptionStructure},
	}
	for _, tc := range cases {
		got, err := kdfBitString(tc.in)
		wantErr(t, err, tc.err)
		if tc.err == nil && !bytes.Equal(got, tc.want) {
			t.Errorf("%q: %X", tc.in, got)
		}
	}
	if got := kdfBitStringEncode([]byte{0xab}); got != "00AB" {
		t.Errorf("encode = %s", got)
	}
}
