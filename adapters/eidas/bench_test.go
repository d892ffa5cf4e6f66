package eidas

import (
	"context"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

// forgetfulStore records replay IDs in a real memory store and drops them
// again at once, so one fixture can be finished b.N times while the store
// round trip stays in the measurement.
type forgetfulStore struct{ store.Store }

func (f forgetfulStore) Create(ctx context.Context, k store.Kind, key string, v []byte, ttl time.Duration) error {
	if err := f.Store.Create(ctx, k, key, v, ttl); err != nil {
		return err
	}
	return f.Store.Delete(ctx, k, key)
}

// BenchmarkFinish measures Finish on a typical Response (seven natural-
// person attributes incl. a base64 address): form parsing, safe parsing,
// Response signature verification, assertion decryption, every SAML and
// eIDAS check, attribute mapping and the replay-cache write.
//
//	rsa: RSASSA-PSS SHA-256 (RSA-3072) + AES-256-GCM / RSA-OAEP (RSA-3072)
//	ec:  ECDSA P-256 SHA-256 + AES-256-GCM / ECDH-ES P-256, kw-aes256
func BenchmarkFinish(b *testing.B) {
	for _, set := range []string{"rsa", "ec"} {
		b.Run(set, func(b *testing.B) {
			st := memory.New(memory.WithClock(fxClock))
			b.Cleanup(func() { _ = st.Close() })
			a, err := fxConfig(b, set, "at-proxy").Open("eidas", adapters.Deps{BaseURL: fxBase, Store: forgetfulStore{st}, Now: fxClock})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = a.Close() })
			xml := testfiles.Read(b, fixture(b, "responses/"+set+"-valid.xml"))
			state := fxState(b, a)
			b.SetBytes(int64(len(xml)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Finish(context.Background(), adapters.Request{}, state, postResponse(xml, fxRef)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
