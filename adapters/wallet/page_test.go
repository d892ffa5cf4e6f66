package wallet_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// TestPageContent: the page is content for the broker's layout, in the
// person's language, with one h1, and asks the broker's policy only for
// what it uses (the status poll and the QR code image).
func TestPageContent(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct{ locale, title, alt string }{
		{"de", "Anmelden mit der EUDI-Wallet", "QR-Code für die Anmeldung mit Ihrer Wallet"},
		{"en", "Log in with the EUDI Wallet", "QR code for logging in with your wallet"},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			ref := "page-" + tc.locale
			ho, _, err := h.adapter.Begin(context.Background(), adapters.Request{TxID: "tx-" + ref, Ref: ref,
				CallbackURL: h.srv.URL + "/login/cb/" + ref, BaseURL: h.srv.URL, Locale: tc.locale})
			if err != nil {
				t.Fatal(err)
			}
			page := string(ho.Content)
			if ho.Page != nil || ho.Title != tc.title || strings.Count(page, "<h1>") != 1 || !strings.Contains(page, "<h1>"+tc.title+"</h1>") {
				t.Errorf("title %q, want %q as the one h1", ho.Title, tc.title)
			}
			for _, tag := range []string{"<html", "<head", "<body", "<main", "<style", " style="} {
				if strings.Contains(page, tag) {
					t.Errorf("content has %q", tag)
				}
			}
			if regexp.MustCompile(`\son[a-z]+\s*=`).MatchString(page) {
				t.Error("content has an event handler attribute")
			}
			if !strings.Contains(page, `alt="`+tc.alt+`"`) || !strings.Contains(page, `src="data:image/png;base64,`) {
				t.Error("no QR code image with a text alternative")
			}
			if want := (adapters.ContentNeeds{Fetch: true, DataImages: true}); ho.Needs != want {
				t.Errorf("needs %+v, want %+v", ho.Needs, want)
			}
		})
	}
}
