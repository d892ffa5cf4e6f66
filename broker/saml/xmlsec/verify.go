package xmlsec

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// VerifyOptions configure Verify. The zero value refuses everything (no
// trusted certificates); set Trusted.
type VerifyOptions struct {
	// Trusted are the certificates whose public keys may have made the
	// signature, typically the signing certificates from the peer's verified
	// metadata. If the signature's KeyInfo carries certificates, at least one
	// must be byte-identical to a trusted certificate and only those are
	// tried; KeyInfo is never a source of trust. Without KeyInfo certificates
	// every trusted certificate is tried (key rollover).
	Trusted []*x509.Certificate
	// AllowRSAPKCS1v15 also accepts rsa-sha256/384/512 (PKCS#1 v1.5), which
	// the eIDAS profile forbids. For non-eIDAS peers only.
	AllowRSAPKCS1v15 bool
	// IDAttribute names the signed element's ID attribute (default "ID").
	IDAttribute string
	// Limits apply when re-parsing the signed bytes.
	Limits Limits
	// Now is the clock for certificate validity (default time.Now).
	Now func() time.Time
	// AllowEmptyURI also accepts Reference URI="" (the whole document), as
	// some producers use for metadata without an ID, provided el is the
	// document element. The signature must still be el's direct child.
	AllowEmptyURI bool
	// IgnoreCertificateValidity skips the NotBefore/NotAfter check, for
	// keys pinned out of band where the certificate is only a key container
	// (for example metadata signing certificates whose expiry the metadata
	// layer judges).
	IgnoreCertificateValidity bool
}

// Verify checks the enveloped signature on el under the eIDAS profile and
// returns the signed element as re-parsed from the exact canonical bytes
// whose digest the signature covers (without the Signature element), plus
// the trusted certificate whose key verified it.
//
// Callers must read data only from the returned element, never from el: el
// may contain unsigned additions (wrapped copies, comments splitting text,
// foreign elements inside Signature) that the signature does not cover.
//
// The profile: exactly one ds:Signature that is a direct child of el;
// SignedInfo canonicalised with exclusive c14n; SignatureMethod RSASSA-PSS
// (salt length = hash length, RSA ≥ 3072) or ECDSA (raw r‖s, P-256/384/521),
// or PKCS#1 v1.5 only with AllowRSAPKCS1v15; exactly one Reference with URI
// "#" + el's ID; transforms exactly enveloped-signature then exclusive
// c14n; digest SHA-256/384/512; no ds:Object; the ID unique in the
// document. The SignedInfo that is acted upon is the one re-parsed from the
// verified canonical bytes.
func Verify(el *etree.Element, opts VerifyOptions) (*etree.Element, *x509.Certificate, error) {
	return verifyWithPolicy(el, opts, defaultKeyPolicy())
}

type signedInfo struct {
	alg          sigAlgorithm
	refURI       string
	refPrefixes  []string
	digestHash   crypto.Hash
	digestValue  []byte
	c14nPrefixes []string
}

func verifyWithPolicy(el *etree.Element, opts VerifyOptions, policy keyPolicy) (*etree.Element, *x509.Certificate, error) {
	if el == nil {
		return nil, nil, fmt.Errorf("verify signature: %w: nil element", ErrNotSigned)
	}
	idAttr := opts.IDAttribute
	if idAttr == "" {
		idAttr = "ID"
	}
	sigs := samlxml.Children(el, NamespaceDSig, "Signature")
	switch {
	case len(sigs) == 0:
		return nil, nil, fmt.Errorf("verify signature: %w", ErrNotSigned)
	case len(sigs) > 1:
		return nil, nil, fmt.Errorf("verify signature: %d signatures: %w", len(sigs), ErrMultipleSignatures)
	}
	sig := sigs[0]

	siEl, sigValue, keyInfoCerts, err := splitSignature(sig)
	if err != nil {
		return nil, nil, fmt.Errorf("verify signature: %w", err)
	}
	cm := siEl.ChildElements()
	if len(cm) == 0 || !samlxml.Is(cm[0], NamespaceDSig, "CanonicalizationMethod") {
		return nil, nil, fmt.Errorf("verify signature: %w: CanonicalizationMethod must come first in SignedInfo", ErrSignatureStructure)
	}
	siPrefixes, err := c14nMethod(cm[0])
	if err != nil {
		return nil, nil, fmt.Errorf("verify signature: SignedInfo: %w", err)
	}
	// Canonical forms of attacker-supplied trees are capped (see
	// c14nOptions.maxBytes); a genuine document never comes close.
	maxCanon := 4 * opts.Limits.withDefaults().MaxBytes
	siBytes, err := canonicalize(siEl, c14nOptions{inclusive: siPrefixes, maxBytes: maxCanon})
	if err != nil {
		return nil, nil, fmt.Errorf("verify signature: SignedInfo: %w", err)
	}
	// Everything below is read from the canonical SignedInfo, i.e. from the
	// bytes the signature value covers, not from the input tree.
	siDoc, err := Parse(siBytes, opts.Limits)
	if err != nil {
		return nil, nil, fmt.Errorf("verify signature: SignedInfo: %w", err)
	}
	si, err := parseSignedInfo(siDoc.Root(), opts.AllowRSAPKCS1v15)
	if err != nil {
		return nil, nil, fmt.Errorf("verify signature: %w", err)
	}
	if !slices.Equal(si.c14nPrefixes, siPrefixes) {
		return nil, nil, fmt.Errorf("verify signature: %w: canonicalisation parameters changed", ErrSignatureStructure)
	}
	if err := checkReference(el, si.refURI, idAttr, opts.AllowEmptyURI); err != nil {
		return nil, nil, fmt.Errorf("verify signature: %w", err)
	}

	candidates, err := candidateCertificates(opts.Trusted, keyInfoCerts)
	if err != nil {
		return nil, nil, fmt.Errorf("verify signature: %w", err)
	}
	h := si.alg.hash.New()
	h.Write(siBytes)
	cert, err := verifySignatureValue(candidates, si.alg, h.Sum(nil), sigValue, opts, policy)
	if err != nil {
		return nil, nil, fmt.Errorf("verify signature: %w", err)
	}

	signed, err := canonicalize(el, c14nOptions{inclusive: si.refPrefixes, exclude: sig, maxBytes: maxCanon})
	if err != nil {
		return nil, nil, fmt.Errorf("verify signature: reference: %w", err)
	}
	dh := si.digestHash.New()
	dh.Write(signed)
	if subtle.ConstantTimeCompare(dh.Sum(nil), si.digestValue) != 1 {
		return nil, nil, fmt.Errorf("verify signature: %w", ErrDigestMismatch)
	}
	// The canonical form may legitimately be somewhat larger than the
	// input (declarations pushed down), so only the canonical cap applies.
	reparse := opts.Limits.withDefaults()
	reparse.MaxBytes = maxCanon
	doc, err := Parse(signed, reparse)
	if err != nil {
		return nil, nil, fmt.Errorf("verify signature: re-parse signed element: %w", err)
	}
	return doc.Root(), cert, nil
}

// checkReference enforces the SAML profile (saml-core §5.4.2): the single
// Reference names the signed element by its own, document-unique ID.
func checkReference(el *etree.Element, uri, idAttr string, allowEmpty bool) error {
	if uri == "" && allowEmpty {
		if p := el.Parent(); p != nil && (p.Parent() != nil || p.Tag != "") {
			return fmt.Errorf("%w: URI=\"\" but the element is not the document element", ErrReference)
		}
		if p := el.Parent(); p != nil {
			for _, t := range p.Child {
				if pi, ok := t.(*etree.ProcInst); ok && pi.Target != "xml" {
					return fmt.Errorf("%w: URI=\"\" with a document-level processing instruction", ErrProcInst)
				}
			}
		}
		return nil
	}
	id := samlxml.AttrValue(el, idAttr)
	if id == "" {
		return fmt.Errorf("attribute %s: %w", idAttr, ErrMissingID)
	}
	if uri != "#"+id {
		return fmt.Errorf("reference %q, element ID %q: %w", uri, id, ErrReference)
	}
	return checkUniqueID(el, id, idAttr)
}

// checkUniqueID refuses a document in which another element carries the same
// ID value, under idAttr or the other common ID attribute spellings. Other
// processors resolve "#id" by lookup; a second holder of the value is the
// classic signature-wrapping set-up.
func checkUniqueID(el *etree.Element, id, idAttr string) error {
	names := []string{idAttr, "ID", "Id", "id"}
	count := 0
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		for _, a := range e.Attr {
			if a.Space == "" && a.Value == id && slices.Contains(names, a.Key) {
				count++
				break
			}
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(top(el))
	if count > 1 {
		return fmt.Errorf("%w: %d elements carry the signed ID", ErrDuplicateID, count)
	}
	return nil
}

// splitSignature checks the ds:Signature layout (SignedInfo, SignatureValue,
// optional KeyInfo, nothing else; ds:Object is refused because the profile
// never needs it and wrapping attacks hide content there).
func splitSignature(sig *etree.Element) (si *etree.Element, value []byte, certs [][]byte, err error) {
	kids := sig.ChildElements()
	if len(kids) < 2 || !samlxml.Is(kids[0], NamespaceDSig, "SignedInfo") || !samlxml.Is(kids[1], NamespaceDSig, "SignatureValue") {
		return nil, nil, nil, fmt.Errorf("%w: expected SignedInfo, SignatureValue", ErrSignatureStructure)
	}
	if len(kids) > 3 || (len(kids) == 3 && !samlxml.Is(kids[2], NamespaceDSig, "KeyInfo")) {
		return nil, nil, nil, fmt.Errorf("%w: unexpected element after SignatureValue", ErrSignatureStructure)
	}
	value, err = decodeBase64(samlxml.Text(kids[1]))
	if err != nil || len(value) == 0 {
		return nil, nil, nil, fmt.Errorf("%w: SignatureValue", ErrSignatureStructure)
	}
	if len(kids) == 3 {
		for _, xd := range samlxml.Children(kids[2], NamespaceDSig, "X509Data") {
			for _, xc := range samlxml.Children(xd, NamespaceDSig, "X509Certificate") {
				der, err := decodeBase64(samlxml.Text(xc))
				if err != nil || len(der) == 0 {
					return nil, nil, nil, fmt.Errorf("%w: KeyInfo certificate", ErrSignatureStructure)
				}
				certs = append(certs, der)
			}
		}
	}
	return kids[0], value, certs, nil
}

// maxPrefixList bounds InclusiveNamespaces PrefixList (each entry is
// looked at on every element while canonicalising).
const maxPrefixList = 32

// c14nMethod checks a CanonicalizationMethod or Transform element for
// exclusive c14n and returns its InclusiveNamespaces PrefixList.
func c14nMethod(e *etree.Element) ([]string, error) {
	alg := samlxml.AttrValue(e, "Algorithm")
	switch alg {
	case C14NExclusive:
	case c14nExclComments:
		return nil, fmt.Errorf("%w: %q (comments would be signed)", ErrTransform, alg)
	default:
		return nil, fmt.Errorf("%w: canonicalisation %q", ErrTransform, alg)
	}
	var prefixes []string
	kids := e.ChildElements()
	switch {
	case len(kids) == 0:
	case len(kids) == 1 && samlxml.Is(kids[0], NamespaceExcC14N, "InclusiveNamespaces"):
		prefixes = strings.Fields(samlxml.AttrValue(kids[0], "PrefixList"))
		if len(prefixes) > maxPrefixList {
			return nil, fmt.Errorf("%w: PrefixList with %d entries", ErrTransform, len(prefixes))
		}
	default:
		return nil, fmt.Errorf("%w: unexpected parameters of %q", ErrTransform, alg)
	}
	return prefixes, nil
}

func parseSignedInfo(si *etree.Element, allowPKCS1 bool) (signedInfo, error) {
	var out signedInfo
	kids := si.ChildElements()
	if len(kids) < 3 || !samlxml.Is(kids[0], NamespaceDSig, "CanonicalizationMethod") || !samlxml.Is(kids[1], NamespaceDSig, "SignatureMethod") {
		return out, fmt.Errorf("%w: SignedInfo layout", ErrSignatureStructure)
	}
	refs := kids[2:]
	for _, r := range refs {
		if !samlxml.Is(r, NamespaceDSig, "Reference") {
			return out, fmt.Errorf("%w: unexpected element in SignedInfo", ErrSignatureStructure)
		}
	}
	if len(refs) != 1 {
		return out, fmt.Errorf("%w: %d references, exactly one allowed", ErrReference, len(refs))
	}
	var err error
	if out.c14nPrefixes, err = c14nMethod(kids[0]); err != nil {
		return out, err
	}
	if len(kids[1].ChildElements()) != 0 {
		return out, fmt.Errorf("%w: SignatureMethod parameters", ErrSignatureStructure)
	}
	if out.alg, err = lookupSignatureAlgorithm(samlxml.AttrValue(kids[1], "Algorithm"), allowPKCS1); err != nil {
		return out, err
	}

	ref := refs[0]
	uri, ok := samlxml.Attr(ref, "URI")
	if !ok {
		return out, fmt.Errorf("%w: Reference without URI", ErrReference)
	}
	out.refURI = uri
	rk := ref.ChildElements()
	if len(rk) != 3 || !samlxml.Is(rk[0], NamespaceDSig, "Transforms") || !samlxml.Is(rk[1], NamespaceDSig, "DigestMethod") || !samlxml.Is(rk[2], NamespaceDSig, "DigestValue") {
		return out, fmt.Errorf("%w: Reference must hold Transforms, DigestMethod, DigestValue", ErrSignatureStructure)
	}
	ts := rk[0].ChildElements()
	if len(ts) != 2 || !samlxml.Is(ts[0], NamespaceDSig, "Transform") || !samlxml.Is(ts[1], NamespaceDSig, "Transform") {
		return out, fmt.Errorf("%w: exactly enveloped-signature and exclusive c14n required", ErrTransform)
	}
	if samlxml.AttrValue(ts[0], "Algorithm") != TransformEnveloped || len(ts[0].ChildElements()) != 0 {
		return out, fmt.Errorf("%w: first transform %q", ErrTransform, samlxml.AttrValue(ts[0], "Algorithm"))
	}
	if out.refPrefixes, err = c14nMethod(ts[1]); err != nil {
		return out, err
	}
	if out.digestHash, err = lookupDigest(samlxml.AttrValue(rk[1], "Algorithm"), false); err != nil {
		return out, err
	}
	if out.digestValue, err = decodeBase64(samlxml.Text(rk[2])); err != nil || len(out.digestValue) != out.digestHash.Size() {
		return out, fmt.Errorf("%w: DigestValue", ErrSignatureStructure)
	}
	return out, nil
}

func candidateCertificates(trusted []*x509.Certificate, keyInfo [][]byte) ([]*x509.Certificate, error) {
	if len(trusted) == 0 {
		return nil, ErrNoTrustedCertificates
	}
	if len(keyInfo) == 0 {
		return trusted, nil
	}
	var out []*x509.Certificate
	for _, t := range trusted {
		if t == nil {
			continue
		}
		for _, der := range keyInfo {
			if bytes.Equal(t.Raw, der) {
				out = append(out, t)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, ErrUntrustedCertificate
	}
	return out, nil
}

func verifySignatureValue(candidates []*x509.Certificate, alg sigAlgorithm, hashed, value []byte, opts VerifyOptions, policy keyPolicy) (*x509.Certificate, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	var firstErr error
	tried := false
	for _, c := range candidates {
		if c == nil {
			continue
		}
		if !opts.IgnoreCertificateValidity {
			t := now()
			if t.Before(c.NotBefore) || t.After(c.NotAfter) {
				firstErr = cmpErr(firstErr, fmt.Errorf("%w: valid %s to %s", ErrCertificateValidity,
					c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339)))
				continue
			}
		}
		if err := checkKeyForAlg(c.PublicKey, alg.kind, policy); err != nil {
			firstErr = cmpErr(firstErr, err)
			continue
		}
		tried = true
		if verifyRaw(c.PublicKey, alg, hashed, value) {
			return c, nil
		}
	}
	if tried {
		return nil, ErrSignatureInvalid
	}
	if firstErr == nil {
		firstErr = ErrNoTrustedCertificates
	}
	return nil, firstErr
}

func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

func checkKeyForAlg(pub crypto.PublicKey, kind sigKind, policy keyPolicy) error {
	switch pub.(type) {
	case *rsa.PublicKey:
		if kind != kindRSAPSS && kind != kindRSAPKCS1 {
			return fmt.Errorf("%w: RSA key for an ECDSA signature", ErrKeyType)
		}
	case *ecdsa.PublicKey:
		if kind != kindECDSA {
			return fmt.Errorf("%w: EC key for an RSA signature", ErrKeyType)
		}
	default:
		return fmt.Errorf("%w: %T", ErrKeyType, pub)
	}
	return policy.check(pub)
}

func verifyRaw(pub crypto.PublicKey, alg sigAlgorithm, hashed, value []byte) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch alg.kind {
		case kindRSAPSS:
			return rsa.VerifyPSS(k, alg.hash, hashed, value, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		case kindRSAPKCS1:
			return rsa.VerifyPKCS1v15(k, alg.hash, hashed, value) == nil
		}
	case *ecdsa.PublicKey:
		// XML Signature 1.1 §6.4.3: r and s as fixed-width big-endian
		// integers, concatenated (not ASN.1).
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(value) != 2*size {
			return false
		}
		r := new(big.Int).SetBytes(value[:size])
		s := new(big.Int).SetBytes(value[size:])
		return ecdsa.Verify(k, hashed, r, s)
	}
	return false
}
