// Package oidcsim is a small OpenID Provider that plays a Land's
// Servicekonto for the demo and the tests of the oidc upstream adapter.
//
// It speaks the real protocol: discovery, a JWKS with a generated P-256
// key, the authorization code flow with PKCE S256 (required), client
// authentication with a shared secret, signed ID tokens carrying the acr
// the test person picked on its page, the RFC 9207 iss parameter and a
// userinfo endpoint. Its level vocabulary is its own (ACRBasis … ACRHoch),
// so the adapter's acr table has something to map; ACRBasis is
// deliberately a value no table should map.
//
// Tests can tamper with what it issues (SetTamper: change ID-token claims
// before signing, sign with a key not in the JWKS), to prove the adapter
// refuses it. It is wired only by `broker demo` and tests, never by a
// production config.
package oidcsim
