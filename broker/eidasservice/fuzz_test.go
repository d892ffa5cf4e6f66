package eidasservice

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

// FuzzRequestParsing feeds arbitrary bytes to everything that reads an
// AuthnRequest before or without a signature: the safe parser, the Issuer
// peek, the content reader, the content rules and the Redirect decoder.
// None of it may panic, whatever the input.
//
//	go test ./broker/eidasservice -run XXX -fuzz FuzzRequestParsing -fuzztime 2m -fuzzminimizetime 2s
//
// (a short -fuzzminimizetime keeps the engine from spending a minute
// minimising each new input of this comparatively slow target).
func FuzzRequestParsing(f *testing.F) {
	root := fixtureRoot(f)
	files, _ := filepath.Glob(filepath.Join(root, "requests", "*.xml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`<saml2p:AuthnRequest xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol"/>`))
	f.Add([]byte("SAMLRequest=%%&SigAlg=x&Signature=y&RelayState=z"))
	svc := &Service{cfg: settings{Config: Config{Adapter: highAdapter{}}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		if in, err := decodeRedirect(string(data), DefaultMaxMessageBytes); err == nil {
			_, _, _ = peekIssuer(in.XML, DefaultMaxMessageBytes)
		}
		root, _, err := peekIssuer(data, DefaultMaxMessageBytes)
		if err != nil {
			return
		}
		req, err := readRequest(root)
		if err != nil {
			return
		}
		p := &plan{req: req, conn: &connector{}, md: &spMetadata{}}
		_ = svc.checkContent(p)
		_, _ = verifyRequest(&inbound{Binding: samlxml.BindingPOST}, root, p.md, time.Now(), DefaultMaxMessageBytes)
	})
}
