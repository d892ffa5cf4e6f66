package bundid_test

import (
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters/bundid"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/config"
)

var reg = config.Registry{
	bundid.Type:             func() config.AdapterSpec { return bundid.NewConfig() },
	bundid.TypeServicekonto: func() config.AdapterSpec { return bundid.NewServicekontoConfig() },
}

const head = "issuer: https://login.example.de\nclients:\n  - id: portal\n    redirect_uris: [https://portal.example.de/cb]\n    secret: \"0123456789abcdef\"\nadapters:\n"

func TestConfigFromYAML(t *testing.T) {
	t.Run("bundid with defaults", func(t *testing.T) {
		y := head + `  - id: bundid
    type: bundid
    max_level: high
    config:
      signing_key_file: sp.key
      signing_cert_file: sp.pem
      idp: {metadata_url: "https://id.bund.de/idp/metadata", trust_anchors: [bundid-ca.pem]}
      display:
        default: {organization_display_name: "Stadt Musterstadt"}
        per_service:
          - {client: portal, service: residence, online_service_id: "99123456760000"}
`
		c, err := config.Parse("/etc/broker/broker.yaml", []byte(y), reg)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		bc := c.Adapters[0].Spec.(*bundid.Config)
		if bc.Profile != bundid.ProfileBundID || bc.SubjectAttribute != bundid.AttrBPK2 || len(bc.Levels) != 3 ||
			bc.Display.PerService[0].OnlineServiceID != "99123456760000" || string(bc.SigningKeyFile) != "/etc/broker/sp.key" {
			t.Fatalf("decoded %+v", bc)
		}
	})
	t.Run("servicekonto tables", func(t *testing.T) {
		y := head + `  - id: sh
    type: servicekonto
    max_level: substantial
    config:
      name: {de: "Servicekonto Schleswig-Holstein"}
      signing_key_file: sp.key
      signing_cert_file: sp.pem
      idp: {metadata_file: sh-idp.xml, trust_anchors: [sh-ca.pem]}
      levels:
        - {value: "http://eidas.europa.eu/LoA/substantial", level: substantial}
      attributes:
        - {name: "urn:oid:2.5.4.42", claim: given_name, required: true}
        - {name: "urn:land:wohnort", claim: address.locality}
`
		c, err := config.Parse("broker.yaml", []byte(y), reg)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		bc := c.Adapters[0].Spec.(*bundid.Config)
		if bc.Profile != bundid.ProfileGeneric || bc.Levels[0].Level != assurance.Substantial || bc.SubjectAttribute != "" {
			t.Fatalf("decoded %+v", bc)
		}
	})
	t.Run("every problem with its line", func(t *testing.T) {
		y := head + `  - id: bundid
    type: bundid
    max_level: high
    config:
      entity_id: "https://login.example.de:8443/saml"
      signing_key_file: sp.key
      idp: {metadata_url: "http://id.bund.de/idp/metadata"}
      levels:
        - {value: STORK-QAA-Level-3, level: substantial}
        - {value: STORK-QAA-Level-3, level: high}
      authn_methods: [{name: Passkey, level: high}]
      attributes:
        - {name: "urn:oid:2.5.4.42", claim: sub}
        - {name: "urn:oid:1.3.6.1.4.1.25484.494450.3", claim: bpk}
      display:
        per_service:
          - {service: residence, online_service_id: "has space"}
      idp_metadata: x
`
		_, err := config.Parse("broker.yaml", []byte(y), reg)
		if err == nil {
			t.Fatal("Parse accepted a bad block")
		}
		msg := err.Error()
		for _, want := range []string{
			"broker.yaml:11: adapters[0].config.entity_id: must not have a port",
			"adapters[0].config.signing_cert_file: required",
			"adapters[0].config.idp.metadata_url: must be an https URL",
			"adapters[0].config.idp.trust_anchors: required",
			"adapters[0].config.levels[1].value: listed twice",
			"adapters[0].config.authn_methods[0].name",
			"adapters[0].config.attributes[0].claim",
			"adapters[0].config.attributes[1].name: is protocol data",
			"adapters[0].config.display.default.organization_display_name: required",
			"adapters[0].config.display.per_service[0].client: required",
			"adapters[0].config.display.per_service[0].online_service_id",
			"adapters[0].config.idp_metadata",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("error lacks %q:\n%s", want, msg)
			}
		}
	})
}
