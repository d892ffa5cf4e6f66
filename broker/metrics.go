package broker

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
)

// Metrics are a few counters in the Prometheus text format. They count
// outcomes, never people: labels are results, adapters and levels. One
// Metrics may outlive a Server (Config.Metrics), so counters survive a
// configuration reload. Safe for concurrent use.
type Metrics struct {
	mu       sync.Mutex
	counters map[string]uint64 // "name{labels}" -> value
}

// NewMetrics returns empty counters.
func NewMetrics() *Metrics { return &Metrics{counters: map[string]uint64{}} }

func (m *Metrics) inc(name string, labels ...string) {
	key := name
	if len(labels) > 0 {
		key += "{"
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				key += ","
			}
			key += fmt.Sprintf("%s=%q", labels[i], labels[i+1])
		}
		key += "}"
	}
	m.mu.Lock()
	m.counters[key]++
	m.mu.Unlock()
}

func (m *Metrics) serve(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	keys := make([]string, 0, len(m.counters))
	for k := range m.counters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintln(w, "# TYPE broker_logins_total counter")
	fmt.Fprintln(w, "# TYPE broker_upstream_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "%s %d\n", k, m.counters[k])
	}
	m.mu.Unlock()
}
