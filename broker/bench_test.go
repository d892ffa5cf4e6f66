package broker_test

import (
	"testing"
)

// BenchmarkCodeExchange measures the token endpoint: code redemption,
// PKCE check, access token, ES256 ID-token signing, over HTTP.
func BenchmarkCodeExchange(b *testing.B) {
	e := newEnv(b, nil)
	r := e.rp("other", "other-secret", rp2Redirect) // implicit consent: fewer steps to set up
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		r.browser = e.newBrowser()
		f, methods := r.authorize()
		q := r.callbackParams(r.consent(r.demoLogin(methods, "erika", "high")), f)
		b.StartTimer()
		if _, err := r.exchange(f, q.Get("code")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWholeLogin is one complete login with the demo adapter over
// httptest: authorize, method page, adapter begin and finish, consent,
// code exchange and ID-token verification by go-oidc.
func BenchmarkWholeLogin(b *testing.B) {
	e := newEnv(b, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	b.ReportAllocs()
	for b.Loop() {
		r.browser = e.newBrowser()
		r.login("erika", "high")
	}
}
