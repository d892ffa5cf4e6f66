// Package store defines the broker's only persistence contract: a small,
// TTL-bound key/value store for short-lived login state (transactions,
// authorization codes, SSO sessions, refresh tokens, replay IDs, client
// assertion jtis). There is no user database: everything expires.
//
// Implementations live in subpackages (memory, redis) and are checked by one
// conformance suite, storetest.Run, so every backend behaves the same.
// Values are opaque bytes here; typing, versioning and encryption of personal
// data happen in the broker, so a backend never sees plaintext identities.
package store
