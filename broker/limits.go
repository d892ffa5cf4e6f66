package broker

import (
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/ratelimit"
)

// eidasServicePrefix is the eIDAS-Service's mount (DESIGN §10); the
// service is wired by cmd/broker through Config.Routes.
const eidasServicePrefix = "/saml/service/"

// newLimiter builds the overload protection from cfg.Limits (nil: none).
// The per-address limit covers what a browser or a foreign node sends
// during a login; /token is limited per client only, because every portal
// calls it from a few servers of its own.
func (s *Server) newLimiter(cfg *ratelimit.Config, dataKey []byte) (*ratelimit.Limiter, error) {
	if cfg == nil {
		return nil, nil
	}
	lc := *cfg
	if lc.KeySecret == nil {
		// Every replica derives the same key from the shared data key, so
		// counters in Redis are shared; the key never leaves the process.
		k := sha256.Sum256(append([]byte("broker rate limit keys\x00"), dataKey...))
		lc.KeySecret = k[:]
	}
	lc.KnownClient = func(id string) bool { _, ok := s.clients[id]; return ok }
	lc.Unlimited = append(lc.Unlimited, "/healthz", "/readyz")
	if lc.Page == nil {
		// Resolved at request time: the pages are built after the limiter.
		lc.Page = func(w http.ResponseWriter, r *http.Request, status int, retry time.Duration) {
			s.pages.busy(w, r, status, retry)
		}
	}
	if lc.Logger == nil {
		lc.Logger = s.log
	}
	rules := []ratelimit.Rule{
		{Name: "authorize", Path: "/authorize", Browser: true, ByAddress: true, Client: ratelimit.AuthorizeClient},
		{Name: "token", Path: "/token", Client: ratelimit.TokenClient},
		{Name: "callback", Path: "/login/cb/", Browser: true, ByAddress: true},
		{Name: "eidas-service", Path: eidasServicePrefix, Browser: true, ByAddress: true},
	}
	for i := range s.adapters {
		a := &s.adapters[i]
		if _, ok := a.Adapter.(adapters.Router); !ok {
			continue
		}
		// The adapter's own routes: upstream callbacks (SAML ACS, ELSTER
		// proof, eID refresh and TC Token).
		rules = append(rules, ratelimit.Rule{Name: "upstream", Path: "/login/" + a.ID + "/", Browser: true, ByAddress: true})
		if a.Mount != "" {
			rules = append(rules, ratelimit.Rule{Name: "upstream", Path: a.Mount + "/", Browser: true, ByAddress: true})
		}
	}
	return ratelimit.New(lc, rules)
}

// LimiterStats are the overload protection's counters (zero without it).
func (s *Server) LimiterStats() ratelimit.Stats {
	if s.limiter == nil {
		return ratelimit.Stats{}
	}
	return s.limiter.Stats()
}
