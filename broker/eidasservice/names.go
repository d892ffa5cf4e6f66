package eidasservice

// Paths of the service. The broker mounts Routes() at PathPrefix with the
// prefix stripped; the entity ID is the metadata URL (eIDAS SAML Message
// Format v1.4 §2.1.1: the entityID is the HTTPS URL the metadata is
// published at).
const (
	PathPrefix   = "/saml/service"
	MetadataPath = PathPrefix + "/metadata"
	SSOPath      = PathPrefix + "/sso"
	CallbackPath = PathPrefix + "/cb/"
	ConsentPath  = PathPrefix + "/consent/"
	StaticPath   = PathPrefix + "/static/"
)

// MessageCancelled is the StatusMessage of a cancellation (the person
// cancelled in the eID-Client or declined on the consent page). It is the
// text the EU eIDAS-Node sends with Responder/RequestDenied in that case, so
// connectors that map it to "cancelled by the citizen" recognise it.
const MessageCancelled = "Citizen consent not given."

// ApplicationIdentifier is published as the eIDAS application-identifier
// entity attribute (vendor:software:version).
const ApplicationIdentifier = "ozg-broker:eidas-service:1.0"

// ProtocolVersion is the eIDAS protocol version the service implements and
// publishes. Peers on 1.4 refuse rsa-oaep-mgf1p key transport; the service
// never uses it.
const ProtocolVersion = "1.4"

// SP types (eIDAS SAML Message Format v1.4 §4.1).
const (
	SPTypePublic  = "public"
	SPTypePrivate = "private"
)
