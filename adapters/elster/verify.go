package elster

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// minRSABits is the smallest RSA key accepted for a login certificate.
const minRSABits = 2048

// verifySignature checks sig over the exact challenge bytes with the leaf's
// RSA key.
func verifySignature(leaf *x509.Certificate, alg string, challenge string, sig []byte) error {
	pub, err := rsaKey(leaf)
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte(challenge))
	switch alg {
	case AlgRS256:
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	case AlgPS256:
		// The page signs with a 32-byte salt; requiring exactly that keeps
		// verification strict.
		err = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	default:
		return fmt.Errorf("%w: unsupported signature algorithm", ErrRequest)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	return nil
}

func rsaKey(cert *x509.Certificate) (*rsa.PublicKey, error) {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: key type %s, want RSA", ErrKeyUsage, cert.PublicKeyAlgorithm)
	}
	if pub.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("%w: RSA key of %d bits, want at least %d", ErrKeyUsage, pub.N.BitLen(), minRSABits)
	}
	return pub, nil
}

// verifyCertificate checks the leaf for use as a login certificate, builds
// its chain to the trust anchors and checks revocation of every certificate
// below the anchor. It returns the chain, leaf first, anchor last.
func (a *Adapter) verifyCertificate(ctx context.Context, leaf *x509.Certificate, extra []*x509.Certificate, now time.Time) ([]*x509.Certificate, error) {
	if now.Before(leaf.NotBefore) {
		return nil, fmt.Errorf("%w: not valid before %s", ErrExpired, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("%w: expired at %s", ErrExpired, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if leaf.BasicConstraintsValid && leaf.IsCA {
		return nil, fmt.Errorf("%w: a CA certificate", ErrKeyUsage)
	}
	// An absent key usage extension would allow any use (RFC 5280 §4.2.1.3);
	// a login certificate must say that it signs.
	if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return nil, fmt.Errorf("%w: key usage lacks digitalSignature", ErrKeyUsage)
	}
	if _, err := rsaKey(leaf); err != nil {
		return nil, err
	}

	inter := x509.NewCertPool()
	for _, c := range extra {
		inter.AddCert(c)
	}
	eku := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if a.anyEKU {
		eku = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         a.roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     eku,
	})
	if err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) {
			switch inv.Reason {
			case x509.Expired:
				return nil, fmt.Errorf("%w: %w", ErrExpired, err)
			case x509.IncompatibleUsage:
				return nil, fmt.Errorf("%w: %w", ErrKeyUsage, err)
			}
		}
		return nil, fmt.Errorf("%w: %w", ErrUntrusted, err)
	}
	chain := chains[0]
	if err := a.rev.checkChain(ctx, chain); err != nil {
		return nil, err
	}
	return chain, nil
}
