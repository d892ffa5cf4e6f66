package broker

import (
	"net/http"
	// net/http/pprof also registers its handlers on http.DefaultServeMux
	// when imported; no listener of the broker serves DefaultServeMux, so
	// they are reachable only through AdminHandler.
	"net/http/pprof"
)

// AdminHandler is the operators' surface: /metrics (Prometheus text
// format) and Go's profiler under /debug/pprof/. It has no authentication
// and must never share the public listener: counters tell an outsider about
// load and outcomes, profiles about internals, and a CPU profile or trace
// costs CPU on request. cmd/broker serves it only on admin_listen, which is
// off by default and refuses non-loopback addresses unless explicitly
// allowed.
func (s *Server) AdminHandler() http.Handler { return s.admin }

func adminHandler(m *Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", m.serve)
	mux.HandleFunc("GET /debug/pprof/", pprof.Index) // also the named profiles: heap, goroutine, allocs, …
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return securityHeaders(mux)
}
