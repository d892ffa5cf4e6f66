package xmlsec

import (
	"crypto"
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// defaultKeyWrapIV is the RFC 3394 §2.2.3.1 initial value.
const defaultKeyWrapIV = "\xA6\xA6\xA6\xA6\xA6\xA6\xA6\xA6"

// aesKeyWrap implements the RFC 3394 AES key wrap (used by XML Encryption's
// kw-aes128/kw-aes256). The standard library does not provide it.
func aesKeyWrap(kek, plaintext []byte) ([]byte, error) {
	if len(plaintext) < 16 || len(plaintext)%8 != 0 {
		return nil, fmt.Errorf("key wrap: %w: key length %d", ErrMalformed, len(plaintext))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("key wrap: %w", err)
	}
	n := len(plaintext) / 8
	out := make([]byte, 8*(n+1))
	copy(out[:8], defaultKeyWrapIV)
	copy(out[8:], plaintext)
	var b [16]byte
	for j := 0; j <= 5; j++ {
		for i := 1; i <= n; i++ {
			copy(b[:8], out[:8])
			copy(b[8:], out[8*i:8*i+8])
			block.Encrypt(b[:], b[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(out[:8], binary.BigEndian.Uint64(b[:8])^t)
			copy(out[8*i:8*i+8], b[8:])
		}
	}
	return out, nil
}

// aesKeyUnwrap reverses aesKeyWrap and checks the integrity value in
// constant time.
func aesKeyUnwrap(kek, wrapped []byte) ([]byte, error) {
	if len(wrapped) < 24 || len(wrapped)%8 != 0 {
		return nil, fmt.Errorf("key unwrap: %w: wrapped key length %d", ErrDecryptionFailed, len(wrapped))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("key unwrap: %w", err)
	}
	n := len(wrapped)/8 - 1
	a := make([]byte, 8)
	copy(a, wrapped[:8])
	r := make([]byte, 8*n)
	copy(r, wrapped[8:])
	var b [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(b[:8], binary.BigEndian.Uint64(a)^t)
			copy(b[8:], r[8*(i-1):8*i])
			block.Decrypt(b[:], b[:])
			copy(a, b[:8])
			copy(r[8*(i-1):8*i], b[8:])
		}
	}
	if subtle.ConstantTimeCompare(a, []byte(defaultKeyWrapIV)) != 1 {
		return nil, fmt.Errorf("key unwrap: %w: integrity check failed", ErrDecryptionFailed)
	}
	return r, nil
}

// concatKDF derives keyLen bytes from the shared secret z with the NIST SP
// 800-56A concatenation KDF as profiled by XML Encryption 1.1 §5.4.1:
// K(i) = H(counter_i ‖ Z ‖ OtherInfo), counter a 32-bit big-endian integer
// starting at 1, OtherInfo = AlgorithmID ‖ PartyUInfo ‖ PartyVInfo
// [‖ SuppPubInfo ‖ SuppPrivInfo].
func concatKDF(h crypto.Hash, z, otherInfo []byte, keyLen int) []byte {
	var out []byte
	var counter [4]byte
	for i := uint32(1); len(out) < keyLen; i++ {
		binary.BigEndian.PutUint32(counter[:], i)
		d := h.New()
		d.Write(counter[:])
		d.Write(z)
		d.Write(otherInfo)
		out = d.Sum(out)
	}
	return out[:keyLen]
}

// kdfBitString decodes a ConcatKDFParams attribute. XML Encryption 1.1
// encodes these bit strings as hexBinary whose first octet is the number of
// unused (padding) bits in the last octet; only whole octets (padding 0) are
// supported, as used by every known producer. The padding octet is not part
// of the KDF input. An absent attribute is the empty string.
func kdfBitString(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("%w: ConcatKDF parameter is not hexBinary", ErrEncryptionStructure)
	}
	if b[0] != 0 {
		return nil, fmt.Errorf("%w: ConcatKDF parameter with %d padding bits", ErrUnsupportedAlgorithm, b[0])
	}
	return b[1:], nil
}

// kdfBitStringEncode is the inverse of kdfBitString for whole octets.
func kdfBitStringEncode(b []byte) string {
	return "00" + strings.ToUpper(hex.EncodeToString(b))
}
