package oidcup_test

import (
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters/oidcup"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/config"
)

const yamlHead = "issuer: https://login.example.de\nclients:\n  - id: portal\n    redirect_uris: [https://portal.example.de/cb]\n    secret: \"0123456789abcdef\"\nadapters:\n  - id: land\n    type: oidc\n    max_level: high\n    config:\n"

var reg = config.Registry{oidcup.Type: func() config.AdapterSpec { return oidcup.NewConfig() }}

func TestConfigFromYAML(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		y := yamlHead + `      issuer: https://servicekonto.land.example/realms/buerger
      client_id: broker
      client_secret: "geheim-geheim"
      levels:
        - {acr: "urn:land:loa:2", level: low}
        - {acr: "urn:land:loa:4", level: high}
      claims: {vorname: given_name, nachname: family_name, landkreis: district}
`
		c, err := config.Parse("broker.yaml", []byte(y), reg)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		oc := c.Adapters[0].Spec.(*oidcup.Config)
		if oc.Levels[1].Level != assurance.High || oc.Claims["landkreis"] != "district" || oc.Timeout.D() != oidcup.DefaultTimeout ||
			len(oc.Scopes) != 2 {
			t.Fatalf("decoded %+v", oc)
		}
	})
	t.Run("every problem with its line", func(t *testing.T) {
		y := yamlHead + `      issuer: http://servicekonto.land.example
      client_id: broker
      levls: []
      levels:
        - {acr: "urn:land:loa:2", level: low}
        - {acr: "urn:land:loa:2", level: high}
        - {acr: "has space", level: substantial}
        - {acr: "x", level: medium}
      claims: {sub: given_name, vorname: acr, nachname: "Family Name"}
      timeout: 1h
`
		_, err := config.Parse("broker.yaml", []byte(y), reg)
		if err == nil {
			t.Fatal("Parse accepted a bad block")
		}
		msg := err.Error()
		for _, want := range []string{
			"broker.yaml:11: adapters[0].config.issuer: must be https",
			"adapters[0].config.levls",
			"adapters[0].config.client_secret: required",
			"adapters[0].config.levels[1].acr: listed twice",
			"adapters[0].config.levels[2].acr",
			"adapters[0].config.levels[3].level",
			"adapters[0].config.claims.sub",
			"adapters[0].config.claims.vorname",
			"adapters[0].config.claims.nachname",
			"adapters[0].config.timeout",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("error lacks %q:\n%s", want, msg)
			}
		}
	})
}

func TestConfigValidateLoopbackHTTP(t *testing.T) {
	for issuer, ok := range map[string]bool{
		"http://127.0.0.1:8080/sim": true, "http://localhost:1/x": true, "http://[::1]:9/": true,
		"http://example.org": false, "https://example.org/realms/a": true, "https://example.org/?q=1": false,
		"ftp://example.org": false, "https://user@example.org": false,
	} {
		c := oidcup.NewConfig()
		c.Issuer, c.ClientID, c.ClientSecret = issuer, "b", config.NewSecret("s")
		c.Levels = []oidcup.LevelEntry{{ACR: "a", Level: assurance.Low}}
		if got := len(c.Validate()) == 0; got != ok {
			t.Errorf("%s: valid = %v, want %v (%v)", issuer, got, ok, c.Validate())
		}
	}
}
