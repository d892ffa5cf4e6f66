package eidas

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
)

// Refresh scheduling: after a failure the next attempt comes sooner than
// the configured interval, growing from retryMin to the interval.
const (
	retryMin     = sp.RetryMin
	fetchTimeout = sp.FetchTimeout
)

// country is one configured proxy-service with its current metadata.
type country struct {
	code     string // ISO
	names    adapters.Text
	level    assurance.Level
	url      string
	file     string
	mem      func(context.Context) ([]byte, error)
	entityID string
	anchors  []*x509.Certificate
	interval time.Duration
	pkcs1    bool
	legacyKT bool   // accept rsa-oaep-mgf1p / SHA-1 OAEP from this country
	binding  string // preferred SSO binding URI

	state atomic.Pointer[countryState]
}

// countryState is an immutable snapshot; a refresh replaces it whole.
type countryState struct {
	md      *Metadata // last verified metadata (nil if never loaded)
	sso     Endpoint
	lastErr error // last refresh failure (nil after a success)
	next    time.Time
	retry   time.Duration
}

// usable returns the verified metadata if it is still within validUntil.
func (c *country) usable(now time.Time) (*Metadata, Endpoint, error) {
	st := c.state.Load()
	if st == nil || st.md == nil {
		if st != nil && st.lastErr != nil {
			return nil, Endpoint{}, fmt.Errorf("%w: %s: %w", ErrCountryUnavailable, c.code, st.lastErr)
		}
		return nil, Endpoint{}, fmt.Errorf("%w: %s: metadata not loaded", ErrCountryUnavailable, c.code)
	}
	if !now.Before(st.md.ValidUntil) {
		return nil, Endpoint{}, fmt.Errorf("%w: %s: %w", ErrCountryUnavailable, c.code, ErrMetadataExpired)
	}
	return st.md, st.sso, nil
}

// unavailableText is the short bilingual reason shown on the login page.
func (c *country) unavailableText(now time.Time) string {
	_, _, err := c.usable(now)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrMetadataExpired):
		return "Metadaten abgelaufen / metadata expired"
	}
	return "Derzeit nicht erreichbar / currently unavailable"
}

// fetch reads the raw metadata from the configured source.
func (a *Adapter) fetch(ctx context.Context, c *country) ([]byte, error) {
	return sp.MetadataSource{Mem: c.mem, File: c.file, URL: c.url}.Fetch(ctx, a.http)
}

// load fetches, verifies and checks a country's metadata.
func (a *Adapter) load(ctx context.Context, c *country) (*Metadata, Endpoint, error) {
	data, err := a.fetch(ctx, c)
	if err != nil {
		return nil, Endpoint{}, err
	}
	signed, err := VerifyMetadata(data, VerifyMetadataOptions{Anchors: c.anchors, AllowRSAPKCS1v15: c.pkcs1, Now: a.now})
	if err != nil {
		return nil, Endpoint{}, err
	}
	entities, err := parseMetadataElement(signed)
	if err != nil {
		return nil, Endpoint{}, err
	}
	md, err := c.selectEntity(entities)
	if err != nil {
		return nil, Endpoint{}, err
	}
	if err := checkProxyService(md, c.code, a.now()); err != nil {
		return nil, Endpoint{}, err
	}
	sso, err := pickSSO(md, c.binding)
	if err != nil {
		return nil, Endpoint{}, err
	}
	return md, sso, nil
}

// selectEntity picks the proxy-service from (possibly aggregated)
// metadata: the configured entity ID, else the only proxy-service, else
// the only one whose NodeCountry is this country.
func (c *country) selectEntity(entities []*Metadata) (*Metadata, error) {
	var idps []*Metadata
	for _, m := range entities {
		if c.entityID != "" && m.EntityID == c.entityID {
			return m, nil
		}
		if m.IDP {
			idps = append(idps, m)
		}
	}
	if c.entityID != "" {
		return nil, fmt.Errorf("%w: entity %q not in the metadata", ErrMetadata, c.entityID)
	}
	if len(idps) == 1 {
		return idps[0], nil
	}
	var match []*Metadata
	for _, m := range idps {
		if m.NodeCountry != "" && sameCountry(m.NodeCountry, c.code) {
			match = append(match, m)
		}
	}
	if len(match) == 1 {
		return match[0], nil
	}
	return nil, fmt.Errorf("%w: %d proxy-services in the metadata; set entity_id", ErrMetadata, len(idps))
}

// refresh loads one country and stores the outcome. A failure keeps the
// previous metadata (it stays usable until its validUntil).
func (a *Adapter) refresh(ctx context.Context, c *country) {
	md, sso, err := a.load(ctx, c)
	old := c.state.Load()
	now := time.Now()
	st := &countryState{}
	if err == nil {
		st.md, st.sso, st.next = md, sso, now.Add(c.interval)
		if old == nil || old.md == nil || old.lastErr != nil {
			a.log.Info("eidas metadata loaded", "country", c.code, "entity", md.EntityID, "valid_until", md.ValidUntil)
		}
	} else {
		if old != nil {
			st.md, st.sso = old.md, old.sso
		}
		st.lastErr = err
		st.retry = retryMin
		if old != nil && old.retry > 0 {
			st.retry = min(old.retry*2, c.interval)
		}
		st.next = now.Add(st.retry)
		a.log.Warn("eidas metadata refresh failed", "country", c.code, "err", err)
	}
	c.state.Store(st)
}

// refreshAll loads every country concurrently (used at start).
func (a *Adapter) refreshAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range a.countries {
		wg.Go(func() { a.refresh(ctx, c) })
	}
	wg.Wait()
}

// refreshLoop refreshes each country when it is due, until ctx ends.
func (a *Adapter) refreshLoop(ctx context.Context) {
	defer close(a.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		next := time.Now().Add(time.Hour)
		for _, c := range a.countries {
			if st := c.state.Load(); st != nil && st.next.Before(next) {
				next = st.next
			}
		}
		t.Reset(max(time.Until(next), 0))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		for _, c := range a.countries {
			if st := c.state.Load(); st == nil || !now.Before(st.next) {
				a.refresh(ctx, c)
			}
		}
	}
}

// CheckHealth implements adapters.HealthChecker: it fails when a country's
// metadata is unusable (never loaded or expired), naming the countries.
func (a *Adapter) CheckHealth(context.Context) error {
	now := a.now()
	var bad []string
	for _, c := range a.countries {
		if _, _, err := c.usable(now); err != nil {
			bad = append(bad, c.code)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("%w: metadata unusable for %s", ErrCountryUnavailable, strings.Join(bad, ", "))
}
