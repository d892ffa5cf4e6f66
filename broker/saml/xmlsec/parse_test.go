package xmlsec

import (
	"bytes"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		limits Limits
		want   error
	}{
		{name: "minimal", in: `<a/>`},
		{name: "declaration", in: `<?xml version="1.0" encoding="UTF-8"?><a/>`},
		{name: "declaration lower-case utf-8 single quotes", in: `<?xml version='1.0' encoding='utf-8' standalone='yes'?><a/>`},
		{name: "byte order mark", in: "\xef\xbb\xbf<a/>"},
		{name: "comments and white space outside the root", in: "<!-- licence -->\n<a/>\n<!-- end -->\n"},
		{name: "cdata and namespaces", in: `<p:a xmlns:p="urn:p" xmlns="urn:d"><b p:x="1"><![CDATA[<x>]]></b></p:a>`},
		{name: "empty cdata", in: `<a><![CDATA[]]></a>`},
		{name: "default namespace undeclared", in: `<a xmlns="urn:d"><b xmlns=""/></a>`},

		{name: "doctype", in: `<!DOCTYPE a><a/>`, want: ErrDoctype},
		{name: "internal subset", in: `<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`, want: ErrDoctype},
		{name: "external entity", in: `<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>`, want: ErrDoctype},
		{name: "undeclared entity", in: `<a>&e;</a>`, want: ErrMalformed},
		{name: "stylesheet instruction", in: `<?xml-stylesheet href="x"?><a/>`, want: ErrProcInst},
		{name: "instruction inside", in: `<a><?php echo 1; ?></a>`, want: ErrProcInst},
		{name: "declaration not first", in: `<!-- x --><?xml version="1.0"?><a/>`, want: ErrMalformed},
		{name: "xml version 1.1", in: `<?xml version="1.1"?><a/>`, want: ErrMalformed},
		{name: "latin-1", in: `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, want: ErrEncoding},
		{name: "utf-16 declared", in: `<?xml version="1.0" encoding="UTF-16"?><a/>`, want: ErrEncoding},
		{name: "invalid utf-8", in: "<a>\xc3\x28</a>", want: ErrInvalidUTF8},
		{name: "control character", in: "<a>\x01</a>", want: ErrMalformed},
		{name: "too large", in: `<a>0123456789</a>`, limits: Limits{MaxBytes: 10}, want: ErrTooLarge},
		{name: "depth at limit", in: `<a><b><c/></b></a>`, limits: Limits{MaxDepth: 3}},
		{name: "too deep", in: `<a><b><c><d/></c></b></a>`, limits: Limits{MaxDepth: 3}, want: ErrTooDeep},
		{name: "too many attributes", in: `<a x="1" y="2" z="3"/>`, limits: Limits{MaxAttributes: 2}, want: ErrTooManyAttrs},
		{name: "undeclared element prefix", in: `<p:a/>`, want: ErrNamespace},
		{name: "undeclared attribute prefix", in: `<a p:x="1"/>`, want: ErrNamespace},
		{name: "prefix undeclaration", in: `<a xmlns:p=""/>`, want: ErrNamespace},
		{name: "xml prefix rebound", in: `<a xmlns:xml="urn:x"/>`, want: ErrNamespace},
		{name: "xml namespace on another prefix", in: `<a xmlns:x="http://www.w3.org/XML/1998/namespace"/>`, want: ErrNamespace},
		{name: "xmlns prefix declared", in: `<a xmlns:xmlns="urn:x"/>`, want: ErrNamespace},
		{name: "element with xmlns prefix", in: `<xmlns:a/>`, want: ErrNamespace},
		{name: "colon in local name", in: `<a:b:c xmlns:a="urn:a"/>`, want: ErrMalformed},
		{name: "colon in attribute local name", in: `<a xmlns:a="urn:a" a:b:c="1"/>`, want: ErrMalformed},
		{name: "duplicate attribute", in: `<a x="1" x="2"/>`, want: ErrDuplicateAttr},
		{name: "duplicate after prefix resolution", in: `<a xmlns:p="urn:x" xmlns:q="urn:x" p:x="1" q:x="2"/>`, want: ErrDuplicateAttr},
		{name: "two roots", in: `<a/><b/>`, want: ErrMalformed},
		{name: "text outside the root", in: `<a/>junk`, want: ErrMalformed},
		{name: "unclosed", in: `<a><b></a>`, want: ErrMalformed},
		{name: "no root", in: `<!-- only a comment -->`, want: ErrMalformed},
		{name: "empty", in: ``, want: ErrMalformed},
		{name: "round-trip instability: directive", in: `<a><!>DOCTYPE a=></a>`, want: ErrDoctype},
		{name: "round-trip instability: prefixed name", in: `<a:b:c/>`, want: ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Parse([]byte(tc.in), tc.limits)
			wantErr(t, err, tc.want)
			if tc.want == nil && doc.Root() == nil {
				t.Fatal("no root element")
			}
		})
	}
}

func TestParseDefaultLimits(t *testing.T) {
	pad := strings.Repeat("x", DefaultMaxBytes)
	_, err := Parse([]byte("<a>"+pad+"</a>"), Limits{})
	wantErr(t, err, ErrTooLarge)
	_, err = Parse([]byte("<a>"+pad[:DefaultMaxBytes-7]+"</a>"), Limits{})
	wantErr(t, err, nil)

	deep := strings.Repeat("<a>", DefaultMaxDepth) + strings.Repeat("</a>", DefaultMaxDepth)
	_, err = Parse([]byte(deep), Limits{})
	wantErr(t, err, nil)
	_, err = Parse([]byte("<r>"+deep+"</r>"), Limits{})
	wantErr(t, err, ErrTooDeep)

	var wide strings.Builder
	wide.WriteString("<a")
	for i := range DefaultMaxAttributes + 1 {
		wide.WriteString(` a` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/26) + `="1"`)
	}
	wide.WriteString("/>")
	_, err = Parse([]byte(wide.String()), Limits{})
	wantErr(t, err, ErrTooManyAttrs)
}

// TestParseAttributeNormalisation: a literal tab or line break in an
// attribute value is a space after parsing (XML 1.0 §3.3.3), while
// character references keep their character. The standard library decoder
// skips this step.
func TestParseAttributeNormalisation(t *testing.T) {
	in := "<a lit=\"1\n2\t3\r\n4\" ref=\"1&#10;2&#9;3&#13;4\" mix=\"&lt;\n&amp;&#xA;&quot;\" plain='x\"y'/>"
	doc, err := Parse([]byte(in), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"lit": "1 2 3 4", "ref": "1\n2\t3\r4", "mix": "< &\n\"", "plain": `x"y`} {
		if got := doc.Root().SelectAttrValue(k, ""); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestParseTextLineEnds(t *testing.T) {
	doc, err := Parse([]byte("<a>1\r\n2\r3&#13;4</a>"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Root().Text(); got != "1\n2\n3\r4" {
		t.Fatalf("text = %q", got)
	}
}

// TestParseInScope: decrypted content may rely on bindings of the place it
// was encrypted from; they end up declared on the returned root.
func TestParseInScope(t *testing.T) {
	scope := baseScope()
	scope["saml2"] = NamespaceSAML
	scope["q"] = "urn:q"
	doc, err := parseInScope([]byte(`<saml2:Assertion ID="x"><saml2:Issuer>i</saml2:Issuer></saml2:Assertion>`), Limits{}, scope)
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Root().NamespaceURI(); got != NamespaceSAML {
		t.Fatalf("namespace %q", got)
	}
	c, err := Serialize(doc.Root())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(c, []byte(`xmlns:q="urn:q"`)) {
		t.Fatalf("in-scope binding q not declared: %s", c)
	}
	if _, err := Parse([]byte(`<saml2:Assertion/>`), Limits{}); !errIsAny(err, ErrNamespace) {
		t.Fatalf("without the scope the prefix is undeclared: %v", err)
	}
}
