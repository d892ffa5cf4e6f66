// Package ratelimit protects the broker and its upstreams from peaks and
// abusive clients. It is HTTP middleware with three parts:
//
//   - a global cap on requests in flight: above it, a request waits a short
//     moment for a slot and is then shed with 503 and Retry-After, so that
//     an overloaded replica answers fast instead of queueing until every
//     answer is late (the load balancer or the browser retries elsewhere);
//   - a per-source-address limit on the browser-facing login routes
//     (authorization, upstream callbacks, the eIDAS-Service);
//   - a per-client limit on the OIDC authorization and token endpoints, so
//     one portal's runaway job cannot starve the others.
//
// Above a limit, API routes answer 429 with Retry-After and an OAuth-style
// JSON error; browser routes answer 429 with a bilingual "please try again
// in a minute" page. Counting uses the sliding-window limiter of
// github.com/go-chi/httprate. With several replicas the counters live in
// Redis (RedisCounters), so the limits hold for the whole deployment; when
// Redis does not answer, counting falls back to the replica's own memory
// (limits then hold per replica) rather than refusing logins.
//
// Keys never reach a counter in clear: source addresses are personal data,
// so every key is replaced by an HMAC under Config.KeySecret first.
package ratelimit
