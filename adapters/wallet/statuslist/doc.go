// Package statuslist reads and writes Token Status Lists (IETF OAuth Token
// Status List, draft-ietf-oauth-status-list) in their JWT form: a signed
// token of typ statuslist+jwt whose status_list claim holds a
// zlib-compressed bit string with 1, 2, 4 or 8 bits per referenced token.
//
// Checker fetches lists over HTTP, verifies them against a trust pool,
// caches them (bounded in entries and time, never past the token's own
// exp or ttl) and answers the status of one index.
package statuslist
