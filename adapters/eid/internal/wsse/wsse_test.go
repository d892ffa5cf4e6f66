package wsse_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters/eid/eidsim"
	"github.com/ozg-broker/eidas-broker/adapters/eid/internal/wsse"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

func loadPKI(t testing.TB, sub string) *eidsim.PKI {
	t.Helper()
	p, err := eidsim.LoadPKI(testfiles.Path(t, "testdata", "eid", sub))
	if err != nil {
		t.Fatalf("load fixtures (run go run ./testdata/eid/gen): %v", err)
	}
	return p
}

const payload = `<getResultRequest xmlns="http://bsi.bund.de/eID/"><Session><ID>00112233445566778899aabbccddeeff</ID></Session><RequestCounter>1</RequestCounter></getResultRequest>`

type fixture struct {
	signer   *wsse.Signer
	verifier *wsse.Verifier
	rogue    *wsse.Signer
	now      time.Time
}

func newFixture(t *testing.T) fixture {
	p := loadPKI(t, "")
	r := loadPKI(t, "rogue")
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	return fixture{
		signer:   &wsse.Signer{Key: p.ServiceSigning.Key, Cert: p.ServiceSigning.Cert, Now: clock},
		verifier: &wsse.Verifier{Certs: []*x509.Certificate{p.ServiceSigning.Cert}, Now: clock},
		rogue:    &wsse.Signer{Key: r.ServiceSigning.Key, Cert: r.ServiceSigning.Cert, Now: clock},
		now:      now,
	}
}

func TestRoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, h := range []crypto.Hash{0, crypto.SHA384, crypto.SHA512} {
		f.signer.Hash = h
		msg, err := f.signer.Seal([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		o, err := f.verifier.Open(msg)
		if err != nil {
			t.Fatalf("hash %v: %v", h, err)
		}
		if o.Local != "getResultRequest" || o.Space != "http://bsi.bund.de/eID/" {
			t.Errorf("payload name {%s}%s", o.Space, o.Local)
		}
		if !bytes.Contains(o.Payload, []byte("<RequestCounter>1</RequestCounter>")) {
			t.Errorf("payload %s", o.Payload)
		}
		if o.Signer != f.verifier.Certs[0] {
			t.Error("signer not reported")
		}
	}
}

func TestSealRefusesSHA1(t *testing.T) {
	f := newFixture(t)
	f.signer.Hash = crypto.SHA1
	if _, err := f.signer.Seal([]byte(payload)); err == nil {
		t.Fatal("SHA-1 signing accepted")
	}
}

// mutate parses a sealed message, applies fn and serialises it again.
func mutate(t *testing.T, msg []byte, fn func(doc *etree.Document)) []byte {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(msg); err != nil {
		t.Fatal(err)
	}
	fn(doc)
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRefused(t *testing.T) {
	f := newFixture(t)
	good, err := f.signer.Seal([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := f.rogue.Seal([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	unsigned := []byte(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header/><soapenv:Body>` + payload + `</soapenv:Body></soapenv:Envelope>`)
	tests := []struct {
		name string
		msg  []byte
		now  time.Duration
		want error
	}{
		{"tampered body", bytes.Replace(good, []byte("<RequestCounter>1<"), []byte("<RequestCounter>2<"), 1), 0, wsse.ErrBadSignature},
		{"tampered timestamp", mutate(t, good, func(d *etree.Document) {
			d.FindElement("//Expires").SetText("2099-01-01T00:00:00.000Z")
		}), 0, wsse.ErrBadSignature},
		{"tampered signature value", mutate(t, good, func(d *etree.Document) {
			sv := d.FindElement("//SignatureValue")
			b := []byte(sv.Text())
			if b[10] == 'A' {
				b[10] = 'B'
			} else {
				b[10] = 'A'
			}
			sv.SetText(string(b))
		}), 0, wsse.ErrUnknownSigner},
		{"signed by another key", rogue, 0, wsse.ErrUnknownSigner},
		{"unsigned", unsigned, 0, wsse.ErrUnsigned},
		{"no header", []byte(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>` + payload + `</soapenv:Body></soapenv:Envelope>`), 0, wsse.ErrUnsigned},
		{"expired", good, 10 * time.Minute, wsse.ErrStale},
		{"from the future", good, -10 * time.Minute, wsse.ErrStale},
		{"rsa-sha1 not allowed", mutate(t, good, func(d *etree.Document) {
			d.FindElement("//SignatureMethod").CreateAttr("Algorithm", wsse.AlgRSASHA1)
		}), 0, wsse.ErrBadSignature},
		{"inclusive c14n not allowed", mutate(t, good, func(d *etree.Document) {
			d.FindElement("//CanonicalizationMethod").CreateAttr("Algorithm", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")
		}), 0, wsse.ErrBadSignature},
		{"reference removed", mutate(t, good, func(d *etree.Document) {
			refs := d.FindElements("//Reference")
			refs[0].Parent().RemoveChild(refs[0])
		}), 0, wsse.ErrBadSignature},
		{"extra transform", mutate(t, good, func(d *etree.Document) {
			tr := d.FindElement("//Transforms")
			tr.CreateElement("ds:Transform").CreateAttr("Algorithm", "http://www.w3.org/2000/09/xmldsig#enveloped-signature")
		}), 0, wsse.ErrBadSignature},
		{"duplicate wsu:Id", mutate(t, good, func(d *etree.Document) {
			body := d.FindElement("//Body")
			dup := body.Copy()
			d.FindElement("//Header").AddChild(dup)
		}), 0, wsse.ErrBadSignature},
		{"wrapped body", mutate(t, good, func(d *etree.Document) {
			// The signed Body moves into a header wrapper; a forged Body
			// without an Id takes its place.
			body := d.FindElement("//Body")
			wrapper := d.FindElement("//Header").CreateElement("Wrapper")
			env := body.Parent()
			env.RemoveChild(body)
			wrapper.AddChild(body)
			forged := env.CreateElement("soapenv:Body")
			forged.CreateElement("getResultRequest").CreateAttr("xmlns", "http://bsi.bund.de/eID/")
		}), 0, wsse.ErrBadSignature},
		{"second body", mutate(t, good, func(d *etree.Document) {
			d.Root().CreateElement("soapenv:Body")
		}), 0, wsse.ErrStructure},
		{"doctype", append([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>`), good[bytes.Index(good, []byte("<soapenv:Envelope")):]...), 0, wsse.ErrDoctype},
		{"not soap", []byte(`<x/>`), 0, wsse.ErrStructure},
		{"garbage", []byte(`<soapenv:Envelope`), 0, wsse.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := *f.verifier
			v.Now = func() time.Time { return f.now.Add(tt.now) }
			_, err := v.Open(tt.msg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	tests := []struct {
		name string
		in   string
		lim  wsse.Limits
		want error
	}{
		{"too large", "<a>" + strings.Repeat("x", 200) + "</a>", wsse.Limits{MaxBytes: 100}, wsse.ErrTooLarge},
		{"too deep", deep, wsse.Limits{}, wsse.ErrMalformed},
		{"too many elements", "<a>" + strings.Repeat("<b/>", 20) + "</a>", wsse.Limits{MaxElements: 10}, wsse.ErrMalformed},
		{"duplicate attribute", `<a x="1" x="2"/>`, wsse.Limits{}, wsse.ErrMalformed},
		{"external entity", `<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>`, wsse.Limits{}, wsse.ErrDoctype},
		{"processing instruction", `<a><?php x?></a>`, wsse.Limits{}, wsse.ErrMalformed},
		{"two roots", `<a/><b/>`, wsse.Limits{}, wsse.ErrMalformed},
		{"undefined entity", `<a>&e;</a>`, wsse.Limits{}, wsse.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := wsse.Parse([]byte(tt.in), tt.lim); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestXmlsec1Verifies checks our signatures with an independent
// implementation (xmlsec1), trusting only the configured certificate.
func TestXmlsec1Verifies(t *testing.T) {
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		t.Skip("xmlsec1 not installed")
	}
	p := loadPKI(t, "")
	s := &wsse.Signer{Key: p.ServiceSigning.Key, Cert: p.ServiceSigning.Cert}
	msg, err := s.Seal([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile := filepath.Join(dir, "cert.pem")
	msgFile := filepath.Join(dir, "msg.xml")
	writePEM(t, certFile, p.ServiceSigning.Cert.Raw)
	// xmlsec1 cannot resolve the WS-Security token reference; the KeyInfo
	// is dropped so that it uses the one trusted certificate.
	stripped := mutate(t, msg, func(d *etree.Document) {
		ki := d.FindElement("//KeyInfo")
		ki.Parent().RemoveChild(ki)
	})
	if err := os.WriteFile(msgFile, stripped, 0o600); err != nil {
		t.Fatal(err)
	}
	verify := func(file string) error {
		cmd := exec.Command(bin, "--verify", "--enabled-key-data", "x509",
			"--pubkey-cert-pem", certFile,
			"--id-attr:Id", wsse.NSWsu+":Timestamp",
			"--id-attr:Id", wsse.NSSoap+":Body",
			file)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return errors.New(string(out))
		}
		return nil
	}
	if err := verify(msgFile); err != nil {
		t.Fatalf("xmlsec1 rejects our signature: %v", err)
	}
	bad := bytes.Replace(stripped, []byte("<RequestCounter>1<"), []byte("<RequestCounter>7<"), 1)
	badFile := filepath.Join(dir, "bad.xml")
	if err := os.WriteFile(badFile, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := verify(badFile); err == nil {
		t.Fatal("xmlsec1 accepts a tampered message; the check is not meaningful")
	}
}

// TestXmlsec1Signs verifies a WS-Security signature made by xmlsec1.
func TestXmlsec1Signs(t *testing.T) {
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		t.Skip("xmlsec1 not installed")
	}
	p := loadPKI(t, "")
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyFile, readFixture(t, eidsim.FileServiceSignKey), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	tmpl := `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsu="` + wsse.NSWsu + `"><soapenv:Header><wsse:Security xmlns:wsse="` + wsse.NSWsse + `"><wsu:Timestamp wsu:Id="TS-1"><wsu:Created>` + now.Format("2006-01-02T15:04:05Z") + `</wsu:Created><wsu:Expires>` + now.Add(5*time.Minute).Format("2006-01-02T15:04:05Z") + `</wsu:Expires></wsu:Timestamp><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#TS-1"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference><ds:Reference URI="#Body-1"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature></wsse:Security></soapenv:Header><soapenv:Body wsu:Id="Body-1">` + payload + `</soapenv:Body></soapenv:Envelope>`
	tmplFile := filepath.Join(dir, "tmpl.xml")
	if err := os.WriteFile(tmplFile, []byte(tmpl), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--sign", "--privkey-pem", keyFile,
		"--id-attr:Id", wsse.NSWsu+":Timestamp",
		"--id-attr:Id", wsse.NSSoap+":Body",
		tmplFile).Output()
	if err != nil {
		t.Fatalf("xmlsec1 sign: %v", err)
	}
	v := &wsse.Verifier{Certs: []*x509.Certificate{p.ServiceSigning.Cert}}
	o, err := v.Open(out)
	if err != nil {
		t.Fatalf("xmlsec1 signature refused: %v", err)
	}
	if o.Local != "getResultRequest" {
		t.Fatalf("payload %s", o.Local)
	}
	tampered := regexp.MustCompile(`<RequestCounter>1<`).ReplaceAll(out, []byte("<RequestCounter>9<"))
	if _, err := v.Open(tampered); !errors.Is(err, wsse.ErrBadSignature) {
		t.Fatalf("tampered xmlsec1 message: got %v", err)
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	return testfiles.Read(t, testfiles.Path(t, "testdata", "eid", name))
}

func writePEM(t *testing.T, name string, der []byte) {
	t.Helper()
	if err := os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkSeal measures the eID adapter's side of the SOAP exchange: a
// getResult request signed with WS-Security (XML signature over body and
// timestamp) under the eService's key, as sent to the eID-Server.
func BenchmarkSeal(b *testing.B) {
	p := loadPKI(b, "")
	s := &wsse.Signer{Key: p.ServiceSigning.Key, Cert: p.ServiceSigning.Cert}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Seal([]byte(payload)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen measures the verification of such a signed message.
func BenchmarkOpen(b *testing.B) {
	p := loadPKI(b, "")
	s := &wsse.Signer{Key: p.ServiceSigning.Key, Cert: p.ServiceSigning.Cert}
	msg, err := s.Seal([]byte(payload))
	if err != nil {
		b.Fatal(err)
	}
	v := &wsse.Verifier{Certs: []*x509.Certificate{p.ServiceSigning.Cert}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Open(msg); err != nil {
			b.Fatal(err)
		}
	}
}
