// Package redisstore is the store.Store for production: Redis through a
// go-redis UniversalClient, so one code path serves a single node, Sentinel
// and Cluster, and any number of broker replicas share login state.
//
// Layout. Every entry is one Redis string under "<prefix>:<kind>:<key>"
// (or "<kind>:<key>" with an empty prefix). Each operation touches exactly
// one key, so Cluster never sees a cross-slot request. The string holds an
// 8-byte big-endian revision followed by the value. Keeping both in one
// string lets the plain commands stay atomic on their own:
//
//   - Create is SET NX PX: the server decides which of many concurrent
//     Creates wins, which is what the replay caches rely on.
//   - Get is GET; revision and value come from the same read.
//   - Take is GETDEL (Redis 6.2 or later): read and delete in one step, so a
//     single-use code is redeemed once even across replicas.
//   - Swap is a short Lua script that compares the stored 8 revision bytes
//     with the expected ones and writes the new string with its TTL only on a
//     match. Comparing bytes avoids Lua's floating-point numbers, which cannot
//     hold every uint64.
//   - Delete is DEL; Ping is PING.
//
// Expiry is Redis's own: PX is set on every write, and Redis never returns an
// expired key. TTLs are rounded up to whole milliseconds, so an entry never
// lives shorter than asked.
//
// Revisions. A new entry starts at a random revision in [1, 2^62] and each
// Swap adds one. Redis forgets a key completely once it is deleted, so a
// random start is what keeps a Swap prepared against a deleted, taken or
// expired incarnation from matching the next one (the chance is 2^-62).
//
// Errors. redis.Nil becomes store.ErrNotFound. Every other failure of the
// client, the network, the server or the context (connection refused,
// timeouts, a closed client, a cancelled request, a corrupt entry) is
// wrapped in store.ErrUnavailable together with its cause, so the broker
// fails closed. Errors name the operation and the kind, never the key (for
// single-use kinds the key is the secret) and never the value; the package
// logs nothing.
//
// Deadlines: go-redis applies context deadlines to socket reads and writes
// only with UniversalOptions.ContextTimeoutEnabled; set it so a request's
// deadline bounds its store calls.
package redisstore
