package eidas

// samlVersion is the only SAML version the connector speaks; the element
// readers and the time parser live in the SP core (broker/saml/sp).
const samlVersion = "2.0"
