package eidasservice_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	es "github.com/ozg-broker/eidas-broker/broker/eidasservice"
	"github.com/ozg-broker/eidas-broker/broker/eidasservice/democonnector"
)

// TestGreekConnector: a Greek connector may be configured as "EL" (the
// eIDAS code) or "GR" (ISO), and its metadata may say either; every
// combination is the same country, and the PersonIdentifier names it "EL"
// as eIDAS requires.
func TestGreekConnector(t *testing.T) {
	for _, tc := range []struct {
		name, configured, inMetadata string
	}{
		{"EL, metadata EL", "EL", "EL"},
		{"GR, metadata EL", "GR", "EL"},
		{"EL, metadata GR", "EL", "GR"},
		{"GR, metadata GR", "GR", "GR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{
				connCfg: func(c *democonnector.Config) { c.Country = tc.configured },
				svcCfg: func(h *harness, c *es.Config) {
					// The metadata as a node writing the country its own way
					// would publish it.
					md, err := democonnector.BuildMetadata(democonnector.MetadataOptions{
						EntityID: h.base + "/demo/connector/metadata", ACS: h.base + "/demo/connector/acs",
						Country: tc.inMetadata, SPType: es.SPTypePublic, Keys: &democonnector.Keys{Signing: pair(t, "connector-at-sign"), Encryption: pair(t, "connector-at-enc")},
						ValidUntil: time.Now().Add(time.Hour),
					})
					if err != nil {
						t.Fatal(err)
					}
					c.Connectors[0].Metadata = md
					c.Connectors[0].Country = tc.configured
				},
			})
			b := h.browser()
			consent := h.eidLogin(b, h.postRequest(b, democonnector.RequestOptions{}), "erika")
			res, _ := h.result(h.consent(b, consent, "approve"))
			if !res.Success() {
				t.Fatalf("status %s %s %q", res.Status, res.SubStatus, res.Message)
			}
			if pid := res.Attr(es.AttrPersonIdentifier); len(pid) != 1 || !strings.HasPrefix(pid[0], "DE/EL/") {
				t.Errorf("PersonIdentifier %q, want DE/EL/…", pid)
			}
		})
	}
	// The service's own country follows the same rule.
	h := newHarness(t, harnessOpts{svcCfg: func(_ *harness, c *es.Config) { c.NodeCountry = "GR" }})
	resp, err := http.Get(h.base + es.MetadataPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	md, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(md), ">EL</eidas:NodeCountry>") {
		t.Errorf("node country GR not published as EL:\n%.2000s", md)
	}
}
