package xmlsec

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"

	"github.com/beevik/etree"
)

// EncryptOptions configure Encrypt. The zero value gives the eIDAS v1.4
// defaults.
type EncryptOptions struct {
	// DataAlgorithm is EncAES256GCM (default) or EncAES128GCM.
	DataAlgorithm string
	// KeyWrapAlgorithm (EC recipients) is KeyWrapAES256 (default) or
	// KeyWrapAES128.
	KeyWrapAlgorithm string
	// KeyTransport (RSA recipients) is KeyTransportRSAOAEP (default, with
	// OAEP digest SHA-256 and MGF1-SHA256) or, only with
	// AllowLegacyKeyTransport, KeyTransportRSAOAEPMGF1P for peers on eIDAS
	// protocol versions before 1.4.
	KeyTransport string
	// OAEPDigest is the OAEP DigestMethod URI (default DigestSHA256).
	// DigestSHA1 requires AllowLegacyKeyTransport.
	OAEPDigest string
	// AllowLegacyKeyTransport permits rsa-oaep-mgf1p and SHA-1 OAEP digests.
	AllowLegacyKeyTransport bool
	// AllowAESCBC permits an AES-CBC DataAlgorithm (aes128/192/256-cbc),
	// for simulators of upstreams that still send it and for interop
	// tests. The broker itself never encrypts with CBC.
	AllowAESCBC bool
}

// Encrypt encrypts el (serialised with every namespace binding in scope, so
// it decrypts stand-alone) for recipient and returns a new, unattached
// xenc:EncryptedData element (Type Element) to be placed inside, for
// example, a saml:EncryptedAssertion. el itself is not modified.
//
// The key transport follows the recipient certificate's key, as the EU
// eIDAS-Node does: RSA (≥ 3072 bits) → xmlenc11#rsa-oaep with SHA-256
// digest and MGF1-SHA256; EC (P-256/384/521) → ECDH-ES with a fresh
// ephemeral key, ConcatKDF(SHA-256) and kw-aes256. The recipient certificate
// goes into the EncryptedKey's KeyInfo (RSA) or RecipientKeyInfo (EC),
// because EU nodes refuse an EncryptedKey that does not identify its key.
func Encrypt(el *etree.Element, recipient *x509.Certificate, opts EncryptOptions) (*etree.Element, error) {
	out, err := encrypt(el, recipient, opts)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return out, nil
}

func encrypt(el *etree.Element, recipient *x509.Certificate, opts EncryptOptions) (*etree.Element, error) {
	if el == nil || recipient == nil {
		return nil, fmt.Errorf("%w: nil element or recipient", ErrEncryptionStructure)
	}
	if err := CheckPublicKey(recipient.PublicKey); err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	dataAlg := opts.DataAlgorithm
	if dataAlg == "" {
		dataAlg = EncAES256GCM
	}
	if dataAlg == EncAES192GCM {
		return nil, fmt.Errorf("encryption method %q is accepted for decryption only: %w", dataAlg, ErrUnsupportedAlgorithm)
	}
	keyLen, cbc, err := contentAlgorithm(dataAlg, opts.AllowAESCBC)
	if err != nil {
		return nil, err
	}
	plain, err := canonicalize(el, c14nOptions{allAtApex: true})
	if err != nil {
		return nil, err
	}
	contentKey := make([]byte, keyLen)
	if _, err := rand.Read(contentKey); err != nil {
		return nil, err
	}
	seal := sealGCM
	if cbc {
		seal = sealCBC
	}
	sealed, err := seal(contentKey, plain)
	if err != nil {
		return nil, err
	}

	var ek *etree.Element
	switch pub := recipient.PublicKey.(type) {
	case *rsa.PublicKey:
		ek, err = rsaEncryptedKey(pub, recipient, contentKey, opts)
	case *ecdsa.PublicKey:
		ek, err = ecdhEncryptedKey(pub, recipient, contentKey, opts)
	default:
		err = fmt.Errorf("%w: recipient key %T", ErrKeyType, recipient.PublicKey)
	}
	if err != nil {
		return nil, err
	}

	ed := etree.NewElement("xenc:EncryptedData")
	ed.CreateAttr("xmlns:xenc", NamespaceXMLEnc)
	ed.CreateAttr("Type", TypeElement)
	ed.CreateElement("xenc:EncryptionMethod").CreateAttr("Algorithm", dataAlg)
	ki := ed.CreateElement("ds:KeyInfo")
	ki.CreateAttr("xmlns:ds", NamespaceDSig)
	ki.AddChild(ek)
	ed.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText(base64.StdEncoding.EncodeToString(sealed))
	return ed, nil
}

// sealCBC encrypts as XML Encryption 1.0 §5.2.1 specifies for AES-CBC:
// IV(16) ‖ ciphertext, padded to the block size with the last byte giving
// the padding length.
func sealCBC(key, plain []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	n := aes.BlockSize - len(plain)%aes.BlockSize
	padded := make([]byte, len(plain)+n)
	copy(padded, plain)
	padded[len(padded)-1] = byte(n)
	out := make([]byte, aes.BlockSize+len(padded))
	if _, err := rand.Read(out[:aes.BlockSize]); err != nil {
		return nil, err
	}
	cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], padded)
	return out, nil
}

func sealGCM(key, plain []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	iv := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plain)+gcm.Overhead())
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	return gcm.Seal(iv, iv, plain, nil), nil
}

func x509Data(parent *etree.Element, cert *x509.Certificate) {
	parent.CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(cert.Raw))
}

func rsaEncryptedKey(pub *rsa.PublicKey, cert *x509.Certificate, contentKey []byte, opts EncryptOptions) (*etree.Element, error) {
	transport := opts.KeyTransport
	if transport == "" {
		transport = KeyTransportRSAOAEP
	}
	switch transport {
	case KeyTransportRSAOAEP:
	case KeyTransportRSAOAEPMGF1P:
		if !opts.AllowLegacyKeyTransport {
			return nil, fmt.Errorf("key transport %q: %w", transport, ErrAlgorithmNotAllowed)
		}
	default:
		return nil, fmt.Errorf("key transport %q: %w", transport, ErrUnsupportedAlgorithm)
	}
	digestAlg := opts.OAEPDigest
	if digestAlg == "" {
		digestAlg = DigestSHA256
	}
	digest, err := lookupDigest(digestAlg, opts.AllowLegacyKeyTransport)
	if err != nil {
		return nil, err
	}
	mgf := digest
	if transport == KeyTransportRSAOAEPMGF1P {
		mgf = crypto.SHA1
	}
	wrapped, err := rsa.EncryptOAEPWithOptions(rand.Reader, pub, contentKey, &rsa.OAEPOptions{Hash: digest, MGFHash: mgf})
	if err != nil {
		return nil, err
	}
	ek := etree.NewElement("xenc:EncryptedKey")
	em := ek.CreateElement("xenc:EncryptionMethod")
	em.CreateAttr("Algorithm", transport)
	em.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", digestAlg)
	if transport == KeyTransportRSAOAEP {
		m := em.CreateElement("xenc11:MGF")
		m.CreateAttr("xmlns:xenc11", NamespaceXMLEnc11)
		m.CreateAttr("Algorithm", mgfURI(mgf))
	}
	x509Data(ek.CreateElement("ds:KeyInfo"), cert)
	ek.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText(base64.StdEncoding.EncodeToString(wrapped))
	return ek, nil
}

func ecdhEncryptedKey(pub *ecdsa.PublicKey, cert *x509.Certificate, contentKey []byte, opts EncryptOptions) (*etree.Element, error) {
	wrapAlg := opts.KeyWrapAlgorithm
	if wrapAlg == "" {
		wrapAlg = KeyWrapAES256
	}
	kekLen, err := keyWrapLength(wrapAlg)
	if err != nil {
		return nil, err
	}
	remote, err := pub.ECDH()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedCurve, err)
	}
	eph, err := remote.Curve().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	z, err := eph.ECDH(remote)
	if err != nil {
		return nil, err
	}
	// The ConcatKDF parameters mirror the EU eIDAS-Node: a single zero
	// octet each (hex "0000" including the padding-bits octet).
	params := kdfBitStringEncode([]byte{0})
	var otherInfo []byte
	for range 3 {
		b, err := kdfBitString(params)
		if err != nil {
			return nil, err
		}
		otherInfo = append(otherInfo, b...)
	}
	kek := concatKDF(crypto.SHA256, z, otherInfo, kekLen)
	wrapped, err := aesKeyWrap(kek, contentKey)
	if err != nil {
		return nil, err
	}

	ek := etree.NewElement("xenc:EncryptedKey")
	ek.CreateElement("xenc:EncryptionMethod").CreateAttr("Algorithm", wrapAlg)
	am := ek.CreateElement("ds:KeyInfo").CreateElement("xenc:AgreementMethod")
	am.CreateAttr("Algorithm", KeyAgreementECDHES)
	kdm := am.CreateElement("xenc11:KeyDerivationMethod")
	kdm.CreateAttr("xmlns:xenc11", NamespaceXMLEnc11)
	kdm.CreateAttr("Algorithm", KDFConcat)
	cp := kdm.CreateElement("xenc11:ConcatKDFParams")
	cp.CreateAttr("AlgorithmID", params)
	cp.CreateAttr("PartyUInfo", params)
	cp.CreateAttr("PartyVInfo", params)
	cp.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", DigestSHA256)
	ecv := am.CreateElement("xenc:OriginatorKeyInfo").CreateElement("ds:KeyValue").CreateElement("dsig11:ECKeyValue")
	ecv.CreateAttr("xmlns:dsig11", NamespaceDSig11)
	ecv.CreateElement("dsig11:NamedCurve").CreateAttr("URI", curveURI(eph.Curve()))
	ecv.CreateElement("dsig11:PublicKey").SetText(base64.StdEncoding.EncodeToString(eph.PublicKey().Bytes()))
	x509Data(am.CreateElement("xenc:RecipientKeyInfo"), cert)
	ek.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText(base64.StdEncoding.EncodeToString(wrapped))
	return ek, nil
}
