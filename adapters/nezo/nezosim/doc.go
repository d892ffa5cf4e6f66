// Package nezosim simulates ELSTER's NEZO SAML login for the demo and the
// tests of adapters/nezo. It speaks the real wire protocol: it reads the
// broker's SP metadata as ELSTER would receive it on onboarding, verifies
// the signed AuthnRequest (HTTP-POST or HTTP-Redirect), lets the person
// pick a test account (a person at each level, an organisation with an
// acting employee, a test account) and answers with a signed Response
// whose assertion is encrypted to the broker and whose subject is an
// EncryptedID; the attributes carry ELSTER's structured ekona: values.
// It can also manipulate answers (wrong audience, unknown level, plaintext
// assertion, …) to show that the adapter refuses them.
//
// It is wired only by `broker demo` and tests; no production config can
// reach it.
package nezosim
