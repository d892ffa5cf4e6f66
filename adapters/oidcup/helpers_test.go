package oidcup_test

import (
	"encoding/json"

	"github.com/ozg-broker/eidas-broker/config"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func secret(s string) config.Secret { return config.NewSecret(s) }
