// Package memory is the in-process store.Store: one map behind one mutex.
// It backs demo mode and single-node deployments, where running Redis would
// be pure overhead, and it is the reference the conformance suite is easiest
// to reason about.
//
// Expiry is checked on every read against an injectable clock (WithClock),
// so tests move time instead of sleeping. Expired entries are also reclaimed
// on every write from a min-heap ordered by expiry, a bounded number per
// write: memory stays proportional to the live entries without a janitor
// goroutine, so there is nothing to leak and Close has nothing to stop.
//
// WithLimit bounds the memory the entries hold. Over the limit, entries of
// the kinds the caller names as evictable make room, least recently written
// first; the broker names only SSO sessions, whose loss fails closed (the
// person logs in again). Codes, transactions, replay and reuse markers are
// never evicted: losing one would break a login in flight or let a replay
// through. This is what keeps a busy single node's memory flat: every login
// leaves an SSO session behind for its lifetime, and without a bound a
// sustained load would grow the heap with them.
//
// Revisions come from one counter shared by all keys of the Store. They
// increase with every write of a key, as the contract demands, and are never
// reused: a key deleted and created again gets a revision no earlier Get
// returned, so a Swap prepared against the old incarnation fails with
// store.ErrConflict instead of overwriting the new one (the ABA problem).
//
// Values are not copied, neither on the way in nor out. A write keeps the
// caller's slice (the contract hands a written value to the store), and Get
// hands out the stored slice itself, capped so that an append copies: the
// contract makes Entry.Value read-only, and the store never writes into a
// slice it holds (a write replaces it). A copy per read, and then per
// write, were the store's largest allocations in a login.
//
// Nothing is logged; keys are never put into error messages because for
// single-use kinds the key is the secret.
package memory
