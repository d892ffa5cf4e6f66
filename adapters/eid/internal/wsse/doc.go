// Package wsse signs and verifies SOAP 1.1 messages with WS-Security X.509
// signatures as the BSI TR-03130 eID-Interface requires of both sides.
//
// The eID-Interface policy (TR-03130-1 §3.5.2, WSDL policy "SigOnly") is an
// asymmetric binding with X.509 initiator and recipient tokens that are never
// included in the message (IncludeToken/Never) but referenced by issuer and
// serial number, a Timestamp, and a signature over the Body. goxmldsig only
// signs enveloped documents, so this package builds the detached references
// to wsu:Id itself and uses goxmldsig's exclusive canonicaliser and etree.
//
// Verification is strict on purpose, because every byte of a response decides
// who logs in: no DTDs, bounded size and depth, unique wsu:Id values, exactly
// the Body and the Timestamp signed (by identity of the element, not by name),
// only exclusive C14N, only SHA-2, a fresh Timestamp, and the key comes from
// configuration, never from the message. Callers read data only from the
// element Open returns, which is the signed Body's content.
package wsse
