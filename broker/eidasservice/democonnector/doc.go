// Package democonnector is a foreign eIDAS-Connector for the demo and the
// tests of the broker's eIDAS-Service: it plays "another member state"
// (Austria by default) that wants to log a person in with a German eID.
//
// Why it exists: the eIDAS-Service can only be shown or tested end to end
// with a connector on the other side, and a real one (the EU eIDAS-Node)
// cannot run inside the broker. This one speaks the real wire protocol: it
// has its own keys and signed metadata (which the service trusts in the
// demo configuration), sends signed eIDAS AuthnRequests (RSASSA-PSS or
// ECDSA, HTTP-POST or HTTP-Redirect), and at its assertion consumer
// service verifies the Response signature, decrypts the one
// EncryptedAssertion, verifies the assertion signature and checks
// InResponseTo, Destination, Audience, Recipient and the time window
// before it shows the attributes and the level (or the error status).
//
// It is never part of a production configuration: only `broker demo` and
// tests wire it. Pending request IDs are kept in memory (one process, a
// few minutes), which is fine for a demo and would not be for a real node.
//
// Wiring (see Wire for the one-call version used by the demo):
//
//	d, err := democonnector.Wire(democonnector.WireOptions{Issuer: issuer, Adapter: eidAdapter, Store: st})
//	r.Mount(eidasservice.PathPrefix, http.StripPrefix(eidasservice.PathPrefix, d.Service.Routes()))
//	r.Mount("/demo/connector", http.StripPrefix("/demo/connector", d.Connector.Handler()))
package democonnector
