package x5cjwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func cert(t *testing.T, cn string, isCA bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: isCA, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	if parent == nil {
		parent, parentKey = tmpl, k
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, k
}

func sign(t *testing.T, key *ecdsa.PrivateKey, typ string, chain []*x509.Certificate, embedJWK bool) string {
	var x5c []string
	for _, c := range chain {
		x5c = append(x5c, base64.StdEncoding.EncodeToString(c.Raw))
	}
	opts := (&jose.SignerOptions{EmbedJWK: embedJWK}).WithType(jose.ContentType(typ)).WithHeader("x5c", x5c)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign([]byte(`{"iss":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

func TestVerify(t *testing.T) {
	ca, caKey := cert(t, "ca", true, nil, nil)
	leaf, leafKey := cert(t, "leaf", false, ca, caKey)
	otherCA, otherKey := cert(t, "other", true, nil, nil)
	foreign, foreignKey := cert(t, "foreign", false, otherCA, otherKey)
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	now := time.Now()
	if _, err := Verify(sign(t, leafKey, "dc+sd-jwt", []*x509.Certificate{leaf}, false), []string{"dc+sd-jwt"}, roots, now); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		jws, want string
	}{
		"wrong typ":       {sign(t, leafKey, "JWT", []*x509.Certificate{leaf}, false), "typ"},
		"untrusted chain": {sign(t, foreignKey, "dc+sd-jwt", []*x509.Certificate{foreign}, false), "x5c chain"},
		"anchor signs":    {sign(t, caKey, "dc+sd-jwt", []*x509.Certificate{ca}, false), "CA"},
		"key mismatch":    {sign(t, foreignKey, "dc+sd-jwt", []*x509.Certificate{leaf}, false), "signature"},
		"embedded jwk":    {sign(t, leafKey, "dc+sd-jwt", []*x509.Certificate{leaf}, true), "jwk"},
		"expired":         {sign(t, leafKey, "dc+sd-jwt", []*x509.Certificate{leaf}, false), "x5c chain"},
	} {
		at := now
		if name == "expired" {
			at = now.Add(2 * time.Hour)
		}
		if _, err := Verify(c.jws, []string{"dc+sd-jwt"}, roots, at); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
}
