package config

import (
	"net/url"
	"strings"
)

// Environments.
const (
	EnvProduction = "production"
	// EnvStaging makes serve offer the simulators of every upstream and the
	// demo identities beside the configured adapters, with a TEST banner on
	// every page: for testers with a real store and several replicas. It is
	// refused unless the issuer is a loopback address or the host test_host
	// explicitly marks as a test host.
	EnvStaging = "staging"
)

// Staging reports whether the file asks for the staging environment.
func (c *Config) Staging() bool { return c.Environment == EnvStaging }

func (d *decoder) validateEnvironment(c *Config) {
	switch c.Environment {
	case "", EnvProduction:
		if c.TestHost != "" {
			d.invalid("test_host", "only with environment: staging")
		}
		return
	case EnvStaging:
	default:
		d.invalid("environment", "want production or staging")
		return
	}
	u, err := url.Parse(c.Issuer)
	if err != nil {
		return // the issuer's own error is reported
	}
	host := u.Hostname()
	switch {
	case IsLoopbackHost(host):
	case c.TestHost != "" && strings.EqualFold(c.TestHost, host):
	case c.TestHost != "":
		d.invalid("test_host", "%q is not the issuer's host %q", c.TestHost, host)
	default:
		d.invalid("environment", "staging (simulators and demo identities) needs a loopback issuer or the issuer's host marked in test_host")
	}
}
