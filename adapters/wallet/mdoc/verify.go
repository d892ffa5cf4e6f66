package mdoc

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"hash"
	"time"

	cose "github.com/veraison/go-cose"
)

// Errors of Verify besides ErrMalformed.
var (
	ErrIssuer = errors.New("mdoc issuer authentication")
	ErrDevice = errors.New("mdoc device authentication")
	ErrDigest = errors.New("mdoc value digest")
	ErrExpiry = errors.New("mdoc validity")
)

// VerifyOptions say what a DeviceResponse must match.
type VerifyOptions struct {
	Roots             *x509.CertPool // IACA certificates
	Now               time.Time
	Skew              time.Duration
	DocType           string
	SessionTranscript []byte // CBOR, see OpenID4VPSessionTranscript
}

// Verified is the outcome of a successful Verify.
type Verified struct {
	// Elements are the disclosed, digest-checked data elements per name
	// space.
	Elements map[string]map[string]any
	MSO      *MSO
	Chain    []*x509.Certificate // document signer first
}

// Verify checks a DeviceResponse with exactly one document of the wanted
// type: the MSO's signature by a document signer chaining to an IACA, its
// validity, every disclosed element against its digest, and the device
// signature over the session transcript with the MSO's device key.
func Verify(deviceResponse []byte, o VerifyOptions) (*Verified, error) {
	if len(deviceResponse) > MaxDeviceResponse {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxDeviceResponse)
	}
	var dr DeviceResponse
	if err := Unmarshal(deviceResponse, &dr); err != nil {
		return nil, err
	}
	if dr.Version != "1.0" || dr.Status != 0 {
		return nil, fmt.Errorf("%w: version %q status %d", ErrMalformed, dr.Version, dr.Status)
	}
	if len(dr.Documents) != 1 {
		return nil, fmt.Errorf("%w: %d documents, want 1", ErrMalformed, len(dr.Documents))
	}
	doc := dr.Documents[0]
	if doc.DocType != o.DocType {
		return nil, fmt.Errorf("%w: docType %q, want %q", ErrMalformed, doc.DocType, o.DocType)
	}
	mso, chain, err := verifyIssuerAuth(doc.IssuerSigned.IssuerAuth, o)
	if err != nil {
		return nil, err
	}
	if mso.DocType != doc.DocType || mso.Version != "1.0" {
		return nil, fmt.Errorf("%w: MSO docType or version does not fit", ErrIssuer)
	}
	vi := mso.ValidityInfo
	if o.Now.Add(o.Skew).Before(vi.ValidFrom) {
		return nil, fmt.Errorf("%w: not yet valid", ErrExpiry)
	}
	if !o.Now.Before(vi.ValidUntil.Add(o.Skew)) {
		return nil, fmt.Errorf("%w: expired", ErrExpiry)
	}
	newHash, err := digestHash(mso.DigestAlgorithm)
	if err != nil {
		return nil, err
	}
	elements := map[string]map[string]any{}
	for ns, items := range doc.IssuerSigned.NameSpaces {
		digests := mso.ValueDigests[ns]
		elements[ns] = map[string]any{}
		seenIDs := map[uint64]bool{}
		for _, raw := range items {
			content, err := untag24(raw)
			if err != nil {
				return nil, err
			}
			var it IssuerSignedItem
			if err := Unmarshal(content, &it); err != nil {
				return nil, err
			}
			want, ok := digests[it.DigestID]
			if !ok {
				return nil, fmt.Errorf("%w: element with digest ID %d not in the MSO", ErrDigest, it.DigestID)
			}
			h := newHash()
			h.Write(raw)
			if subtle.ConstantTimeCompare(h.Sum(nil), want) != 1 {
				return nil, fmt.Errorf("%w: element %q does not match its digest", ErrDigest, it.ElementIdentifier)
			}
			if _, dup := elements[ns][it.ElementIdentifier]; dup || seenIDs[it.DigestID] {
				return nil, fmt.Errorf("%w: element %q presented twice", ErrDigest, it.ElementIdentifier)
			}
			if len(it.Random) < 16 {
				return nil, fmt.Errorf("%w: element salt shorter than 16 bytes", ErrMalformed)
			}
			seenIDs[it.DigestID] = true
			elements[ns][it.ElementIdentifier] = it.ElementValue
		}
	}
	if err := verifyDeviceAuth(doc, mso, o); err != nil {
		return nil, err
	}
	return &Verified{Elements: elements, MSO: mso, Chain: chain}, nil
}

func digestHash(alg string) (func() hash.Hash, error) {
	switch alg {
	case "SHA-256":
		return sha256.New, nil
	case "SHA-384":
		return sha512.New384, nil
	case "SHA-512":
		return sha512.New, nil
	}
	return nil, fmt.Errorf("%w: digest algorithm %q", ErrMalformed, alg)
}

var coseAlgs = map[cose.Algorithm]bool{cose.AlgorithmES256: true, cose.AlgorithmES384: true, cose.AlgorithmES512: true}

func verifyIssuerAuth(raw []byte, o VerifyOptions) (*MSO, []*x509.Certificate, error) {
	var m cose.UntaggedSign1Message
	if err := m.UnmarshalCBOR(raw); err != nil {
		return nil, nil, fmt.Errorf("%w: issuerAuth: %w", ErrMalformed, err)
	}
	alg, err := m.Headers.Protected.Algorithm()
	if err != nil || !coseAlgs[alg] {
		return nil, nil, fmt.Errorf("%w: algorithm not accepted", ErrIssuer)
	}
	certs, err := x5chain(m.Headers)
	if err != nil {
		return nil, nil, err
	}
	if o.Roots == nil {
		return nil, nil, fmt.Errorf("%w: no IACA trust anchors", ErrIssuer)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := certs[0].Verify(x509.VerifyOptions{Roots: o.Roots, Intermediates: inter, CurrentTime: o.Now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: document signer certificate: %w", ErrIssuer, err)
	}
	leaf := certs[0]
	if leaf.IsCA {
		return nil, nil, fmt.Errorf("%w: document signer is a CA certificate", ErrIssuer)
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, nil, fmt.Errorf("%w: document signer key is not EC", ErrIssuer)
	}
	v, err := cose.NewVerifier(alg, pub)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrIssuer, err)
	}
	if err := (*cose.Sign1Message)(&m).Verify(nil, v); err != nil {
		return nil, nil, fmt.Errorf("%w: signature: %w", ErrIssuer, err)
	}
	msoBytes, err := untag24(m.Payload)
	if err != nil {
		return nil, nil, err
	}
	var mso MSO
	if err := Unmarshal(msoBytes, &mso); err != nil {
		return nil, nil, err
	}
	return &mso, chains[0], nil
}

// x5chain reads COSE header 33 (RFC 9360): one certificate as a byte
// string, or several as an array, leaf first. Unprotected (as ISO 18013-5
// places it) or protected.
func x5chain(h cose.Headers) ([]*x509.Certificate, error) {
	v, ok := h.Unprotected[cose.HeaderLabelX5Chain]
	if !ok {
		v, ok = h.Protected[cose.HeaderLabelX5Chain]
	}
	if !ok {
		return nil, fmt.Errorf("%w: no x5chain", ErrIssuer)
	}
	var ders [][]byte
	switch x := v.(type) {
	case []byte:
		ders = [][]byte{x}
	case []any:
		for _, e := range x {
			b, ok := e.([]byte)
			if !ok {
				return nil, fmt.Errorf("%w: x5chain element is not a byte string", ErrMalformed)
			}
			ders = append(ders, b)
		}
	default:
		return nil, fmt.Errorf("%w: x5chain has type %T", ErrMalformed, v)
	}
	if len(ders) == 0 || len(ders) > 5 {
		return nil, fmt.Errorf("%w: x5chain length %d", ErrMalformed, len(ders))
	}
	var certs []*x509.Certificate
	for _, d := range ders {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return nil, fmt.Errorf("%w: x5chain certificate: %w", ErrMalformed, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

func verifyDeviceAuth(doc Document, mso *MSO, o VerifyOptions) error {
	da := doc.DeviceSigned.DeviceAuth
	if len(da.DeviceMac) > 0 {
		return fmt.Errorf("%w: deviceMac is not supported (no reader key in OpenID4VP)", ErrDevice)
	}
	if len(da.DeviceSignature) == 0 {
		return fmt.Errorf("%w: no device signature", ErrDevice)
	}
	if len(doc.DeviceSigned.NameSpaces) == 0 {
		return fmt.Errorf("%w: deviceSigned.nameSpaces missing", ErrMalformed)
	}
	if _, err := untag24(doc.DeviceSigned.NameSpaces); err != nil {
		return err
	}
	var key cose.Key
	if err := key.UnmarshalCBOR(mso.DeviceKeyInfo.DeviceKey); err != nil {
		return fmt.Errorf("%w: device key: %w", ErrDevice, err)
	}
	pub, err := key.PublicKey()
	if err != nil {
		return fmt.Errorf("%w: device key: %w", ErrDevice, err)
	}
	var m cose.UntaggedSign1Message
	if err := m.UnmarshalCBOR(da.DeviceSignature); err != nil {
		return fmt.Errorf("%w: deviceSignature: %w", ErrMalformed, err)
	}
	if m.Payload != nil {
		return fmt.Errorf("%w: device signature payload must be detached", ErrDevice)
	}
	alg, err := m.Headers.Protected.Algorithm()
	if err != nil || !coseAlgs[alg] {
		return fmt.Errorf("%w: algorithm not accepted", ErrDevice)
	}
	dab, err := deviceAuthenticationBytes(o.SessionTranscript, doc.DocType, doc.DeviceSigned.NameSpaces)
	if err != nil {
		return err
	}
	v, err := cose.NewVerifier(alg, pub)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDevice, err)
	}
	m.Payload = dab
	if err := (*cose.Sign1Message)(&m).Verify(nil, v); err != nil {
		return fmt.Errorf("%w: signature over the session transcript: %w", ErrDevice, err)
	}
	return nil
}
