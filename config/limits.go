package config

import (
	"net/netip"
	"strings"
	"time"
)

// Limits configures the overload protection (package broker/ratelimit).
// Every key is optional; the defaults below apply. A count of 0 turns that
// limit off.
type Limits struct {
	// Window is the sliding window the rate limits count in (default 1m).
	Window Duration `yaml:"window"`
	// PerAddress is the number of requests one source address may send to
	// /authorize, the upstream callbacks and the eIDAS-Service within the
	// window, together (default 300).
	PerAddress *int `yaml:"per_address"`
	// PerClient is the number of requests one portal may cause on
	// /authorize and, separately, on /token within the window (default
	// 6000).
	PerClient *int `yaml:"per_client"`
	// MaxInFlight caps the requests one replica serves at once (default
	// 512); above it a request waits QueueWait (default 200ms) for a slot
	// and is then answered 503 with Retry-After.
	MaxInFlight *int     `yaml:"max_in_flight"`
	QueueWait   Duration `yaml:"queue_wait"`
	// TrustedProxies are the load balancers (addresses or CIDR prefixes)
	// whose X-Forwarded-For names the source address.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Defaults of the limits block.
const (
	DefaultLimitWindow      = time.Minute
	DefaultLimitPerAddress  = 300
	DefaultLimitPerClient   = 6000
	DefaultLimitMaxInFlight = 512
	DefaultLimitQueueWait   = 200 * time.Millisecond
)

// Proxies returns TrustedProxies parsed (a plain address is a /32 or
// /128). Entries were checked by Parse.
func (l Limits) Proxies() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range l.TrustedProxies {
		if p, ok := parseProxy(s); ok {
			out = append(out, p)
		}
	}
	return out
}

func parseProxy(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err == nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

func (d *decoder) validateLimits(l *Limits) {
	if l.Window != 0 && (l.Window.D() < time.Second || l.Window.D() > time.Hour) {
		d.invalid("limits.window", "want 1s to 1h")
	}
	if l.QueueWait != 0 && (l.QueueWait.D() < 0 || l.QueueWait.D() > 10*time.Second) {
		d.invalid("limits.queue_wait", "want 0s to 10s")
	}
	for key, v := range map[string]*int{"per_address": l.PerAddress, "per_client": l.PerClient, "max_in_flight": l.MaxInFlight} {
		if v != nil && *v < 0 {
			d.invalid("limits."+key, "must not be negative (0 turns the limit off)")
		}
	}
	for i, s := range l.TrustedProxies {
		if _, ok := parseProxy(s); !ok {
			d.invalid(joinIndex("limits.trusted_proxies", i), "want an IP address or a CIDR prefix such as 10.0.0.0/8")
		}
	}
}

func (l *Limits) applyDefaults() {
	if l.Window == 0 {
		l.Window = Duration(DefaultLimitWindow)
	}
	if l.QueueWait == 0 {
		l.QueueWait = Duration(DefaultLimitQueueWait)
	}
	set := func(p **int, def int) {
		if *p == nil {
			v := def
			*p = &v
		}
	}
	set(&l.PerAddress, DefaultLimitPerAddress)
	set(&l.PerClient, DefaultLimitPerClient)
	set(&l.MaxInFlight, DefaultLimitMaxInFlight)
}
