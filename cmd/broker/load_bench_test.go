package main

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"testing"
)

// BenchmarkLoadEncodeForm: the driver's form encoding of a SAML POST
// (about 10 KB of base64) against url.Values.Encode.
func BenchmarkLoadEncodeForm(b *testing.B) {
	form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xef, 0x3e, 'x', 7, 200}, 1300))}, "RelayState": {"AbCdEfGhIjKlMnOpQrStUv"}}
	b.Run("driver", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = encodeForm(form)
		}
	})
	b.Run("url.Values", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = form.Encode()
		}
	})
}
