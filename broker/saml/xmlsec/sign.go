package xmlsec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// SignOptions configure SignWithOptions.
type SignOptions struct {
	// Algorithm is the SignatureMethod URI (Sig* constants). Required.
	Algorithm string
	// DigestAlgorithm is the Reference DigestMethod URI; default: the hash
	// of Algorithm (SHA-256 for *sha256, and so on).
	DigestAlgorithm string
	// IDAttribute names the element's ID attribute (default "ID").
	IDAttribute string
	// After, if set, must be a child of the element; the signature is
	// inserted directly after it. Otherwise it goes after the first
	// saml:Issuer child, or first when there is none, which is where the
	// SAML schema requires it for Response, Assertion and AuthnRequest, and
	// where metadata (EntityDescriptor) accepts it.
	After *etree.Element
	// InclusivePrefixes is the InclusiveNamespaces PrefixList of the
	// Reference's exclusive c14n transform, for prefixes used only inside
	// attribute values or text (such as xsi:type values).
	InclusivePrefixes []string
	// AllowRSAPKCS1v15 permits rsa-sha256/384/512, which the eIDAS profile
	// forbids. For tests and non-eIDAS peers only.
	AllowRSAPKCS1v15 bool
}

// Sign adds an enveloped signature to el with the default options: see
// SignWithOptions.
func Sign(el *etree.Element, signer crypto.Signer, certs []*x509.Certificate, alg string) error {
	return SignWithOptions(el, signer, certs, SignOptions{Algorithm: alg})
}

// SignWithOptions adds an enveloped XML signature (exclusive c14n, one
// Reference to "#" + el's ID) to el, made by signer with opts.Algorithm.
// certs, if any, go into KeyInfo (the first must hold signer's public key);
// they are a hint for the verifier, never a trust source.
//
// The signer's key must satisfy the eIDAS key policy (RSA ≥ 3072 bits,
// P-256/384/521). RSA keys sign with RSASSA-PSS (salt length = hash length)
// unless a PKCS#1 v1.5 method is explicitly allowed; ECDSA values are
// written as raw r‖s. On error el is left unchanged.
func SignWithOptions(el *etree.Element, signer crypto.Signer, certs []*x509.Certificate, opts SignOptions) error {
	if el == nil || signer == nil {
		return fmt.Errorf("sign: %w: nil element or signer", ErrMalformed)
	}
	alg, err := lookupSignatureAlgorithm(opts.Algorithm, opts.AllowRSAPKCS1v15)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	pub := signer.Public()
	if err := checkKeyForAlg(pub, alg.kind, defaultKeyPolicy()); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if len(certs) > 0 {
		eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
		if certs[0] == nil || !ok || !eq.Equal(certs[0].PublicKey) {
			return fmt.Errorf("sign: %w: first certificate does not hold the signer's key", ErrKeyType)
		}
	}
	digestAlg := opts.DigestAlgorithm
	if digestAlg == "" {
		digestAlg = digestURI(alg.hash)
	}
	digestHash, err := lookupDigest(digestAlg, false)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	idAttr := opts.IDAttribute
	if idAttr == "" {
		idAttr = "ID"
	}
	id := samlxml.AttrValue(el, idAttr)
	if id == "" {
		return fmt.Errorf("sign: attribute %s: %w", idAttr, ErrMissingID)
	}
	if len(samlxml.Children(el, NamespaceDSig, "Signature")) > 0 {
		return fmt.Errorf("sign: %w: element already signed", ErrMultipleSignatures)
	}
	index := 0
	if opts.After != nil {
		if opts.After.Parent() != el {
			return fmt.Errorf("sign: %w: After is not a child of the element", ErrMalformed)
		}
		index = opts.After.Index() + 1
	} else if iss := samlxml.Children(el, NamespaceSAML, "Issuer"); len(iss) > 0 {
		index = iss[0].Index() + 1
	}

	canon, err := canonicalize(el, c14nOptions{inclusive: opts.InclusivePrefixes})
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	dh := digestHash.New()
	dh.Write(canon)

	sig := etree.NewElement("ds:Signature")
	sig.CreateAttr("xmlns:ds", NamespaceDSig)
	si := sig.CreateElement("ds:SignedInfo")
	si.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", C14NExclusive)
	si.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", opts.Algorithm)
	ref := si.CreateElement("ds:Reference")
	ref.CreateAttr("URI", "#"+id)
	tr := ref.CreateElement("ds:Transforms")
	tr.CreateElement("ds:Transform").CreateAttr("Algorithm", TransformEnveloped)
	exc := tr.CreateElement("ds:Transform")
	exc.CreateAttr("Algorithm", C14NExclusive)
	if len(opts.InclusivePrefixes) > 0 {
		in := exc.CreateElement("ec:InclusiveNamespaces")
		in.CreateAttr("xmlns:ec", NamespaceExcC14N)
		in.CreateAttr("PrefixList", strings.Join(opts.InclusivePrefixes, " "))
	}
	ref.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", digestAlg)
	ref.CreateElement("ds:DigestValue").SetText(base64.StdEncoding.EncodeToString(dh.Sum(nil)))
	sv := sig.CreateElement("ds:SignatureValue")
	if len(certs) > 0 {
		xd := sig.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data")
		for _, c := range certs {
			xd.CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(c.Raw))
		}
	}

	el.InsertChildAt(index, sig)
	value, err := signSignedInfo(si, signer, alg)
	if err != nil {
		el.RemoveChild(sig)
		return fmt.Errorf("sign: %w", err)
	}
	sv.SetText(base64.StdEncoding.EncodeToString(value))
	return nil
}

func signSignedInfo(si *etree.Element, signer crypto.Signer, alg sigAlgorithm) ([]byte, error) {
	canon, err := canonicalize(si, c14nOptions{})
	if err != nil {
		return nil, err
	}
	return signData(signer, alg, canon)
}

// signData hashes data and signs it; ECDSA values come out as raw r‖s.
func signData(signer crypto.Signer, alg sigAlgorithm, data []byte) ([]byte, error) {
	h := alg.hash.New()
	h.Write(data)
	hashed := h.Sum(nil)
	switch alg.kind {
	case kindRSAPSS:
		return signer.Sign(rand.Reader, hashed, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: alg.hash})
	case kindRSAPKCS1:
		return signer.Sign(rand.Reader, hashed, alg.hash)
	case kindECDSA:
		der, err := signer.Sign(rand.Reader, hashed, alg.hash)
		if err != nil {
			return nil, err
		}
		return ecdsaRaw(der, signer.Public().(*ecdsa.PublicKey))
	}
	return nil, fmt.Errorf("%w: signature kind", ErrUnsupportedAlgorithm)
}

// ecdsaRaw converts a crypto.Signer's ASN.1 ECDSA signature to the
// fixed-width r‖s form XML Signature requires.
func ecdsaRaw(der []byte, pub *ecdsa.PublicKey) ([]byte, error) {
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &rs)
	if err != nil || len(rest) != 0 || rs.R == nil || rs.S == nil || rs.R.Sign() <= 0 || rs.S.Sign() <= 0 {
		return nil, fmt.Errorf("%w: signer returned a malformed ECDSA signature", ErrSignatureInvalid)
	}
	size := (pub.Curve.Params().BitSize + 7) / 8
	if rs.R.BitLen() > 8*size || rs.S.BitLen() > 8*size {
		return nil, fmt.Errorf("%w: ECDSA signature too long for the curve", ErrSignatureInvalid)
	}
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}
