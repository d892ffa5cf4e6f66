package nezo_test

import (
	"context"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// BenchmarkLogin is one whole NEZO answer on the broker's side and the
// simulator's: request signing, the simulator's verification and answer
// (RSA-3072 PSS signature, RSA-OAEP + AES-GCM encryption of assertion and
// NameID), and Finish (verification, two decryptions, mapping, replay).
func BenchmarkLogin(b *testing.B) {
	a := open(b, nil)
	acct, _ := fx.sim.Account("musterbau")
	b.ResetTimer()
	for b.Loop() {
		req, state := begin(b, a, assurance.Substantial)
		xml, err := fx.sim.Respond(req, acct, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.Finish(context.Background(), adapters.Request{}, state, post(xml, ref)); err != nil {
			b.Fatal(err)
		}
	}
}
