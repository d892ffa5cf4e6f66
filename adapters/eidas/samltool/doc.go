// Package samltool holds the administrator's tools for eIDAS SAML messages
// behind `broker saml verify|decrypt|inspect`: when a member state's node
// and the broker disagree, an operator needs to see what a message says,
// whether its signature holds and what the encrypted assertion contains,
// without running a login.
//
// The tools use the same strict layer as the adapter (xmlsec: no DOCTYPE,
// size and depth limits, the eIDAS algorithm allow-list and key sizes), so
// a message the tool calls valid has a signature the connector would
// accept. They deliberately skip what only makes sense inside a login:
// time windows, certificate validity periods, InResponseTo, replay.
//
//   - Verify checks the signature of a Response, an AuthnRequest (XML
//     signature, or the signed query of the HTTP-Redirect binding) or
//     metadata, against certificates the operator trusts or the signing
//     certificates of a peer's metadata file (that file itself is taken as
//     given). Metadata verifies against a trust anchor as the adapter
//     does: signed by the anchor, or by a KeyInfo certificate chaining to
//     it. A refusal names the reason (the xmlsec sentinel).
//   - Decrypt opens the EncryptedAssertion of a Response with a private
//     key and returns the assertion XML. This does print personal data:
//     it is meant for an operator's own test logins.
//   - Inspect summarises a message in any form it arrives in (XML, the
//     base64 of the POST binding, the deflated base64 of the Redirect
//     binding, a form body, query or URL) without verifying anything. It
//     never prints NameIDs or attribute values, so a summary can go into a
//     ticket.
package samltool
