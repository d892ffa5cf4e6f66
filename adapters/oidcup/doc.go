// Package oidcup logs people in through another OpenID Provider: a Land's
// Servicekonto behind Keycloak, another broker, any OP that reports the
// authentication's level of assurance in the ID token's acr claim.
//
// The name reads "OIDC upstream": the broker is an OpenID Provider to the
// portals and, through this adapter, a relying party to the upstream OP.
// The relying-party protocol is not written by hand: discovery, the JWKS,
// the code exchange and ID-token verification (signature, issuer, audience,
// expiry) come from go-oidc and x/oauth2; this package adds what a
// level-aware broker needs on top.
//
// # Flow
//
// Begin sends the browser to the upstream's authorization endpoint with
// the authorization code flow, PKCE (S256 only), a fresh state and nonce,
// and acr_values listing every upstream acr whose mapped level meets the
// login's floor (lowest first: the least demanding sufficient method is
// the upstream's first preference). The verifier, state and nonce stay in
// the adapter state the broker keeps with the transaction.
//
// The redirect_uri is fixed per adapter, <base>/login/<id>/callback, so it
// can be registered exactly at the upstream (strict OPs refuse wildcards).
// The state carries the transaction's cookie-less reference in front of its
// random part; the callback route only forwards the browser to the
// broker's per-transaction callback, where Finish runs. Nothing is trusted
// there before Finish has compared the whole state in constant time with
// the one from Begin.
//
// Finish refuses an upstream error (access_denied becomes
// adapters.ErrCancelled), a state mismatch, an iss authorization response
// parameter (RFC 9207) naming another issuer (required when the upstream
// announces support for it), then exchanges the code with the PKCE
// verifier, verifies the ID token, compares its nonce in constant time,
// requires azp to be our client when the token has several audiences, and
// maps acr through the level table.
//
// # Levels
//
// The `levels` table maps upstream acr values to levels of assurance. An
// ID token without acr, or with a value not in the table, is refused: an
// unknown value is never rounded to some level. A mapped level below the
// login's floor is reported as proved and the broker's level engine
// refuses it with the unmet-level page (adapters report, one engine
// enforces); the adapter never copies a level from the request.
//
// # Subject and claims
//
// The upstream subject is the ID token's iss and sub together, so two
// upstreams configured one after the other under the same adapter ID can
// never produce the same pairwise sub. The `claims` table maps upstream
// claim names to the broker's claims (given_name, family_name,
// birth_family_name, birthdate, gender, title, nationalities, address,
// place_of_birth, or any other snake_case name, carried as an extra
// claim); values of the wrong shape are dropped with a log line that names
// only the claim. With `userinfo: true` the userinfo endpoint's claims fill
// what the ID token lacks (its sub must match).
//
// The simulator in oidcsim is a small OP speaking the same protocol, for
// the demo and tests only.
package oidcup
