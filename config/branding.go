package config

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Branding is the operator's look and legal links on every page.
type Branding struct {
	// OperatorName is shown in every page's header and title.
	OperatorName string `yaml:"operator_name"`
	// Logo is a PNG, JPEG, WebP or SVG file (at most 256 KiB).
	Logo string `yaml:"logo"`
	// LogoData and LogoType are the file as Load read and recognised it.
	LogoData []byte `yaml:"-"`
	LogoType string `yaml:"-"`
	// Colors are #rrggbb values; each text/background pair must reach the
	// WCAG 2.1 AA contrast of 4.5:1.
	Colors BrandColors `yaml:"colors"`
	// Links are the footer links German public-sector pages carry.
	Links BrandLinks `yaml:"links"`
}

// BrandColors are the page colours.
type BrandColors struct {
	Primary    string `yaml:"primary"`    // buttons, header
	OnPrimary  string `yaml:"on_primary"` // text on primary
	Text       string `yaml:"text"`
	Background string `yaml:"background"`
}

// BrandLinks are absolute https URLs (support may also be a mailto: URL).
type BrandLinks struct {
	Imprint       string `yaml:"imprint"`
	Privacy       string `yaml:"privacy"`
	Accessibility string `yaml:"accessibility"`
	EasyLanguage  string `yaml:"easy_language"`
	SignLanguage  string `yaml:"sign_language"`
	Support       string `yaml:"support"`
}

// Kinds lists the links with their kind names (as the broker names them).
func (l BrandLinks) Kinds() [][2]string {
	return [][2]string{{"imprint", l.Imprint}, {"privacy", l.Privacy}, {"accessibility", l.Accessibility},
		{"easy_language", l.EasyLanguage}, {"sign_language", l.SignLanguage}, {"support", l.Support}}
}

// Default colours of the stylesheet; a pair with one colour configured is
// checked against the default of the other.
const (
	defaultPrimary    = "#004b87"
	defaultOnPrimary  = "#ffffff"
	defaultText       = "#1d1d1f"
	defaultBackground = "#ffffff" // the content panel text sits on
	minContrast       = 4.5
	maxLogoBytes      = 256 << 10
)

func (d *decoder) validateBranding(b *Branding) {
	const p = "branding"
	if len(b.OperatorName) > 120 {
		d.invalid(joinKey(p, "operator_name"), "too long: at most 120 characters")
	}
	if b.Logo != "" {
		b.LogoData, b.LogoType = d.loadLogo(joinKey(p, "logo"), b.Logo)
	}
	cp := joinKey(p, "colors")
	for _, kv := range [][2]string{{"primary", b.Colors.Primary}, {"on_primary", b.Colors.OnPrimary}, {"text", b.Colors.Text}, {"background", b.Colors.Background}} {
		if kv[1] != "" {
			if _, ok := parseHexColour(kv[1]); !ok {
				d.invalid(joinKey(cp, kv[0]), "want a colour as #rrggbb")
			}
		}
	}
	pairs := []struct{ fg, bg, fgName, bgName, fgDef, bgDef string }{
		{b.Colors.OnPrimary, b.Colors.Primary, "on_primary", "primary", defaultOnPrimary, defaultPrimary},
		{b.Colors.Text, b.Colors.Background, "text", "background", defaultText, defaultBackground},
	}
	for _, pr := range pairs {
		if pr.fg == "" && pr.bg == "" {
			continue
		}
		fg, bg := orString(pr.fg, pr.fgDef), orString(pr.bg, pr.bgDef)
		if r, ok := contrast(fg, bg); ok && r < minContrast {
			at := pr.fgName
			if pr.fg == "" {
				at = pr.bgName
			}
			d.invalid(joinKey(cp, at), "contrast of %s on %s is %.2f:1, below the 4.5:1 that WCAG 2.1 AA requires", pr.fgName, pr.bgName, r)
		}
	}
	lp := joinKey(p, "links")
	for _, kv := range b.Links.Kinds() {
		if kv[1] == "" {
			continue
		}
		u, err := url.Parse(kv[1])
		switch {
		case err != nil || u.Scheme == "":
			d.invalid(joinKey(lp, kv[0]), "want an absolute URL")
		case kv[0] == "support" && u.Scheme == "mailto":
		case u.Scheme != "https" || u.Host == "":
			d.invalid(joinKey(lp, kv[0]), "want an https URL")
		}
	}
}

// loadLogo reads a logo file and recognises its type by content.
func (d *decoder) loadLogo(path, name string) ([]byte, string) {
	b, err := readLimited(d.resolve(name), maxLogoBytes)
	if err != nil {
		d.invalidErr(path, err, "read logo %q: %v", name, osCause(err))
		return nil, ""
	}
	typ := http.DetectContentType(b)
	switch {
	case typ == "image/png", typ == "image/jpeg", typ == "image/webp":
	case strings.HasPrefix(typ, "text/xml"), strings.HasPrefix(typ, "text/plain"):
		if !strings.Contains(string(b[:min(len(b), 1024)]), "<svg") {
			d.invalid(path, "logo %q is not a PNG, JPEG, WebP or SVG image", name)
			return nil, ""
		}
		typ = "image/svg+xml"
	default:
		d.invalid(path, "logo %q is %s, want a PNG, JPEG, WebP or SVG image", name, typ)
		return nil, ""
	}
	return b, typ
}

func parseHexColour(s string) ([3]float64, bool) {
	var rgb [3]float64
	if len(s) != 7 || s[0] != '#' {
		return rgb, false
	}
	for i := range 3 {
		v, err := strconv.ParseUint(s[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return rgb, false
		}
		rgb[i] = float64(v) / 255
	}
	return rgb, true
}

// contrast is the WCAG 2.1 contrast ratio of two #rrggbb colours.
func contrast(a, b string) (float64, bool) {
	ca, ok1 := parseHexColour(a)
	cb, ok2 := parseHexColour(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	la, lb := luminance(ca), luminance(cb)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05), true
}

func luminance(c [3]float64) float64 {
	lin := func(v float64) float64 {
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c[0]) + 0.7152*lin(c[1]) + 0.0722*lin(c[2])
}
