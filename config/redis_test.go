package config

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The store.redis timeouts decode as durations and stay zero (the store's
// defaults) when left out.
func TestRedisTimeouts(t *testing.T) {
	keys, err := filepath.Abs("../testdata/config/keys/signing-es256.pem")
	if err != nil {
		t.Fatal(err)
	}
	base := `issuer: https://login.example.de
store:
  type: redis
  redis:
    addrs: [redis.internal:6379]
%s
keys:
  signing: [{id: k1, file: ` + keys + `}]
  subject_secret: "0123456789abcdef0123456789abcdef"
  data_key: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
clients:
  - {id: portal, redirect_uris: [https://portal.example.de/cb], secret: "a-long-enough-client-secret"}
adapters:
  - {id: demo, type: test, max_level: high, config: {metadata: {url: https://eid.example.de/metadata}}}
`
	cases := []struct {
		name              string
		lines             string
		dial, read, write time.Duration
	}{
		{"defaults", "", 0, 0, 0},
		{"set", "    dial_timeout: 250ms\n    read_timeout: 1s\n    write_timeout: 750ms", 250 * time.Millisecond, time.Second, 750 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "broker.yaml")
			if err := os.WriteFile(p, []byte(fmt.Sprintf(base, c.lines)), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(p, testRegistry())
			if err != nil {
				t.Fatal(err)
			}
			r := cfg.Store.Redis
			if r.DialTimeout.D() != c.dial || r.ReadTimeout.D() != c.read || r.WriteTimeout.D() != c.write {
				t.Fatalf("timeouts = %v %v %v", r.DialTimeout, r.ReadTimeout, r.WriteTimeout)
			}
		})
	}
}
