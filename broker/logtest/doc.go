// Package logtest checks log output in tests: the broker logs with
// log/slog's text handler, and every line must carry each attribute once.
//
// Why a package: a key written twice ("component=eidas-service
// component=eidas-service") is what happens when a caller scopes a logger
// and the component scopes it again; log processors then keep either value
// or reject the line. Such doubling only shows where the pieces are wired
// together, so tests in several packages (the component's own, the
// command that wires it) check their captured output with the same parser.
package logtest
