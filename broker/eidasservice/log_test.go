package eidasservice_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/broker/eidasservice/democonnector"
	"github.com/ozg-broker/eidas-broker/broker/logtest"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
)

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestLogLinesCarryEachKeyOnce runs logins through the service (a success,
// a refusal answered with a page, one answered with an error Response) and
// checks that no line of its log carries an attribute key twice (the
// service's own scoping and a line's attributes must not overlap).
func TestLogLinesCarryEachKeyOnce(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	b := h.browser()
	out := h.consent(b, h.eidLogin(b, h.postRequest(b, democonnector.RequestOptions{}), "erika"), "approve")
	if res, _ := h.result(out); !res.Success() {
		t.Fatalf("status %s %s", res.Status, res.SubStatus)
	}
	h.expectStatus(h.postRequest(h.browser(), democonnector.RequestOptions{IsPassive: "true"}), samlxml.StatusResponder, samlxml.StatusNoPassive, "")
	unsigned, _ := democonnector.EncodePOST(h.conn.Request(democonnector.RequestOptions{}))
	h.expectPage(h.sendPOST(h.browser(), unsigned, ""), http.StatusBadRequest, "not signed")
	logs := h.logs.String()
	if n := strings.Count(logs, "component=eidas-service"); n < 4 {
		t.Fatalf("expected the service's lines, found %d:\n%s", n, logs)
	}
	if bad := logtest.Repeated(logs); bad != nil {
		t.Errorf("log lines carry an attribute twice: %v\n%s", bad, logs)
	}
}
