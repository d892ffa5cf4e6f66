package elster_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"html"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/elster"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/config"
)

func TestFinishPersonLogin(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name, file, alg string
		given, family   string
	}{
		{"pkcs1", "person.pfx", elster.AlgRS256, "Erika", "Mustermann"},
		{"pss", "person.pfx", elster.AlgPS256, "Erika", "Mustermann"},
		{"legacy file format", "person-legacy.pfx", elster.AlgRS256, "Lena", "Altformat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := e.login(tc.file, tc.alg)
			if err != nil {
				t.Fatalf("Finish: %v", err)
			}
			if id.Level != assurance.Substantial {
				t.Errorf("level %v, want substantial", id.Level)
			}
			if id.Claims.GivenName != tc.given || id.Claims.FamilyName != tc.family {
				t.Errorf("names %q %q, want %q %q", id.Claims.GivenName, id.Claims.FamilyName, tc.given, tc.family)
			}
			if id.Claims.LegalEntity != nil {
				t.Errorf("person certificate gave legal entity %+v", id.Claims.LegalEntity)
			}
			if !strings.HasPrefix(id.Subject, "sn:") || !strings.HasSuffix(id.Subject, ":"+e.open12(tc.file).leaf.Subject.SerialNumber) {
				t.Errorf("subject %q, want sn:<issuer>:<serialNumber>", id.Subject)
			}
			if !id.AuthTime.Equal(e.clock.Now()) {
				t.Errorf("auth time %v, want %v", id.AuthTime, e.clock.Now())
			}
		})
	}
}

func TestFinishOrganisationLogin(t *testing.T) {
	e := newEnv(t, nil)
	id, err := e.login("organisation.pfx", elster.AlgRS256)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	want := adapters.LegalEntity{Name: "Musterfirma GmbH", Identifier: "TAXDE-2181508150", Country: "DE"}
	if id.Claims.LegalEntity == nil || *id.Claims.LegalEntity != want {
		t.Fatalf("legal entity %+v, want %+v", id.Claims.LegalEntity, want)
	}
	if id.Claims.GivenName != "Max" || id.Claims.FamilyName != "Mustermann" {
		t.Errorf("acting person %q %q", id.Claims.GivenName, id.Claims.FamilyName)
	}
	if id.Level != assurance.Substantial {
		t.Errorf("level %v", id.Level)
	}
}

// TestFinishRefusesCertificates runs every broken fixture through every
// revocation mode.
func TestFinishRefusesCertificates(t *testing.T) {
	for _, mode := range []string{elster.RevocationOCSP, elster.RevocationCRL, elster.RevocationBoth} {
		e := newEnv(t, func(_ *env, c *elster.Config) { c.Revocation.Mode = mode })
		for _, tc := range []struct {
			file string
			want error
		}{
			{"revoked.pfx", elster.ErrRevoked},
			{"expired.pfx", elster.ErrExpired},
			{"foreign.pfx", elster.ErrUntrusted},
			{"wrong-usage.pfx", elster.ErrKeyUsage},
		} {
			t.Run(mode+"/"+tc.file, func(t *testing.T) {
				id, err := e.login(tc.file, elster.AlgRS256)
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				if id.Subject != "" {
					t.Errorf("identity returned with error: %+v", id)
				}
			})
		}
	}
}

// TestManifestExpectations keeps the fixture manifest and the adapter in
// agreement: every file gives the outcome the manifest promises.
func TestManifestExpectations(t *testing.T) {
	e := newEnv(t, nil)
	want := map[string]error{
		"ok": nil, "revoked": elster.ErrRevoked, "expired": elster.ErrExpired,
		"untrusted": elster.ErrUntrusted, "key_usage": elster.ErrKeyUsage,
	}
	for _, f := range e.sim.Files() {
		t.Run(f.File, func(t *testing.T) {
			w, ok := want[f.Expect]
			if !ok {
				t.Fatalf("unknown expectation %q", f.Expect)
			}
			_, err := e.login(f.File, elster.AlgRS256)
			if (w == nil && err != nil) || (w != nil && !errors.Is(err, w)) {
				t.Fatalf("err = %v, want %v", err, w)
			}
		})
	}
}

func TestFinishChallengeChecks(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	h := e.open12("person.pfx")

	t.Run("replayed answer", func(t *testing.T) {
		req, st, ch := e.begin("tx-replay")
		form := h.form(t, ch, elster.AlgRS256)
		if _, err := e.adapter.Finish(ctx, req, st, post(form)); err != nil {
			t.Fatalf("first Finish: %v", err)
		}
		// The broker hands state out once; if it ever did twice, the
		// adapter's own replay record still refuses.
		_, err := e.adapter.Finish(ctx, req, st, post(form))
		if !errors.Is(err, elster.ErrReplay) {
			t.Fatalf("second Finish: %v, want ErrReplay", err)
		}
	})
	t.Run("replay through another adapter instance", func(t *testing.T) {
		req, st, ch := e.begin("tx-replay-2")
		form := h.form(t, ch, elster.AlgRS256)
		if _, err := e.adapter.Finish(ctx, req, st, post(form)); err != nil {
			t.Fatal(err)
		}
		other := e.open(e.cfg, testBaseURL) // a second replica, same store
		if _, err := other.Finish(ctx, req, st, post(form)); !errors.Is(err, elster.ErrReplay) {
			t.Fatalf("err = %v, want ErrReplay", err)
		}
	})
	t.Run("state of another transaction", func(t *testing.T) {
		_, st, ch := e.begin("tx-a")
		reqB := request("tx-b")
		_, err := e.adapter.Finish(ctx, reqB, st, post(h.form(t, ch, elster.AlgRS256)))
		if !errors.Is(err, elster.ErrChallenge) {
			t.Fatalf("err = %v, want ErrChallenge", err)
		}
	})
	t.Run("challenge of another transaction", func(t *testing.T) {
		reqA, stA, _ := e.begin("tx-c")
		_, _, chB := e.begin("tx-d")
		_, err := e.adapter.Finish(ctx, reqA, stA, post(h.form(t, chB, elster.AlgRS256)))
		if !errors.Is(err, elster.ErrChallenge) {
			t.Fatalf("err = %v, want ErrChallenge", err)
		}
	})
	t.Run("challenge of another origin", func(t *testing.T) {
		other := e.open(e.cfg, "https://other-broker.example")
		req := request("tx-e")
		_, st, err := other.Begin(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		_, _, ch := e.begin("tx-e") // only for a well-formed body
		_, err = e.adapter.Finish(ctx, req, st, post(h.form(t, ch, elster.AlgRS256)))
		if !errors.Is(err, elster.ErrChallenge) {
			t.Fatalf("err = %v, want ErrChallenge", err)
		}
	})
	t.Run("expired challenge", func(t *testing.T) {
		req, st, ch := e.begin("tx-f")
		e.clock.Add(elster.DefaultChallengeTTL + time.Second)
		defer e.clock.Add(-(elster.DefaultChallengeTTL + time.Second))
		_, err := e.adapter.Finish(ctx, req, st, post(h.form(t, ch, elster.AlgRS256)))
		if !errors.Is(err, elster.ErrChallenge) {
			t.Fatalf("err = %v, want ErrChallenge", err)
		}
	})
	t.Run("garbage state", func(t *testing.T) {
		req, _, ch := e.begin("tx-g")
		_, err := e.adapter.Finish(ctx, req, []byte(`{"v":1,"challenge":"x"}`), post(h.form(t, ch, elster.AlgRS256)))
		if !errors.Is(err, elster.ErrChallenge) {
			t.Fatalf("err = %v, want ErrChallenge", err)
		}
	})
}

func TestFinishSignatureChecks(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	person := e.open12("person.pfx")
	org := e.open12("organisation.pfx")
	for _, tc := range []struct {
		name   string
		tamper func(ch string) url.Values
	}{
		{"flipped bit", func(ch string) url.Values {
			f := person.form(t, ch, elster.AlgRS256)
			sig, _ := base64.StdEncoding.DecodeString(f.Get("signature"))
			sig[len(sig)/2] ^= 0x01
			f.Set("signature", base64.StdEncoding.EncodeToString(sig))
			return f
		}},
		{"signed by another key", func(ch string) url.Values {
			f := org.form(t, ch, elster.AlgRS256)
			f["chain"] = person.form(t, ch, elster.AlgRS256)["chain"]
			return f
		}},
		{"over another text", func(ch string) url.Values {
			f := person.form(t, ch+" ", elster.AlgRS256)
			f.Set("challenge", ch)
			return f
		}},
		{"pkcs1 signature labelled pss", func(ch string) url.Values {
			f := person.form(t, ch, elster.AlgRS256)
			f.Set("alg", elster.AlgPS256)
			return f
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, st, ch := e.begin("tx-sig-" + tc.name)
			_, err := e.adapter.Finish(ctx, req, st, post(tc.tamper(ch)))
			if !errors.Is(err, elster.ErrSignature) {
				t.Fatalf("err = %v, want ErrSignature", err)
			}
		})
	}
	t.Run("refused signature does not claim the nonce", func(t *testing.T) {
		// The nonce is recorded only for a valid answer, so a forged post
		// cannot lock out the genuine one (the broker's single-use state
		// prevents a second try in practice; the adapter alone is tested).
		req, st, ch := e.begin("tx-sig-retry")
		bad := person.form(t, ch, elster.AlgRS256)
		bad.Set("signature", base64.StdEncoding.EncodeToString(make([]byte, 256)))
		if _, err := e.adapter.Finish(ctx, req, st, post(bad)); !errors.Is(err, elster.ErrSignature) {
			t.Fatalf("tampered: %v", err)
		}
		if _, err := e.adapter.Finish(ctx, req, st, post(person.form(t, ch, elster.AlgRS256))); err != nil {
			t.Fatalf("genuine after tampered: %v", err)
		}
	})
}

func TestFinishCancel(t *testing.T) {
	e := newEnv(t, nil)
	req, st, _ := e.begin("tx-cancel")
	_, err := e.adapter.Finish(context.Background(), req, st, post(url.Values{"cancel": {"1"}}))
	if !errors.Is(err, adapters.ErrCancelled) {
		t.Fatalf("err = %v, want ErrCancelled", err)
	}
}

func TestFinishMalformedRequests(t *testing.T) {
	e := newEnv(t, nil)
	h := e.open12("person.pfx")
	for _, tc := range []struct {
		name string
		make func(ch string) *http.Request
	}{
		{"get", func(ch string) *http.Request {
			r := httptest.NewRequest(http.MethodGet, testBaseURL+"/cb?"+h.form(t, ch, elster.AlgRS256).Encode(), nil)
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			return r
		}},
		{"json body", func(ch string) *http.Request {
			r := httptest.NewRequest(http.MethodPost, testBaseURL+"/cb", strings.NewReader(`{}`))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			return r
		}},
		{"unknown field", func(ch string) *http.Request {
			f := h.form(t, ch, elster.AlgRS256)
			f.Set("pin", "1234")
			return post(f)
		}},
		{"repeated challenge", func(ch string) *http.Request {
			f := h.form(t, ch, elster.AlgRS256)
			f.Add("challenge", ch)
			return post(f)
		}},
		{"no challenge", func(ch string) *http.Request {
			f := h.form(t, ch, elster.AlgRS256)
			f.Del("challenge")
			return post(f)
		}},
		{"no chain", func(ch string) *http.Request {
			f := h.form(t, ch, elster.AlgRS256)
			f.Del("chain")
			return post(f)
		}},
		{"unknown algorithm", func(ch string) *http.Request {
			f := h.form(t, ch, elster.AlgRS256)
			f.Set("alg", "RS1")
			return post(f)
		}},
		{"signature not base64", func(ch string) *http.Request {
			f := h.form(t, ch, elster.AlgRS256)
			f.Set("signature", "%%%")
			return post(f)
		}},
		{"certificate not DER", func(ch string) *http.Request {
			f := h.form(t, ch, elster.AlgRS256)
			f.Set("chain", base64.StdEncoding.EncodeToString([]byte("not a certificate")))
			return post(f)
		}},
		{"too many certificates", func(ch string) *http.Request {
			f := h.form(t, ch, elster.AlgRS256)
			for range 9 {
				f.Add("chain", f["chain"][0])
			}
			return post(f)
		}},
		{"body too large", func(ch string) *http.Request {
			f := h.form(t, ch, elster.AlgRS256)
			f.Set("alg", strings.Repeat("A", 100<<10))
			return post(f)
		}},
		{"unknown mode", func(ch string) *http.Request {
			return post(url.Values{"challenge": {ch}, "mode": {"smartcard"}})
		}},
		{"tls mode while disabled", func(ch string) *http.Request {
			return post(url.Values{"challenge": {ch}, "mode": {"tls"}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, st, ch := e.begin("tx-bad-" + tc.name)
			_, err := e.adapter.Finish(context.Background(), req, st, tc.make(ch))
			if !errors.Is(err, elster.ErrRequest) {
				t.Fatalf("err = %v, want ErrRequest", err)
			}
		})
	}
}

func TestFinishParsedForm(t *testing.T) {
	// A broker that parsed the form before calling Finish must not break it.
	e := newEnv(t, nil)
	req, st, ch := e.begin("tx-parsed")
	r := post(e.open12("person.pfx").form(t, ch, elster.AlgRS256))
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.adapter.Finish(context.Background(), req, st, r); err != nil {
		t.Fatalf("Finish: %v", err)
	}
}

func TestRevocationUnreachable(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // nothing listens there any more

	for _, tc := range []struct {
		name   string
		mutate func(c *elster.Config)
		want   error
	}{
		{"ocsp down, refuse", func(c *elster.Config) {
			c.Revocation.Mode = elster.RevocationOCSP
			c.Revocation.OCSPURL = deadURL + "/ocsp"
		}, elster.ErrRevocationUnavailable},
		{"ocsp down, allow", func(c *elster.Config) {
			c.Revocation.Mode = elster.RevocationOCSP
			c.Revocation.OCSPURL = deadURL + "/ocsp"
			c.Revocation.Unreachable = elster.UnreachableAllow
		}, nil},
		{"crl down, refuse", func(c *elster.Config) {
			c.Revocation.Mode = elster.RevocationCRL
			c.Revocation.CRLURLs = []string{deadURL + "/crl/issuing.crl", deadURL + "/crl/root.crl"}
		}, elster.ErrRevocationUnavailable},
		{"crl down, allow", func(c *elster.Config) {
			c.Revocation.Mode = elster.RevocationCRL
			c.Revocation.CRLURLs = []string{deadURL + "/crl/issuing.crl", deadURL + "/crl/root.crl"}
			c.Revocation.Unreachable = elster.UnreachableAllow
		}, nil},
		{"both down, refuse", func(c *elster.Config) {
			c.Revocation.OCSPURL = deadURL + "/ocsp"
			c.Revocation.CRLURLs = []string{deadURL + "/crl/issuing.crl"}
		}, elster.ErrRevocationUnavailable},
		{"ocsp down, crl answers, refuse", func(c *elster.Config) {
			c.Revocation.OCSPURL = deadURL + "/ocsp"
		}, nil},
		{"responder errors, refuse", func(c *elster.Config) {
			c.Revocation.Mode = elster.RevocationOCSP
			c.Revocation.OCSPURL = c.Revocation.OCSPURL + "/nowhere" // 404/405
		}, elster.ErrRevocationUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(_ *env, c *elster.Config) { tc.mutate(c) })
			_, err := e.login("person.pfx", elster.AlgRS256)
			if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("revoked stays refused when the other source is down", func(t *testing.T) {
		e := newEnv(t, func(_ *env, c *elster.Config) {
			c.Revocation.OCSPURL = deadURL + "/ocsp"
			c.Revocation.Unreachable = elster.UnreachableAllow
		})
		if _, err := e.login("revoked.pfx", elster.AlgRS256); !errors.Is(err, elster.ErrRevoked) {
			t.Fatalf("err = %v, want ErrRevoked", err)
		}
	})
}

func TestRevocationCache(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.login("person.pfx", elster.AlgRS256); err != nil {
		t.Fatal(err)
	}
	ocspHits, crlHits := e.ocspHits.Load(), e.crlHits.Load()
	if ocspHits == 0 || crlHits == 0 {
		t.Fatalf("mode both asked ocsp %d and crl %d times, want both", ocspHits, crlHits)
	}
	if _, err := e.login("person.pfx", elster.AlgRS256); err != nil {
		t.Fatal(err)
	}
	if e.ocspHits.Load() != ocspHits || e.crlHits.Load() != crlHits {
		t.Fatalf("second login fetched again (ocsp %d→%d, crl %d→%d)", ocspHits, e.ocspHits.Load(), crlHits, e.crlHits.Load())
	}
	// The simulator's answers are valid for an hour (nextUpdate), the
	// cache TTL is 10 minutes: after 11 minutes both are fetched again.
	e.clock.Add(11 * time.Minute)
	if _, err := e.login("person.pfx", elster.AlgRS256); err != nil {
		t.Fatal(err)
	}
	if e.ocspHits.Load() == ocspHits || e.crlHits.Load() == crlHits {
		t.Fatal("no refetch after the cache TTL")
	}
}

func TestRevocationCacheBoundedByNextUpdate(t *testing.T) {
	e := newEnv(t, func(_ *env, c *elster.Config) {
		c.Revocation.Mode = elster.RevocationOCSP
		c.Revocation.CacheTTL = config.Duration(24 * time.Hour)
	})
	if _, err := e.login("person.pfx", elster.AlgRS256); err != nil {
		t.Fatal(err)
	}
	hits := e.ocspHits.Load()
	e.clock.Add(30 * time.Minute)
	if _, err := e.login("person.pfx", elster.AlgRS256); err != nil {
		t.Fatal(err)
	}
	if e.ocspHits.Load() != hits {
		t.Fatal("refetched within nextUpdate")
	}
	e.clock.Add(31 * time.Minute) // past the response's nextUpdate (1h)
	if _, err := e.login("person.pfx", elster.AlgRS256); err != nil {
		t.Fatal(err)
	}
	if e.ocspHits.Load() == hits {
		t.Fatal("cached answer used past its nextUpdate")
	}
}

func TestIssuingCARevoked(t *testing.T) {
	for _, mode := range []string{elster.RevocationOCSP, elster.RevocationCRL} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, func(_ *env, c *elster.Config) { c.Revocation.Mode = mode })
			e.sim.CA("root").Revoke(e.sim.CA("issuing").Cert.SerialNumber, time.Now().Add(-time.Hour))
			_, err := e.login("person.pfx", elster.AlgRS256)
			if !errors.Is(err, elster.ErrRevoked) || !strings.Contains(err.Error(), "issuing CA") {
				t.Fatalf("err = %v, want ErrRevoked for the issuing CA", err)
			}
		})
	}
}

// fakeOCSP answers every request with a response signed by a key the
// issuing CA never certified.
func fakeOCSP(t *testing.T, issuer *x509.Certificate) *httptest.Server {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Forged Responder"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, 4096)
		n, _ := r.Body.Read(body)
		req, err := ocsp.ParseRequest(body[:n])
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		resp, err := ocsp.CreateResponse(issuer, cert, ocsp.Response{
			Status: ocsp.Good, SerialNumber: req.SerialNumber, Certificate: cert,
			ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
		}, key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRevocationInvalidAnswers(t *testing.T) {
	t.Run("forged ocsp responder, even under allow", func(t *testing.T) {
		e := newEnv(t, func(e *env, c *elster.Config) {
			c.Revocation.Mode = elster.RevocationBoth
			c.Revocation.OCSPURL = fakeOCSP(t, e.sim.CA("issuing").Cert).URL
			c.Revocation.Unreachable = elster.UnreachableAllow
		})
		if _, err := e.login("person.pfx", elster.AlgRS256); !errors.Is(err, elster.ErrRevocationInvalid) {
			t.Fatalf("err = %v, want ErrRevocationInvalid", err)
		}
	})
	t.Run("ocsp unknown serial", func(t *testing.T) {
		e := newEnv(t, func(_ *env, c *elster.Config) {
			c.Revocation.Mode = elster.RevocationOCSP
			c.Revocation.Unreachable = elster.UnreachableAllow
		})
		// Signed with the issuing CA's key behind the simulator's back, so
		// its responder has never heard of the serial.
		ca := e.sim.CA("issuing")
		key, cert := newLeaf(t, func(c *x509.Certificate) {}, func(tmpl *x509.Certificate, pub any) *x509.Certificate {
			der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
			if err != nil {
				t.Fatal(err)
			}
			c, _ := x509.ParseCertificate(der)
			return c
		})
		_, err := e.loginWith(key, cert, ca.Cert)
		if !errors.Is(err, elster.ErrRevocationUnavailable) {
			t.Fatalf("err = %v, want ErrRevocationUnavailable", err)
		}
	})
}

// newLeaf makes an RSA-2048 login certificate template (person, valid,
// digitalSignature, clientAuth), lets edit change it and issue sign it.
func newLeaf(t *testing.T, edit func(*x509.Certificate), issue func(*x509.Certificate, any) *x509.Certificate) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)),
		Subject: pkix.Name{
			Country: []string{"DE"}, CommonName: "Hans Peter Muster", SerialNumber: "ELS-P-900001",
		},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	edit(tmpl)
	return key, issue(tmpl, &key.PublicKey)
}

func (e *env) issue(t *testing.T) func(*x509.Certificate, any) *x509.Certificate {
	return func(tmpl *x509.Certificate, pub any) *x509.Certificate {
		c, err := e.sim.CA("issuing").Issue(tmpl, pub)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

func (e *env) loginWith(key *rsa.PrivateKey, leaf *x509.Certificate, chain ...*x509.Certificate) (adapters.Identity, error) {
	req, st, ch := e.begin("tx-" + leaf.SerialNumber.String())
	h := holder{key: key, leaf: leaf, chain: chain}
	return e.adapter.Finish(context.Background(), req, st, post(h.form(e.t, ch, elster.AlgRS256)))
}

func TestExtendedKeyUsage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		eku    []x509.ExtKeyUsage
		policy string
		want   error
	}{
		{"client auth", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, "", nil},
		{"no extension", nil, "", nil},
		{"server auth only", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, "", elster.ErrKeyUsage},
		{"email only", []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, "", elster.ErrKeyUsage},
		{"email only, policy any", []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, elster.EKUAny, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(_ *env, c *elster.Config) { c.ExtKeyUsage = tc.policy })
			key, cert := newLeaf(t, func(c *x509.Certificate) { c.ExtKeyUsage = tc.eku }, e.issue(t))
			_, err := e.loginWith(key, cert, e.sim.CA("issuing").Cert)
			if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestLeafChecks(t *testing.T) {
	e := newEnv(t, nil)
	issuing := e.sim.CA("issuing").Cert
	for _, tc := range []struct {
		name string
		edit func(*x509.Certificate)
		want error
	}{
		{"not yet valid", func(c *x509.Certificate) { c.NotBefore = time.Now().Add(time.Hour) }, elster.ErrExpired},
		{"no key usage extension", func(c *x509.Certificate) { c.KeyUsage = 0 }, elster.ErrKeyUsage},
		{"ca certificate", func(c *x509.Certificate) {
			c.IsCA = true
			c.KeyUsage |= x509.KeyUsageCertSign
		}, elster.ErrKeyUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, cert := newLeaf(t, tc.edit, e.issue(t))
			if _, err := e.loginWith(key, cert, issuing); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("without intermediate", func(t *testing.T) {
		key, cert := newLeaf(t, func(*x509.Certificate) {}, e.issue(t))
		if _, err := e.loginWith(key, cert); !errors.Is(err, elster.ErrUntrusted) {
			t.Fatalf("err = %v, want ErrUntrusted", err)
		}
	})
}

// TestCertificateURLs exercises the path without overrides: the responder
// and the CRL come from the certificate's AIA and CRL distribution point.
func TestCertificateURLs(t *testing.T) {
	for _, mode := range []string{elster.RevocationOCSP, elster.RevocationCRL} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, func(e *env, c *elster.Config) {
				c.Revocation.Mode = mode
				c.Revocation.OCSPURL = ""
				c.Revocation.CRLURLs = nil
				// The issuing CA's own URLs point nowhere; trust it
				// directly so only the leaf is checked.
				c.TrustAnchors = append(c.TrustAnchors, config.Path(e.sim.Dir()+"/issuing.pem"))
			})
			key, cert := newLeaf(t, func(c *x509.Certificate) {
				c.OCSPServer = []string{e.simBase + "/ocsp"}
				c.CRLDistributionPoints = []string{e.simBase + "/crl/issuing.crl"}
			}, e.issue(t))
			if _, err := e.loginWith(key, cert); err != nil {
				t.Fatalf("valid: %v", err)
			}
			e.sim.CA("issuing").Revoke(cert.SerialNumber, time.Now().Add(-time.Minute))
			fresh := newEnvSameSim(e) // a new adapter with an empty cache
			if _, err := fresh.loginWith(key, cert); !errors.Is(err, elster.ErrRevoked) {
				t.Fatalf("revoked: err = %v, want ErrRevoked", err)
			}
		})
	}
}

// newEnvSameSim opens a second adapter (fresh revocation cache) on e's
// simulator and store.
func newEnvSameSim(e *env) *env {
	f := &env{t: e.t, clock: e.clock, sim: e.sim, srv: e.srv, simBase: e.simBase, store: e.store, cfg: e.cfg}
	f.adapter = f.open(e.cfg, testBaseURL)
	return f
}

func TestSubjectIdentity(t *testing.T) {
	oidGN := asn1.ObjectIdentifier{2, 5, 4, 42}
	oidSN := asn1.ObjectIdentifier{2, 5, 4, 4}
	t.Run("stable across renewal with a new key", func(t *testing.T) {
		e := newEnv(t, nil)
		issuing := e.sim.CA("issuing").Cert
		k1, c1 := newLeaf(t, func(*x509.Certificate) {}, e.issue(t))
		k2, c2 := newLeaf(t, func(*x509.Certificate) {}, e.issue(t))
		id1, err := e.loginWith(k1, c1, issuing)
		if err != nil {
			t.Fatal(err)
		}
		id2, err := e.loginWith(k2, c2, issuing)
		if err != nil {
			t.Fatal(err)
		}
		if id1.Subject != id2.Subject {
			t.Fatalf("renewed certificate changed the subject: %q vs %q", id1.Subject, id2.Subject)
		}
		if id1.Claims.GivenName != "Hans Peter" || id1.Claims.FamilyName != "Muster" {
			t.Errorf("CN split gave %q %q", id1.Claims.GivenName, id1.Claims.FamilyName)
		}
	})
	t.Run("spki mode", func(t *testing.T) {
		e := newEnv(t, func(_ *env, c *elster.Config) { c.SubjectID = elster.SubjectSPKI })
		issuing := e.sim.CA("issuing").Cert
		k1, c1 := newLeaf(t, func(*x509.Certificate) {}, e.issue(t))
		k2, c2 := newLeaf(t, func(*x509.Certificate) {}, e.issue(t))
		id1, _ := e.loginWith(k1, c1, issuing)
		id2, _ := e.loginWith(k2, c2, issuing)
		if !strings.HasPrefix(id1.Subject, "spki:") || id1.Subject == id2.Subject {
			t.Fatalf("spki subjects %q, %q: want distinct spki: values", id1.Subject, id2.Subject)
		}
	})
	t.Run("no serialNumber falls back to the key", func(t *testing.T) {
		e := newEnv(t, nil)
		key, cert := newLeaf(t, func(c *x509.Certificate) {
			c.Subject.SerialNumber = ""
			c.Subject.ExtraNames = []pkix.AttributeTypeAndValue{{Type: oidGN, Value: "Ida"}, {Type: oidSN, Value: "Ohnenummer"}}
		}, e.issue(t))
		id, err := e.loginWith(key, cert, e.sim.CA("issuing").Cert)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(id.Subject, "spki:") || id.Claims.GivenName != "Ida" || id.Claims.FamilyName != "Ohnenummer" {
			t.Fatalf("got %+v", id)
		}
	})
	t.Run("custom organisation mapping", func(t *testing.T) {
		e := newEnv(t, func(_ *env, c *elster.Config) {
			c.Mapping.Organisation.Identifier = []string{"OU", "serialNumber"}
		})
		id, err := e.login("organisation.pfx", elster.AlgRS256)
		if err != nil {
			t.Fatal(err)
		}
		if id.Claims.LegalEntity == nil || id.Claims.LegalEntity.Identifier != "ELS-O-200001" {
			t.Fatalf("legal entity %+v, want identifier from serialNumber", id.Claims.LegalEntity)
		}
	})
}

// failingStore refuses every write, as a Redis outage would.
type failingStore struct{ store.Store }

func (failingStore) Create(context.Context, store.Kind, string, []byte, time.Duration) error {
	return store.ErrUnavailable
}

func TestStoreOutageFailsClosed(t *testing.T) {
	e := newEnv(t, nil)
	a, err := e.cfg.Open("elster", adapters.Deps{HTTP: e.srv.Client(), Now: e.clock.Now, BaseURL: testBaseURL, Store: failingStore{e.store}})
	if err != nil {
		t.Fatal(err)
	}
	req := request("tx-store")
	h, st, err := a.Begin(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	ch := challengeInput.FindSubmatch(h.Content)
	_, err = a.Finish(context.Background(), req, st, post(e.open12("person.pfx").form(t, html.UnescapeString(string(ch[1])), elster.AlgRS256)))
	if !errors.Is(err, elster.ErrStore) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrStore wrapping store.ErrUnavailable", err)
	}
}

func TestMutualTLS(t *testing.T) {
	const proxy = "192.0.2.10:41000"
	e := newEnv(t, func(e *env, c *elster.Config) {
		c.MTLS = elster.MTLS{Enabled: true, TrustedProxies: []string{"192.0.2.0/24", "::1/128"}}
		// The terminator forwards only the leaf: the issuing CA must be
		// configured.
		c.TrustAnchors = append(c.TrustAnchors, config.Path(e.sim.Dir()+"/issuing.pem"))
	})
	escaped := func(file string) string {
		return url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.open12(file).leaf.Raw})))
	}
	tlsPost := func(ch, remote, header string) *http.Request {
		r := post(url.Values{"challenge": {ch}, "mode": {"tls"}})
		r.RemoteAddr = remote
		if header != "" {
			r.Header.Set(elster.DefaultMTLSHeader, header)
		}
		return r
	}
	for _, tc := range []struct {
		name, remote, file string
		want               error
	}{
		{"trusted proxy", proxy, "person.pfx", nil},
		{"trusted proxy ipv6", "[::1]:5000", "organisation.pfx", nil},
		{"untrusted address", "203.0.113.5:41000", "person.pfx", elster.ErrProxy},
		{"trusted proxy, no certificate", proxy, "", elster.ErrRequest},
		{"trusted proxy, revoked", proxy, "revoked.pfx", elster.ErrRevoked},
		{"trusted proxy, foreign", proxy, "foreign.pfx", elster.ErrUntrusted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, st, ch := e.begin("tx-mtls-" + tc.name)
			header := ""
			if tc.file != "" {
				header = escaped(tc.file)
			}
			id, err := e.adapter.Finish(context.Background(), req, st, tlsPost(ch, tc.remote, header))
			if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == nil && (id.Subject == "" || id.Level != assurance.Substantial) {
				t.Fatalf("identity %+v", id)
			}
		})
	}
	t.Run("nginx escaping keeps plus signs", func(t *testing.T) {
		req, st, ch := e.begin("tx-mtls-plus")
		raw := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.open12("person.pfx").leaf.Raw}))
		// nginx escapes newlines and spaces but may leave '+' and '/' as they are.
		header := strings.NewReplacer("\n", "%0A", " ", "%20").Replace(raw)
		if _, err := e.adapter.Finish(context.Background(), req, st, tlsPost(ch, proxy, header)); err != nil {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("challenge still single use", func(t *testing.T) {
		req, st, ch := e.begin("tx-mtls-replay")
		if _, err := e.adapter.Finish(context.Background(), req, st, tlsPost(ch, proxy, escaped("person.pfx"))); err != nil {
			t.Fatal(err)
		}
		if _, err := e.adapter.Finish(context.Background(), req, st, tlsPost(ch, proxy, escaped("person.pfx"))); !errors.Is(err, elster.ErrReplay) {
			t.Fatalf("err = %v, want ErrReplay", err)
		}
	})
	t.Run("header ignored in signature mode", func(t *testing.T) {
		req, st, ch := e.begin("tx-mtls-sig")
		r := post(e.open12("person.pfx").form(t, ch, elster.AlgRS256))
		r.RemoteAddr = "203.0.113.5:1"
		r.Header.Set(elster.DefaultMTLSHeader, escaped("organisation.pfx"))
		id, err := e.adapter.Finish(context.Background(), req, st, r)
		if err != nil || id.Claims.LegalEntity != nil {
			t.Fatalf("id %+v err %v: want the signed person certificate", id, err)
		}
	})
}

// TestCheckHealth: readiness names the conditions that fail every login (an
// anchor out of its validity, no configured CRL point answering under the
// refuse policy) and stays quiet where logins would still succeed.
func TestCheckHealth(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	for _, tc := range []struct {
		name   string
		mutate func(e *env, c *elster.Config)
		later  time.Duration // clock advance before the check
		want   string        // "" = healthy, else part of the error
	}{
		{"defaults", nil, 0, ""},
		{"crl down, refuse", func(_ *env, c *elster.Config) {
			c.Revocation.Mode = elster.RevocationCRL
			c.Revocation.CRLURLs = []string{deadURL + "/crl/issuing.crl"}
		}, 0, "no configured CRL distribution point answers"},
		{"crl down in both mode, refuse", func(_ *env, c *elster.Config) {
			c.Revocation.CRLURLs = []string{deadURL + "/crl/issuing.crl"}
		}, 0, "no configured CRL distribution point answers"},
		{"crl down, allow", func(_ *env, c *elster.Config) {
			c.Revocation.Mode = elster.RevocationCRL
			c.Revocation.CRLURLs = []string{deadURL + "/crl/issuing.crl"}
			c.Revocation.Unreachable = elster.UnreachableAllow
		}, 0, ""},
		{"one of two crl points answers", func(e *env, c *elster.Config) {
			c.Revocation.Mode = elster.RevocationCRL
			c.Revocation.CRLURLs = []string{deadURL + "/crl/issuing.crl", e.simBase + "/crl/issuing.crl"}
		}, 0, ""},
		{"ocsp only: nothing to probe", func(_ *env, c *elster.Config) {
			c.Revocation.Mode = elster.RevocationOCSP
			c.Revocation.CRLURLs = []string{deadURL + "/crl/issuing.crl"}
		}, 0, ""},
		{"trust anchor expired", nil, 100 * 365 * 24 * time.Hour, "trust anchor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.mutate)
			e.clock.Add(tc.later)
			err := e.adapter.CheckHealth(context.Background())
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unhealthy: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
