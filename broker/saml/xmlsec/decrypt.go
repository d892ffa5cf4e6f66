package xmlsec

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// DecryptOptions configure Decrypt.
type DecryptOptions struct {
	// Limits apply to the decrypted XML.
	Limits Limits
	// AllowLegacyKeyTransport also accepts, for peers on eIDAS protocol
	// versions before 1.4: rsa-oaep-mgf1p, and SHA-1 as OAEP digest or MGF1
	// hash. For rsa-oaep-mgf1p with a SHA-2 digest it first tries MGF1-SHA1
	// (as the W3C specifies) and then MGF1 with the digest hash (as EU
	// eIDAS-Node 2.x produces). Never needed for protocol 1.4 peers.
	AllowLegacyKeyTransport bool
	// AllowAESCBC also accepts aes128-cbc, aes192-cbc and aes256-cbc content
	// encryption (XML Encryption 1.0), for upstreams outside the eIDAS
	// profile that still send it. CBC has no integrity of its own and is
	// open to padding-oracle attacks when an attacker can submit chosen
	// ciphertexts and observe failures; callers may set this only when the
	// ciphertext was covered by a verified signature before decryption.
	// Triple-DES stays refused.
	AllowAESCBC bool
}

// Decrypt opens an EncryptedData element (or a wrapper such as
// saml:EncryptedAssertion holding exactly one EncryptedData) and returns
// the decrypted element, parsed with the same safe parser and limits.
// Namespace bindings in scope at the EncryptedData are applied while
// parsing and declared on the returned root, so the result stands alone.
//
// key is the recipient's private key:
//   - a crypto.Decrypter with an RSA public key (*rsa.PrivateKey or an HSM
//     key) for RSA-OAEP key transport;
//   - an ECDHKey (*ecdh.PrivateKey or an HSM key) or an *ecdsa.PrivateKey
//     for ECDH-ES key agreement.
//
// Accepted: content aes128-gcm, aes192-gcm, aes256-gcm (12-byte IV prefix,
// 16-byte tag suffix); key transport xmlenc11#rsa-oaep (DigestMethod and
// xenc11:MGF honoured, defaults SHA-1 which is legacy); key agreement
// ECDH-ES on P-256/384/521 with ConcatKDF (SHA-256/384/512) and
// kw-aes128/kw-aes256. CBC modes are refused with ErrCBCRefused (AES-CBC
// is opened only with DecryptOptions.AllowAESCBC) and RSA
// PKCS#1 v1.5 key transport with ErrRSA15Refused, before any key is used.
// The EncryptedKey is taken from the EncryptedData's KeyInfo or, failing
// that, must be the single EncryptedKey sibling inside the wrapper.
func Decrypt(enc *etree.Element, key crypto.PrivateKey, opts DecryptOptions) (*etree.Element, error) {
	root, err := decrypt(enc, key, opts)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	return root, nil
}

func decrypt(enc *etree.Element, key crypto.PrivateKey, opts DecryptOptions) (*etree.Element, error) {
	if enc == nil {
		return nil, fmt.Errorf("%w: nil element", ErrEncryptionStructure)
	}
	ed, wrapper := enc, (*etree.Element)(nil)
	if !samlxml.Is(enc, NamespaceXMLEnc, "EncryptedData") {
		eds := samlxml.Children(enc, NamespaceXMLEnc, "EncryptedData")
		if len(eds) != 1 {
			return nil, fmt.Errorf("%w: %d EncryptedData elements, need exactly one", ErrEncryptionStructure, len(eds))
		}
		ed, wrapper = eds[0], enc
	}
	switch samlxml.AttrValue(ed, "Type") {
	case "", TypeElement:
	default:
		return nil, fmt.Errorf("%w: EncryptedData Type %q, need Element", ErrEncryptionStructure, samlxml.AttrValue(ed, "Type"))
	}
	em, n := onlyChild(ed, NamespaceXMLEnc, "EncryptionMethod")
	if n != 1 {
		return nil, fmt.Errorf("%w: EncryptedData needs one EncryptionMethod", ErrEncryptionStructure)
	}
	keyLen, cbc, err := contentAlgorithm(samlxml.AttrValue(em, "Algorithm"), opts.AllowAESCBC)
	if err != nil {
		return nil, err
	}
	ciphertext, err := cipherValue(ed)
	if err != nil {
		return nil, err
	}
	ek, err := findEncryptedKey(ed, wrapper)
	if err != nil {
		return nil, err
	}
	contentKey, err := openEncryptedKey(ek, key, opts)
	if err != nil {
		return nil, err
	}
	if len(contentKey) != keyLen {
		return nil, fmt.Errorf("%w: content key has the wrong length", ErrDecryptionFailed)
	}
	open := openGCM
	if cbc {
		open = openCBC
	}
	plain, err := open(contentKey, ciphertext)
	if err != nil {
		return nil, err
	}
	scope, err := scopeAt(ed.Parent())
	if err != nil {
		return nil, err
	}
	doc, err := parseInScope(plain, opts.Limits, scope)
	if err != nil {
		return nil, fmt.Errorf("decrypted content: %w", err)
	}
	return doc.Root(), nil
}

func cipherValue(e *etree.Element) ([]byte, error) {
	cd, n := onlyChild(e, NamespaceXMLEnc, "CipherData")
	if n != 1 {
		return nil, fmt.Errorf("%w: need one CipherData", ErrEncryptionStructure)
	}
	cv, n := onlyChild(cd, NamespaceXMLEnc, "CipherValue")
	if n != 1 || len(cd.ChildElements()) != 1 {
		return nil, fmt.Errorf("%w: CipherData must hold one CipherValue (CipherReference is not supported)", ErrEncryptionStructure)
	}
	b, err := decodeBase64(samlxml.Text(cv))
	if err != nil {
		return nil, fmt.Errorf("%w: CipherValue", ErrEncryptionStructure)
	}
	return b, nil
}

func findEncryptedKey(ed, wrapper *etree.Element) (*etree.Element, error) {
	retrievalID := ""
	if ki, n := onlyChild(ed, NamespaceDSig, "KeyInfo"); n == 1 {
		eks := samlxml.Children(ki, NamespaceXMLEnc, "EncryptedKey")
		switch {
		case len(eks) == 1:
			return eks[0], nil
		case len(eks) > 1:
			return nil, fmt.Errorf("%w: several EncryptedKey elements", ErrEncryptionStructure)
		}
		if len(samlxml.Children(ki, NamespaceXMLEnc, "AgreementMethod")) > 0 {
			return nil, fmt.Errorf("%w: key agreement without key wrap", ErrUnsupportedAlgorithm)
		}
		if rm, n := onlyChild(ki, NamespaceDSig, "RetrievalMethod"); n == 1 {
			uri := samlxml.AttrValue(rm, "URI")
			if len(uri) < 2 || uri[0] != '#' {
				return nil, fmt.Errorf("%w: RetrievalMethod must reference a local EncryptedKey", ErrEncryptionStructure)
			}
			retrievalID = uri[1:]
		}
	} else if n > 1 {
		return nil, fmt.Errorf("%w: several KeyInfo elements", ErrEncryptionStructure)
	}
	if wrapper == nil {
		return nil, fmt.Errorf("%w: no EncryptedKey", ErrEncryptionStructure)
	}
	eks := samlxml.Children(wrapper, NamespaceXMLEnc, "EncryptedKey")
	if len(eks) != 1 {
		return nil, fmt.Errorf("%w: %d EncryptedKey elements beside the EncryptedData, need exactly one", ErrEncryptionStructure, len(eks))
	}
	if retrievalID != "" && samlxml.AttrValue(eks[0], "Id") != retrievalID {
		return nil, fmt.Errorf("%w: RetrievalMethod does not match the EncryptedKey", ErrEncryptionStructure)
	}
	return eks[0], nil
}

func openEncryptedKey(ek *etree.Element, key crypto.PrivateKey, opts DecryptOptions) ([]byte, error) {
	em, n := onlyChild(ek, NamespaceXMLEnc, "EncryptionMethod")
	if n != 1 {
		return nil, fmt.Errorf("%w: EncryptedKey needs one EncryptionMethod", ErrEncryptionStructure)
	}
	wrapped, err := cipherValue(ek)
	if err != nil {
		return nil, err
	}
	var agreement *etree.Element
	if ki, n := onlyChild(ek, NamespaceDSig, "KeyInfo"); n == 1 {
		ams := samlxml.Children(ki, NamespaceXMLEnc, "AgreementMethod")
		if len(ams) > 1 {
			return nil, fmt.Errorf("%w: several AgreementMethod elements", ErrEncryptionStructure)
		}
		if len(ams) == 1 {
			agreement = ams[0]
		}
	} else if n > 1 {
		return nil, fmt.Errorf("%w: several KeyInfo elements in EncryptedKey", ErrEncryptionStructure)
	}

	alg := samlxml.AttrValue(em, "Algorithm")
	switch alg {
	case keyTransportRSA1:
		return nil, fmt.Errorf("key transport %q: %w: %w", alg, ErrAlgorithmNotAllowed, ErrRSA15Refused)
	case KeyTransportRSAOAEP, KeyTransportRSAOAEPMGF1P:
		if agreement != nil {
			return nil, fmt.Errorf("%w: key transport %q combined with key agreement", ErrEncryptionStructure, alg)
		}
		return openRSAOAEP(em, alg, wrapped, key, opts)
	case KeyWrapAES128, KeyWrapAES256:
		kekLen, _ := keyWrapLength(alg)
		if agreement == nil {
			return nil, fmt.Errorf("key wrap %q without key agreement: %w", alg, ErrUnsupportedAlgorithm)
		}
		kek, err := deriveECDHES(agreement, key, kekLen)
		if err != nil {
			return nil, err
		}
		return aesKeyUnwrap(kek, wrapped)
	}
	return nil, fmt.Errorf("key encryption method %q: %w", alg, ErrUnsupportedAlgorithm)
}

func openRSAOAEP(em *etree.Element, alg string, wrapped []byte, key crypto.PrivateKey, opts DecryptOptions) ([]byte, error) {
	if alg == KeyTransportRSAOAEPMGF1P && !opts.AllowLegacyKeyTransport {
		return nil, fmt.Errorf("key transport %q (not allowed from eIDAS protocol 1.4): %w", alg, ErrAlgorithmNotAllowed)
	}
	digest, mgf := crypto.SHA1, crypto.SHA1
	var label []byte
	for _, c := range em.ChildElements() {
		switch {
		case samlxml.Is(c, NamespaceDSig, "DigestMethod"):
			h, err := lookupDigest(samlxml.AttrValue(c, "Algorithm"), true)
			if err != nil {
				return nil, err
			}
			digest = h
		case samlxml.Is(c, NamespaceXMLEnc11, "MGF") && alg == KeyTransportRSAOAEP:
			h, ok := mgfHash(samlxml.AttrValue(c, "Algorithm"))
			if !ok {
				return nil, fmt.Errorf("MGF %q: %w", samlxml.AttrValue(c, "Algorithm"), ErrUnsupportedAlgorithm)
			}
			mgf = h
		case samlxml.Is(c, NamespaceXMLEnc, "OAEPparams"):
			b, err := decodeBase64(samlxml.Text(c))
			if err != nil {
				return nil, fmt.Errorf("%w: OAEPparams", ErrEncryptionStructure)
			}
			label = b
		case samlxml.Is(c, NamespaceXMLEnc, "KeySize"):
		default:
			return nil, fmt.Errorf("%w: unexpected %s in key transport EncryptionMethod", ErrEncryptionStructure, c.Tag)
		}
	}
	if (digest == crypto.SHA1 || mgf == crypto.SHA1) && !opts.AllowLegacyKeyTransport {
		return nil, fmt.Errorf("key transport with SHA-1 digest or MGF1-SHA1: %w", ErrAlgorithmNotAllowed)
	}
	dec, ok := key.(crypto.Decrypter)
	if !ok {
		return nil, fmt.Errorf("%w: RSA key transport needs a crypto.Decrypter, got %T", ErrKeyType, key)
	}
	if _, ok := dec.Public().(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("%w: RSA key transport needs an RSA key", ErrKeyType)
	}
	out, err := dec.Decrypt(rand.Reader, wrapped, &rsa.OAEPOptions{Hash: digest, MGFHash: mgf, Label: label})
	if err != nil && alg == KeyTransportRSAOAEPMGF1P && digest != crypto.SHA1 {
		out, err = dec.Decrypt(rand.Reader, wrapped, &rsa.OAEPOptions{Hash: digest, MGFHash: digest, Label: label})
	}
	if err != nil {
		return nil, fmt.Errorf("unwrap content key: %w", ErrDecryptionFailed)
	}
	return out, nil
}

func deriveECDHES(am *etree.Element, key crypto.PrivateKey, kekLen int) ([]byte, error) {
	if alg := samlxml.AttrValue(am, "Algorithm"); alg != KeyAgreementECDHES {
		return nil, fmt.Errorf("key agreement %q: %w", alg, ErrUnsupportedAlgorithm)
	}
	kdm, n := onlyChild(am, NamespaceXMLEnc11, "KeyDerivationMethod")
	if n != 1 {
		return nil, fmt.Errorf("%w: ECDH-ES needs one KeyDerivationMethod", ErrEncryptionStructure)
	}
	if alg := samlxml.AttrValue(kdm, "Algorithm"); alg != KDFConcat {
		return nil, fmt.Errorf("key derivation %q: %w", alg, ErrUnsupportedAlgorithm)
	}
	params, n := onlyChild(kdm, NamespaceXMLEnc11, "ConcatKDFParams")
	if n != 1 {
		return nil, fmt.Errorf("%w: ConcatKDF needs ConcatKDFParams", ErrEncryptionStructure)
	}
	dm, n := onlyChild(params, NamespaceDSig, "DigestMethod")
	if n != 1 {
		return nil, fmt.Errorf("%w: ConcatKDFParams needs one DigestMethod", ErrEncryptionStructure)
	}
	kdfHash, err := lookupDigest(samlxml.AttrValue(dm, "Algorithm"), false)
	if err != nil {
		return nil, err
	}
	var otherInfo []byte
	for _, name := range []string{"AlgorithmID", "PartyUInfo", "PartyVInfo", "SuppPubInfo", "SuppPrivInfo"} {
		b, err := kdfBitString(samlxml.AttrValue(params, name))
		if err != nil {
			return nil, err
		}
		otherInfo = append(otherInfo, b...)
	}

	oki, n := onlyChild(am, NamespaceXMLEnc, "OriginatorKeyInfo")
	if n != 1 {
		return nil, fmt.Errorf("%w: ECDH-ES needs one OriginatorKeyInfo", ErrEncryptionStructure)
	}
	eph, err := originatorKey(oki)
	if err != nil {
		return nil, err
	}
	priv, err := ecdhKeyOf(key)
	if err != nil {
		return nil, err
	}
	if priv.Curve() != eph.Curve() {
		return nil, fmt.Errorf("%w: originator key is on another curve than the recipient key", ErrKeyType)
	}
	z, err := priv.ECDH(eph)
	if err != nil {
		return nil, fmt.Errorf("key agreement: %w", ErrDecryptionFailed)
	}
	return concatKDF(kdfHash, z, otherInfo, kekLen), nil
}

func ecdhKeyOf(key crypto.PrivateKey) (ECDHKey, error) {
	switch k := key.(type) {
	case ECDHKey:
		return k, nil
	case *ecdsa.PrivateKey:
		ek, err := k.ECDH()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnsupportedCurve, err)
		}
		return ek, nil
	}
	return nil, fmt.Errorf("%w: ECDH-ES needs an EC private key, got %T", ErrKeyType, key)
}

// originatorKey reads the ephemeral public key from OriginatorKeyInfo: a
// ds:KeyValue/dsig11:ECKeyValue (named curve + uncompressed point) and/or a
// dsig11:DEREncodedKeyValue (SubjectPublicKeyInfo). When both are present
// they must agree.
func originatorKey(oki *etree.Element) (*ecdh.PublicKey, error) {
	var fromValue, fromDER *ecdh.PublicKey
	for _, kv := range samlxml.Children(oki, NamespaceDSig, "KeyValue") {
		for _, ecv := range samlxml.Children(kv, NamespaceDSig11, "ECKeyValue") {
			if fromValue != nil {
				return nil, fmt.Errorf("%w: several ECKeyValue elements", ErrEncryptionStructure)
			}
			nc, n := onlyChild(ecv, NamespaceDSig11, "NamedCurve")
			if n != 1 {
				return nil, fmt.Errorf("%w: ECKeyValue needs a NamedCurve (explicit parameters are not supported)", ErrUnsupportedCurve)
			}
			curve, err := curveFromURI(samlxml.AttrValue(nc, "URI"))
			if err != nil {
				return nil, err
			}
			pk, n := onlyChild(ecv, NamespaceDSig11, "PublicKey")
			if n != 1 {
				return nil, fmt.Errorf("%w: ECKeyValue needs one PublicKey", ErrEncryptionStructure)
			}
			point, err := decodeBase64(samlxml.Text(pk))
			if err != nil {
				return nil, fmt.Errorf("%w: ECKeyValue PublicKey", ErrEncryptionStructure)
			}
			if fromValue, err = curve.NewPublicKey(point); err != nil {
				return nil, fmt.Errorf("%w: invalid originator point", ErrEncryptionStructure)
			}
		}
	}
	if ders := samlxml.Children(oki, NamespaceDSig11, "DEREncodedKeyValue"); len(ders) > 0 {
		if len(ders) > 1 {
			return nil, fmt.Errorf("%w: several DEREncodedKeyValue elements", ErrEncryptionStructure)
		}
		der, err := decodeBase64(samlxml.Text(ders[0]))
		if err != nil {
			return nil, fmt.Errorf("%w: DEREncodedKeyValue", ErrEncryptionStructure)
		}
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			// The standard library cannot parse brainpool and other
			// curves; surface that as an unsupported curve.
			return nil, fmt.Errorf("%w: originator key: %v", ErrUnsupportedCurve, err)
		}
		switch k := pub.(type) {
		case *ecdsa.PublicKey:
			if fromDER, err = k.ECDH(); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrUnsupportedCurve, err)
			}
		case *ecdh.PublicKey:
			fromDER = k
		default:
			return nil, fmt.Errorf("%w: originator key is %T", ErrKeyType, pub)
		}
	}
	switch {
	case fromValue != nil && fromDER != nil:
		if !fromValue.Equal(fromDER) {
			return nil, fmt.Errorf("%w: ECKeyValue and DEREncodedKeyValue disagree", ErrEncryptionStructure)
		}
		return fromValue, nil
	case fromValue != nil:
		return fromValue, nil
	case fromDER != nil:
		return fromDER, nil
	}
	return nil, fmt.Errorf("%w: no originator public key", ErrEncryptionStructure)
}

// openGCM decrypts IV(12) ‖ ciphertext ‖ tag(16) as XML Encryption 1.1
// §5.2.4 specifies for AES-GCM.
func openGCM(key, data []byte) ([]byte, error) {
	const ivLen, tagLen = 12, 16
	if len(data) < ivLen+tagLen {
		return nil, fmt.Errorf("content: %w: ciphertext too short", ErrDecryptionFailed)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("content: %w", ErrDecryptionFailed)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("content: %w", ErrDecryptionFailed)
	}
	plain, err := gcm.Open(nil, data[:ivLen], data[ivLen:], nil)
	if err != nil {
		return nil, fmt.Errorf("content: %w", ErrDecryptionFailed)
	}
	return plain, nil
}

// openCBC decrypts IV(16) ‖ ciphertext as XML Encryption 1.0 §5.2.1
// specifies for AES-CBC: the last plaintext byte gives the padding length
// (1..16); the other padding bytes are arbitrary. Every failure is the same
// ErrDecryptionFailed, so the error says nothing about the padding.
func openCBC(key, data []byte) ([]byte, error) {
	const bs = aes.BlockSize
	if len(data) < 2*bs || len(data)%bs != 0 {
		return nil, fmt.Errorf("content: %w: ciphertext length", ErrDecryptionFailed)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("content: %w", ErrDecryptionFailed)
	}
	plain := make([]byte, len(data)-bs)
	cipher.NewCBCDecrypter(block, data[:bs]).CryptBlocks(plain, data[bs:])
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > bs {
		return nil, fmt.Errorf("content: %w", ErrDecryptionFailed)
	}
	return plain[:len(plain)-pad], nil
}
