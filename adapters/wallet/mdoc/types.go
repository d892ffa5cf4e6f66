package mdoc

import (
	"time"

	"github.com/fxamacker/cbor/v2"
)

// DeviceResponse is ISO/IEC 18013-5 §8.3.2.1.2.2.
type DeviceResponse struct {
	Version   string     `cbor:"version"`
	Documents []Document `cbor:"documents,omitempty"`
	Status    uint64     `cbor:"status"`
}

// Document is one returned document.
type Document struct {
	DocType      string       `cbor:"docType"`
	IssuerSigned IssuerSigned `cbor:"issuerSigned"`
	DeviceSigned DeviceSigned `cbor:"deviceSigned"`
}

// IssuerSigned holds the disclosed items (each #6.24 IssuerSignedItem,
// kept as received so their digests can be computed) and the issuer's
// COSE_Sign1 over the MSO.
type IssuerSigned struct {
	NameSpaces map[string][]cbor.RawMessage `cbor:"nameSpaces,omitempty"`
	IssuerAuth cbor.RawMessage              `cbor:"issuerAuth"`
}

// DeviceSigned holds device-signed name spaces (#6.24, empty map for
// OpenID4VP) and the device authentication.
type DeviceSigned struct {
	NameSpaces cbor.RawMessage `cbor:"nameSpaces"`
	DeviceAuth DeviceAuth      `cbor:"deviceAuth"`
}

// DeviceAuth is a signature or a MAC by the device.
type DeviceAuth struct {
	DeviceSignature cbor.RawMessage `cbor:"deviceSignature,omitempty"`
	DeviceMac       cbor.RawMessage `cbor:"deviceMac,omitempty"`
}

// IssuerSignedItem is one data element with its salt and digest ID.
type IssuerSignedItem struct {
	DigestID          uint64 `cbor:"digestID"`
	Random            []byte `cbor:"random"`
	ElementIdentifier string `cbor:"elementIdentifier"`
	ElementValue      any    `cbor:"elementValue"`
}

// MSO is the Mobile Security Object (§9.1.2.4), with the status
// reference of the Token Status List (same shape as in SD-JWT VC).
type MSO struct {
	Version         string                       `cbor:"version"`
	DigestAlgorithm string                       `cbor:"digestAlgorithm"`
	ValueDigests    map[string]map[uint64][]byte `cbor:"valueDigests"`
	DeviceKeyInfo   DeviceKeyInfo                `cbor:"deviceKeyInfo"`
	DocType         string                       `cbor:"docType"`
	ValidityInfo    ValidityInfo                 `cbor:"validityInfo"`
	Status          *Status                      `cbor:"status,omitempty"`
}

// DeviceKeyInfo names the device key (a COSE_Key).
type DeviceKeyInfo struct {
	DeviceKey         cbor.RawMessage `cbor:"deviceKey"`
	KeyAuthorizations cbor.RawMessage `cbor:"keyAuthorizations,omitempty"`
	KeyInfo           cbor.RawMessage `cbor:"keyInfo,omitempty"`
}

// ValidityInfo is the MSO's validity (tdate values).
type ValidityInfo struct {
	Signed         time.Time  `cbor:"signed"`
	ValidFrom      time.Time  `cbor:"validFrom"`
	ValidUntil     time.Time  `cbor:"validUntil"`
	ExpectedUpdate *time.Time `cbor:"expectedUpdate,omitempty"`
}

// Status is the MSO status claim.
type Status struct {
	StatusList *StatusListRef `cbor:"status_list,omitempty"`
}

// StatusListRef points into a Token Status List.
type StatusListRef struct {
	Idx uint64 `cbor:"idx"`
	URI string `cbor:"uri"`
}
