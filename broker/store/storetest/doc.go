// Package storetest is the conformance suite every store.Store backend must
// pass, plus the test fixtures the suite needs. It is an ordinary package,
// not a _test file, so that each backend's tests and the broker's own tests
// can share it: one suite is what makes "memory in the demo, Redis in
// production" safe, because both are held to the same observable behaviour.
//
// Run checks the contract in store.Store: atomic Create and Take under
// concurrency (the replay-cache and single-use guarantees), compare-and-swap
// without lost updates, revisions that are never reused across a key's
// incarnations, TTL expiry on every method, separate key spaces per Kind,
// value copying, argument checks (store.ErrInvalid) and fail-closed
// behaviour (store.ErrUnavailable) for a finished context or a closed store.
//
// StartRedis runs a real redis-server for tests. A missing server skips the
// test, unless BROKER_REQUIRE_REDIS=1 is set: then it fails, so that a CI
// runner without the server can never report the Redis tests as passed.
package storetest
