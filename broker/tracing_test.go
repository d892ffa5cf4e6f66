package broker_test

import (
	"context"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// TestLibraryTracingDisabled checks that the OIDC library's tracer, taken
// from the global provider when its package was loaded, follows the no-op
// provider TestMain installed: a span costs at most the context that
// carries it, not a span object of its own.
func TestLibraryTracingDisabled(t *testing.T) {
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		_, span := op.Tracer.Start(ctx, "x")
		span.End()
	})
	if allocs > 1 {
		t.Fatalf("a library span allocates %.0f times; the no-op provider is not in effect", allocs)
	}
	if _, span := op.Tracer.Start(ctx, "x"); span.IsRecording() || span.SpanContext().IsValid() {
		t.Fatal("the library records spans")
	}
}
