package wallet

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

//go:embed web/page.html web/wallet.js web/wallet.css
var webFiles embed.FS

type asset struct {
	name, contentType string
	data              []byte
	version           string
}

type pageBuilder struct {
	tmpl      *template.Template
	assetBase string
	files     map[string]asset
}

func newPageBuilder(assetBase string) (*pageBuilder, error) {
	src, err := webFiles.ReadFile("web/page.html")
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New("page").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("parse page template: %w", err)
	}
	b := &pageBuilder{tmpl: tmpl, assetBase: assetBase, files: map[string]asset{}}
	for name, ct := range map[string]string{"wallet.js": "text/javascript; charset=utf-8", "wallet.css": "text/css; charset=utf-8"} {
		data, err := webFiles.ReadFile("web/" + name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		b.files["/assets/"+name] = asset{name: name, contentType: ct, data: data, version: hex.EncodeToString(sum[:6])}
	}
	return b, nil
}

// pageData is what Begin puts on one page.
type pageData struct {
	Locale     string
	SameDevice string // the wallet invocation link for this device
	CrossQR    string // the same for a wallet on another device (QR code)
	StatusURL  string
	CancelURL  string
	RPName     string
	Claims     []string
}

type pageTexts struct {
	Lang, Title, Lead, SameTitle, SameButton, CrossTitle, CrossLead, Waiting, Done, Elsewhere string
	Expired, Failed, Cancel, NoScript, Asks, Always, QRAlt                                    string
	ClaimNames                                                                                map[string]string
}

var textsDE = pageTexts{
	Lang: "de", Title: "Anmelden mit der EUDI-Wallet",
	Lead:      "Weisen Sie sich mit dem Personalausweis-Datensatz (PID) in Ihrer EUDI-Wallet aus. Die Wallet zeigt Ihnen, wer fragt und welche Angaben übermittelt werden.",
	SameTitle: "Wallet auf diesem Gerät", SameButton: "Wallet öffnen",
	CrossTitle: "Wallet auf einem anderen Gerät", CrossLead: "Scannen Sie den QR-Code mit Ihrer Wallet.",
	Waiting: "Warten auf die Antwort Ihrer Wallet …", Done: "Antwort erhalten, Anmeldung wird fortgesetzt …",
	Elsewhere: "Ihre Wallet hat geantwortet; die Anmeldung wird im Browser der Wallet fortgesetzt.",
	Expired:   "Die Anfrage ist abgelaufen. Bitte starten Sie die Anmeldung neu.",
	Failed:    "Die Verbindung ist unterbrochen. Bitte laden Sie die Seite nicht neu, sondern warten Sie einen Moment.",
	Cancel:    "Abbrechen", NoScript: "Ohne JavaScript setzt sich die Seite nicht selbst fort: Nutzen Sie die Wallet auf diesem Gerät.",
	Asks: "Abgefragte Angaben:", Always: "Name, Vorname, Geburtsdatum, ausstellender Staat",
	QRAlt:      "QR-Code für die Anmeldung mit Ihrer Wallet",
	ClaimNames: map[string]string{"place_of_birth": "Geburtsort", "nationalities": "Staatsangehörigkeit", "address": "Anschrift", "birth_family_name": "Geburtsname"},
}

var textsEN = pageTexts{
	Lang: "en", Title: "Log in with the EUDI Wallet",
	Lead:      "Identify yourself with the person identification data (PID) in your EUDI Wallet. The wallet shows you who asks and which data it sends.",
	SameTitle: "Wallet on this device", SameButton: "Open the wallet",
	CrossTitle: "Wallet on another device", CrossLead: "Scan the QR code with your wallet.",
	Waiting: "Waiting for your wallet's answer …", Done: "Answer received, continuing …",
	Elsewhere: "Your wallet has answered; the login continues in the wallet's browser.",
	Expired:   "The request has expired. Please start the login again.",
	Failed:    "The connection was interrupted. Please do not reload; wait a moment.",
	Cancel:    "Cancel", NoScript: "Without JavaScript this page cannot continue by itself: use the wallet on this device.",
	Asks: "Data asked for:", Always: "family name, given names, birth date, issuing country",
	QRAlt:      "QR code for logging in with your wallet",
	ClaimNames: map[string]string{"place_of_birth": "place of birth", "nationalities": "nationality", "address": "address", "birth_family_name": "birth name"},
}

// render returns the page's content for the broker's layout (see
// adapters.Handoff.Content) in d.Locale, and its title.
func (b *pageBuilder) render(d pageData) ([]byte, string, error) {
	t := textsDE
	if strings.HasPrefix(strings.ToLower(d.Locale), "en") {
		t = textsEN
	}
	var qr template.URL
	if d.CrossQR != "" {
		png, err := qrcode.Encode(d.CrossQR, qrcode.Medium, 320)
		if err != nil {
			return nil, "", fmt.Errorf("qr code: %w", err)
		}
		qr = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	}
	asked := []string{t.Always}
	for _, c := range d.Claims {
		if n, ok := t.ClaimNames[c]; ok {
			asked = append(asked, n)
		}
	}
	var buf bytes.Buffer
	err := b.tmpl.Execute(&buf, map[string]any{
		"T":          t,
		"SameDevice": template.URL(d.SameDevice), // a custom scheme (openid4vp://) html/template would blank
		"CrossURL":   d.CrossQR,
		"QR":         qr,
		"StatusURL":  d.StatusURL,
		"CancelURL":  d.CancelURL,
		"RPName":     d.RPName,
		"Asked":      strings.Join(asked, ", "),
		"Script":     b.assetBase + "wallet.js?v=" + b.files["/assets/wallet.js"].version,
		"Style":      b.assetBase + "wallet.css?v=" + b.files["/assets/wallet.css"].version,
	})
	if err != nil {
		return nil, "", fmt.Errorf("render page: %w", err)
	}
	return buf.Bytes(), t.Title, nil
}

func (b *pageBuilder) assets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		as, ok := b.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", as.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(as.data)
	})
}
