package mdoc

import (
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary bytes to the DeviceResponse verifier (the
// CBOR decoder, the COSE parser and the item decoding behind it): it must
// refuse, never panic, and never accept without trust anchors.
func FuzzVerify(f *testing.F) {
	f.Add([]byte{0xa3, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x63, '1', '.', '0', 0x69, 'd', 'o', 'c', 'u', 'm', 'e', 'n', 't', 's', 0x80, 0x66, 's', 't', 'a', 't', 'u', 's', 0x00})
	f.Add([]byte{0xd8, 0x18, 0x41, 0xa0})
	f.Add([]byte{0x84, 0x40, 0xa0, 0xf6, 0x40})
	st, _ := OpenID4VPSessionTranscript("c", "n", nil, "https://r")
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := Verify(b, VerifyOptions{Now: time.Now(), DocType: "eu.europa.ec.eudi.pid.1", SessionTranscript: st}); err == nil {
			t.Fatal("verified without trust anchors")
		}
		var it IssuerSignedItem
		_ = Unmarshal(b, &it)
		_, _ = untag24(b)
	})
}
