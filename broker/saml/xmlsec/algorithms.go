package xmlsec

import (
	"crypto"
	"fmt"
)

// Namespaces used by XML Signature and XML Encryption.
const (
	NamespaceDSig     = "http://www.w3.org/2000/09/xmldsig#"
	NamespaceDSig11   = "http://www.w3.org/2009/xmldsig11#"
	NamespaceXMLEnc   = "http://www.w3.org/2001/04/xmlenc#"
	NamespaceXMLEnc11 = "http://www.w3.org/2009/xmlenc11#"
	NamespaceExcC14N  = "http://www.w3.org/2001/10/xml-exc-c14n#"
	NamespaceSAML     = "urn:oasis:names:tc:SAML:2.0:assertion"

	namespaceXML   = "http://www.w3.org/XML/1998/namespace"
	namespaceXMLNS = "http://www.w3.org/2000/xmlns/"
)

// Canonicalisation and transforms. Only exclusive c14n without comments is
// accepted; "#WithComments" would re-open comment-injection attacks.
const (
	C14NExclusive      = "http://www.w3.org/2001/10/xml-exc-c14n#"
	TransformEnveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
)

// Signature methods accepted by the eIDAS profile (CR v1.4 §3).
const (
	SigRSAPSSSHA256 = "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
	SigRSAPSSSHA384 = "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1"
	SigRSAPSSSHA512 = "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1"
	SigECDSASHA256  = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
	SigECDSASHA384  = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
	SigECDSASHA512  = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
	// PKCS#1 v1.5 signatures: outside the eIDAS profile; only verified when
	// VerifyOptions.AllowRSAPKCS1v15 is set (and only signed with
	// SignOptions.AllowRSAPKCS1v15).
	SigRSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	SigRSASHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
	SigRSASHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
)

// Digest methods. SHA-1 is recognised only to refuse it with
// ErrAlgorithmNotAllowed (and, for OAEP, to honour legacy peers on request).
const (
	DigestSHA1   = "http://www.w3.org/2000/09/xmldsig#sha1"
	DigestSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
	DigestSHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	DigestSHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
)

// Content encryption. AES-CBC is outside the eIDAS profile: decrypted only
// with DecryptOptions.AllowAESCBC, encrypted only with
// EncryptOptions.AllowAESCBC.
const (
	EncAES128CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"

	EncAES128GCM = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
	EncAES192GCM = "http://www.w3.org/2009/xmlenc11#aes192-gcm" // decrypt only
	EncAES256GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
)

// Key transport, key agreement, key derivation and key wrap.
const (
	KeyTransportRSAOAEP = "http://www.w3.org/2009/xmlenc11#rsa-oaep"
	// KeyTransportRSAOAEPMGF1P is XML Encryption 1.0 OAEP (MGF1 with SHA-1).
	// eIDAS protocol 1.4 no longer allows it; it is decrypted only with
	// DecryptOptions.AllowLegacyKeyTransport.
	KeyTransportRSAOAEPMGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
	KeyAgreementECDHES       = "http://www.w3.org/2009/xmlenc11#ECDH-ES"
	KDFConcat                = "http://www.w3.org/2009/xmlenc11#ConcatKDF"
	KeyWrapAES128            = "http://www.w3.org/2001/04/xmlenc#kw-aes128"
	KeyWrapAES256            = "http://www.w3.org/2001/04/xmlenc#kw-aes256"

	MGF1SHA1   = "http://www.w3.org/2009/xmlenc11#mgf1sha1"
	MGF1SHA224 = "http://www.w3.org/2009/xmlenc11#mgf1sha224"
	MGF1SHA256 = "http://www.w3.org/2009/xmlenc11#mgf1sha256"
	MGF1SHA384 = "http://www.w3.org/2009/xmlenc11#mgf1sha384"
	MGF1SHA512 = "http://www.w3.org/2009/xmlenc11#mgf1sha512"

	// EncryptedData Type for a whole element (EncryptedAssertion content).
	TypeElement = "http://www.w3.org/2001/04/xmlenc#Element"
	typeContent = "http://www.w3.org/2001/04/xmlenc#Content"
)

// Algorithms that are recognised only to be refused with a precise error.
const (
	sigRSASHA1       = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	sigDSASHA1       = "http://www.w3.org/2000/09/xmldsig#dsa-sha1"
	sigHMACSHA1      = "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
	sigECDSASHA1     = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"
	sigRSAMD5        = "http://www.w3.org/2001/04/xmldsig-more#rsa-md5"
	sigPSSSHA1       = "http://www.w3.org/2007/05/xmldsig-more#sha1-rsa-MGF1"
	digestMD5        = "http://www.w3.org/2001/04/xmldsig-more#md5"
	encAES128CBC     = EncAES128CBC
	encAES192CBC     = "http://www.w3.org/2001/04/xmlenc#aes192-cbc"
	encAES256CBC     = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
	encTripleDESCBC  = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc"
	keyTransportRSA1 = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"
	c14nExclComments = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
)

type sigKind int

const (
	kindRSAPSS sigKind = iota + 1
	kindRSAPKCS1
	kindECDSA
)

type sigAlgorithm struct {
	hash crypto.Hash
	kind sigKind
}

func signatureAlgorithm(uri string) (sigAlgorithm, bool) {
	switch uri {
	case SigRSAPSSSHA256:
		return sigAlgorithm{crypto.SHA256, kindRSAPSS}, true
	case SigRSAPSSSHA384:
		return sigAlgorithm{crypto.SHA384, kindRSAPSS}, true
	case SigRSAPSSSHA512:
		return sigAlgorithm{crypto.SHA512, kindRSAPSS}, true
	case SigECDSASHA256:
		return sigAlgorithm{crypto.SHA256, kindECDSA}, true
	case SigECDSASHA384:
		return sigAlgorithm{crypto.SHA384, kindECDSA}, true
	case SigECDSASHA512:
		return sigAlgorithm{crypto.SHA512, kindECDSA}, true
	case SigRSASHA256:
		return sigAlgorithm{crypto.SHA256, kindRSAPKCS1}, true
	case SigRSASHA384:
		return sigAlgorithm{crypto.SHA384, kindRSAPKCS1}, true
	case SigRSASHA512:
		return sigAlgorithm{crypto.SHA512, kindRSAPKCS1}, true
	}
	return sigAlgorithm{}, false
}

// lookupSignatureAlgorithm maps a SignatureMethod URI to its parameters,
// applying the profile: SHA-1/MD5 variants and (unless allowed) PKCS#1 v1.5
// are refused with ErrAlgorithmNotAllowed, anything unknown with
// ErrUnsupportedAlgorithm.
func lookupSignatureAlgorithm(uri string, allowPKCS1 bool) (sigAlgorithm, error) {
	switch uri {
	case sigRSASHA1, sigDSASHA1, sigHMACSHA1, sigECDSASHA1, sigRSAMD5, sigPSSSHA1:
		return sigAlgorithm{}, fmt.Errorf("signature method %q: %w", uri, ErrAlgorithmNotAllowed)
	}
	alg, ok := signatureAlgorithm(uri)
	if !ok {
		return sigAlgorithm{}, fmt.Errorf("signature method %q: %w", uri, ErrUnsupportedAlgorithm)
	}
	if alg.kind == kindRSAPKCS1 && !allowPKCS1 {
		return sigAlgorithm{}, fmt.Errorf("signature method %q (RSA PKCS#1 v1.5): %w", uri, ErrAlgorithmNotAllowed)
	}
	return alg, nil
}

// digestURI returns the canonical DigestMethod URI for h.
func digestURI(h crypto.Hash) string {
	switch h {
	case crypto.SHA256:
		return DigestSHA256
	case crypto.SHA384:
		return DigestSHA384
	case crypto.SHA512:
		return DigestSHA512
	case crypto.SHA1:
		return DigestSHA1
	}
	return ""
}

// lookupDigest maps a DigestMethod URI to a hash; allowSHA1 is only ever true
// for legacy OAEP parameters, never for signatures or key derivation.
func lookupDigest(uri string, allowSHA1 bool) (crypto.Hash, error) {
	switch uri {
	case DigestSHA1:
		if allowSHA1 {
			return crypto.SHA1, nil
		}
		return 0, fmt.Errorf("digest method %q (SHA-1): %w", uri, ErrAlgorithmNotAllowed)
	case digestMD5:
		return 0, fmt.Errorf("digest method %q: %w", uri, ErrAlgorithmNotAllowed)
	}
	switch uri {
	case DigestSHA256:
		return crypto.SHA256, nil
	case DigestSHA384:
		return crypto.SHA384, nil
	case DigestSHA512:
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("digest method %q: %w", uri, ErrUnsupportedAlgorithm)
}

// mgfHash maps an xenc11:MGF URI to its hash.
func mgfHash(uri string) (crypto.Hash, bool) {
	switch uri {
	case MGF1SHA1:
		return crypto.SHA1, true
	case MGF1SHA224:
		return crypto.SHA224, true
	case MGF1SHA256:
		return crypto.SHA256, true
	case MGF1SHA384:
		return crypto.SHA384, true
	case MGF1SHA512:
		return crypto.SHA512, true
	}
	return 0, false
}

func mgfURI(h crypto.Hash) string {
	switch h {
	case crypto.SHA1:
		return MGF1SHA1
	case crypto.SHA224:
		return MGF1SHA224
	case crypto.SHA256:
		return MGF1SHA256
	case crypto.SHA384:
		return MGF1SHA384
	case crypto.SHA512:
		return MGF1SHA512
	}
	return ""
}

// contentAlgorithm returns the AES key length for a content-encryption URI
// and whether it is a CBC mode. AES-CBC is returned only when allowCBC is
// set (DecryptOptions.AllowAESCBC); Triple-DES is always refused.
func contentAlgorithm(uri string, allowCBC bool) (keyLen int, cbc bool, err error) {
	switch uri {
	case encAES128CBC:
		if allowCBC {
			return 16, true, nil
		}
	case encAES192CBC:
		if allowCBC {
			return 24, true, nil
		}
	case encAES256CBC:
		if allowCBC {
			return 32, true, nil
		}
	}
	keyLen, err = gcmAlgorithm(uri)
	return keyLen, false, err
}

// gcmAlgorithm returns the AES key length for an AES-GCM URI and refuses
// everything else (CBC with ErrCBCRefused).
func gcmAlgorithm(uri string) (int, error) {
	switch uri {
	case EncAES128GCM:
		return 16, nil
	case EncAES192GCM:
		return 24, nil
	case EncAES256GCM:
		return 32, nil
	case encAES128CBC, encAES192CBC, encAES256CBC, encTripleDESCBC:
		return 0, fmt.Errorf("encryption method %q: %w: %w", uri, ErrAlgorithmNotAllowed, ErrCBCRefused)
	}
	return 0, fmt.Errorf("encryption method %q: %w", uri, ErrUnsupportedAlgorithm)
}

// keyWrapLength returns the KEK length for a key-wrap URI. eIDAS allows
// kw-aes128 and kw-aes256 only.
func keyWrapLength(uri string) (int, error) {
	switch uri {
	case KeyWrapAES128:
		return 16, nil
	case KeyWrapAES256:
		return 32, nil
	}
	return 0, fmt.Errorf("key wrap method %q: %w", uri, ErrUnsupportedAlgorithm)
}
