package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBranding(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "logo.png")
	svg := filepath.Join(dir, "logo.svg")
	txt := filepath.Join(dir, "logo.txt")
	// The smallest PNG header http.DetectContentType recognises.
	if err := os.WriteFile(png, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(svg, []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(txt, []byte("just text"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, yaml string
		want       string // substring of the error; "" = valid
		wantType   string
	}{
		{name: "neutral default", yaml: ""},
		{name: "full", yaml: `branding:
  operator_name: Land Musterland
  logo: ` + png + `
  colors: {primary: "#0b3d91", on_primary: "#ffffff", text: "#111111", background: "#ffffff"}
  links:
    imprint: https://musterland.example/impressum
    privacy: https://musterland.example/datenschutz
    accessibility: https://musterland.example/barrierefreiheit
    easy_language: https://musterland.example/leichte-sprache
    sign_language: https://musterland.example/gebaerdensprache
    support: mailto:hilfe@musterland.example
`, wantType: "image/png"},
		{name: "svg logo", yaml: "branding: {logo: " + svg + "}\n", wantType: "image/svg+xml"},
		{name: "low contrast pair", yaml: `branding:
  colors: {primary: "#777777", on_primary: "#ffffff"}
`, want: `t.yaml:9: branding.colors.on_primary: contrast of on_primary on primary is 4.48:1, below the 4.5:1`},
		{name: "one colour against the default", yaml: `branding:
  colors: {background: "#222222"}
`, want: `branding.colors.background: contrast of text on background`},
		{name: "not a colour", yaml: `branding:
  colors: {text: red}
`, want: `t.yaml:9: branding.colors.text: want a colour as #rrggbb`},
		{name: "plain http link", yaml: `branding:
  links: {imprint: "http://musterland.example/impressum"}
`, want: `t.yaml:9: branding.links.imprint: want an https URL`},
		{name: "relative link", yaml: `branding:
  links: {privacy: /datenschutz}
`, want: `branding.links.privacy: want an absolute URL`},
		{name: "logo not an image", yaml: "branding: {logo: " + txt + "}\n", want: `branding.logo: logo`},
		{name: "logo missing", yaml: "branding: {logo: " + filepath.Join(dir, "nope.png") + "}\n", want: `branding.logo: read logo`},
		{name: "client logo", yaml: strings.Replace(base, "    secret:", "    logo: "+png+"\n    secret:", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.yaml", []byte(base+tt.yaml), testRegistry())
			if tt.name == "client logo" {
				c, err = Parse("t.yaml", []byte(tt.yaml), testRegistry())
			}
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("got %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Branding.LogoType != tt.wantType {
				t.Errorf("logo type %q, want %q", c.Branding.LogoType, tt.wantType)
			}
			if tt.name == "client logo" && c.Clients[0].LogoType != "image/png" {
				t.Errorf("client logo type %q", c.Clients[0].LogoType)
			}
		})
	}
}

func TestContrast(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#767676", "#ffffff", 4.54},
		{"#777777", "#ffffff", 4.48},
	}
	for _, tt := range tests {
		got, ok := contrast(tt.a, tt.b)
		if !ok || got < tt.want-0.01 || got > tt.want+0.01 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestAudit(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"off", "", ""},
		{"stdout", "audit: {output: stdout}\n", ""},
		{"file with key", "audit: {output: /var/log/broker/audit.jsonl, key: \"0123456789abcdef0123456789abcdef\"}\n", ""},
		{"short key", "audit: {output: stdout, key: short}\n", "t.yaml:8: audit.key: too short: want at least 32 bytes"},
		{"key without output", "audit: {key: \"0123456789abcdef0123456789abcdef\"}\n", "audit.key: set without audit.output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(base+tt.yaml), testRegistry())
			got := ""
			if err != nil {
				got = err.Error()
			}
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
