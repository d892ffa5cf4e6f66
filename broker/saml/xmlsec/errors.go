package xmlsec

import "errors"

// Sentinel errors. Every error returned by this package wraps at least one of
// them, so callers (and audit logs) can map a refusal to a reason code with
// errors.Is without parsing messages. Messages never contain document
// content, key material or personal data.
var (
	// Parsing.
	ErrTooLarge     = errors.New("xmlsec: input too large")
	ErrTooDeep      = errors.New("xmlsec: nesting too deep")
	ErrTooManyAttrs = errors.New("xmlsec: too many attributes")
	// ErrTooManyNamespaces: more distinct prefixes in scope than allowed.
	ErrTooManyNamespaces = errors.New("xmlsec: too many namespace prefixes in scope")
	ErrDoctype           = errors.New("xmlsec: DOCTYPE or other directive not allowed")
	ErrProcInst          = errors.New("xmlsec: processing instruction not allowed")
	ErrInvalidUTF8       = errors.New("xmlsec: invalid UTF-8")
	ErrEncoding          = errors.New("xmlsec: unsupported document encoding")
	ErrMalformed         = errors.New("xmlsec: malformed XML")
	ErrNamespace         = errors.New("xmlsec: namespace error")
	ErrDuplicateAttr     = errors.New("xmlsec: duplicate attribute")

	// Algorithms (shared by signatures and encryption).
	ErrUnsupportedAlgorithm = errors.New("xmlsec: unsupported algorithm")
	// ErrAlgorithmNotAllowed is for algorithms that are known but refused by
	// the eIDAS profile (SHA-1, PKCS#1 v1.5 signatures unless allowed, legacy
	// key transport unless allowed, CBC, RSA PKCS#1 v1.5 key transport).
	ErrAlgorithmNotAllowed = errors.New("xmlsec: algorithm not allowed")
	// ErrCBCRefused additionally marks every CBC content-encryption mode
	// (padding-oracle class; eIDAS allows AES-GCM only).
	ErrCBCRefused = errors.New("xmlsec: CBC encryption refused")
	// ErrRSA15Refused additionally marks RSA PKCS#1 v1.5 key transport
	// (Bleichenbacher class).
	ErrRSA15Refused = errors.New("xmlsec: RSA PKCS#1 v1.5 key transport refused")

	// Keys and certificates.
	ErrWeakKey               = errors.New("xmlsec: key too weak")
	ErrKeyType               = errors.New("xmlsec: key type does not fit the algorithm")
	ErrUnsupportedCurve      = errors.New("xmlsec: unsupported elliptic curve")
	ErrNoTrustedCertificates = errors.New("xmlsec: no trusted certificates configured")
	ErrUntrustedCertificate  = errors.New("xmlsec: KeyInfo certificate is not trusted")
	ErrCertificateValidity   = errors.New("xmlsec: certificate outside its validity period")

	// Signatures.
	ErrNotSigned          = errors.New("xmlsec: element is not signed")
	ErrMultipleSignatures = errors.New("xmlsec: more than one signature")
	ErrSignatureStructure = errors.New("xmlsec: malformed signature")
	ErrMissingID          = errors.New("xmlsec: signed element has no ID")
	ErrDuplicateID        = errors.New("xmlsec: duplicate ID in document")
	ErrReference          = errors.New("xmlsec: reference does not point to the signed element")
	ErrTransform          = errors.New("xmlsec: transform not allowed")
	ErrDigestMismatch     = errors.New("xmlsec: digest mismatch")
	ErrSignatureInvalid   = errors.New("xmlsec: signature value invalid")

	// Encryption.
	ErrEncryptionStructure = errors.New("xmlsec: malformed encrypted data")
	// ErrDecryptionFailed covers every cryptographic failure while opening
	// encrypted data (wrong key, tampered key or content, truncated tag).
	// The failures are deliberately not distinguished further.
	ErrDecryptionFailed = errors.New("xmlsec: decryption failed")
)
