// Package sdjwt implements Selective Disclosure for JWTs (SD-JWT, RFC 9901)
// as far as a verifier of SD-JWT VCs and the broker's wallet simulator need
// it: splitting the compact serialisation, decoding and hashing
// disclosures, rebuilding the disclosed claims under the RFC's strict
// processing rules (every disclosure referenced exactly once, no digest
// twice, no claim name clash, no reserved names), and creating and checking
// Key Binding JWTs (typ kb+jwt, nonce, aud, iat, sd_hash).
//
// The package does not verify the issuer's signature: the caller decides
// where the issuer key comes from (x5c against a trust list for PIDs) and
// passes the verified payload to Reconstruct.
package sdjwt
