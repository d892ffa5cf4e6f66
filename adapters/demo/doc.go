// Package demo is the demo-identities adapter: the person picks a test
// identity and the level it should count as. It proves nothing and exists
// so that the flow engine, level enforcement and the demo portal can be
// shown and tested without any upstream.
//
// It is clearly labelled on every page, and only `broker demo` and tests
// wire it: the serve command's adapter registry does not know its type, so
// no production config can enable it.
package demo
