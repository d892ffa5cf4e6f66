// Package samlxml is the one way the broker reads and writes the common
// parts of SAML 2.0 and eIDAS XML: the element and attribute helpers, the
// SAML ID generator, the metadata building blocks, the namespace,
// binding, NameID-format and status-code URIs, and the eIDAS country-code
// rule (Greece is "EL" in messages, "GR" accepted).
//
// Why a package of its own: the eIDAS-Connector adapter (package eidas),
// its XML security layer (xmlsec), the eIDAS-Service (broker/eidasservice),
// the simulators (eidassim, democonnector) and the saml admin tools
// (samltool) all read SAML elements, and each used to carry its own copy of
// these helpers. The copies had drifted apart (some nil-safe, some not,
// some trimming Unicode space, some only XML white space). How an element
// is read is security-relevant, so the rules live here, once:
//
//   - An element matches by local name and namespace URI, never by prefix:
//     a prefix is the sender's choice and can be bound to anything.
//   - Text is the character data directly inside an element, CDATA
//     included, concatenated across comments: "a<!---->b" reads "ab", never
//     "a". Readers that stop at a comment are what comment-injection attacks
//     on SAML rely on (a signed value and the value read must be the same).
//     Only XML white space (space, tab, CR, LF) is trimmed, so a value
//     padded with other Unicode space does not compare equal to the clean
//     one.
//   - Attr reads only the unqualified attribute; NSAttr only a prefixed one
//     whose prefix is bound to the namespace asked for, and never a
//     namespace declaration.
//   - Every reader accepts a nil element and answers as if it were empty,
//     so a chain of look-ups on a malformed message ends in a failed check,
//     never a panic.
//
// How many children a message may have (exactly one, at most one) is a rule
// of each message, not of reading; the packages that check messages write
// such helpers on top of Children.
//
// The package depends on etree only: xmlsec may import it, and it imports
// neither xmlsec nor eidas.
package samlxml
