// Package mdoc verifies and (for the simulator) creates ISO/IEC 18013-5
// mobile documents presented over OpenID4VP: the DeviceResponse with its
// IssuerSigned part (IssuerSignedItems and the Mobile Security Object in a
// COSE_Sign1 by a document signer certificate chaining to an IACA) and its
// DeviceSigned part (a COSE_Sign1 by the device key in the MSO over the
// DeviceAuthentication structure, whose SessionTranscript is the OpenID4VP
// 1.0 handover of Appendix B.2.6.1).
//
// CBOR decoding is strict and bounded (no indefinite lengths, no duplicate
// map keys, limited nesting and sizes); element digests are computed over
// the exact bytes received. DeviceMac (MAC-based device authentication)
// is not supported: OpenID4VP has no reader key to derive the MAC key
// from, so wallets sign.
package mdoc
