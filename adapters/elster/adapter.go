package elster

import (
	"context"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Type is the adapter type name in the config file and the amr value.
const Type = "elster"

// replayGrace keeps a replay record a little past the challenge expiry, so
// broker replicas with slightly different clocks still see it.
const replayGrace = time.Minute

// Adapter is an opened ELSTER certificate adapter. Safe for concurrent use.
type Adapter struct {
	id           string
	origin       string // base URL, as in challenges
	webOrigin    string // scheme://host[:port] of origin, as browsers send it in Origin
	roots        *x509.CertPool
	anchors      []*x509.Certificate // the certificates in roots, for CheckHealth
	caNames      []string
	challengeTTL time.Duration
	alg          string
	anyEKU       bool
	subjectSPKI  bool
	mapping      compiledMapping
	mtls         bool
	mtlsHeader   string
	proxies      []netip.Prefix
	store        store.Store
	rev          *revocationChecker
	page         *pageBuilder
	now          func() time.Time
	log          *slog.Logger
}

// Interface guards.
var (
	_ adapters.Adapter       = (*Adapter)(nil)
	_ adapters.Router        = (*Adapter)(nil)
	_ adapters.HealthChecker = (*Adapter)(nil)
)

// Info describes the adapter for the login page.
func (a *Adapter) Info() adapters.Info {
	return adapters.Info{
		Type:     Type,
		Name:     adapters.Text{DE: "ELSTER-Zertifikat", EN: "ELSTER certificate"},
		MaxLevel: assurance.Substantial,
		// With ELSTER's own login (elster-nezo) configured too, the login
		// page offers both as "ELSTER" with the route underneath.
		Family:     "elster",
		FamilyName: adapters.Text{DE: "ELSTER", EN: "ELSTER"},
		Route:      adapters.Text{DE: "Mit Ihrer Zertifikatsdatei hier im Browser", EN: "With your certificate file, here in the browser"},
	}
}

// Begin issues a challenge for req and returns the login page that answers
// it. The challenge travels in the state; nothing is stored here.
func (a *Adapter) Begin(_ context.Context, req adapters.Request) (adapters.Handoff, []byte, error) {
	if req.CallbackURL == "" {
		return adapters.Handoff{}, nil, errors.New("begin elster login: no callback url")
	}
	c, err := newChallenge(a.origin, req.TxID, a.now().Add(a.challengeTTL))
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("begin elster login: %w", err)
	}
	st, err := encodeState(c)
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("begin elster login: %w", err)
	}
	content, title, err := a.page.render(pageData{
		Locale:      req.Locale,
		Challenge:   c.String(),
		CallbackURL: req.CallbackURL,
		Alg:         a.alg,
		CANames:     a.caNames,
		MTLS:        a.mtls,
	})
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("begin elster login: %w", err)
	}
	// The page's content goes into the broker's layout (which names the
	// portal and service the login is for). Its forms post to the
	// callback, which checks the Origin: browsers without Fetch Metadata
	// send the real one only under a same-origin referrer policy.
	return adapters.Handoff{Content: content, Title: title, Needs: adapters.ContentNeeds{SameOriginReferrer: true}}, st, nil
}

// Finish verifies the answer to the challenge in state (see the package
// documentation for the order of checks) and returns the certificate
// holder's identity at level substantial.
func (a *Adapter) Finish(ctx context.Context, req adapters.Request, st []byte, r *http.Request) (adapters.Identity, error) {
	id, err := a.finish(ctx, req, st, r)
	if err != nil {
		if !errors.Is(err, adapters.ErrCancelled) {
			a.log.InfoContext(ctx, "elster login refused", "err", err)
		}
		return adapters.Identity{}, adapters.WithReason(reasonFor(err), fmt.Errorf("finish elster login: %w", err))
	}
	return id, nil
}

func (a *Adapter) finish(ctx context.Context, req adapters.Request, st []byte, r *http.Request) (adapters.Identity, error) {
	now := a.now()
	issued, c, err := decodeState(st)
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("%w: %w", ErrChallenge, err)
	}
	if err := a.checkBinding(c, req.TxID, now); err != nil {
		return adapters.Identity{}, err
	}
	// Before anything is read: a cross-site POST neither completes nor
	// cancels a login.
	if err := a.checkSameOrigin(r); err != nil {
		return adapters.Identity{}, err
	}
	ans, err := parseAnswer(r)
	if err != nil {
		return adapters.Identity{}, err
	}
	if ans.cancel {
		return adapters.Identity{}, adapters.ErrCancelled
	}
	if subtle.ConstantTimeCompare([]byte(ans.challenge), []byte(issued)) != 1 {
		return adapters.Identity{}, fmt.Errorf("%w: differs from the one issued", ErrChallenge)
	}

	var leaf *x509.Certificate
	var extra []*x509.Certificate
	if ans.tls {
		if !a.mtls {
			return adapters.Identity{}, fmt.Errorf("%w: mutual TLS login is not enabled", ErrRequest)
		}
		// The TLS handshake with the terminator proved possession of the
		// key; the header is believed only from a trusted terminator.
		if leaf, extra, err = a.forwardedCert(r); err != nil {
			return adapters.Identity{}, err
		}
	} else {
		leaf, extra = ans.chain[0], ans.chain[1:]
		if err := verifySignature(leaf, ans.alg, issued, ans.signature); err != nil {
			return adapters.Identity{}, err
		}
	}

	// Single use, across transactions and replicas: the first valid answer
	// claims the nonce.
	ttl := c.Expires.Sub(now) + replayGrace
	if err := a.store.Create(ctx, store.KindChallenge, c.Nonce, []byte{1}, ttl); err != nil {
		if errors.Is(err, store.ErrExists) {
			return adapters.Identity{}, ErrReplay
		}
		return adapters.Identity{}, fmt.Errorf("%w: %w", ErrStore, err)
	}

	chain, err := a.verifyCertificate(ctx, leaf, extra, now)
	if err != nil {
		return adapters.Identity{}, err
	}
	holder := chain[0]
	return adapters.Identity{
		Subject:  a.subjectID(holder),
		Level:    assurance.Substantial,
		AuthTime: now,
		Claims:   a.mapping.claimsFor(holder),
	}, nil
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// CheckHealth reports, for readiness, the conditions under which ELSTER
// logins fail for everyone, so that operators see them before citizens do:
// a trust anchor outside its validity period (nothing under it verifies),
// and, when revocation must be proven (unreachable: refuse), configured
// CRL distribution points of which none answers with a CRL.
func (a *Adapter) CheckHealth(ctx context.Context) error {
	now := a.now()
	for _, c := range a.anchors {
		if now.After(c.NotAfter) || now.Before(c.NotBefore) {
			return fmt.Errorf("elster health: trust anchor %q is valid only from %s to %s",
				c.Subject.CommonName, c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly))
		}
	}
	if err := a.rev.health(ctx); err != nil {
		return fmt.Errorf("elster health: %w", err)
	}
	return nil
}

// reasonFor tells the broker which page explains a refusal to the person.
func reasonFor(err error) adapters.Reason {
	switch {
	case errors.Is(err, ErrRevoked):
		return adapters.ReasonCertificateRevoked
	case errors.Is(err, ErrExpired):
		return adapters.ReasonCertificateExpired
	case errors.Is(err, ErrKeyUsage):
		return adapters.ReasonCertificateUsage
	case errors.Is(err, ErrUntrusted):
		return adapters.ReasonCertificateUntrusted
	case errors.Is(err, ErrRevocationUnavailable):
		return adapters.ReasonUpstreamUnreachable
	}
	return ""
}
