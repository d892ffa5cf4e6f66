package elstersim_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/ozg-broker/eidas-broker/adapters/elster/elstersim"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

func load(t *testing.T) (*elstersim.Sim, *httptest.Server) {
	t.Helper()
	sim, err := elstersim.LoadDir(testfiles.Path(t, "testdata", "elster"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/sim/elster/", http.StripPrefix("/sim/elster", sim.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return sim, srv
}

func get(t *testing.T, u string) ([]byte, *http.Response) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, resp
}

func TestFilesOpenWithTheirPINs(t *testing.T) {
	sim, srv := load(t)
	if len(sim.Files()) < 7 {
		t.Fatalf("%d files, want the full fixture set", len(sim.Files()))
	}
	for _, f := range sim.Files() {
		t.Run(f.File, func(t *testing.T) {
			body, resp := get(t, srv.URL+"/sim/elster/files/"+f.File)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-pkcs12" {
				t.Fatalf("download: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			_, leaf, cas, err := pkcs12.DecodeChain(body, f.PIN)
			if err != nil {
				t.Fatalf("decode with PIN: %v", err)
			}
			if leaf.SerialNumber.Text(16) != f.Serial {
				t.Errorf("serial %x, manifest %s", leaf.SerialNumber, f.Serial)
			}
			if err := leaf.CheckSignatureFrom(sim.CA(f.Issuer).Cert); err != nil {
				t.Errorf("not issued by %s: %v", f.Issuer, err)
			}
			if len(cas) == 0 {
				t.Error("no chain in the file")
			}
			if _, _, err := pkcs12.Decode(body, f.PIN+"x"); err == nil {
				t.Error("opens with a wrong PIN")
			}
		})
	}
	if _, resp := get(t, srv.URL+"/sim/elster/files/../manifest.json"); resp.StatusCode != 404 {
		t.Errorf("path traversal: %d", resp.StatusCode)
	}
}

func TestIndexListsFilesAndPINs(t *testing.T) {
	sim, srv := load(t)
	body, resp := get(t, srv.URL+"/sim/elster/")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	page := string(body)
	if !strings.Contains(page, "SIMULATOR") {
		t.Error("page not marked as simulator")
	}
	for _, f := range sim.Files() {
		if !strings.Contains(page, `href="files/`+f.File+`"`) || !strings.Contains(page, f.PIN) {
			t.Errorf("index lacks %s or its PIN", f.File)
		}
	}
}

func TestCRL(t *testing.T) {
	sim, srv := load(t)
	revoked, _ := sim.File("revoked.pfx")
	for _, tc := range []struct {
		ca          string
		wantRevoked bool
	}{{"issuing", true}, {"root", false}} {
		t.Run(tc.ca, func(t *testing.T) {
			body, resp := get(t, srv.URL+"/sim/elster/crl/"+tc.ca+".crl")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			crl, err := x509.ParseRevocationList(body)
			if err != nil {
				t.Fatal(err)
			}
			if err := crl.CheckSignatureFrom(sim.CA(tc.ca).Cert); err != nil {
				t.Fatalf("crl signature: %v", err)
			}
			if crl.NextUpdate.Sub(crl.ThisUpdate) != elstersim.DefaultValidity {
				t.Errorf("validity %v", crl.NextUpdate.Sub(crl.ThisUpdate))
			}
			found := false
			for _, e := range crl.RevokedCertificateEntries {
				if e.SerialNumber.Text(16) == revoked.Serial {
					found = true
				}
			}
			if found != tc.wantRevoked {
				t.Fatalf("revoked serial listed: %v, want %v", found, tc.wantRevoked)
			}
		})
	}
	for _, name := range []string{"foreign", "ocsp-responder", "nope"} {
		if _, resp := get(t, srv.URL+"/sim/elster/crl/"+name+".crl"); resp.StatusCode != 404 {
			t.Errorf("crl of %s: %d, want 404", name, resp.StatusCode)
		}
	}
}

func leafOf(t *testing.T, sim *elstersim.Sim, file string) *x509.Certificate {
	t.Helper()
	f, _ := sim.File(file)
	data, err := sim.PFX(file)
	if err != nil {
		t.Fatal(err)
	}
	_, leaf, _, err := pkcs12.DecodeChain(data, f.PIN)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func TestOCSP(t *testing.T) {
	sim, srv := load(t)
	issuing, root := sim.CA("issuing"), sim.CA("root")
	for _, tc := range []struct {
		name   string
		cert   *x509.Certificate
		issuer *x509.Certificate
		want   int
		get    bool
	}{
		{"good leaf", leafOf(t, sim, "person.pfx"), issuing.Cert, ocsp.Good, false},
		{"good leaf by GET", leafOf(t, sim, "person.pfx"), issuing.Cert, ocsp.Good, true},
		{"revoked leaf", leafOf(t, sim, "revoked.pfx"), issuing.Cert, ocsp.Revoked, false},
		{"issuing CA at the root", issuing.Cert, root.Cert, ocsp.Good, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ocsp.CreateRequest(tc.cert, tc.issuer, nil)
			if err != nil {
				t.Fatal(err)
			}
			var body []byte
			if tc.get {
				body, _ = get(t, srv.URL+"/sim/elster/ocsp/"+url.PathEscape(base64.StdEncoding.EncodeToString(req)))
			} else {
				resp, err := http.Post(srv.URL+"/sim/elster/ocsp", "application/ocsp-request", bytes.NewReader(req))
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			r, err := ocsp.ParseResponseForCert(body, tc.cert, tc.issuer)
			if err != nil {
				t.Fatalf("parse/verify response: %v", err)
			}
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d", r.Status, tc.want)
			}
			delegated := r.Certificate != nil
			if delegated != (tc.issuer == issuing.Cert) {
				t.Errorf("delegated responder used: %v", delegated)
			}
			if time.Until(r.NextUpdate) <= 0 {
				t.Error("response already stale")
			}
		})
	}
	t.Run("unknown issuer", func(t *testing.T) {
		req, _ := ocsp.CreateRequest(leafOf(t, sim, "foreign.pfx"), sim.CA("foreign").Cert, nil)
		resp := sim.OCSPResponse(req)
		if _, err := ocsp.ParseResponse(resp, nil); err == nil || !strings.Contains(err.Error(), "unauthorized") {
			t.Fatalf("err = %v, want unauthorized", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		if _, err := ocsp.ParseResponse(sim.OCSPResponse([]byte("nope")), nil); err == nil {
			t.Fatal("garbage answered")
		}
	})
}

func TestAdapterConfig(t *testing.T) {
	sim, _ := load(t)
	c := sim.AdapterConfig("http://127.0.0.1:1/sim/elster")
	if ps := c.Validate(); len(ps) != 0 {
		t.Fatalf("problems: %+v", ps)
	}
	if len(c.TrustAnchors) != 1 || !strings.HasSuffix(string(c.TrustAnchors[0]), "root.pem") {
		t.Errorf("anchors %v", c.TrustAnchors)
	}
	if c.Revocation.OCSPURL != "http://127.0.0.1:1/sim/elster/ocsp" || len(c.Revocation.CRLURLs) != 2 {
		t.Errorf("revocation %+v", c.Revocation)
	}
}
