// Package x5cjwt verifies compact JWS objects whose signing key comes from
// an x5c certificate chain that must end at a configured trust anchor: the
// issuer-signed part of an SD-JWT VC and a Token Status List token.
package x5cjwt

import (
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Algs are the signature algorithms accepted from issuers: ECDSA only, as
// HAIP requires ES256 and the PID providers' certificates are EC keys.
var Algs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512}

// Result is what a verified object yields.
type Result struct {
	Payload []byte
	Header  jose.Header
	Chain   []*x509.Certificate // leaf first, ending at the trust anchor
}

// Verify checks the compact JWS s: its typ header is one of typs, it names
// an x5c chain that verifies to roots at time now, the leaf is not a CA
// (the anchor itself never signs), and the signature verifies with the
// leaf's key. The payload is returned only when all of this holds.
func Verify(s string, typs []string, roots *x509.CertPool, now time.Time) (Result, error) {
	if roots == nil {
		return Result{}, errors.New("no trust anchors")
	}
	jws, err := jose.ParseSigned(s, Algs)
	if err != nil {
		return Result{}, fmt.Errorf("parse jws: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return Result{}, errors.New("want exactly one signature")
	}
	h := jws.Signatures[0].Protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !contains(typs, typ) {
		return Result{}, fmt.Errorf("typ %q, want one of %v", typ, typs)
	}
	if h.JSONWebKey != nil {
		// A key embedded in the header would be self-asserted; only the
		// certificate chain may name the key.
		return Result{}, errors.New("jwk header not accepted: the key must come from x5c")
	}
	chains, err := h.Certificates(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return Result{}, fmt.Errorf("x5c chain: %w", err)
	}
	chain := chains[0]
	leaf := chain[0]
	if leaf.IsCA {
		return Result{}, errors.New("x5c leaf is a CA certificate")
	}
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		return Result{}, errors.New("x5c leaf key is not an EC key")
	}
	payload, err := jws.Verify(leaf.PublicKey)
	if err != nil {
		return Result{}, fmt.Errorf("signature: %w", err)
	}
	return Result{Payload: payload, Header: h, Chain: chain}, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
