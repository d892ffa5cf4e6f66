// Package xmlsec is the broker's own XML security layer for the eIDAS SAML
// profile (eIDAS Cryptographic Requirements v1.4): safe parsing, enveloped
// XML signatures and XML Encryption 1.1.
//
// Why our own layer: the eIDAS profile allows only RSASSA-PSS and ECDSA with
// raw r‖s signature values, AES-GCM content encryption and either RSA-OAEP
// (XML Encryption 1.1, explicit digest and MGF) or ECDH-ES key agreement.
// The general-purpose Go libraries either lack these algorithms or accept
// far more than eIDAS allows. A small layer that implements exactly the
// profile keeps the attack surface closed by construction: every algorithm
// URI is on an allow-list, everything else is refused with a specific error.
//
// Security model:
//
//   - Parse refuses DOCTYPE (so no entity expansion or external entities),
//     processing instructions other than the XML declaration, oversized,
//     too deeply nested, non-UTF-8 and namespace-ill-formed input.
//   - Verify accepts exactly one enveloped signature that is a direct child of
//     the element, with exactly one Reference whose URI is "#" + that
//     element's own ID, transforms enveloped-signature + exclusive c14n only.
//     Keys come only from the caller's trusted certificates; KeyInfo is at
//     most a hint that must match one of them. Verify returns a fresh element
//     parsed from the exact bytes that were digested, so callers never read
//     data from the (possibly wrapped or comment-laden) input tree. This is
//     what defeats signature wrapping (XSW) and comment-injection attacks.
//   - Decrypt accepts only AES-GCM content, RSA-OAEP key transport and
//     ECDH-ES + ConcatKDF + AES key wrap. CBC modes and RSA PKCS#1 v1.5 key
//     transport are refused with their own errors. The plaintext goes through
//     the same safe parser.
//
// Keys are crypto.Signer / crypto.Decrypter (and ECDHKey for key agreement)
// so that an HSM can be plugged in without changing callers.
//
// Documents that carry signatures must be written with Serialize, not with
// etree's writer, which writes tabs, line feeds and carriage returns in
// attribute values literally; a receiving parser turns them into spaces and
// the signature breaks.
//
// All functions are stateless and safe for concurrent use. Errors wrap the
// package's sentinel errors (errors.Is) and never contain document content.
package xmlsec

//go:generate go run ../../../testdata/xmlsec/gen -out ../../../testdata/xmlsec
