package xmlsec

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"testing"
)

func TestSignVerifyBytes(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	weak, _ := rsa.GenerateKey(rand.Reader, 2048)
	data := []byte("SAMLRequest=abc&RelayState=x&SigAlg=y")
	for _, alg := range []string{SigRSAPSSSHA256, SigRSAPSSSHA384, SigRSAPSSSHA512} {
		sig, err := SignBytes(rk, alg, data)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if err := VerifyBytes(&rk.PublicKey, alg, data, sig); err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if err := VerifyBytes(&rk.PublicKey, alg, append(data, 'x'), sig); !errors.Is(err, ErrSignatureInvalid) {
			t.Fatalf("%s tampered: %v", alg, err)
		}
	}
	for _, alg := range []string{SigECDSASHA256, SigECDSASHA384, SigECDSASHA512} {
		sig, err := SignBytes(ek, alg, data)
		if err != nil || len(sig) != 64 {
			t.Fatalf("%s: raw r||s expected: %d %v", alg, len(sig), err)
		}
		if err := VerifyBytes(&ek.PublicKey, alg, data, sig); err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
	}
	// The DER form some Redirect implementations send is accepted too.
	h := sha256.Sum256(data)
	der, _ := ecdsa.SignASN1(rand.Reader, ek, h[:])
	if err := VerifyBytes(&ek.PublicKey, SigECDSASHA256, data, der); err != nil {
		t.Fatalf("DER ECDSA: %v", err)
	}
	refusals := []struct {
		name string
		err  error
		want error
	}{
		{"pkcs1 sign", func() error { _, err := SignBytes(rk, SigRSASHA256, data); return err }(), ErrAlgorithmNotAllowed},
		{"pkcs1 verify", VerifyBytes(&rk.PublicKey, SigRSASHA256, data, []byte("x")), ErrAlgorithmNotAllowed},
		{"sha1", VerifyBytes(&rk.PublicKey, "http://www.w3.org/2000/09/xmldsig#rsa-sha1", data, []byte("x")), ErrAlgorithmNotAllowed},
		{"unknown", VerifyBytes(&rk.PublicKey, "urn:x", data, []byte("x")), ErrUnsupportedAlgorithm},
		{"weak RSA", VerifyBytes(&weak.PublicKey, SigRSAPSSSHA256, data, []byte("x")), ErrWeakKey},
		{"EC key with PSS", VerifyBytes(&ek.PublicKey, SigRSAPSSSHA256, data, []byte("x")), ErrKeyType},
		{"RSA key with ECDSA", func() error { _, err := SignBytes(rk, SigECDSASHA256, data); return err }(), ErrKeyType},
	}
	for _, r := range refusals {
		if !errors.Is(r.err, r.want) {
			t.Errorf("%s: %v, want %v", r.name, r.err, r.want)
		}
	}
}
