package broker

import (
	"log/slog"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

// benchTransaction is a login transaction as it is sealed after the
// upstream answered: request parameters, adapter state and the delivered
// identity (test data).
func benchTransaction() transaction {
	id := &adapters.Identity{Subject: "upstream-subject-0123456789", Level: assurance.High, AuthTime: time.Unix(1_800_000_000, 0),
		Claims: adapters.Claims{GivenName: "Erika", FamilyName: "Mustermann", Birthdate: "1964-08-12"}}
	return transaction{
		ID: randomID(), Ref: randomID(), Binding: hashKey(randomID()), Created: time.Unix(1_800_000_000, 0),
		ClientID: "portal", RedirectURI: "https://portal.example.de/callback", State: randomID(), Nonce: randomID(),
		Scopes: []string{"openid", "profile"}, CodeChallenge: randomID(), Floor: assurance.Substantial,
		AdapterID: "eidas", Option: "AT", AdapterState: make([]byte, 180), Delivered: id, DeliveryHash: hashKey(randomID()),
	}
}

func benchSealed(b *testing.B) *sealedStore {
	raw := memory.New()
	b.Cleanup(func() { _ = raw.Close() })
	s, err := newSealedStore(raw, []DataKey{testDataKey("A", true)}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkSeal: a transaction record to JSON, AES-256-GCM under the
// active data key with kind, key and header as additional data.
func BenchmarkSeal(b *testing.B) {
	s := benchSealed(b)
	tx := benchTransaction()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.seal(store.KindTransaction, tx.ID, &tx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen: the reverse, as every login step reads its transaction.
func BenchmarkOpen(b *testing.B) {
	s := benchSealed(b)
	tx := benchTransaction()
	sealed, err := s.seal(store.KindTransaction, tx.ID, &tx)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(sealed)))
	b.ReportAllocs()
	for b.Loop() {
		var out transaction
		if err := s.open(store.KindTransaction, tx.ID, sealed, &out); err != nil {
			b.Fatal(err)
		}
	}
}
