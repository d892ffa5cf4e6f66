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

// Namespaces of the SAML 2.0 and eIDAS vocabularies.
const (
	NSProtocol   = "urn:oasis:names:tc:SAML:2.0:protocol"
	NSAssertion  = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSMetadata   = "urn:oasis:names:tc:SAML:2.0:metadata"
	NSMDAttr     = "urn:oasis:names:tc:SAML:metadata:attribute"
	NSAlgSupport = "urn:oasis:names:tc:SAML:metadata:algsupport"
	NSEIDAS      = "http://eidas.europa.eu/saml-extensions"
	NSNatural    = "http://eidas.europa.eu/attributes/naturalperson"
	NSXSI        = "http://www.w3.org/2001/XMLSchema-instance"
	NSDSig       = "http://www.w3.org/2000/09/xmldsig#"
)

// Bindings, name ID formats and other SAML URIs.
const (
	BindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	BindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

	NameIDPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	NameIDTransient   = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	NameIDUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	NameIDEntity      = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"

	AttrNameFormatURI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	CMBearer          = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	ConsentObtained   = "urn:oasis:names:tc:SAML:2.0:consent:obtained"
	protocolSAML2     = "urn:oasis:names:tc:SAML:2.0:protocol"
)

// Status codes (SAML core §3.2.2.2). eIDAS nodes use the four top-level codes
// and put the detail into a second-level code and the StatusMessage.
const (
	StatusSuccess         = "urn:oasis:names:tc:SAML:2.0:status:Success"
	StatusRequester       = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	StatusResponder       = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	StatusVersionMismatch = "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch"

	StatusAuthnFailed         = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
	StatusInvalidAttrName     = "urn:oasis:names:tc:SAML:2.0:status:InvalidAttrNameOrValue"
	StatusInvalidNameIDPolicy = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"
	StatusNoAuthnContext      = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
	StatusNoPassive           = "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
	StatusRequestDenied       = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
	StatusRequestUnsupported  = "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported"
	StatusUnsupportedBinding  = "urn:oasis:names:tc:SAML:2.0:status:UnsupportedBinding"
)

// MessageCancelled is the StatusMessage of a cancellation (the person
// cancelled in the eID-Client or declined on the consent page). It is the
// text the EU eIDAS-Node sends with Responder/RequestDenied in that case, so
// connectors that map it to "cancelled by the citizen" recognise it.
const MessageCancelled = "Citizen consent not given."

// Entity attributes of eIDAS metadata (eIDAS SAML Message Format v1.4 §3.3,
// §3.4) and the value published for requester-ID enforcement.
const (
	EntityAttrProtocolVersion = "http://eidas.europa.eu/entity-attributes/protocol-version"
	EntityAttrApplicationID   = "http://eidas.europa.eu/entity-attributes/application-identifier"
	EntityAttrAssuranceCert   = "urn:oasis:names:tc:SAML:attribute:assurance-certification"
	EntityAttrEntityCategory  = "http://macedir.org/entity-category"
	EntityCategoryRequesterID = "http://eidas.europa.eu/entity-attributes/termsofaccess/requesterid"
)

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
