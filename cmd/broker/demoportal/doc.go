// Package demoportal is the demo's relying party: a small portal page that
// offers three administrative services needing low, substantial and high,
// logs in through the broker with the code flow + PKCE (coreos/go-oidc and
// x/oauth2, the same independent client the tests use) and shows the
// decoded ID token and userinfo. It is wired only by `broker demo`.
package demoportal
