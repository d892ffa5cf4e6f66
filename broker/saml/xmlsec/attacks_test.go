package xmlsec

import (
	"os"
	"sort"
	"testing"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

// attackCase describes one committed attack fixture and how it must fail.
// relax, if set, weakens exactly the defence the case targets; the sample
// must then be accepted. That proves each sample is otherwise well-formed
// and validly signed, so the refusal is caused by the defence under test.
type attackCase struct {
	file   string
	op     string // "parse", "verify", "decrypt"
	target string // etree path below the root for verify/decrypt ("" = root)
	want   error
	// verify
	trusted []string // fixture key names (default: the IdP signing keys)
	relax   func(testing.TB, *VerifyOptions, *keyPolicy)
	// decrypt
	key      string // fixture key name (default enc-rsa3072)
	relaxKey string // decrypting with this key must succeed
}

func attackCases() []attackCase {
	return []attackCase{
		// Signature wrapping (SAML Raider XSW1–8 layouts).
		{file: "xsw1.xml", op: "verify", want: ErrSignatureStructure},
		{file: "xsw2.xml", op: "verify", want: ErrReference},
		{file: "xsw3.xml", op: "verify", target: "./saml2:Assertion", want: ErrNotSigned},
		{file: "xsw4.xml", op: "verify", target: "./saml2:Assertion", want: ErrNotSigned},
		{file: "xsw5.xml", op: "verify", target: "./saml2:Assertion", want: ErrReference},
		{file: "xsw6.xml", op: "verify", target: "./saml2:Assertion", want: ErrSignatureStructure},
		{file: "xsw7.xml", op: "verify", want: ErrDigestMismatch},
		{file: "xsw8.xml", op: "verify", target: "./saml2:Assertion", want: ErrSignatureStructure},
		{file: "duplicate-id.xml", op: "verify", target: "./saml2:Assertion", want: ErrDuplicateID},
		{file: "reference-other-id.xml", op: "verify", want: ErrReference},
		{file: "signature-not-child.xml", op: "verify", want: ErrNotSigned},
		{file: "two-signatures.xml", op: "verify", want: ErrMultipleSignatures},
		{file: "two-references.xml", op: "verify", want: ErrReference},
		{file: "empty-uri.xml", op: "verify", want: ErrReference,
			relax: func(_ testing.TB, o *VerifyOptions, _ *keyPolicy) { o.AllowEmptyURI = true }},
		// Comment injection is accepted; the returned element carries the
		// signed identity (see TestCommentInjection).
		{file: "comment-injection.xml", op: "verify"},
		{file: "unsigned.xml", op: "verify", want: ErrNotSigned},
		{file: "c14n-amplification.xml", op: "verify", want: ErrTooLarge},
		// Algorithms.
		{file: "sha1-digest.xml", op: "verify", want: ErrAlgorithmNotAllowed},
		{file: "rsa-sha1.xml", op: "verify", want: ErrAlgorithmNotAllowed},
		{file: "ecdsa-sha1.xml", op: "verify", want: ErrAlgorithmNotAllowed},
		{file: "unknown-signature-method.xml", op: "verify", want: ErrUnsupportedAlgorithm},
		{file: "xslt-transform.xml", op: "verify", want: ErrTransform},
		{file: "with-comments-transform.xml", op: "verify", want: ErrTransform},
		{file: "inclusive-c14n.xml", op: "verify", want: ErrTransform},
		{file: "ecdsa-der-value.xml", op: "verify", want: ErrSignatureInvalid},
		// Keys and trust.
		{file: "rsa2048-pss.xml", op: "verify", trusted: []string{"weak-rsa2048"}, want: ErrWeakKey,
			relax: func(_ testing.TB, _ *VerifyOptions, p *keyPolicy) { p.minRSABits = 2048 }},
		{file: "p224-ecdsa.xml", op: "verify", trusted: []string{"weak-p224"}, want: ErrWeakKey},
		{file: "untrusted-keyinfo.xml", op: "verify", want: ErrUntrustedCertificate,
			relax: func(tb testing.TB, o *VerifyOptions, _ *keyPolicy) {
				o.Trusted = append(o.Trusted, fixtureCert(tb, "attacker-rsa3072"))
			}},
		{file: "attacker-no-keyinfo.xml", op: "verify", want: ErrSignatureInvalid,
			relax: func(tb testing.TB, o *VerifyOptions, _ *keyPolicy) {
				o.Trusted = append(o.Trusted, fixtureCert(tb, "attacker-rsa3072"))
			}},
		{file: "tampered-digest.xml", op: "verify", want: ErrSignatureInvalid},
		{file: "tampered-signature-value.xml", op: "verify", want: ErrSignatureInvalid},
		{file: "tampered-content.xml", op: "verify", want: ErrDigestMismatch},
		// Parser.
		{file: "doctype-xxe.xml", op: "parse", want: ErrDoctype},
		{file: "billion-laughs.xml", op: "parse", want: ErrDoctype},
		{file: "processing-instruction.xml", op: "parse", want: ErrProcInst},
		{file: "deep.xml", op: "parse", want: ErrTooDeep},
		{file: "latin1-encoding.xml", op: "parse", want: ErrEncoding},
		{file: "invalid-utf8.xml", op: "parse", want: ErrInvalidUTF8},
		{file: "undeclared-prefix.xml", op: "parse", want: ErrNamespace},
		{file: "namespace-flood.xml", op: "parse", want: ErrTooManyNamespaces},
		// Encryption.
		{file: "cbc-aes128.xml", op: "decrypt", want: ErrCBCRefused},
		{file: "cbc-aes256.xml", op: "decrypt", want: ErrCBCRefused},
		{file: "rsa-1_5.xml", op: "decrypt", want: ErrRSA15Refused},
		{file: "wrong-recipient.xml", op: "decrypt", want: ErrDecryptionFailed, relaxKey: "attacker-rsa3072"},
		{file: "truncated-gcm-tag.xml", op: "decrypt", want: ErrDecryptionFailed},
		{file: "key-transport-with-agreement.xml", op: "decrypt", want: ErrEncryptionStructure},
		{file: "ecdh-sha1-kdf.xml", op: "decrypt", key: "enc-p256", want: ErrAlgorithmNotAllowed},
		{file: "ecdh-tampered-wrapped-key.xml", op: "decrypt", key: "enc-p256", want: ErrDecryptionFailed},
	}
}

func TestAttackFixtures(t *testing.T) {
	cases := attackCases()
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			path := fixture(t, "attacks/"+tc.file)
			switch tc.op {
			case "parse":
				_, err := Parse(testfiles.Read(t, path), Limits{})
				wantErr(t, err, tc.want)
				if tc.want == nil {
					t.Fatal("parse attack cases must fail")
				}
			case "verify":
				doc := parseFile(t, path)
				el := doc.Root()
				if tc.target != "" {
					el = find(t, el, tc.target)
				}
				opts := fixtureVerifyOptions(t)
				if tc.trusted != nil {
					opts.Trusted = nil
					for _, n := range tc.trusted {
						opts.Trusted = append(opts.Trusted, fixtureCert(t, n))
					}
				}
				signed, _, err := Verify(el, opts)
				wantErr(t, err, tc.want)
				if tc.want != nil && signed != nil {
					t.Fatal("refused verification returned an element")
				}
				if tc.relax != nil {
					policy := defaultKeyPolicy()
					tc.relax(t, &opts, &policy)
					if _, _, err := verifyWithPolicy(el, opts, policy); err != nil {
						t.Fatalf("with the defence relaxed the sample must verify: %v", err)
					}
				}
			case "decrypt":
				doc := parseFile(t, path)
				ea := find(t, doc.Root(), "./saml2:EncryptedAssertion")
				keyName := tc.key
				if keyName == "" {
					keyName = "enc-rsa3072"
				}
				key, _ := fixtureKey(t, keyName)
				out, err := Decrypt(ea, key, DecryptOptions{})
				wantErr(t, err, tc.want)
				if out != nil {
					t.Fatal("refused decryption returned an element")
				}
				if tc.relaxKey != "" {
					k, _ := fixtureKey(t, tc.relaxKey)
					if _, err := Decrypt(ea, k, DecryptOptions{}); err != nil {
						t.Fatalf("with the right key the sample must decrypt: %v", err)
					}
				}
			default:
				t.Fatalf("unknown op %q", tc.op)
			}
		})
	}
	entries, err := os.ReadDir(fixture(t, "attacks"))
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, e := range entries {
		if !covered[e.Name()] {
			missing = append(missing, e.Name())
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("attack fixtures without a test case: %v", missing)
	}
}

// TestCommentInjection shows that a comment splitting a signed value does
// not change the identity the caller reads: the returned element holds the
// canonical (comment-free) text that was signed, in a single text node.
func TestCommentInjection(t *testing.T) {
	doc := parseFile(t, fixture(t, "attacks/comment-injection.xml"))
	in := find(t, doc.Root(), "./saml2:Assertion/saml2:Subject/saml2:NameID")
	if first := in.Child[0].(*etree.CharData).Data; first != "AT/DE/alice-0001" {
		t.Fatalf("fixture changed: first text node %q", first)
	}
	signed, _, err := Verify(doc.Root(), fixtureVerifyOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	out := find(t, signed, "./saml2:Assertion/saml2:Subject/saml2:NameID")
	if len(out.Child) != 1 {
		t.Fatalf("signed NameID has %d child tokens, want a single text node", len(out.Child))
	}
	if got := out.Text(); got != "AT/DE/alice-0001.evil" {
		t.Fatalf("signed NameID = %q, want the signed value AT/DE/alice-0001.evil", got)
	}
	if got := samlxml.Text(in); got != "AT/DE/alice-0001.evil" {
		t.Fatalf("samlxml.Text of the input = %q; comments must not cut values", got)
	}
}

// TestWrappingReturnsSignedContent: when a wrapped copy sits beside a
// correctly signed assertion, verifying the signed assertion succeeds and
// the returned element is the signed original, never the evil copy.
func TestWrappingReturnsSignedContent(t *testing.T) {
	doc := parseFile(t, fixture(t, "attacks/xsw7.xml"))
	evil := find(t, doc.Root(), "./saml2p:Extensions/saml2:Assertion")
	if _, _, err := Verify(evil, fixtureVerifyOptions(t)); !errIsAny(err, ErrNotSigned) {
		t.Fatalf("evil copy: %v, want ErrNotSigned", err)
	}
	good := find(t, doc.Root(), "./saml2:Assertion")
	signed, cert, err := Verify(good, fixtureVerifyOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "idp signing P-256" {
		t.Fatalf("verified by %q", cert.Subject.CommonName)
	}
	if got := find(t, signed, "./saml2:Subject/saml2:NameID").Text(); got != "AT/DE/alice-0001" {
		t.Fatalf("NameID = %q", got)
	}
	if signed.FindElement(".//Extensions") != nil || signed.Parent().Parent() != nil {
		t.Fatal("returned element must be a stand-alone copy of the signed assertion")
	}
}
