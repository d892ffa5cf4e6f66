// Package walletsim simulates the EUDI wallet ecosystem for the demo and
// tests, speaking the real protocols: a PID provider with its own test CAs
// that issues PIDs in both formats (SD-JWT VC and ISO mdoc) and publishes
// signed Token Status Lists (one test PID is revoked), and a holder wallet
// that fetches the verifier's signed request object, checks it, shows the
// person who asks for which attributes, and posts an encrypted
// direct_post.jwt response with a key-bound presentation.
//
// It also generates the verifier's test access certificate, so the demo
// needs no files. It is wired only into `broker demo` and tests; no
// production configuration can reach it.
package walletsim
