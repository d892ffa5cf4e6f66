package oidcsim

import (
	"github.com/ozg-broker/eidas-broker/adapters/oidcup"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/config"
)

// AdapterConfig is the oidc adapter's config for this simulator: its acr
// vocabulary mapped to the levels (ACRBasis deliberately unmapped) and the
// standard claims.
func (s *Sim) AdapterConfig() *oidcup.Config {
	c := oidcup.NewConfig()
	c.Issuer, c.ClientID, c.ClientSecret = s.opts.Issuer, s.opts.ClientID, config.NewSecret(s.opts.ClientSecret)
	c.Scopes = []string{"openid", "profile", "address"}
	c.Name = oidcup.Names{DE: "Landeskonto (OIDC, Simulator)", EN: "Land account (OIDC, simulator)"}
	c.Levels = []oidcup.LevelEntry{
		{ACR: ACRNormal, Level: assurance.Low},
		{ACR: ACRSubstantiell, Level: assurance.Substantial},
		{ACR: ACRHoch, Level: assurance.High},
	}
	return c
}
