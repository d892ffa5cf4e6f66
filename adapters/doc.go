// Package adapters is the contract between the broker and the upstream
// identity systems (German eID card, ELSTER certificate, eIDAS nodes).
//
// It is deliberately tiny. An adapter authenticates a person against one
// upstream and reports what it proved; the broker alone decides whether that
// is enough (adapters report, one engine enforces). Each upstream lives in its
// own subpackage; only cmd/broker imports those and wires them.
package adapters
