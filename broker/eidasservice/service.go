package eidasservice

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Service is the eIDAS-Service: a SAML identity provider that answers
// foreign eIDAS-Connectors with identities from the German eID card.
// It is safe for concurrent use; all per-login state lives in the store.
type Service struct {
	cfg        settings
	log        *slog.Logger
	pages      *pages
	connectors []*connector
	byEntity   map[string]*connector

	metaMu    sync.Mutex
	metaBytes []byte
	metaBuilt time.Time
}

// New checks cfg, verifies the metadata of connectors configured with a
// document (a bad or expired document is a configuration error) and
// returns the service. Metadata given by URL is fetched on first use (or by
// Refresh), so an unreachable connector does not stop the broker.
func New(cfg Config) (*Service, error) {
	st, err := cfg.check()
	if err != nil {
		return nil, err
	}
	pg, err := newPages(st.path+"static/", st.Layout)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: st, log: st.Logger.With("component", "eidas-service", "adapter", st.AdapterID), pages: pg, byEntity: map[string]*connector{}}
	now := st.Now()
	for i, cc := range st.Connectors {
		c := &connector{cfg: cc, entityID: cc.EntityID}
		if cc.MetadataURL != "" && c.entityID == "" {
			c.entityID = cc.MetadataURL
		}
		if len(cc.Metadata) > 0 {
			md, err := verifyConnectorMetadata(cc.Metadata, cc.TrustAnchors, now)
			if err != nil {
				return nil, fmt.Errorf("%w: connectors[%d]: %w", ErrConfig, i, err)
			}
			if c.entityID == "" {
				c.entityID = md.EntityID
			}
			if err := checkConnectorMetadata(c, md); err != nil {
				return nil, fmt.Errorf("%w: connectors[%d]: %w", ErrConfig, i, err)
			}
			c.md, c.fetchedAt = md, now
		}
		if _, dup := s.byEntity[c.entityID]; dup {
			return nil, fmt.Errorf("%w: connectors[%d]: duplicate entity ID %q", ErrConfig, i, c.entityID)
		}
		s.byEntity[c.entityID] = c
		s.connectors = append(s.connectors, c)
	}
	if _, err := s.Metadata(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return s, nil
}

// EntityID is the service's entity ID (its metadata URL).
func (s *Service) EntityID() string { return s.cfg.entityID }

// SSOURL is the single sign-on endpoint (HTTP-POST and HTTP-Redirect).
func (s *Service) SSOURL() string { return s.cfg.ssoURL }

// SigningCertificate is the certificate connectors verify our metadata and
// Responses with (the trust anchor to exchange with them).
func (s *Service) SigningCertificate() *x509.Certificate { return s.cfg.SigningCert }

// Routes serves, below PathPrefix (which the caller strips):
//
//	GET  /metadata        signed metadata
//	POST /sso, GET /sso   AuthnRequests (HTTP-POST and HTTP-Redirect)
//	ANY  /cb/{ref}        the eID adapter's callback (the eID-Client sends
//	                      the browser here; no cookie needed)
//	GET  /consent/{ref}   the consent page, POST to decide
//	GET  /static/…        the page's script and style sheet
func (s *Service) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata", s.serveMetadata)
	mux.HandleFunc("POST /sso", s.handleSSO)
	mux.HandleFunc("GET /sso", s.handleSSO)
	mux.HandleFunc("/cb/{ref}", s.handleCallback)
	mux.HandleFunc("GET /consent/{ref}", s.handleConsentPage)
	mux.HandleFunc("POST /consent/{ref}", s.handleConsent)
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(s.pages.static)))
	return mux
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

func (s *Service) serveMetadata(w http.ResponseWriter, r *http.Request) {
	b, err := s.Metadata()
	if err != nil {
		s.log.ErrorContext(r.Context(), "eidas service: metadata", "err", err)
		http.Error(w, "metadata unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}
