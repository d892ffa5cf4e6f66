// Package elster logs people in with their ELSTER certificate: the PKCS#12
// certificate file (and PIN) that German tax payers and organisations use for
// Mein ELSTER, proving the eIDAS level "substantial".
//
// # Why proof of possession in the browser
//
// The official route for relying parties is ELSTER's own SAML login service
// (NEZO, onboarded through the Mein-Unternehmenskonto portal). This adapter
// serves deployments that verify the certificate themselves: every holder has the certificate file
// with its private key, so the broker runs a proof of possession. Begin
// issues a random challenge bound to the transaction, the broker origin and
// an expiry; the login page opens the .pfx file locally in the browser (the
// file, the PIN and the key never leave it), signs the exact challenge string
// with WebCrypto and posts the certificate chain, the signature and the
// challenge to the broker's callback. Finish checks, in
// this order:
//
//  0. the origin: the POST must come from the broker's own page
//     (Sec-Fetch-Site same-origin, or, from browsers without Fetch Metadata,
//     an Origin header equal to the broker's origin), so a form on another
//     site that auto-submits a challenge its author obtained cannot complete
//     (or cancel) a login; see checkSameOrigin;
//  1. the challenge: byte-equal to the one kept in the transaction state,
//     bound to this transaction (a hash of its ID) and to this broker origin,
//     and not expired;
//  2. the signature over the exact challenge with the leaf certificate's key
//     (RSASSA-PKCS1-v1_5 or RSASSA-PSS with SHA-256, RSA of at least 2048
//     bits);
//  3. single use: the challenge nonce is recorded in the adapter's confined
//     store (Create fails for a nonce seen before), so a signature over a used
//     challenge is refused even if a state were replayed;
//  4. the certificate: validity period, key usage digitalSignature, not a CA,
//     a chain to the configured trust anchors (the posted intermediates only
//     help to build it), and extended key usage (see below);
//  5. revocation of every certificate below the trust anchor, by OCSP and/or
//     CRL, with an in-memory cache bounded by the responses' nextUpdate and a
//     configurable policy for unreachable responders (refuse by default);
//  6. the identity: names of a person certificate, or the organisation of an
//     organisation certificate as a legal entity.
//
// # Mutual TLS instead of a signature
//
// When mtls.enabled is set, the page also offers a login with a certificate
// installed in the browser or on a token (ELSTER Sicherheitsstick, signature
// card): a TLS terminator in front of the broker asks for a client
// certificate and forwards it, URL-encoded PEM, in a header. The TLS
// handshake is then the proof of possession and replaces the challenge
// signature; the challenge is still posted and checked (binding, expiry,
// single use), and the header is believed only from the configured proxy
// addresses. Chain, revocation and mapping are the same code. The terminator
// sends only the leaf, so intermediates must be configured as trust anchors.
//
// # Decisions
//
// Subject: by default the stable identity is the certificate issuer (a hash
// of its DER name) plus the subject's serialNumber attribute (configurable
// under mapping.serial_number): the attribute a CA uses to number a holder
// independently of any one certificate. ELSTER certificate files expire
// after three years and are renewed, and a renewal may bring a new key, so a
// hash of the public key alone would give the person a new identity then. A
// certificate without that attribute falls back to the SHA-256 of its subject
// public key info; the prefixes ("sn:" and "spki:") keep the two name spaces
// apart. subject_id: spki selects the key hash always (for deployments that
// would rather re-link accounts at renewal than trust the CA's numbering).
//
// Extended key usage: certificates without the extension are accepted (RFC
// 5280: no restriction). Certificates that carry it must include clientAuth
// (or anyExtendedKeyUsage), and every CA certificate on the path must allow
// it. ext_key_usage: any turns the check off for CAs whose login
// certificates carry other purposes.
//
// Revocation mode both: OCSP and CRL are both consulted; a revocation from
// either refuses, an invalid answer (bad signature) refuses, and one "good"
// answer suffices when the other source cannot be reached. Only when no
// source answers does the unreachable policy decide.
//
// Level: an ELSTER certificate proves assurance.Substantial (BundID
// classifies the ELSTER certificate as substantial, STORK-QAA-Level-3); the
// broker may cap it lower, never higher.
//
// # Configuration
//
// A typical block (every key but trust_anchors is optional; the values shown
// are the defaults):
//
//	adapters:
//	  - id: elster
//	    type: elster
//	    max_level: substantial
//	    config:
//	      trust_anchors: [elster-ca.pem]
//	      challenge_ttl: 2m
//	      signature_alg: RS256          # or PS256
//	      ext_key_usage: client_auth    # or any
//	      subject_id: serial_number     # or spki
//	      revocation:
//	        mode: both                  # ocsp | crl | none
//	        unreachable: refuse         # or allow
//	        cache_ttl: 10m
//	        timeout: 5s
//	        # ocsp_url / crl_urls override the certificates' own URLs
//	      mapping:
//	        person: {given_name: [GN], family_name: [SN], common_name: [CN]}
//	        organisation: {name: [O], identifier: [organizationIdentifier], country: [C]}
//	        serial_number: [serialNumber]
//	      mtls:
//	        enabled: false
//	        trusted_proxies: [10.0.0.0/8]
//	        header: X-Client-Cert       # nginx: $ssl_client_escaped_cert
//
// The broker must serve the page's callback POST and Routes on the same
// origin as the page (the page's CSP can then stay at script-src 'self',
// style-src 'self', form-action 'self'; browsers may apply form-action to
// the redirects that follow the callback POST as well).
//
// The browser script and its build live in web/ (see web/README.md); the
// built files are embedded and served by Routes under /login/{id}/assets/.
// Package elstersim provides a test CA with real CRL and OCSP endpoints for
// the demo and the tests.
package elster
