package eid

import (
	"bytes"
	"fmt"
	"html/template"
)

// The start page needs no script and no style: a link starts the
// eID-Client (TR-03124-1 §2.2), which fetches the TC Token itself and, when
// done, sends the browser to the refresh address. It is content for the
// broker's layout (adapters.Handoff.Content), in the person's language,
// so it works under the broker's strict CSP and looks like every other step.
var startPage = template.Must(template.New("start").Parse(`<h1>{{.S.Title}}</h1>
<p>{{.S.Intro}}</p>
<p><a class="button" id="start-client" href="{{.ClientLink}}">{{.S.Start}}</a></p>
<p>{{.S.Mobile}} <a id="start-mobile" href="{{.MobileLink}}">{{.S.MobileLinkText}}</a></p>
<h2>{{.S.HelpTitle}}</h2>
<ul>
{{range .S.Help}}<li>{{.}}</li>
{{end}}</ul>
<p><a class="button secondary" id="eid-cancel" href="{{.CancelLink}}">{{.S.Cancel}}</a></p>
`))

type startSection struct {
	Lang, Title, Intro, Start, Mobile, MobileLinkText, HelpTitle, Cancel string
	Help                                                                 []string
}

var sectionDE = startSection{
	Lang:           "de",
	Title:          "Mit dem Online-Ausweis anmelden",
	Intro:          "Sie können sich mit Ihrem Personalausweis, Ihrem elektronischen Aufenthaltstitel oder Ihrer eID-Karte für Unionsbürger anmelden. Dafür brauchen Sie eine eID-App (zum Beispiel die AusweisApp) und Ihre sechsstellige PIN.",
	Start:          "Ausweis-App starten und anmelden",
	Mobile:         "Auf dem Smartphone:",
	MobileLinkText: "Mit der Ausweis-App auf diesem Gerät anmelden",
	HelpTitle:      "Es passiert nichts?",
	Help: []string{
		"Prüfen Sie, ob eine eID-App (zum Beispiel die AusweisApp) installiert ist und läuft. Starten Sie sie und wählen Sie den Link oben noch einmal.",
		"Manche Browser fragen, ob die App geöffnet werden darf. Bestätigen Sie die Frage.",
		"Halten Sie Ihren Ausweis bereit; die App führt Sie durch die Eingabe der PIN. Danach kommen Sie automatisch hierher zurück.",
	},
	Cancel: "Abbrechen und zurück",
}

var sectionEN = startSection{
	Lang:           "en",
	Title:          "Log in with your German eID card",
	Intro:          "You can log in with your German identity card, your electronic residence permit or your eID card for EU citizens. You need an eID app (such as the AusweisApp) and your six-digit PIN.",
	Start:          "Start the eID app and log in",
	Mobile:         "On a smartphone:",
	MobileLinkText: "Log in with the eID app on this device",
	HelpTitle:      "Nothing happens?",
	Help: []string{
		"Check that an eID app (such as the AusweisApp) is installed and running. Start it and select the link above again.",
		"Some browsers ask whether the app may be opened. Allow it.",
		"Have your card ready; the app guides you through entering the PIN. Afterwards you return here automatically.",
	},
	Cancel: "Cancel and go back",
}

func renderStartPage(locale, clientLink, mobileLink, cancel string) ([]byte, string, error) {
	data := struct {
		S                                  startSection
		ClientLink, MobileLink, CancelLink template.URL
	}{
		S: sectionDE,
		// The links are built from configuration and the broker's own URLs;
		// template.URL keeps html/template from rejecting the eid: scheme,
		// attribute escaping still applies.
		ClientLink: template.URL(clientLink),
		MobileLink: template.URL(mobileLink),
		CancelLink: template.URL(cancel),
	}
	if locale == "en" {
		data.S = sectionEN
	}
	var b bytes.Buffer
	if err := startPage.Execute(&b, data); err != nil {
		return nil, "", fmt.Errorf("render eid start page: %w", err)
	}
	return b.Bytes(), data.S.Title, nil
}
