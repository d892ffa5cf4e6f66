// Package sp is the SAML service-provider core shared by every SAML
// upstream of the broker: the eIDAS connector (adapters/eidas), ELSTER's
// NEZO login (adapters/nezo) and the German account services that follow
// (BundID, Länder accounts). Each adapter keeps only what is its own: the
// request extensions, the attribute vocabulary, the level table and the
// configuration. Everything about the SAML Web Browser SSO profile itself
// lives here, once, with one set of tests.
//
// What the core does:
//
//   - Requests: Handoff signs an AuthnRequest built by the adapter and
//     hands the browser over by HTTP-POST (enveloped signature) or
//     HTTP-Redirect (DEFLATE, detached signature over the query string,
//     RedirectURL). RelayState is the broker's transaction reference and
//     must match RelayStateRE.
//   - The fixed ACS: ForwardACS answers 307 to /login/cb/{RelayState}, so
//     the browser repeats its POST at the login's own callback; nothing is
//     trusted there. ReadPOSTResponse reads the answer at the callback
//     (POST only, one SAMLResponse, RelayState of this login compared in
//     constant time, size limits).
//   - Responses: ValidateResponse applies, in order: safe parsing (no
//     DOCTYPE, size and depth limits); the Response's enveloped signature
//     by a signing key of the peer's verified metadata, after which only
//     the element re-read from the signed bytes is used (defeats signature
//     wrapping and comment injection); Version, ID, Issuer = the peer's
//     entity ID, Destination = our ACS, InResponseTo = this request (an
//     unsolicited Response is refused), IssueInstant after the request,
//     not in the future and not older than MaxAnswerAge, all with the
//     configured skew; Status (a non-success Status ends here: a cancel
//     wraps adapters.ErrCancelled); no plain Assertion anywhere and exactly
//     one EncryptedAssertion, decrypted under the peer's Policy; an inner
//     signature that must verify if present; no nested assertion; then the
//     assertion's Issuer and IssueInstant, a Subject with exactly one
//     NameID or EncryptedID (decrypted under the same policy), exactly one
//     bearer SubjectConfirmation with our ACS as Recipient and this request
//     as InResponseTo, the NotBefore/NotOnOrAfter windows, an
//     AudienceRestriction naming our entity ID, no unknown condition, one
//     AuthnStatement (not before the request when ForceAuthn), an
//     AuthnContextClassRef the adapter judges, one AttributeStatement
//     without EncryptedAttribute.
//   - Replay: Consume records the Response and assertion IDs in the
//     adapter's store (store.KindReplay, Create) until the assertion
//     expires; a second use is ErrReplay, any store error ErrReplayCache
//     (fail closed, across replicas). The adapter calls it last, after its
//     own attribute and level checks.
//   - Metadata: ParseMetadata reads entities (IdP or SP, keys, endpoints,
//     the eIDAS extensions); VerifyMetadata checks the signature against
//     the configured trust anchors, directly or through a certificate in
//     KeyInfo that chains to an anchor and is an end-entity signing
//     certificate (key usage digitalSignature, no CA flag); Peer keeps one
//     identity provider's metadata fresh from a file or an https URL, with
//     back-off after failures, validUntil honoured, and the previous
//     metadata kept while it is valid. SPMetadata.Build publishes ours
//     (signing and encryption keys, the ACS, the NameID formats, optional
//     extensions, signed by default).
//
// # Algorithm policy
//
// Policy is chosen per upstream. The zero value is eIDAS Cryptographic
// Requirements v1.4: RSASSA-PSS or ECDSA signatures, AES-GCM, RSA-OAEP of
// XML Encryption 1.1 or ECDH-ES, RSA ≥ 3072 bits. A German upstream may
// need rsa-sha256 signatures (AllowRSAPKCS1v15), rsa-oaep-mgf1p key
// transport (AllowLegacyKeyTransport) or AES-CBC content encryption
// (AllowAESCBC); each is off unless that upstream's configuration turns it
// on. AES-CBC is acceptable there only because the Response signature,
// which covers the ciphertext, is verified before anything is decrypted,
// so no padding oracle is reachable. Triple-DES, RSA PKCS#1 v1.5 key
// transport, SHA-1 signatures and digests stay refused under every policy.
//
// Errors wrap one sentinel of errors.go (and the xmlsec sentinel where the
// XML layer refused) and never contain personal data or whole messages.
package sp
