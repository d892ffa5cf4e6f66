package xmlsec

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"testing"
)

// sealCBC is the XML Encryption 1.0 AES-CBC producer side, for tests only.
func sealCBC(t *testing.T, key, plain []byte, lastPad byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	n := aes.BlockSize - len(plain)%aes.BlockSize
	padded := append(append([]byte(nil), plain...), make([]byte, n)...)
	padded[len(padded)-1] = lastPad
	if lastPad == 0 {
		padded[len(padded)-1] = byte(n)
	}
	out := make([]byte, aes.BlockSize+len(padded))
	if _, err := rand.Read(out[:aes.BlockSize]); err != nil {
		t.Fatal(err)
	}
	cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], padded)
	return out
}

func TestOpenCBC(t *testing.T) {
	key := make([]byte, 16)
	plain := []byte("<a>sixteen bytes!</a>")
	got, err := openCBC(key, sealCBC(t, key, plain, 0))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("round trip: %q, %v", got, err)
	}
	for name, data := range map[string][]byte{
		"padding 0":    sealCBC(t, key, plain, 0x00+17),
		"short":        make([]byte, aes.BlockSize),
		"not a block":  make([]byte, 2*aes.BlockSize+3),
		"padding > 16": sealCBC(t, key, plain, 200),
	} {
		if _, err := openCBC(key, data); !errors.Is(err, ErrDecryptionFailed) {
			t.Errorf("%s: %v, want ErrDecryptionFailed", name, err)
		}
	}
}

// TestCBCPolicy: CBC is refused unless allowed; Triple-DES always.
func TestCBCPolicy(t *testing.T) {
	for _, tc := range []struct {
		uri   string
		allow bool
		len   int
		want  error
	}{
		{encAES128CBC, false, 0, ErrCBCRefused},
		{encAES256CBC, false, 0, ErrCBCRefused},
		{encAES128CBC, true, 16, nil},
		{encAES192CBC, true, 24, nil},
		{encAES256CBC, true, 32, nil},
		{encTripleDESCBC, true, 0, ErrCBCRefused},
		{EncAES256GCM, true, 32, nil},
	} {
		n, cbc, err := contentAlgorithm(tc.uri, tc.allow)
		if !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
			t.Errorf("%s allow=%v: %v, want %v", tc.uri, tc.allow, err, tc.want)
		}
		if err == nil && (n != tc.len || cbc != (tc.uri != EncAES256GCM)) {
			t.Errorf("%s: len %d cbc %v", tc.uri, n, cbc)
		}
	}
}
