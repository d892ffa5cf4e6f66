package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ozg-broker/eidas-broker/adapters/eidas"
	"github.com/ozg-broker/eidas-broker/adapters/eidas/samltool"
)

const samlUsage = `usage: broker saml <command> [flags] MESSAGE

commands:
  verify  --cert FILE | --metadata FILE [--allow-rsa-pkcs1v15] MESSAGE
          check the signature of a Response, AuthnRequest or metadata (no time
          checks). --cert: trusted certificate(s), PEM (for metadata: the trust
          anchor); --metadata: the peer's metadata, whose signing certificates
          are trusted. Exit 0 valid, 1 invalid (with the reason), 2 usage.
  decrypt --key KEY.pem [--legacy] MESSAGE
          print the decrypted assertion(s) of a Response. --legacy also opens
          rsa-oaep-mgf1p (nodes before eIDAS 1.4). Prints personal data.
  inspect MESSAGE
          summarise a message without verifying it (no NameIDs or values).

MESSAGE is a file or - for standard input: XML, base64 (HTTP-POST), deflated
base64 (HTTP-Redirect), a form body, or a Redirect URL or query.
`

// cmdSAML implements `broker saml verify|decrypt|inspect`, the operator's
// tools for eIDAS messages (package samltool).
func cmdSAML(args []string, stdout, stderr io.Writer) int {
	return runSAML(args, os.Stdin, stdout, stderr)
}

func runSAML(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, samlUsage)
		return 2
	}
	switch args[0] {
	case "verify":
		return samlVerify(args[1:], stdin, stdout, stderr)
	case "decrypt":
		return samlDecrypt(args[1:], stdin, stdout, stderr)
	case "inspect":
		return samlInspect(args[1:], stdin, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, samlUsage)
		return 0
	}
	fmt.Fprintf(stderr, "broker saml: unknown command %q\n\n%s", args[0], samlUsage)
	return 2
}

// parseInterleaved parses flags that may come before or after the one
// positional argument (MESSAGE) and returns the positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, bool) {
	fs.SetOutput(stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, true
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// fileList is a repeatable file flag.
type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(v string) error { *f = append(*f, v); return nil }

// readMessage reads MESSAGE: a file, or standard input for "-", bounded.
func readMessage(name string, stdin io.Reader) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, samltool.MaxInput+1))
	if err != nil {
		return nil, err
	}
	if len(b) > samltool.MaxInput {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, samltool.MaxInput)
	}
	return b, nil
}

func readFileBounded(path string) ([]byte, error) {
	if path == "-" {
		return nil, errors.New("standard input is only for MESSAGE")
	}
	b, err := readMessage(path, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

func samlVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("saml verify", flag.ContinueOnError)
	var certFiles fileList
	fs.Var(&certFiles, "cert", "trusted certificate file (PEM, may hold several; repeatable)")
	mdFile := fs.String("metadata", "", "the peer's metadata file; its signing certificates are trusted")
	pkcs1 := fs.Bool("allow-rsa-pkcs1v15", false, "also accept RSA PKCS#1 v1.5 signatures (outside eIDAS v1.4)")
	pos, ok := parseInterleaved(fs, args, stderr)
	if !ok {
		return 2
	}
	if len(pos) != 1 || (len(certFiles) == 0) == (*mdFile == "") {
		fmt.Fprintln(stderr, "usage: broker saml verify --cert FILE | --metadata FILE [--allow-rsa-pkcs1v15] MESSAGE")
		return 2
	}
	var trusted []*x509.Certificate
	for _, f := range certFiles {
		b, err := readFileBounded(f)
		if err != nil {
			fmt.Fprintln(stderr, "saml verify:", err)
			return 2
		}
		cs, err := eidas.ParseCertificatesPEM(b)
		if err != nil {
			fmt.Fprintf(stderr, "saml verify: %s: %v\n", f, err)
			return 2
		}
		trusted = append(trusted, cs...)
	}
	if *mdFile != "" {
		b, err := readFileBounded(*mdFile)
		if err != nil {
			fmt.Fprintln(stderr, "saml verify:", err)
			return 2
		}
		if trusted, err = samltool.TrustFromMetadata(b); err != nil {
			fmt.Fprintf(stderr, "saml verify: %s: %v\n", *mdFile, err)
			return 2
		}
	}
	msg, err := readMessage(pos[0], stdin)
	if err != nil {
		fmt.Fprintln(stderr, "saml verify:", err)
		return 2
	}
	res, err := samltool.Verify(msg, samltool.Trust{Certs: trusted, AllowRSAPKCS1v15: *pkcs1})
	if err != nil {
		fmt.Fprintf(stdout, "invalid: %v\n", err)
		return 1
	}
	signer := "?"
	if res.Signer != nil {
		signer = res.Signer.Subject.String()
	}
	fmt.Fprintf(stdout, "valid: %s (%s signature) signed by %q\n", res.Kind, res.Binding, signer)
	if res.SignedAssertions > 0 {
		fmt.Fprintf(stdout, "       and %d signed assertion(s), also valid\n", res.SignedAssertions)
	}
	fmt.Fprintln(stdout, "       (signature only: times, audience and certificate validity were not checked)")
	return 0
}

func samlDecrypt(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("saml decrypt", flag.ContinueOnError)
	keyFile := fs.String("key", "", "the connector's decryption key (PEM, unencrypted)")
	legacy := fs.Bool("legacy", false, "also accept rsa-oaep-mgf1p and SHA-1 OAEP (eIDAS protocol before 1.4)")
	pos, ok := parseInterleaved(fs, args, stderr)
	if !ok {
		return 2
	}
	if len(pos) != 1 || *keyFile == "" {
		fmt.Fprintln(stderr, "usage: broker saml decrypt --key KEY.pem [--legacy] MESSAGE")
		return 2
	}
	kb, err := readFileBounded(*keyFile)
	if err != nil {
		fmt.Fprintln(stderr, "saml decrypt:", err)
		return 2
	}
	key, err := eidas.ParsePrivateKeyPEM(kb)
	if err != nil {
		fmt.Fprintf(stderr, "saml decrypt: %s: %v\n", *keyFile, err)
		return 2
	}
	msg, err := readMessage(pos[0], stdin)
	if err != nil {
		fmt.Fprintln(stderr, "saml decrypt:", err)
		return 2
	}
	out, err := samltool.Decrypt(msg, key, samltool.DecryptOptions{AllowLegacyKeyTransport: *legacy})
	if err != nil {
		fmt.Fprintln(stderr, "saml decrypt: failed:", err)
		return 1
	}
	for _, as := range out {
		_, _ = stdout.Write(as)
		fmt.Fprintln(stdout)
	}
	return 0
}

func samlInspect(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("saml inspect", flag.ContinueOnError)
	pos, ok := parseInterleaved(fs, args, stderr)
	if !ok {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: broker saml inspect FILE|-")
		return 2
	}
	msg, err := readMessage(pos[0], stdin)
	if err != nil {
		fmt.Fprintln(stderr, "saml inspect:", err)
		return 2
	}
	out, err := samltool.Inspect(msg)
	if err != nil {
		if errors.Is(err, samltool.ErrInput) {
			fmt.Fprintln(stderr, "saml inspect: not readable as a SAML message:", err)
		} else {
			fmt.Fprintln(stderr, "saml inspect:", err)
		}
		return 1
	}
	fmt.Fprint(stdout, out)
	return 0
}
