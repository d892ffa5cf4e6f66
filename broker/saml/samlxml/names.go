package samlxml

// Namespaces of the SAML 2.0 and eIDAS vocabularies.
const (
	NSProtocol   = "urn:oasis:names:tc:SAML:2.0:protocol"
	NSAssertion  = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSMetadata   = "urn:oasis:names:tc:SAML:2.0:metadata"
	NSMDAttr     = "urn:oasis:names:tc:SAML:metadata:attribute"
	NSAlgSupport = "urn:oasis:names:tc:SAML:metadata:algsupport"
	NSEIDAS      = "http://eidas.europa.eu/saml-extensions"
	NSNatural    = "http://eidas.europa.eu/attributes/naturalperson"
	NSLegal      = "http://eidas.europa.eu/attributes/legalperson"
	NSXSI        = "http://www.w3.org/2001/XMLSchema-instance"
	NSDSig       = "http://www.w3.org/2000/09/xmldsig#"
	NSXMLEnc     = "http://www.w3.org/2001/04/xmlenc#"
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

	// ProtocolSAML2 is the protocolSupportEnumeration value of a SAML 2.0
	// role descriptor (SAML metadata §2.4.1); it is the protocol namespace.
	ProtocolSAML2 = NSProtocol
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

// Entity attributes of eIDAS metadata (eIDAS SAML Message Format v1.4 §3.3,
// §3.4) and the entity-category value published for requester-ID
// enforcement.
const (
	EntityAttrProtocolVersion = "http://eidas.europa.eu/entity-attributes/protocol-version"
	EntityAttrApplicationID   = "http://eidas.europa.eu/entity-attributes/application-identifier"
	EntityAttrAssuranceCert   = "urn:oasis:names:tc:SAML:attribute:assurance-certification"
	EntityAttrEntityCategory  = "http://macedir.org/entity-category"
	EntityCategoryRequesterID = "http://eidas.europa.eu/entity-attributes/termsofaccess/requesterid"
)
