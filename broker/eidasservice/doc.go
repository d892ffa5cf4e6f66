// Package eidasservice is the broker's eIDAS-Service: the SAML identity
// provider that answers other member states' eIDAS-Connectors with German
// eID identities (the role the German eIDAS middleware plays).
//
// Why it exists: a citizen holding a German eID card who uses an online
// service in another member state is sent, through that state's
// eIDAS-Connector, to the German side of the eIDAS network. This package
// is that German side. It takes the connector's AuthnRequest, lets the
// person authenticate with the eID card through the broker's eid adapter
// (eID-Server over TR-03130, eID-Client over TR-03124), shows the person
// what will be released, and sends back a signed Response with one
// encrypted, signed assertion.
//
// The rules it enforces come from the eIDAS SAML specifications v1.4
// (Message Format, Attribute Profile, Cryptographic Requirements,
// Interoperability Architecture):
//
//   - Connectors are configured with their metadata (document or URL),
//     verified against a bilaterally exchanged trust anchor, honouring
//     validUntil. Only their metadata names where Responses may go: an
//     AssertionConsumerServiceURL in a request must match it exactly.
//   - Requests must be signed (RSASSA-PSS or ECDSA; PKCS#1 v1.5 is
//     refused), name our SSO endpoint as Destination, be fresh, and are
//     single use (replay cache in the store, fail closed). HTTP-POST and
//     HTTP-Redirect (signature over the query string) are accepted.
//   - What cannot be answered safely (unsigned, unknown sender, bad
//     signature, addressed to another endpoint) gets an error page and a
//     log line. A request whose signature verified with a configured
//     connector's metadata but that is refused all the same (stale,
//     replayed, malformed, an ACS its metadata lacks, IsPassive,
//     unsatisfiable level, unsupported required attribute, NameIDPolicy,
//     SPType conflicts, missing RequesterID, cancellation) gets a signed
//     SAML error Response with the matching status codes, sent to an ACS
//     from the connector's metadata.
//   - Responses are signed with our key (PSS or ECDSA, a method the
//     connector lists), carry exactly one EncryptedAssertion (AES-GCM, key
//     transport xmlenc11#rsa-oaep or ECDH-ES chosen by the connector's
//     encryption certificate), and the assertion is signed too.
//
// Identity mapping (German eID → eIDAS natural person): PersonIdentifier
// is "DE/<connector country>/<hex HMAC-SHA256(secret, connector entityID,
// restricted identification)>", so each connector sees its own stable
// pseudonym; partial dates of birth use "00" for unknown month or day, as
// the German middleware does; BirthName is given names plus the family name
// at birth; CurrentAddress is the base64 eidas-natural address fragment.
// Only requested attributes are released, and only after the person
// agreed on a consent page (German/English, no inline script).
//
// State lives in the broker's store only: one sealed transaction per login
// (AES-256-GCM under a key derived from the data key and the transaction
// reference), keyed by a hash of the reference, TTL-bound, taken once when
// the Response is sent. Nothing about the person survives the transaction.
package eidasservice
