// Package keyspace holds the argument checks every store backend applies
// before it touches data, so that memory and Redis refuse exactly the same
// calls with store.ErrInvalid. Keeping them in one place is what lets the
// conformance suite demand identical behaviour from both.
package keyspace
