package sp

import "github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"

// Policy is the per-upstream algorithm policy. The zero value is the eIDAS
// Cryptographic Requirements v1.4 profile, the strictest: RSASSA-PSS or
// ECDSA signatures, AES-GCM content encryption, RSA-OAEP (XML Encryption
// 1.1) or ECDH-ES key agreement, RSA ≥ 3072 bits. Each relaxation exists
// because a named upstream needs it and is switched on only by that
// upstream's configuration, never by default.
type Policy struct {
	// AllowRSAPKCS1v15 also accepts rsa-sha256/384/512 signatures on
	// responses and metadata (German upstreams configured before
	// TR-03116-4 moved them to RSASSA-PSS).
	AllowRSAPKCS1v15 bool
	// AllowLegacyKeyTransport also accepts rsa-oaep-mgf1p and SHA-1 OAEP
	// parameters (eIDAS nodes before protocol 1.4, Keycloak-era peers).
	AllowLegacyKeyTransport bool
	// AllowAESCBC also accepts AES-CBC content encryption. It is safe only
	// because the whole Response, ciphertext included, must carry a valid
	// signature before anything is decrypted (no padding oracle).
	AllowAESCBC bool
}

// verify returns the signature options of the policy.
func (p Policy) verify(opts xmlsec.VerifyOptions) xmlsec.VerifyOptions {
	opts.AllowRSAPKCS1v15 = p.AllowRSAPKCS1v15
	return opts
}

// decrypt returns the decryption options of the policy.
func (p Policy) decrypt(limits xmlsec.Limits) xmlsec.DecryptOptions {
	return xmlsec.DecryptOptions{Limits: limits, AllowLegacyKeyTransport: p.AllowLegacyKeyTransport, AllowAESCBC: p.AllowAESCBC}
}
