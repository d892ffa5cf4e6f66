package eidsim

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters/eid"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

func fixturePKI(t *testing.T) *PKI {
	t.Helper()
	p, err := LoadPKI(testfiles.Path(t, "testdata", "eid"))
	if err != nil {
		t.Fatalf("load fixtures (go run ./testdata/eid/gen): %v", err)
	}
	return p
}

func TestAgeAtLeast(t *testing.T) {
	now := time.Date(2024, 8, 12, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		date string
		age  int
		want bool
	}{
		{"20060812", 18, true},
		{"20060813", 18, false},
		{"2006    ", 18, false}, // could be born in December
		{"2005    ", 18, true},
		{"200608  ", 18, false}, // could be born on the 31st
		{"200607  ", 18, true},
		{"        ", 18, false},
		{"19640812", 60, true},
		{"garbage!", 1, false},
	}
	for _, tt := range tests {
		if got := ageAtLeast(tt.date, tt.age, now); got != tt.want {
			t.Errorf("ageAtLeast(%q, %d) = %v, want %v", tt.date, tt.age, got, tt.want)
		}
	}
}

// session opens a session through the demo's SOAP interface and returns a
// TC-Token-like triple for the card channel.
type channel struct {
	addr, id string
	psk      []byte
}

func openSession(t *testing.T, d *Demo, req *eid.UseIDRequest) channel {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: d.PKI.CAPool(), Certificates: []tls.Certificate{d.PKI.ClientTLS}, MinVersion: tls.VersionTLS12,
	}}}
	c, err := eid.NewClient(eid.ClientOptions{
		Endpoint: d.ServerURL, HTTP: hc,
		SigningKey: d.PKI.ServiceSigning.Key, SigningCert: d.PKI.ServiceSigning.Cert,
		ServerSigningCert: d.PKI.ServerSigning.Cert,
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.UseID(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	psk, err := hex.DecodeString(resp.PSK.Key)
	if err != nil {
		t.Fatal(err)
	}
	return channel{addr: resp.ECardServerAddress, id: resp.PSK.ID, psk: psk}
}

func request() *eid.UseIDRequest {
	r := &eid.UseIDRequest{}
	for _, n := range eid.OperationNames() {
		r.UseOperations.Set(n, eid.Prohibited)
	}
	r.UseOperations.RestrictedID = eid.Required
	r.UseOperations.GivenNames = eid.Required
	r.UseOperations.PlaceOfResidence = eid.Allowed
	return r
}

func startDemo(t *testing.T) *Demo {
	t.Helper()
	d, err := StartDemo(DemoOptions{PKI: fixturePKI(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestCardChannel(t *testing.T) {
	d := startDemo(t)
	erika, _ := d.Client.Card("erika")
	ch := openSession(t, d, request())

	if _, err := d.Server.Connect(ch.addr, ch.id, []byte("wrong psk")); !errors.Is(err, ErrWrongPSK) {
		t.Errorf("wrong PSK: %v", err)
	}
	if _, err := d.Server.Connect("https://elsewhere.example/paos", ch.id, ch.psk); !errors.Is(err, ErrWrongServer) {
		t.Errorf("wrong server: %v", err)
	}
	if _, err := d.Server.Connect(ch.addr, "unknown-session-identifier", ch.psk); !errors.Is(err, ErrNoSession) {
		t.Errorf("unknown session: %v", err)
	}
	info, err := d.Server.Connect(ch.addr, ch.id, ch.psk)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(info.Required, ",") != "GivenNames,RestrictedID" || strings.Join(info.Optional, ",") != "PlaceOfResidence" {
		t.Errorf("info %+v", info)
	}
	if err := d.Server.Complete(ch.addr, ch.id, ch.psk, erika, []string{"GivenNames"}); !errors.Is(err, ErrDeselect) {
		t.Errorf("deselecting a required group: %v", err)
	}
	if err := d.Server.Complete(ch.addr, ch.id, ch.psk, erika, []string{"PlaceOfResidence"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Server.Complete(ch.addr, ch.id, ch.psk, erika, nil); !errors.Is(err, ErrNoSession) {
		t.Errorf("second completion: %v", err)
	}
}

func TestServerRefusesOddRequests(t *testing.T) {
	d := startDemo(t)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: d.PKI.CAPool(), Certificates: []tls.Certificate{d.PKI.ClientTLS}, MinVersion: tls.VersionTLS12,
	}}}
	resp, err := hc.Get(d.ServerURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	for body, want := range map[string]int{
		"<not-xml":                 http.StatusBadRequest,
		`<!DOCTYPE a []><a/>`:      http.StatusBadRequest,
		strings.Repeat(" ", 2<<20): http.StatusRequestEntityTooLarge,
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><x/></soapenv:Body></soapenv:Envelope>`: http.StatusForbidden,
	} {
		resp, err := hc.Post(d.ServerURL, "text/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("body %.30q: status %d, want %d", body, resp.StatusCode, want)
		}
	}
}

func TestClientSimPages(t *testing.T) {
	d := startDemo(t)
	ts := httptest.NewServer(d.Client)
	defer ts.Close()
	get := func(path string) (int, string, http.Header) {
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if code, body, _ := get("/sim/eid-client/"); code != http.StatusOK || !strings.Contains(body, "AusweisApp") {
		t.Errorf("intro: %d", code)
	}
	if code, _, _ := get("/sim/eid-client/?tcTokenURL=" + url.QueryEscape("ftp://x/y")); code != http.StatusBadGateway {
		t.Errorf("bad tcTokenURL: %d", code)
	}
	if code, _, _ := get("/sim/eid-client/nothing"); code != http.StatusNotFound {
		t.Errorf("unknown path: %d", code)
	}
	resp, err := http.PostForm(ts.URL+"/sim/eid-client/complete", url.Values{"handle": {"00"}, "card": {"erika"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Errorf("unknown handle: %d", resp.StatusCode)
	}

	// A TC Token naming a session the server does not know: the client
	// goes to the CommunicationErrorAddress, as TR-03124-1 prescribes.
	tokSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		tok := &eid.TCToken{
			ServerAddress: d.Server.cfg.ECardServerAddress, SessionIdentifier: "0123456789abcdef0123",
			RefreshAddress: "https://broker.example/callback", CommunicationErrorAddress: "https://broker.example/callback?x=1",
			Binding: eid.BindingPAOS, PathSecurityProtocol: eid.PathSecurityPSK,
			PathSecurityParameters: &eid.PathSecurityParameters{PSK: "00112233445566778899AABBCCDDEEFF"},
		}
		b, _ := tok.Marshal()
		_, _ = w.Write(b)
	}))
	defer tokSrv.Close()
	code, _, h := get("/sim/eid-client/?tcTokenURL=" + url.QueryEscape(tokSrv.URL))
	if loc := h.Get("Location"); code != http.StatusSeeOther || loc != "https://broker.example/callback?ResultMajor=error&ResultMinor=communicationError&x=1" {
		t.Errorf("unknown session: %d %q", code, loc)
	}

	// A real session: the page shows required and optional data and cards.
	ch := openSession(t, d, request())
	tokSrv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		tok := &eid.TCToken{
			ServerAddress: ch.addr, SessionIdentifier: ch.id, RefreshAddress: "https://broker.example/callback",
			Binding: eid.BindingPAOS, PathSecurityProtocol: eid.PathSecurityPSK,
			PathSecurityParameters: &eid.PathSecurityParameters{PSK: hex.EncodeToString(ch.psk)},
		}
		b, _ := tok.Marshal()
		_, _ = w.Write(b)
	}))
	defer tokSrv2.Close()
	code, body, h := get("/sim/eid-client/?tcTokenURL=" + url.QueryEscape(tokSrv2.URL))
	if code != http.StatusOK {
		t.Fatalf("page: %d\n%s", code, body)
	}
	for _, s := range []string{`checked disabled> Vornamen`, `name="keep" value="PlaceOfResidence" checked`, "Erika Mustermann", "Ayşe Yılmaz", "Ansgar Muster", `lang="en"`, `action="/sim/eid-client/complete"`} {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if strings.Contains(body, "<script") || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Error("page has script or lacks CSP")
	}
}

func TestClientSimRefusesCookieJar(t *testing.T) {
	jar, _ := cookiejar.New(nil)
	if _, err := NewClientSim(ClientConfig{Server: &Server{}, HTTP: &http.Client{Jar: jar}}); err == nil {
		t.Fatal("a cookie-carrying TC Token client was accepted")
	}
}

func TestDemoAdapterConfigValid(t *testing.T) {
	d := startDemo(t)
	c := d.AdapterConfig("http://127.0.0.1:8080/sim/eid-client/")
	if ps := c.Validate(); len(ps) != 0 {
		t.Fatalf("preset invalid: %+v", ps)
	}
}
