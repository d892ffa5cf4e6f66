package sp

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// RetryMin is the first retry delay after a failed metadata refresh; it
// doubles up to the refresh interval.
const RetryMin = 5 * time.Second

// PeerConfig describes one identity provider whose metadata the core
// keeps fresh.
type PeerConfig struct {
	Source MetadataSource
	// Anchors verify the metadata signature (VerifyMetadata).
	Anchors []*x509.Certificate
	// EntityID selects the entity in an aggregate; empty means the only
	// identity provider in the file.
	EntityID string
	// Interval between refreshes (default one hour).
	Interval time.Duration
	// Policy is the peer's algorithm policy; AllowRSAPKCS1v15 applies to
	// the metadata signature too.
	Policy Policy
	// PreferBinding is the SSO binding to use when both are offered.
	PreferBinding string
	// CheckURL judges endpoint URLs and the entity ID (https only in
	// production).
	CheckURL func(string) error
	// RequireValidUntil refuses metadata without validUntil (eIDAS).
	RequireValidUntil bool
	HTTP              *http.Client
	Log               *slog.Logger
	Now               func() time.Time
}

// Peer holds an identity provider's verified metadata and refreshes it.
// A failed refresh keeps the previous metadata, which stays usable until
// its validUntil. Safe for concurrent use.
type Peer struct {
	cfg   PeerConfig
	state atomic.Pointer[peerState]

	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

type peerState struct {
	md      *Metadata
	sso     Endpoint
	lastErr error
	next    time.Time
	retry   time.Duration
}

// NewPeer loads the metadata once (a failure is kept and retried, not
// returned: the adapter opens and shows the peer as unavailable) and
// starts the background refresh. Stop it with Close.
func NewPeer(cfg PeerConfig) *Peer {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CheckURL == nil {
		cfg.CheckURL = func(string) error { return nil }
	}
	p := &Peer{cfg: cfg, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	p.Refresh(ctx)
	go p.loop(ctx)
	return p
}

// Close stops the refresh; safe to call more than once.
func (p *Peer) Close() {
	p.closeOnce.Do(func() {
		p.stop()
		<-p.done
	})
}

// Usable returns the verified metadata and the chosen SSO endpoint if the
// metadata is loaded and within its validUntil. Errors wrap
// ErrPeerUnavailable (and ErrMetadataExpired or the last load error).
func (p *Peer) Usable() (*Metadata, Endpoint, error) {
	st := p.state.Load()
	if st == nil || st.md == nil {
		if st != nil && st.lastErr != nil {
			return nil, Endpoint{}, fmt.Errorf("%w: %w", ErrPeerUnavailable, st.lastErr)
		}
		return nil, Endpoint{}, fmt.Errorf("%w: metadata not loaded", ErrPeerUnavailable)
	}
	if !st.md.ValidUntil.IsZero() && !p.cfg.Now().Before(st.md.ValidUntil) {
		return nil, Endpoint{}, fmt.Errorf("%w: %w", ErrPeerUnavailable, ErrMetadataExpired)
	}
	return st.md, st.sso, nil
}

// Load fetches, verifies and checks the metadata without storing it.
func (p *Peer) Load(ctx context.Context) (*Metadata, Endpoint, error) {
	data, err := p.cfg.Source.Fetch(ctx, p.cfg.HTTP)
	if err != nil {
		return nil, Endpoint{}, err
	}
	entities, err := LoadMetadata(data, VerifyMetadataOptions{Anchors: p.cfg.Anchors, AllowRSAPKCS1v15: p.cfg.Policy.AllowRSAPKCS1v15, Now: p.cfg.Now})
	if err != nil {
		return nil, Endpoint{}, err
	}
	var md *Metadata
	var idps []*Metadata
	for _, m := range entities {
		if p.cfg.EntityID != "" && m.EntityID == p.cfg.EntityID {
			md = m
		}
		if m.IDP {
			idps = append(idps, m)
		}
	}
	switch {
	case md != nil:
	case p.cfg.EntityID != "":
		return nil, Endpoint{}, fmt.Errorf("%w: entity %q not in the metadata", ErrMetadata, p.cfg.EntityID)
	case len(idps) == 1:
		md = idps[0]
	default:
		return nil, Endpoint{}, fmt.Errorf("%w: %d identity providers in the metadata; set entity_id", ErrMetadata, len(idps))
	}
	if err := p.check(md); err != nil {
		return nil, Endpoint{}, err
	}
	sso, err := PickSSO(md, p.cfg.PreferBinding, p.cfg.CheckURL)
	if err != nil {
		return nil, Endpoint{}, err
	}
	return md, sso, nil
}

func (p *Peer) check(md *Metadata) error {
	if !md.IDP {
		return fmt.Errorf("%w: entity is not an identity provider (no IDPSSODescriptor)", ErrMetadata)
	}
	if err := p.cfg.CheckURL(md.EntityID); err != nil {
		return fmt.Errorf("%w: entityID: %v", ErrMetadata, err)
	}
	if md.ValidUntil.IsZero() && p.cfg.RequireValidUntil {
		return fmt.Errorf("%w: no validUntil", ErrMetadata)
	}
	if !md.ValidUntil.IsZero() && !p.cfg.Now().Before(md.ValidUntil) {
		return fmt.Errorf("%w: valid until %s", ErrMetadataExpired, md.ValidUntil.UTC().Format(time.RFC3339))
	}
	if err := CheckEntityKeys(md); err != nil {
		return err
	}
	if len(md.SigningCerts) == 0 {
		return fmt.Errorf("%w: no signing certificate", ErrMetadata)
	}
	return nil
}

// Refresh loads the metadata now and stores the outcome.
func (p *Peer) Refresh(ctx context.Context) {
	md, sso, err := p.Load(ctx)
	old := p.state.Load()
	now := time.Now()
	st := &peerState{}
	if err == nil {
		st.md, st.sso, st.next = md, sso, now.Add(p.cfg.Interval)
		if old == nil || old.md == nil || old.lastErr != nil {
			p.cfg.Log.Info("saml peer metadata loaded", "entity", md.EntityID, "valid_until", md.ValidUntil)
		}
	} else {
		if old != nil {
			st.md, st.sso = old.md, old.sso
		}
		st.lastErr, st.retry = err, RetryMin
		if old != nil && old.retry > 0 {
			st.retry = min(old.retry*2, p.cfg.Interval)
		}
		st.next = now.Add(st.retry)
		if !errors.Is(err, context.Canceled) {
			p.cfg.Log.Warn("saml peer metadata refresh failed", "err", err)
		}
	}
	p.state.Store(st)
}

func (p *Peer) loop(ctx context.Context) {
	defer close(p.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		next := time.Now().Add(time.Hour)
		if st := p.state.Load(); st != nil && st.next.Before(next) {
			next = st.next
		}
		t.Reset(max(time.Until(next), 0))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.Refresh(ctx)
	}
}
