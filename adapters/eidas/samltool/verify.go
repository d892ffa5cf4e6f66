package samltool

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters/eidas"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// Trust is what Verify may trust.
type Trust struct {
	// Certs are trusted certificates: for a Response or AuthnRequest the
	// peer's signing certificates; for metadata the trust anchor exchanged
	// with the member state (or the metadata signing certificate itself).
	Certs []*x509.Certificate
	// AllowRSAPKCS1v15 also accepts rsa-sha256/384/512, which eIDAS v1.4
	// forbids (mirrors a country's allow_rsa_pkcs1v15).
	AllowRSAPKCS1v15 bool
}

// TrustFromMetadata returns the signing certificates of every entity in a
// metadata file (EntityDescriptor or EntitiesDescriptor). The file's own
// signature is not checked: the operator vouches for the file.
func TrustFromMetadata(data []byte) ([]*x509.Certificate, error) {
	ents, err := eidas.ParseMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("samltool: trust metadata: %w", err)
	}
	var certs []*x509.Certificate
	for _, e := range ents {
		certs = append(certs, e.SigningCerts...)
	}
	if len(certs) == 0 {
		return nil, errors.New("samltool: trust metadata: no signing certificate")
	}
	return certs, nil
}

// Result describes a valid signature.
type Result struct {
	// Kind is the message's root element (Response, AuthnRequest,
	// EntityDescriptor, EntitiesDescriptor).
	Kind string
	// Binding is "xml" (enveloped XML signature) or "redirect" (signed
	// query of the HTTP-Redirect binding).
	Binding string
	// Signer is the trusted certificate whose key made the signature; for
	// metadata signed by a certificate that chains to an anchor, the
	// anchor the chain ends in is not named, the signer is.
	Signer *x509.Certificate
	// SignedAssertions counts plain assertions inside a Response whose own
	// signatures also verified.
	SignedAssertions int
}

// Verify checks the signature of msg (any form Decode reads) and nothing
// else: no time windows, no certificate validity periods, no audience.
// The error wraps ErrInvalid and the xmlsec reason when the signature does
// not hold, ErrInput when msg is not a SAML message.
func Verify(msg []byte, trust Trust) (*Result, error) {
	if len(trust.Certs) == 0 {
		return nil, errors.New("samltool: verify: no trusted certificate given")
	}
	m, err := Decode(msg)
	if err != nil {
		return nil, err
	}
	root, err := m.parse()
	if err != nil {
		return nil, err
	}
	res := &Result{Kind: kind(root), Binding: "xml"}
	switch res.Kind {
	case "EntityDescriptor", "EntitiesDescriptor":
		if _, err := eidas.VerifyMetadata(m.XML, eidas.VerifyMetadataOptions{
			Anchors: trust.Certs, AllowRSAPKCS1v15: trust.AllowRSAPKCS1v15, IgnoreTime: true,
		}); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		res.Signer = metadataSigner(root, trust.Certs)
		return res, nil
	case "Response", "AuthnRequest", "LogoutRequest", "LogoutResponse", "Assertion":
	default:
		return nil, fmt.Errorf("%w: root element %s", ErrInput, root.Tag)
	}
	if m.SigAlg != "" || m.Signature != nil {
		res.Binding = "redirect"
		if m.SigAlg == "" || m.Signature == nil {
			return nil, fmt.Errorf("%w: Redirect query needs both SigAlg and Signature: %w", ErrInvalid, xmlsec.ErrNotSigned)
		}
		if len(samlxml.Children(root, xmlsecNS, "Signature")) > 0 {
			return nil, fmt.Errorf("%w: a Redirect-binding message must not carry an XML signature: %w", ErrInvalid, xmlsec.ErrSignatureStructure)
		}
		var lastErr error = xmlsec.ErrSignatureInvalid
		for _, c := range trust.Certs {
			if err := eidas.VerifyRaw(c.PublicKey, m.SigAlg, []byte(m.SignedQuery), m.Signature); err != nil {
				lastErr = err
				continue
			}
			res.Signer = c
			return res, nil
		}
		return nil, fmt.Errorf("%w: Redirect query signature: %w", ErrInvalid, lastErr)
	}
	opts := xmlsec.VerifyOptions{
		Trusted: trust.Certs, AllowRSAPKCS1v15: trust.AllowRSAPKCS1v15,
		Limits: parseLimits, IgnoreCertificateValidity: true,
	}
	signed, signer, err := xmlsec.Verify(root, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, root.Tag, err)
	}
	res.Signer = signer
	// Plain assertions of a (test or legacy) Response: their signatures,
	// where present, must hold as well.
	for _, as := range samlxml.Children(signed, samlxml.NSAssertion, "Assertion") {
		if len(samlxml.Children(as, xmlsecNS, "Signature")) == 0 {
			continue
		}
		if _, _, err := xmlsec.Verify(as, opts); err != nil {
			return nil, fmt.Errorf("%w: Assertion: %w", ErrInvalid, err)
		}
		res.SignedAssertions++
	}
	return res, nil
}

const xmlsecNS = xmlsec.NamespaceDSig

// metadataSigner names the certificate that signed verified metadata as
// its KeyInfo states it (the signature held with it or with an anchor it
// chains to); without KeyInfo certificates, the only anchor, if there is
// one. Informational only: the trust decision is VerifyMetadata's.
func metadataSigner(root *etree.Element, anchors []*x509.Certificate) *x509.Certificate {
	sig := samlxml.First(root, xmlsecNS, "Signature")
	for _, xc := range samlxml.Descendants(samlxml.First(sig, xmlsecNS, "KeyInfo"), xmlsecNS, "X509Certificate") {
		if c, err := parseCert(samlxml.Text(xc)); err == nil {
			return c
		}
	}
	if len(anchors) == 1 {
		return anchors[0]
	}
	return nil
}

func parseCert(b64 string) (*x509.Certificate, error) {
	der, err := samlxml.DecodeBase64(b64)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}
