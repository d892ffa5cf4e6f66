package broker

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace/noop"
)

// DisableLibraryTracing installs a no-op OpenTelemetry tracer provider as
// the process's global one. The OIDC library starts a span for each step
// of a request through the global provider; the broker exports no traces,
// and while no provider is installed the global one still builds a
// non-recording span per call (about a tenth of the allocations of a
// login's token exchange). The no-op provider returns the span already in
// the context instead.
//
// It changes process-wide state of a library, so only a program's main
// calls it, once at start-up (cmd/broker does); a program that exports
// traces installs its own provider instead and must not call it.
func DisableLibraryTracing() {
	otel.SetTracerProvider(noop.NewTracerProvider())
}
