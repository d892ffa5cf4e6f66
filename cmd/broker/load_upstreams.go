package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/ozg-broker/eidas-broker/adapters/elster"
)

// The load tool's legs for the German eID card and the ELSTER
// certificate login, each against the simulator the demo wires.

var (
	reEIDClient = regexp.MustCompile(`id="start-client" href="([^"]+)"`)
	reEIDKeep   = regexp.MustCompile(`name="keep" value="([^"]+)" checked`)
)

// eidLeg logs in with the eID-Client simulator and Erika's test card: the
// broker's link opens the client with the TC Token URL (the client
// fetches the TC Token and opens the session at the simulated eID-Server,
// whose SOAP messages to the adapter are signed and encrypted), the card
// page is confirmed with every optional datum kept, as a browser submits
// it, and the client's redirect runs through the broker's refresh address
// to the consent page.
func eidLeg(_ *loginDriver, b *loadBrowser, page string) (string, error) {
	link, err := find(reEIDClient, page, "eID-Client link")
	if err != nil {
		return "", err
	}
	if page, err = b.get(link); err != nil {
		return "", err
	}
	action, form, err := formOf(page)
	if err != nil {
		return "", fmt.Errorf("eID-Client page: %w", err)
	}
	for _, m := range reEIDKeep.FindAllStringSubmatch(page, -1) {
		form.Add("keep", m[1])
	}
	form.Set("card", "erika")
	form.Set("action", "ok")
	return b.post(action, form)
}

// elsterCert is the ELSTER leg's test certificate (the person's .pfx of
// the simulator's test PKI): its key and chain, leaf first, base64 as
// the page's script posts them.
type elsterCert struct {
	key   *rsa.PrivateKey
	chain []string
}

// elsterPersonPFX and its PIN are the simulator's published test
// certificate (its download page shows the PIN).
const (
	elsterPersonPFX = "elster/person.pfx"
	elsterPersonPIN = "Erika-2025"
)

func loadElsterCert(testdata string) (*elsterCert, error) {
	der, err := os.ReadFile(filepath.Join(testdata, elsterPersonPFX))
	if err != nil {
		return nil, fmt.Errorf("elster: the test certificate (run from the repository root or pass --testdata): %w", err)
	}
	key, cert, chain, err := pkcs12.DecodeChain(der, elsterPersonPIN)
	if err != nil {
		return nil, fmt.Errorf("elster: %s: %w", elsterPersonPFX, err)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("elster: the test certificate's key is not RSA")
	}
	c := &elsterCert{key: rk}
	for _, x := range append([]*x509.Certificate{cert}, chain...) {
		c.chain = append(c.chain, base64.StdEncoding.EncodeToString(x.Raw))
	}
	return c, nil
}

var (
	reElsterAlg  = regexp.MustCompile(`data-alg="([^"]+)"`)
	reElsterPost = regexp.MustCompile(`<form id="elster-post" method="post" action="([^"]+)"`)
	reChallenge  = regexp.MustCompile(`name="challenge" value="([^"]+)"`)
)

// elsterLeg logs in with the ELSTER certificate (the broker's own page,
// no upstream round trip): it signs the page's challenge with the test
// certificate's key in the algorithm the page asks for and posts
// signature and chain from the page's origin, as the page's script does
// after the PIN opened the .pfx in the browser.
func elsterLeg(l *loginDriver, b *loadBrowser, page string) (string, error) {
	action, err := find(reElsterPost, page, "ELSTER form")
	if err != nil {
		return "", err
	}
	ch, err := find(reChallenge, page, "ELSTER challenge")
	if err != nil {
		return "", err
	}
	alg, err := find(reElsterAlg, page, "ELSTER algorithm")
	if err != nil {
		return "", err
	}
	digest := sha256.Sum256([]byte(ch))
	var sig []byte
	switch alg {
	case elster.AlgRS256:
		sig, err = rsa.SignPKCS1v15(rand.Reader, l.elster.key, crypto.SHA256, digest[:])
	case elster.AlgPS256:
		sig, err = rsa.SignPSS(rand.Reader, l.elster.key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	default:
		return "", fmt.Errorf("ELSTER page asks for algorithm %q", alg)
	}
	if err != nil {
		return "", err
	}
	return b.post(action, url.Values{"challenge": {ch}, "alg": {alg},
		"signature": {base64.StdEncoding.EncodeToString(sig)}, "chain": l.elster.chain})
}
