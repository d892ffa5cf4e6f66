package mdoc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"
	"time"
)

// The session transcript is [null, null, ["OpenID4VPHandover",
// sha-256(cbor([clientId, nonce, thumbprint, responseUri]))]], byte for
// byte (the hash covers the plain CBOR array, not a bstr around it).
func TestSessionTranscriptEncoding(t *testing.T) {
	thumb := bytes.Repeat([]byte{0xAB}, 32)
	got, err := OpenID4VPSessionTranscript("x509_hash:abc", "n", thumb, "https://v.example/r")
	if err != nil {
		t.Fatal(err)
	}
	// Hand-encoded: array(4) "x509_hash:abc" "n" bstr(32) "https://v.example/r".
	info := []byte{0x84, 0x6d}
	info = append(info, "x509_hash:abc"...)
	info = append(info, 0x61, 'n', 0x58, 0x20)
	info = append(info, thumb...)
	info = append(info, 0x73)
	info = append(info, "https://v.example/r"...)
	h := sha256.Sum256(info)
	want := []byte{0x83, 0xf6, 0xf6, 0x82, 0x71}
	want = append(want, "OpenID4VPHandover"...)
	want = append(want, 0x58, 0x20)
	want = append(want, h[:]...)
	if !bytes.Equal(got, want) {
		t.Fatalf("transcript\n got %s\nwant %s", hex.EncodeToString(got), hex.EncodeToString(want))
	}
	noThumb, _ := OpenID4VPSessionTranscript("x509_hash:abc", "n", nil, "https://v.example/r")
	if bytes.Equal(noThumb, got) {
		t.Fatal("thumbprint not bound")
	}
}

type pki struct {
	iaca  *x509.Certificate
	ds    *x509.Certificate
	dsKey *ecdsa.PrivateKey
	roots *x509.CertPool
}

func newPKI(t *testing.T) pki {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "IACA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	iaca, _ := x509.ParseCertificate(caDER)
	dsKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ds := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "DS"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	dsDER, err := x509.CreateCertificate(rand.Reader, ds, iaca, &dsKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	dsCert, _ := x509.ParseCertificate(dsDER)
	roots := x509.NewCertPool()
	roots.AddCert(iaca)
	return pki{iaca: iaca, ds: dsCert, dsKey: dsKey, roots: roots}
}

const docType = "eu.europa.ec.eudi.pid.1"

func TestIssuePresentVerify(t *testing.T) {
	p := newPKI(t)
	dev, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	doc, err := Issue(IssueOptions{Key: p.dsKey, Chain: []*x509.Certificate{p.ds}, DocType: docType,
		NameSpaces: map[string][]Element{docType: {{ID: "family_name", Value: "MUSTERMANN"}, {ID: "birth_date", Value: FullDate("1964-08-12")}, {ID: "given_name", Value: "ERIKA"}}},
		DeviceKey:  &dev.PublicKey, Signed: now, From: now.Add(-time.Minute), Until: now.Add(time.Hour),
		Status: &StatusListRef{Idx: 7, URI: "https://issuer.example/status"}})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := OpenID4VPSessionTranscript("x509_hash:abc", "n-1", nil, "https://v.example/r")
	dr, err := doc.Present(docType, []string{"family_name", "birth_date"}, dev, st)
	if err != nil {
		t.Fatal(err)
	}
	opts := VerifyOptions{Roots: p.roots, Now: now, Skew: time.Minute, DocType: docType, SessionTranscript: st}
	v, err := Verify(dr, opts)
	if err != nil {
		t.Fatal(err)
	}
	if v.Elements[docType]["family_name"] != "MUSTERMANN" || v.Elements[docType]["given_name"] != nil {
		t.Fatalf("%v", v.Elements)
	}
	if v.MSO.Status == nil || v.MSO.Status.StatusList.Idx != 7 {
		t.Fatalf("status %+v", v.MSO.Status)
	}
	other, _ := OpenID4VPSessionTranscript("x509_hash:abc", "n-2", nil, "https://v.example/r")
	bad := opts
	bad.SessionTranscript = other
	if _, err := Verify(dr, bad); !errors.Is(err, ErrDevice) {
		t.Fatalf("other transcript: %v", err)
	}
	bad = opts
	bad.Now = now.Add(2 * time.Hour)
	if _, err := Verify(dr, bad); err == nil {
		t.Fatal("expired accepted")
	}
	bad = opts
	bad.Roots = newPKI(t).roots
	if _, err := Verify(dr, bad); !errors.Is(err, ErrIssuer) {
		t.Fatalf("untrusted: %v", err)
	}
	// A device signature by another key fails.
	wrong, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dr2, _ := doc.Present(docType, []string{"family_name"}, wrong, st)
	if _, err := Verify(dr2, opts); !errors.Is(err, ErrDevice) {
		t.Fatalf("wrong device key: %v", err)
	}
}

func TestStrictDecoding(t *testing.T) {
	var dr DeviceResponse
	for name, in := range map[string][]byte{
		"duplicate key":     {0xa2, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x63, '1', '.', '0', 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x63, '1', '.', '0'},
		"indefinite length": {0xbf, 0xff},
		"truncated":         {0xa1, 0x67},
	} {
		if err := Unmarshal(in, &dr); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
