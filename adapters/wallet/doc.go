// Package wallet is the "eudi-wallet" upstream adapter: a verifier of
// OpenID for Verifiable Presentations 1.0 under the OpenID4VC High
// Assurance Interoperability Profile (HAIP) 1.0, which logs a person in
// with the PID (person identification data) in a European Digital Identity
// Wallet, in either format: SD-JWT VC (dc+sd-jwt) or ISO mdoc (mso_mdoc).
// A verified PID proves level high.
//
// # Flow
//
// Begin signs a request object (JAR, typ oauth-authz-req+jwt, ES256, x5c
// with the verifier's access certificate, client_id prefix x509_hash or
// x509_san_dns) with a fresh nonce and state, a DCQL query for exactly the
// PID attributes this login needs, response_mode direct_post.jwt and an
// ephemeral P-256 ECDH-ES key in client_metadata. The request object is
// stored for one fetch by request_uri; the ephemeral private key stays in
// the login state, which only the broker holds. Begin's page offers the
// wallet link (same device) and a QR code (another device) and polls the
// status endpoint with a secret only that page has.
//
// The wallet posts the encrypted response to /login/{id}/response. The
// endpoint does not decrypt (it cannot: the key is in the state); it
// stores the JWE under its key ID, which only the request object and the
// response know, single use. In the same-device flow it answers with a
// redirect_uri to the broker callback carrying a fresh one-time
// response_code; in the cross-device flow the waiting page's poll receives
// that code, once. Finish checks the code (SHA-256, constant time), takes
// the stored response, decrypts it with the state's key and verifies:
//
//   - state equals the request's, one presentation for one asked query;
//   - SD-JWT VC: issuer signature with the x5c chain to the SD-JWT VC
//     trust list, typ, vct, exp/nbf/iat, disclosures (RFC 9901 rules),
//     the Key Binding JWT (holder key from cnf, nonce, aud = client_id,
//     iat window, sd_hash);
//   - mdoc: the MSO's COSE_Sign1 by a document signer chaining to the IACA
//     trust list, validity, every element against its digest, and the
//     device signature over the OpenID4VP session transcript (client_id,
//     nonce, the response key's thumbprint, response_uri);
//   - status through the Token Status List (cached and bounded, with a
//     refuse or allow policy when unreachable; an invalid list is refused).
//
// # Subject
//
// The PID carries no identifier common to all member states that survives
// re-issuance, so the upstream subject is a SHA-256 over issuing country,
// family name, given names and birth date (always requested for that
// reason). A change of name gives a new subject. The broker derives
// pairwise subjects from it.
package wallet
