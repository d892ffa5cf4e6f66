// Package bundidsim is a BundID identity provider for the demo and the
// tests of the bundid adapter. It speaks the real interface: signed IdP
// metadata; an SSO endpoint (HTTP-POST) that verifies the AuthnRequest's
// signature with the service provider's metadata certificate and reads the
// AKDB extension (version 2: AuthnMethods, RequestedAttributes,
// DisplayInformation); a page that shows what was asked (requested STORK
// level, OrganizationDisplayName, OnlineServiceId, attributes, means) and
// offers test persons at every STORK level; and a signed Response with an
// encrypted assertion carrying only the requested attributes, each with
// its akdb:TrustLevel, bPK2 (derived from the person and the SP's
// entity ID), the trust-level attribute, AssertionProvedBy and a postbox
// handle.
//
// Tests can tamper with the answer (SetTamper): sign with a key the
// metadata does not hold, claim another level, edit the assertion. It is
// wired only by `broker demo` and tests, never by a production config.
package bundidsim
