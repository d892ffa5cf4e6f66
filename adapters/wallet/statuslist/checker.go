package statuslist

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Errors of Checker.Status.
var (
	// ErrUnreachable: no valid list could be fetched (network, HTTP status,
	// timeout). The caller's policy decides.
	ErrUnreachable = errors.New("status list unreachable")
	// ErrInvalidList: a list was fetched but is not valid (signature,
	// claims, index out of range). Always refused.
	ErrInvalidList = errors.New("status list invalid")
)

const maxTokenBytes = 1 << 20

// Checker fetches, verifies and caches status lists.
type Checker struct {
	Client     *http.Client
	Now        func() time.Time
	CacheTTL   time.Duration // upper bound on reuse
	MaxEntries int           // lists kept at most

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	list    *List
	expires time.Time
}

// Status returns the status of idx in the list at uri, verifying the list
// against roots. Lists are cached per (uri, trust pool) key.
func (c *Checker) Status(ctx context.Context, uri string, idx int, roots *x509.CertPool, poolID string) (byte, error) {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return 0, fmt.Errorf("%w: uri is not an http(s) url", ErrInvalidList)
	}
	now := c.Now()
	key := poolID + " " + uri
	c.mu.Lock()
	e, ok := c.cache[key]
	c.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		tok, err := c.fetch(ctx, uri, roots, now)
		if err != nil {
			return 0, err
		}
		exp := now.Add(c.CacheTTL)
		if !tok.Expires.IsZero() && tok.Expires.Before(exp) {
			exp = tok.Expires
		}
		e = cached{list: tok.List, expires: exp}
		c.store(key, e, now)
	}
	v, err := e.list.Get(idx)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidList, err)
	}
	return v, nil
}

func (c *Checker) store(key string, e cached, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil {
		c.cache = map[string]cached{}
	}
	if len(c.cache) >= c.MaxEntries {
		// Drop expired entries first, then the one expiring soonest.
		var victim string
		var soonest time.Time
		for k, v := range c.cache {
			if !now.Before(v.expires) {
				delete(c.cache, k)
				continue
			}
			if victim == "" || v.expires.Before(soonest) {
				victim, soonest = k, v.expires
			}
		}
		if len(c.cache) >= c.MaxEntries && victim != "" {
			delete(c.cache, victim)
		}
	}
	c.cache[key] = e
}

func (c *Checker) fetch(ctx context.Context, uri string, roots *x509.CertPool, now time.Time) (*Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	req.Header.Set("Accept", "application/statuslist+jwt")
	resp, err := c.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: http status %d", ErrUnreachable, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	if len(body) > maxTokenBytes {
		return nil, fmt.Errorf("%w: token larger than %d bytes", ErrInvalidList, maxTokenBytes)
	}
	tok, err := Verify(string(bytesTrimSpace(body)), uri, roots, now)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidList, err)
	}
	return tok, nil
}

func bytesTrimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

func b64std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
