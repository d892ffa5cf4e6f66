package sp

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// MetadataLimits bound the metadata parser: large enough for an aggregate
// of all EU proxy-services, small enough to refuse abuse.
var MetadataLimits = xmlsec.Limits{MaxBytes: 2 << 20}

// VerifyMetadataOptions configure VerifyMetadata.
type VerifyMetadataOptions struct {
	// Anchors are the trust anchors exchanged with the peer (the member
	// state's metadata signer or CA, the federation operator's key).
	Anchors []*x509.Certificate
	// AllowRSAPKCS1v15 also accepts rsa-sha256/384/512 signatures.
	AllowRSAPKCS1v15 bool
	// Now is the clock for certificate validity; nil means time.Now. The
	// validUntil of the metadata is the caller's to judge.
	Now func() time.Time
	// IgnoreTime skips certificate validity periods (admin tools).
	IgnoreTime bool
}

// VerifyMetadata checks the signature of SAML metadata and returns the
// signed root element, re-read from the verified bytes; read the metadata
// only from it. The signature must be made by a trust anchor itself or by
// a certificate in the signature's KeyInfo that chains to an anchor (RFC
// 5280 path validation; revocation is not checked). A chained signer must
// be an end-entity certificate meant for signing: key usage
// digitalSignature and no CA flag, so that an intermediate CA, or a TLS or
// encryption certificate issued under the anchor, cannot sign metadata.
// Either way the signing key must satisfy the key policy and algorithms.
func VerifyMetadata(data []byte, opts VerifyMetadataOptions) (*etree.Element, error) {
	doc, err := xmlsec.Parse(data, MetadataLimits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	return VerifyMetadataElement(doc.Root(), opts)
}

// VerifyMetadataElement is VerifyMetadata for a parsed document element.
func VerifyMetadataElement(root *etree.Element, opts VerifyMetadataOptions) (*etree.Element, error) {
	if len(opts.Anchors) == 0 {
		return nil, fmt.Errorf("%w: no trust anchor", ErrMetadata)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	trusted := append([]*x509.Certificate(nil), opts.Anchors...)
	trusted = append(trusted, chainedSigners(root, opts.Anchors, now(), opts.IgnoreTime)...)
	signed, _, err := xmlsec.Verify(root, xmlsec.VerifyOptions{
		Trusted:                   trusted,
		AllowRSAPKCS1v15:          opts.AllowRSAPKCS1v15,
		Limits:                    MetadataLimits,
		Now:                       now,
		AllowEmptyURI:             true,
		IgnoreCertificateValidity: opts.IgnoreTime,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrMetadata, err)
	}
	return signed, nil
}

// chainedSigners returns the KeyInfo certificates of root's signature that
// chain to one of the anchors and may sign (IsMetadataSigner). They are
// only candidates: the signature itself is checked afterwards, with these
// and the anchors as the only keys.
func chainedSigners(root *etree.Element, anchors []*x509.Certificate, now time.Time, ignoreTime bool) []*x509.Certificate {
	sig, found, err := Child(root, samlxml.NSDSig, "Signature")
	if err != nil || !found {
		return nil
	}
	var certs []*x509.Certificate
	for _, ki := range samlxml.Children(sig, samlxml.NSDSig, "KeyInfo") {
		for _, xd := range samlxml.Children(ki, samlxml.NSDSig, "X509Data") {
			for _, xc := range samlxml.Children(xd, samlxml.NSDSig, "X509Certificate") {
				if c, err := parseCertBase64(samlxml.Text(xc)); err == nil {
					certs = append(certs, c)
				}
			}
		}
	}
	if len(certs) == 0 {
		return nil
	}
	roots := x509.NewCertPool()
	for _, a := range anchors {
		roots.AddCert(a)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	var out []*x509.Certificate
	for _, c := range certs {
		if isAnchor(c, anchors) || !IsMetadataSigner(c) {
			continue
		}
		vo := x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, CurrentTime: now}
		if ignoreTime {
			vo.CurrentTime = c.NotBefore.Add(time.Second)
		}
		if _, err := c.Verify(vo); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// IsMetadataSigner reports whether a certificate that chains to a trust
// anchor may sign metadata: it must carry the key usage extension with
// digitalSignature and must not be a CA. (An anchor itself is trusted as
// configured, whatever its extensions say.)
func IsMetadataSigner(c *x509.Certificate) bool {
	return c.KeyUsage&x509.KeyUsageDigitalSignature != 0 && !c.IsCA
}

func isAnchor(c *x509.Certificate, anchors []*x509.Certificate) bool {
	for _, a := range anchors {
		if bytes.Equal(a.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// LoadMetadata verifies metadata as VerifyMetadata does and parses its
// entities from the signed bytes. Time and key policies (validUntil, key
// sizes) are still the caller's to apply.
func LoadMetadata(data []byte, opts VerifyMetadataOptions) ([]*Metadata, error) {
	signed, err := VerifyMetadata(data, opts)
	if err != nil {
		return nil, err
	}
	return ParseMetadataElement(signed)
}
