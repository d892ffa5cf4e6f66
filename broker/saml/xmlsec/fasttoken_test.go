package xmlsec

import (
	"errors"
	"testing"

	"github.com/beevik/etree"
)

// parseBoth parses data with the fast tokenizer and with encoding/xml.
// fastDone is false when the fast tokenizer left its subset.
func parseBoth(data []byte, limits Limits) (fast, slow *etree.Document, fastErr, slowErr error, fastDone bool) {
	limits = limits.withDefaults()
	pf := &parser{data: data, limits: limits, doc: etree.NewDocument()}
	fastErr = pf.run(baseScope(), (&fastTokenizer{data: data}).next)
	ps := &parser{data: data, limits: limits, doc: etree.NewDocument()}
	slowErr = ps.run(baseScope(), decoderTokens(data))
	return pf.doc, ps.doc, fastErr, slowErr, !errors.Is(fastErr, errSlowPath)
}

// sameOutcome fails t unless the fast path, where it finished, built the
// tree the decoder builds, or refused with the decoder's reason.
func sameOutcome(t *testing.T, data []byte, limits Limits) bool {
	t.Helper()
	fast, slow, fastErr, slowErr, done := parseBoth(data, limits)
	if !done {
		return false
	}
	switch {
	case (fastErr == nil) != (slowErr == nil):
		t.Fatalf("fast: %v, decoder: %v\n%q", fastErr, slowErr, data)
	case fastErr != nil:
		if fastErr.Error() != slowErr.Error() {
			t.Fatalf("fast refused with %q, decoder with %q\n%q", fastErr, slowErr, data)
		}
	default:
		a, err1 := fast.WriteToString()
		b, err2 := slow.WriteToString()
		if err1 != nil || err2 != nil || a != b {
			t.Fatalf("trees differ (%v, %v):\nfast:    %q\ndecoder: %q\ninput:   %q", err1, err2, a, b, data)
		}
	}
	return true
}

// TestFastTokenizer: the fast path takes the plain XML of SAML messages
// and hands everything else to the decoder, with the same result.
func TestFastTokenizer(t *testing.T) {
	tests := []struct {
		in   string
		fast bool // the fast path finishes (accepting or refusing)
	}{
		{`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<p:a xmlns:p="urn:p" p:x="1 &amp; 2" y='&lt;&#x2F;&#47;'>t&gt;ext<b/>tail</p:a>`, true},
		{"<a x=\"1\r\n2\tz\">\r\nline\rtwo&#13;</a>", true},
		{`<a>Grüße ]] > &quot;</a>`, true},
		{`<a><b></a></b>`, true},        // the parser's own refusal, identical
		{`<a xmlns:p=""/>`, true},       // namespace refusal
		{`<a/><b/>`, true},              // second root
		{`<a x="1" x="2"/>`, true},      // duplicate attribute
		{`<a><!-- c --></a>`, false},    // comments: decoder
		{`<a><![CDATA[x]]></a>`, false}, // CDATA: decoder
		{`<!DOCTYPE a><a/>`, false},     // refused by the decoder path
		{`<a>]]></a>`, false},           // decoder's error
		{`<a>&unknown;</a>`, false},     // decoder's error
		{"<a>\x01</a>", false},          // illegal character
		{`<a>&#1;</a>`, false},          // illegal character reference
		{`<a>&#xD800;</a>`, false},      // surrogate
		{`<a x="1"y="2"/>`, false},      // no space between attributes
		{`<a x=1/>`, false},             // unquoted
		{`<a:b:c/>`, false},             // two colons
		{`<é/>`, false},                 // non-ASCII name
		{` <?xml version="1.0"?><a/>`, false},
		{`<?xml version="1.1"?><a/>`, false},
		{`<a x="<"/>`, false},
		{`<a`, false},
		{`<a>unterminated`, true},
	}
	for _, tt := range tests {
		if got := sameOutcome(t, []byte(tt.in), Limits{}); got != tt.fast {
			t.Errorf("%q: fast path finished %v, want %v", tt.in, got, tt.fast)
		}
	}
}

// FuzzFastTokenizer: wherever the fast tokenizer finishes, Parse's result
// (tree or refusal) is the decoder's.
func FuzzFastTokenizer(f *testing.F) {
	seedFixtures(f, "attacks", "signed")
	for _, s := range []string{
		`<a/>`, "<a x=\"1\r\n2\">\r\n</a>", `<p:a xmlns:p="urn:p" p:x="&#9;"/>`, `<a>&#x10FFFF;&#65;&amp;</a>`,
		`<?xml version="1.0"?><a b = 'c' ></a >`, `<a>]]&gt;</a>`, `<a x="]]>"/>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameOutcome(t, data, fuzzLimits())
	})
}

// BenchmarkParse compares the two tokenizers on a signed Response with an
// encrypted assertion (the connector's typical input): Parse as it runs
// (fast path) and the decoder alone.
func BenchmarkParse(b *testing.B) {
	data := benchSignedEncrypted(b, "sign-p256", "enc-p256", SigECDSASHA256)
	limits := Limits{}.withDefaults()
	for _, tc := range []struct {
		name   string
		tokens func() tokenFunc
	}{
		{"fast", func() tokenFunc { return (&fastTokenizer{data: data}).next }},
		{"decoder", func() tokenFunc { return decoderTokens(data) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				p := &parser{data: data, limits: limits, doc: etree.NewDocument()}
				if err := p.run(baseScope(), tc.tokens()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
