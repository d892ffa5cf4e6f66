package elster_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters/elster"
)

// BenchmarkBegin measures issuing a challenge and rendering the page.
func BenchmarkBegin(b *testing.B) {
	e := newEnv(b, nil)
	req := request("tx-bench")
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := e.adapter.Begin(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFinish measures verifying a person login with warm revocation
// caches (mode both): state, form, signature, replay record in the memory
// store, chain and mapping. The browser's signing is outside the timer.
func BenchmarkFinish(b *testing.B) {
	e := newEnv(b, nil)
	h := e.open12("person.pfx")
	ctx := context.Background()
	if _, err := e.login("person.pfx", elster.AlgRS256); err != nil { // warm the caches
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		req, st, ch := e.begin("tx-bench-" + strconv.Itoa(i))
		r := post(h.form(b, ch, elster.AlgRS256))
		b.StartTimer()
		if _, err := e.adapter.Finish(ctx, req, st, r); err != nil {
			b.Fatal(err)
		}
	}
}
