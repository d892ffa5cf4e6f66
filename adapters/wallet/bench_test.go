package wallet_test

import (
	"context"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters/wallet/walletsim"
)

// BenchmarkLogin measures one whole verifier round per format: Begin
// (signing the request object), the wallet's fetch and encrypted
// response, and Finish (decryption, issuer and holder signatures,
// disclosures or digests, cached status list).
func BenchmarkLogin(b *testing.B) {
	for _, f := range formats {
		b.Run(f, func(b *testing.B) {
			h := newHarness(b, nil)
			b.ResetTimer()
			for range b.N {
				l := h.begin(b)
				r := h.fetch(b, l, false)
				res, err := h.sim.Respond(context.Background(), r, walletsim.PresentOptions{Person: "erika", Format: f})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := h.finish(l, res.RedirectURI); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
