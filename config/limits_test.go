package config

import (
	"net/netip"
	"testing"
	"time"
)

func TestLimits(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		want  string
		check func(t *testing.T, l Limits)
	}{
		{name: "defaults", yaml: "", check: func(t *testing.T, l Limits) {
			if l.Window.D() != time.Minute || *l.PerAddress != 300 || *l.PerClient != 6000 ||
				*l.MaxInFlight != 512 || l.QueueWait.D() != 200*time.Millisecond || len(l.Proxies()) != 0 {
				t.Errorf("defaults = %+v", l)
			}
		}},
		{name: "all keys", yaml: `limits:
  window: 30s
  per_address: 0
  per_client: 100
  max_in_flight: 64
  queue_wait: 50ms
  trusted_proxies: [10.0.0.0/8, 192.0.2.7, "2001:db8::/32", 10.1.2.3/8]
`, check: func(t *testing.T, l Limits) {
			if l.Window.D() != 30*time.Second || *l.PerAddress != 0 || *l.PerClient != 100 || *l.MaxInFlight != 64 || l.QueueWait.D() != 50*time.Millisecond {
				t.Errorf("limits = %+v", l)
			}
			want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
				netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("10.0.0.0/8")}
			got := l.Proxies()
			if len(got) != len(want) {
				t.Fatalf("proxies = %v", got)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("proxy %d = %v, want %v", i, got[i], want[i])
				}
			}
		}},
		{name: "bad values", yaml: `limits:
  window: 100ms
  per_client: -1
  queue_wait: 1m
  trusted_proxies: [10.0.0.0/33, proxy.example]
`, want: "t.yaml:9: limits.window: want 1s to 1h\n" +
			"t.yaml:10: limits.per_client: must not be negative (0 turns the limit off)\n" +
			"t.yaml:11: limits.queue_wait: want 0s to 10s\n" +
			"t.yaml:12: limits.trusted_proxies[0]: want an IP address or a CIDR prefix such as 10.0.0.0/8\n" +
			"t.yaml:12: limits.trusted_proxies[1]: want an IP address or a CIDR prefix such as 10.0.0.0/8"},
		{name: "unknown key", yaml: "limits:\n  per_adress: 5\n", want: `t.yaml:9: limits.per_adress: unknown key (did you mean per_address?)`},
		{name: "wrong type", yaml: "limits:\n  per_client: many\n", want: `t.yaml:9: limits.per_client: want an integer, got a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.yaml", []byte(base+tt.yaml), testRegistry())
			got := ""
			if err != nil {
				got = err.Error()
			}
			if tt.want == "" && err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.want != "" && (len(got) < len(tt.want) || got[:len(tt.want)] != tt.want) {
				t.Fatalf("Parse error:\n got: %s\nwant: %s", got, tt.want)
			}
			if tt.check != nil && c != nil {
				tt.check(t, c.Limits)
			}
		})
	}
}

// defaultLimits is the limits block of a file that has none.
func defaultLimits() Limits {
	var l Limits
	l.applyDefaults()
	return l
}
