package xmlsec

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"testing"
)

// testSealCBC is sealCBC with a chosen last padding byte, for tests.
func testSealCBC(t *testing.T, key, plain []byte, lastPad byte) []byte {
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
	got, err := openCBC(key, testSealCBC(t, key, plain, 0))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("round trip: %q, %v", got, err)
	}
	for name, data := range map[string][]byte{
		"padding 0":    testSealCBC(t, key, plain, 0x00+17),
		"short":        make([]byte, aes.BlockSize),
		"not a block":  make([]byte, 2*aes.BlockSize+3),
		"padding > 16": testSealCBC(t, key, plain, 200),
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

// TestEncryptCBCOnlyWhenAllowed: Encrypt produces CBC only when asked to
// explicitly; what it produces opens only under AllowAESCBC.
func TestEncryptCBCOnlyWhenAllowed(t *testing.T) {
	doc, el, want := assertionAndCanonical(t)
	_ = doc
	key, cert := fixtureKey(t, "enc-rsa3072")
	if _, err := Encrypt(el, cert, EncryptOptions{DataAlgorithm: EncAES128CBC}); !errors.Is(err, ErrCBCRefused) {
		t.Fatalf("CBC without AllowAESCBC: %v", err)
	}
	ed, err := Encrypt(el, cert, EncryptOptions{DataAlgorithm: EncAES128CBC, AllowAESCBC: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decrypt(ed, key, DecryptOptions{}); !errors.Is(err, ErrCBCRefused) {
		t.Fatalf("CBC opened by default: %v", err)
	}
	got, err := Decrypt(ed, key, DecryptOptions{AllowAESCBC: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Canonicalize(got, nil)
	if err != nil || !bytes.Equal(c, want) {
		t.Fatalf("round trip differs: %v", err)
	}
}
