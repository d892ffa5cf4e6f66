package eidas

import (
	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
)

// metadataLimits bound the metadata parser: large enough for an aggregate
// of all EU proxy-services, small enough to refuse abuse.
var metadataLimits = sp.MetadataLimits

// VerifyMetadataOptions configure VerifyMetadata (see
// sp.VerifyMetadataOptions).
type VerifyMetadataOptions = sp.VerifyMetadataOptions

// VerifyMetadata checks the signature of SAML metadata and returns the
// signed root element, re-read from the verified bytes; read the metadata
// only from it. The signature must be made by a trust anchor exchanged
// with the member state itself, or by a certificate in the signature's
// KeyInfo that chains to an anchor and is an end-entity signing
// certificate (key usage digitalSignature, no CA flag). The rules are the
// SP core's (sp.VerifyMetadata).
func VerifyMetadata(data []byte, opts VerifyMetadataOptions) (*etree.Element, error) {
	return sp.VerifyMetadata(data, opts)
}

// LoadMetadata verifies metadata as VerifyMetadata does and parses its
// entities from the signed bytes. Time and key policies (validUntil, key
// sizes) are still the caller's to apply.
func LoadMetadata(data []byte, opts VerifyMetadataOptions) ([]*Metadata, error) {
	return sp.LoadMetadata(data, opts)
}
