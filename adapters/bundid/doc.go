// Package bundid logs people in with their BundID (Nutzerkonto Bund) and,
// with the generic profile, with a Land's Servicekonto that speaks SAML:
// the interoperable accounts of the Portalverbund, with the level of
// assurance they proved, mapped through a table and re-checked by the
// broker's level engine.
//
// The SAML Web Browser SSO profile itself (signing and handing over the
// AuthnRequest, the fixed ACS, validating the Response, decrypting the
// assertion, replay protection, IdP metadata refresh, publishing our SP
// metadata) is the shared service-provider core in broker/saml/sp. This
// package holds only what is BundID's or the Servicekonto's own: the AKDB
// request extension, the attribute vocabulary, the level tables and the
// configuration.
//
// # Request (profile bundid)
//
// A signed AuthnRequest (HTTP-POST preferred; ForceAuthn, because
// interoperable accounts must not reuse a session) with:
//
//   - RequestedAuthnContext Comparison="minimum" with the lowest value of
//     the level table that meets the login's floor: STORK-QAA-Level-2 for
//     low, -3 for substantial, -4 for high;
//   - samlp:Extensions/akdb:AuthenticationRequest Version="2" (namespace
//     https://www.akdb.de/request/2018/09):
//   - akdb:AuthnMethods: every configured means (authn_methods) with
//     akdb:Enabled true when its configured level meets the requested
//     level, false otherwise (Benutzername, STORK 1, is always sent
//     disabled by default);
//   - akdb:RequestedAttributes: bPK2, the trust-level attribute and
//     AssertionProvedBy, every attribute marked required, and an optional
//     attribute only when the portal may receive and asked for its claim
//     (data minimisation; BundID returns only what is listed), each with
//     RequiredAttribute;
//   - akdb:DisplayInformation/classic-ui:Version (namespace
//     https://www.akdb.de/request/2018/09/classic-ui/v1) with
//     OrganizationDisplayName, Lang and OnlineServiceId, chosen per
//     login: a display.per_service entry for the login's client and one of
//     its requested services, else one for the client, else
//     display.default; empty fields fall through to the next. This needs
//     adapters.Request.ClientID and Services from the broker.
//
// # Response
//
// Validated by the SP core (signature by a key of the verified IdP
// metadata before anything else, exactly one encrypted assertion,
// Destination, Audience, Recipient, InResponseTo, time windows, single
// use). Then:
//
//   - Level: the AuthnContextClassRef must be in the level table, and so
//     must the trust-level attribute (urn:oid:1.2.40.0.10.2.1.1.261.94)
//     when present; the lower of the two is the proved level. STORK 1,
//     unknown values or spellings, two values, or a not-notified level
//     that disagrees with the other statement are refused. A level below
//     the floor is reported as proved: the broker refuses it with the
//     unmet-level page.
//   - Attributes are matched on Name, never on FriendlyName; a Name is
//     compared without spaces (published material has "urn:oid: 1.2…").
//     An attribute listed twice is refused. With a trust_levels table, an
//     attribute whose akdb:TrustLevel is below the proved level or not in
//     the table (UNTERGEORDNET: self-asserted) is dropped, so every claim
//     goes out at the login's level.
//   - Subject: bPK2 (urn:oid:1.3.6.1.4.1.25484.494450.3), exactly one
//     value. It is pairwise to our entity ID's host name already; the
//     broker derives each portal's sub from it, so it stays stable per
//     sector. Never change entity_id's host after going live.
//   - amr: AssertionProvedBy (urn:oid:1.3.6.1.4.1.25484.494450.2) mapped
//     eID→eid, Smart-eID→smart-eid, eIDAS→eidas, Elster→elster,
//     Benutzername→pwd, FINK→fink, Diia→diia, Authega→authega
//     (Identity.AMR).
//   - The postbox handle (legacyPostkorbHandle, urn:oid:2.5.4.18) becomes
//     the claim postbox_reference. It addresses the person's BundID
//     postbox and is not an identifier of the person. It is requested
//     only when the portal's client lists postbox_reference in
//     allowed_claims and asks for it, because requesting it also hides
//     BundID's temporary login.
//   - Cancel: BundID ends a login without data with Responder /
//     RequestDenied, which the core reports as adapters.ErrCancelled.
//
// # Profile generic (type servicekonto)
//
// The same core without the AKDB extension: the `levels` table maps the
// Land's AuthnContextClassRef values, the `attributes` table its attribute
// names, and the subject is subject_attribute or, when that is empty, a
// persistent NameID.
//
// # Where sources disagree
//
// The public sources are the BundID interface description (as summarised
// in the project's research notes), the BundID Keycloak extensions of the
// Bundesagentur für Arbeit and of opdt, and several BundID simulators. The
// newest wins:
//
//   - akdb:TrustLevel NORMAL: one simulator maps it to STORK 1; the
//     extension maps UNTERGEORDNET→1, NORMAL→2, SUBSTANTIELL→3, HOCH→4,
//     which matches the interface description. We follow the extension.
//   - AssertionProvedBy: one plugin names it ...494450.1, which the
//     interface description gives to the interface Version attribute; we
//     use ...494450.2.
//   - One simulator sends a second AuthnStatement with a Password class;
//     the core accepts exactly one AuthnStatement, so such an answer is
//     refused rather than guessed at.
//   - Unconfigured AuthnMethods: the extension leaves a means out when it
//     is neither enabled nor disabled; we send every configured means
//     explicitly, enabled or disabled, so BundID's own defaults never
//     decide.
//   - Our SP metadata is published without ID and validUntil, as BundID
//     requires, and therefore unsigned (the generic profile signs it).
package bundid
