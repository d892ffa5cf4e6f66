// Package eidas is the broker's eIDAS-Connector: the SAML service provider
// that lets a person from another EU member state log in with the eID of
// their own country. The person picks a country on the broker's login page;
// the adapter sends a signed eIDAS AuthnRequest to that country's
// proxy-service and verifies the signed Response that comes back, whose
// assertion is encrypted to us. It implements adapters.Adapter,
// adapters.Router and adapters.HealthChecker; cmd/broker opens it from the
// `config:` block of an adapter of type "eidas" (Config, Config.Open).
//
// Why an adapter of its own, built on our own XML layer: the eIDAS SAML
// profile (Message Format, Attribute Profile and Cryptographic Requirements
// v1.4) needs message parts that general SAML libraries cannot express
// (SPType, RequestedAttributes, NodeCountry, entity attributes) and allows
// only algorithms they lack (RSASSA-PSS, raw-r‖s ECDSA, AES-GCM, RSA-OAEP
// of XML Encryption 1.1, ECDH-ES). Package xmlsec implements exactly that
// profile; the SAML service-provider core shared with the other SAML
// upstreams (package sp: request hand-off, response validation, replay,
// metadata trust and refresh) applies the SAML rules with the strict eIDAS
// algorithm policy; this package adds the eIDAS rules on top (request
// extensions, levels, attributes, countries).
//
// # Contract with the broker
//
//   - Info lists one option per configured country, with German and English
//     names and the level the admin configured for it. A country whose
//     metadata is unusable (never loaded, signature or policy refused,
//     past validUntil) carries Option.Unavailable; CheckHealth names every
//     such country, so readiness reports it.
//   - Begin builds and signs the AuthnRequest (ForceAuthn, not passive,
//     NameIDPolicy, RequestedAuthnContext "minimum" with the floor's LoA
//     URI, or "exact" for a non-notified floor, the requested attributes of
//     one data set, SPType where configured, ProviderName and RequesterID
//     where configured) and hands the browser over by HTTP-POST or
//     HTTP-Redirect. RelayState is the transaction reference. The returned
//     state binds the answer to this request: request ID, country, floor,
//     requested and required attributes, issue time, reference.
//   - Routes serves GET /metadata (our signed connector metadata) and POST
//     /acs. The broker mounts it at /saml/connector. SAML metadata names one
//     fixed ACS, but the broker takes each login's answer at its own
//     callback, so /acs only checks the form's shape and answers 307 to
//     BaseURL + "/login/cb/" + RelayState; the browser repeats the POST
//     there. Nothing is trusted at /acs; Finish checks everything.
//   - Finish verifies the POSTed Response against the state. Errors wrap
//     one sentinel of errors.go (plus the xmlsec sentinel where that layer
//     refused), never personal data. A cancel at the proxy-service wraps
//     adapters.ErrCancelled; a replay-cache failure wraps the store's error
//     (store.ErrUnavailable gives the person a 503).
//
// # Security rules of Finish, in order
//
//  1. HTTP-POST only, one SAMLResponse, the RelayState of this login, size
//     limits on form and XML; the XML is parsed by xmlsec.Parse (no
//     DOCTYPE, hence no XXE or entity expansion; depth and size limits).
//  2. The Response must carry a valid enveloped signature (xmlsec.Verify:
//     PSS or ECDSA, SHA-2, exclusive c14n, reference to its own ID) by a
//     signing certificate of the country's verified metadata. PKCS#1 v1.5
//     only where the admin allowed it for that country. From here on only
//     the element re-read from the signed bytes is used, which defeats
//     signature wrapping and comment injection.
//  3. Version, ID, Issuer = the metadata's entity ID, Destination = our
//     ACS, InResponseTo = the request of this login (a Response without it
//     is unsolicited and refused), IssueInstant after the request and not
//     in the future, all with the configured clock skew.
//  4. A non-success Status ends here (an assertion in an error response is
//     never looked at).
//  5. No plain Assertion anywhere, exactly one EncryptedAssertion,
//     decrypted with AES-GCM and RSA-OAEP or ECDH-ES only (CBC and
//     RSA PKCS#1 v1.5 key transport refused before any key is used). A
//     signed assertion must verify too.
//  6. Assertion: Issuer, exactly one bearer SubjectConfirmation with our
//     ACS as Recipient and this request as InResponseTo, NotBefore /
//     NotOnOrAfter of SubjectConfirmationData and Conditions, an
//     AudienceRestriction naming our entity ID, no unknown conditions, one
//     AuthnStatement whose AuthnInstant is not before the request
//     (ForceAuthn), one AttributeStatement without EncryptedAttribute.
//  7. The level from AuthnContextClassRef must be at least the requested
//     notified level (or exactly the requested non-notified one): a
//     downgrade is refused, and the broker re-checks against its floor.
//  8. Attributes are keyed on their Name URI, never FriendlyName. Required
//     attributes must be present; PersonIdentifier (and
//     LegalPersonIdentifier) must be XX/YY/… with XX the country that was
//     asked (EL or GR for Greece, kept as EL) and YY our node country.
//     Values marked LatinScript="false" go into Claims.Scripts under a
//     BCP 47 tag derived from their script (Greek "el", Bulgarian
//     Cyrillic "bg", else "und-<script>"), which the broker releases as
//     language-tagged claims ("family_name#el"); the Latin transliteration
//     stays in the plain fields. BirthName (first names and family name at
//     birth) becomes the birth_name claim, never birth_family_name.
//     CurrentAddress is decoded from base64 XML. A
//     natural person acting for a legal person (legal-person attributes
//     plus representative attributes) becomes the representative's
//     identity with Claims.LegalEntity; any other representation is
//     refused, so a portal never mistakes a representative for the person.
//  9. Last, single use: the Response and assertion IDs are recorded in the
//     broker's store (store.KindReplay, Create; store.ErrExists means a
//     replay) until the assertion expires. Any store error refuses the
//     login: the cache fails closed, across replicas.
//
// # Metadata
//
// Each country's proxy-service metadata comes from a file or an https URL
// and must be signed by the trust anchor exchanged with that member state
// (directly, or by a certificate in the signature that chains to it and
// is an end-entity signing certificate: key usage digitalSignature, no CA
// flag). Its
// validUntil is required and honoured, its keys must meet the eIDAS key
// policy, its NodeCountry must name the country. It is cached and
// refreshed in the background; a failed refresh keeps the last verified
// copy until its validUntil. Our own metadata is signed, carries
// validUntil, NodeCountry, SPType (when declared there), the
// protocol-version and application-identifier entity attributes, separate
// signing and encryption certificates and the algorithms we accept.
//
// Nothing here logs attribute values, messages or identifiers; logs carry
// the adapter ID, the country and the refusal reason.
package eidas

//go:generate go run ../../testdata/eidas/gen -out ../../testdata/eidas
