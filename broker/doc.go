// Package broker is the flow engine of the eIDAS identity broker: the OpenID
// Provider that portals talk to, the login, method-selection and consent
// pages, the SSO session, and the single place where levels of assurance
// are enforced.
//
// A login is a state machine over one transaction (tx) in the store:
//
//	GET  /authorize              validate (zitadel/oidc + our checks), compute the floor,
//	                             create tx bound to this browser (cookie); reuse the SSO session if
//	                             it meets floor/max_age/prompt, else show methods able to reach the
//	                             floor, in this response (no redirect)
//	GET  /login/{tx}             the method page again (reload, language switch, after a cancel),
//	                             for the bound browser only
//	POST /login/{tx}/start       adapter.Begin; hand the browser over (redirect, POST form, page)
//	ANY  /login/cb/{ref}         the upstream answers here (no cookie needed: cross-site SAML POST);
//	                             adapter.Finish, then 303 /login/{tx}/done
//	GET  /login/{tx}/done        cookie-bound again; re-check the proved level against the floor;
//	                             start the SSO session; consent page unless implicit
//	POST /consent/{tx}           the person releases the data; the code is issued to the portal
//
// Adapters report; this package enforces: the proved level from Finish is
// checked against the floor before anything is released, and a shortfall is
// answered with unmet_authentication_requirements, never a silent downgrade.
//
// Everything kept in the store is sealed with AES-256-GCM under the data key
// (authenticated with its kind and key), so a leaked Redis dump holds no
// personal data. Codes and tokens are stored under their SHA-256, never raw.
package broker
