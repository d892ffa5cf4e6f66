// Package nezo is the adapter of type "elster-nezo": ELSTER's own SAML
// login for relying parties, NEZO ("Nutzung der ELSTER-Zertifikate im
// Rahmen des OZG"), onboarded through the Mein Unternehmenskonto portal.
// It is how portals reach ELSTER in the field and the only route that
// brings ELSTER's own data: a stable pseudonym, ELSTER's level, the person
// and, for organisation accounts, the organisation and the acting person.
// (Package adapters/elster verifies certificate files itself instead.)
//
// The adapter is thin: the SAML mechanics are the shared service-provider
// core (package sp). What is NEZO's own lives here: the configuration,
// the attribute vocabulary and its ekona: typed values (ParseAttributes),
// the level table, the test-account rule and the claim mapping.
//
// # Contract with the broker
//
//   - Info: type and amr "elster-nezo", family "elster" (the login page
//     groups it with the certificate method), MaxLevel = max_level.
//   - Begin: a signed AuthnRequest (sp.Handoff) to the SSO endpoint of
//     NEZO's verified metadata; RelayState is the transaction reference.
//     The state binds the answer: request ID, issue time, reference.
//   - Routes (mounted at /saml/<adapter id>): GET /metadata serves our
//     signed SP metadata with the requested attributes as its
//     AttributeConsumingService; POST /acs forwards the browser with 307
//     to /login/cb/{RelayState}, where Finish runs.
//   - Finish: sp.ReadPOSTResponse and sp.ValidateResponse (signature by
//     NEZO's metadata key, Issuer, Destination, InResponseTo, times,
//     exactly one EncryptedAssertion, EncryptedID, bearer confirmation,
//     audience), then the NEZO rules below, then sp.Consume (single use,
//     fail closed).
//   - CheckHealth fails while NEZO's metadata is not loaded or expired.
//
// # NEZO rules of Finish, in order
//
//  1. The AttributeStatement is parsed structurally (ParseAttributes): one
//     value per attribute, no duplicate names, ekona: values as fields.
//  2. IstTestkonto true is refused unless allow_test_accounts (anything
//     but a boolean is refused too).
//  3. ElsterVertrauensniveauAuthentifizierung maps through the level table
//     (default substanziell → substantial, hoch → high) and is capped by
//     max_level; missing or unknown refuses the login. The broker then
//     re-checks the level against the floor.
//  4. DatenuebermittlerPseudonymId is the subject; missing refuses.
//  5. Person claims come from Vorname, Name, Geburtsdatum, … or, for an
//     organisation account, from HandelndePerson; Firmenname makes the
//     login an organisation's and fills Claims.LegalEntity (tax number,
//     VAT ID, legal form, register entry, address).
//
// # Assumptions about NEZO
//
// ELSTER's interface specification is not public. The attribute names,
// the ekona: typed values (an address type and HandelndePerson), the
// EncryptedID subject, the RSASSA-PSS signatures and the level values
// come from public integrations (the City of Munich's NEZO plugin and
// configuration, the Bavarian portal's attribute mappers). Where those
// are silent the adapter follows the SAML 2.0 Web Browser SSO profile's
// defaults and makes the choice configurable: request binding, ForceAuthn,
// the level table, the requested attributes, and the algorithm
// relaxations (RSA-SHA256, AES-CBC, legacy OAEP; all off by default).
// docs/adapters.md lists every assumption.
//
// Logs carry the adapter ID, the level and whether an organisation
// logged in; never names, pseudonyms, tax numbers or messages.
package nezo
