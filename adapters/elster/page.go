package elster

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

// assets are the built files of web/ (see web/README.md).
//
//go:embed web/dist/login.js web/dist/login.css web/dist/THIRD-PARTY-LICENSES.txt
var assets embed.FS

//go:embed page.html
var pageTemplate string

// asset is one embedded file with what the page needs to reference it.
type asset struct {
	name        string
	contentType string
	data        []byte
	version     string // short content hash, for cache busting
	integrity   string // Subresource Integrity value
}

func loadAsset(name, contentType string) (asset, error) {
	data, err := assets.ReadFile("web/dist/" + name)
	if err != nil {
		return asset{}, fmt.Errorf("read embedded asset %s: %w", name, err)
	}
	sum := sha256.Sum256(data)
	sri := sha512.Sum384(data)
	return asset{
		name:        name,
		contentType: contentType,
		data:        data,
		version:     hex.EncodeToString(sum[:6]),
		integrity:   "sha384-" + base64.StdEncoding.EncodeToString(sri[:]),
	}, nil
}

// pageBuilder renders the login page's content; assetBase is the absolute URL the
// broker serves Routes' assets under.
type pageBuilder struct {
	tmpl      *template.Template
	assetBase string
	script    asset
	style     asset
	licences  asset
}

func newPageBuilder(assetBase string) (*pageBuilder, error) {
	tmpl, err := template.New("page").Parse(pageTemplate)
	if err != nil {
		return nil, fmt.Errorf("parse page template: %w", err)
	}
	b := &pageBuilder{tmpl: tmpl, assetBase: assetBase}
	if b.script, err = loadAsset("login.js", "text/javascript; charset=utf-8"); err != nil {
		return nil, err
	}
	if b.style, err = loadAsset("login.css", "text/css; charset=utf-8"); err != nil {
		return nil, err
	}
	if b.licences, err = loadAsset("THIRD-PARTY-LICENSES.txt", "text/plain; charset=utf-8"); err != nil {
		return nil, err
	}
	return b, nil
}

// pageData is what Begin puts into one page.
type pageData struct {
	Locale      string
	Challenge   string
	CallbackURL string
	Alg         string
	CANames     []string
	MTLS        bool
}

// texts are the page's words in one language. The Msg* texts are the
// errors and states the script shows (keys as in web/src).
type texts struct {
	Lang, Title, Lead, FileLabel, FileHint, PINLabel, Submit, Cancel         string
	NoScript, MTLSTitle, MTLSLead, MTLSButton, Licences                      string
	MsgWrongPin, MsgNotPkcs12, MsgExpired, MsgNotYetValid, MsgNotElster      string
	MsgNoKey, MsgUnsupportedKey, MsgNoCertificate, MsgNoFile, MsgNoWebCrypto string
	MsgFailed, MsgWorking, MsgSending                                        string
}

var textsDE = texts{
	Lang:              "de",
	Title:             "Anmelden mit ELSTER-Zertifikat",
	Lead:              "Ihre Zertifikatsdatei und Ihre PIN bleiben auf Ihrem Gerät: Die Datei wird nur in Ihrem Browser geöffnet, übertragen wird nur eine Signatur mit Ihrem Zertifikat.",
	FileLabel:         "Zertifikatsdatei (.pfx)",
	FileHint:          "Die Datei, die Sie bei der Registrierung in Mein ELSTER gespeichert haben.",
	PINLabel:          "PIN der Zertifikatsdatei",
	Submit:            "Anmelden",
	Cancel:            "Abbrechen",
	NoScript:          "Für die Anmeldung mit der Zertifikatsdatei wird JavaScript benötigt.",
	MTLSTitle:         "Zertifikat im Browser oder auf einem Sicherheitsstick",
	MTLSLead:          "Ihr Browser fragt nach dem Zertifikat, das Sie verwenden möchten.",
	MTLSButton:        "Mit installiertem Zertifikat anmelden",
	Licences:          "Lizenzen",
	MsgWrongPin:       "Die PIN ist falsch. Bitte prüfen Sie die PIN Ihrer Zertifikatsdatei.",
	MsgNotPkcs12:      "Die Datei ist keine Zertifikatsdatei (.pfx oder .p12).",
	MsgExpired:        "Ihr Zertifikat ist abgelaufen. Sie können es in Mein ELSTER verlängern.",
	MsgNotYetValid:    "Ihr Zertifikat ist noch nicht gültig.",
	MsgNotElster:      "Dies ist kein ELSTER-Zertifikat: Es wurde nicht von einer ELSTER-Zertifizierungsstelle ausgestellt.",
	MsgNoKey:          "Die Datei enthält keinen privaten Schlüssel.",
	MsgUnsupportedKey: "Der Schlüssel in dieser Datei wird nicht unterstützt.",
	MsgNoCertificate:  "Die Datei enthält kein Zertifikat, das zum Schlüssel passt.",
	MsgNoFile:         "Bitte wählen Sie Ihre Zertifikatsdatei aus.",
	MsgNoWebCrypto:    "Ihr Browser stellt die nötigen Kryptografie-Funktionen nicht bereit (nur über HTTPS verfügbar).",
	MsgFailed:         "Die Anmeldung ist fehlgeschlagen. Bitte versuchen Sie es erneut.",
	MsgWorking:        "Zertifikat wird geöffnet …",
	MsgSending:        "Anmeldung wird übertragen …",
}

var textsEN = texts{
	Lang:              "en",
	Title:             "Log in with your ELSTER certificate",
	Lead:              "Your certificate file and your PIN stay on your device: the file is opened only in your browser, and only a signature made with your certificate is sent.",
	FileLabel:         "Certificate file (.pfx)",
	FileHint:          "The file you saved when you registered with Mein ELSTER.",
	PINLabel:          "PIN of the certificate file",
	Submit:            "Log in",
	Cancel:            "Cancel",
	NoScript:          "Logging in with a certificate file needs JavaScript.",
	MTLSTitle:         "Certificate in the browser or on a security stick",
	MTLSLead:          "Your browser asks which certificate to use.",
	MTLSButton:        "Log in with an installed certificate",
	Licences:          "Licences",
	MsgWrongPin:       "The PIN is wrong. Please check the PIN of your certificate file.",
	MsgNotPkcs12:      "This file is not a certificate file (.pfx or .p12).",
	MsgExpired:        "Your certificate has expired. You can renew it in Mein ELSTER.",
	MsgNotYetValid:    "Your certificate is not valid yet.",
	MsgNotElster:      "This is not an ELSTER certificate: it was not issued by an ELSTER certification authority.",
	MsgNoKey:          "The file contains no private key.",
	MsgUnsupportedKey: "The key in this file is not supported.",
	MsgNoCertificate:  "The file contains no certificate matching its key.",
	MsgNoFile:         "Please choose your certificate file.",
	MsgNoWebCrypto:    "Your browser does not offer the cryptography needed (only available over HTTPS).",
	MsgFailed:         "The login failed. Please try again.",
	MsgWorking:        "Opening the certificate …",
	MsgSending:        "Sending the login …",
}

// render returns the page's content for the broker's layout (see
// adapters.Handoff.Content) in d.Locale, and its title.
func (b *pageBuilder) render(d pageData) ([]byte, string, error) {
	t := textsDE
	if strings.HasPrefix(strings.ToLower(d.Locale), "en") {
		t = textsEN
	}
	names := d.CANames
	if names == nil {
		names = []string{}
	}
	caJSON, err := json.Marshal(names)
	if err != nil {
		return nil, "", fmt.Errorf("encode ca names: %w", err)
	}
	var buf bytes.Buffer
	err = b.tmpl.Execute(&buf, map[string]any{
		"T":               t,
		"Challenge":       d.Challenge,
		"CallbackURL":     d.CallbackURL,
		"Alg":             d.Alg,
		"CANames":         string(caJSON),
		"MTLS":            d.MTLS,
		"ScriptURL":       b.assetBase + b.script.name + "?v=" + b.script.version,
		"ScriptIntegrity": b.script.integrity,
		"StyleURL":        b.assetBase + b.style.name + "?v=" + b.style.version,
		"StyleIntegrity":  b.style.integrity,
		"LicencesURL":     b.assetBase + b.licences.name,
	})
	if err != nil {
		return nil, "", fmt.Errorf("render page: %w", err)
	}
	return buf.Bytes(), t.Title, nil
}

// Routes serves the page's assets; the broker mounts it under
// /login/{id}/ with that prefix stripped, so the paths are /assets/….
func (a *Adapter) Routes() http.Handler {
	files := map[string]asset{}
	for _, as := range []asset{a.page.script, a.page.style, a.page.licences} {
		files["/assets/"+as.name] = as
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		as, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", as.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("ETag", `"`+as.version+`"`)
		if r.Header.Get("If-None-Match") == `"`+as.version+`"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(as.data)
	})
}
