package elster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

const (
	// maxCRLBytes bounds a downloaded CRL; CAs with millions of entries
	// publish partitioned CRLs long before this.
	maxCRLBytes = 32 << 20
	// maxOCSPBytes bounds an OCSP response.
	maxOCSPBytes = 64 << 10
	// clockSkew tolerated on thisUpdate in the future.
	clockSkew = 5 * time.Minute
	// maxCacheEntries bounds the OCSP cache; expired entries go first, then
	// arbitrary ones (the cache is an optimisation, never a source of truth).
	maxCacheEntries = 10000
)

var (
	oidDeltaCRLIndicator        = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}
)

// revStatus is the outcome of asking one source.
type revStatus int

const (
	statusUnavailable revStatus = iota // no usable answer (network, stale, no source)
	statusGood
	statusRevoked
	statusUnknown // the responder does not know the certificate
	statusInvalid // an answer that failed verification
)

type revResult struct {
	source string
	status revStatus
	err    error
}

type revocationOptions struct {
	mode             string
	crlURLs          []string
	ocspURL          string
	cacheTTL         time.Duration
	allowUnreachable bool
	timeout          time.Duration
	client           *http.Client
	now              func() time.Time
	log              *slog.Logger
}

// revocationChecker asks OCSP responders and CRL distribution points and
// caches their answers in memory. Safe for concurrent use.
type revocationChecker struct {
	opt revocationOptions

	mu      sync.Mutex
	crls    map[string]*crlEntry  // by URL
	ocsps   map[string]ocspEntry  // by issuer key hash and serial
	flights map[string]*flight    // fetches under way, by cache key
	sigOK   map[[2][32]byte]error // CRL signature checks, by CRL and issuer hash
}

type crlEntry struct {
	crl     *x509.RevocationList
	hash    [32]byte
	revoked map[string]struct{}
	usable  func(cert *x509.Certificate) bool
	delta   bool
	expires time.Time
}

type ocspEntry struct {
	res     revResult
	expires time.Time
}

// flight lets concurrent logins share one download.
type flight struct {
	done    chan struct{}
	crl     *crlEntry
	res     revResult
	expires time.Time // of res, zero: not cacheable
	err     error
}

func newRevocationChecker(opt revocationOptions) *revocationChecker {
	return &revocationChecker{
		opt:     opt,
		crls:    map[string]*crlEntry{},
		ocsps:   map[string]ocspEntry{},
		flights: map[string]*flight{},
		sigOK:   map[[2][32]byte]error{},
	}
}

// health fails when CRLs are part of the policy, an unreachable source
// means refusal, the CRL distribution points are configured (not taken
// from each certificate, so known in advance) and none of them delivers a
// CRL. One answering point is enough, as it is for a login. A cached CRL
// counts: logins would use it too.
func (rc *revocationChecker) health(ctx context.Context) error {
	if rc.opt.allowUnreachable || len(rc.opt.crlURLs) == 0 ||
		(rc.opt.mode != RevocationCRL && rc.opt.mode != RevocationBoth) {
		return nil
	}
	var errs []error
	for _, u := range httpURLs(rc.opt.crlURLs) {
		if _, err := rc.getCRL(ctx, u); err == nil {
			return nil
		} else {
			errs = append(errs, err)
		}
	}
	return fmt.Errorf("no configured CRL distribution point answers, so every login is refused: %w", errors.Join(errs...))
}

// checkChain checks every certificate of chain below the trust anchor (the
// last element) against its issuer.
func (rc *revocationChecker) checkChain(ctx context.Context, chain []*x509.Certificate) error {
	if rc.opt.mode == RevocationNone {
		return nil
	}
	for i := 0; i+1 < len(chain); i++ {
		if err := rc.check(ctx, chain[i], chain[i+1], i == 0); err != nil {
			if i > 0 {
				return fmt.Errorf("issuing CA: %w", err)
			}
			return err
		}
	}
	return nil
}

func (rc *revocationChecker) check(ctx context.Context, cert, issuer *x509.Certificate, leaf bool) error {
	var results []revResult
	switch rc.opt.mode {
	case RevocationOCSP:
		results = []revResult{rc.ocspStatus(ctx, cert, issuer)}
	case RevocationCRL:
		results = []revResult{rc.crlStatus(ctx, cert, issuer)}
	default:
		results = []revResult{rc.ocspStatus(ctx, cert, issuer), rc.crlStatus(ctx, cert, issuer)}
	}
	for _, r := range results {
		if r.status == statusRevoked {
			return fmt.Errorf("%w (%s)", ErrRevoked, r.source)
		}
	}
	for _, r := range results {
		if r.status == statusInvalid {
			return fmt.Errorf("%w: %s: %w", ErrRevocationInvalid, r.source, r.err)
		}
	}
	for _, r := range results {
		if r.status == statusGood {
			return nil
		}
	}
	for _, r := range results {
		if r.status == statusUnknown {
			return fmt.Errorf("%w: %s does not know the certificate", ErrRevocationUnavailable, r.source)
		}
	}
	var errs []error
	for _, r := range results {
		errs = append(errs, fmt.Errorf("%s: %w", r.source, r.err))
	}
	err := errors.Join(errs...)
	if rc.opt.allowUnreachable {
		rc.opt.log.Warn("revocation status unavailable, login allowed by policy",
			"leaf", leaf, "err", err)
		return nil
	}
	return fmt.Errorf("%w: %w", ErrRevocationUnavailable, err)
}

// --- CRL ---

func (rc *revocationChecker) crlStatus(ctx context.Context, cert, issuer *x509.Certificate) revResult {
	res := revResult{source: "crl"}
	urls := rc.opt.crlURLs
	if len(urls) == 0 {
		urls = httpURLs(cert.CRLDistributionPoints)
	}
	if len(urls) == 0 {
		res.err = errors.New("no http CRL distribution point")
		return res
	}
	now := rc.opt.now()
	var errs []error
	for _, u := range urls {
		e, err := rc.getCRL(ctx, u)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !bytes.Equal(e.crl.RawIssuer, issuer.RawSubject) || e.delta || !e.usable(cert) {
			continue
		}
		if err := rc.crlSignature(e, issuer); err != nil {
			rc.dropCRL(u, e)
			res.status, res.err = statusInvalid, err
			return res
		}
		if e.crl.ThisUpdate.After(now.Add(clockSkew)) {
			errs = append(errs, fmt.Errorf("crl %s: issued in the future", u))
			continue
		}
		if !e.crl.NextUpdate.IsZero() && now.After(e.crl.NextUpdate) {
			rc.dropCRL(u, e)
			errs = append(errs, fmt.Errorf("crl %s: stale since %s", u, e.crl.NextUpdate.UTC().Format(time.RFC3339)))
			continue
		}
		if _, ok := e.revoked[cert.SerialNumber.String()]; ok {
			res.status = statusRevoked
			return res
		}
		res.status = statusGood
		return res
	}
	if len(errs) == 0 {
		res.err = errors.New("no current CRL of the issuing CA at the CRL URLs")
	} else {
		res.err = errors.Join(errs...)
	}
	return res
}

func (rc *revocationChecker) crlSignature(e *crlEntry, issuer *x509.Certificate) error {
	key := [2][32]byte{e.hash, sha256.Sum256(issuer.Raw)}
	rc.mu.Lock()
	err, ok := rc.sigOK[key]
	rc.mu.Unlock()
	if ok {
		return err
	}
	if err = e.crl.CheckSignatureFrom(issuer); err != nil {
		err = fmt.Errorf("crl signature: %w", err)
	}
	rc.mu.Lock()
	if len(rc.sigOK) >= maxCacheEntries {
		clear(rc.sigOK)
	}
	rc.sigOK[key] = err
	rc.mu.Unlock()
	return err
}

func (rc *revocationChecker) dropCRL(u string, e *crlEntry) {
	rc.mu.Lock()
	if rc.crls[u] == e {
		delete(rc.crls, u)
	}
	rc.mu.Unlock()
}

// getCRL returns the cached CRL of u or downloads it, sharing a download
// among concurrent callers.
func (rc *revocationChecker) getCRL(ctx context.Context, u string) (*crlEntry, error) {
	now := rc.opt.now()
	key := "crl " + u
	rc.mu.Lock()
	if e, ok := rc.crls[u]; ok && now.Before(e.expires) {
		rc.mu.Unlock()
		return e, nil
	}
	f := rc.join(ctx, key, func(fctx context.Context, f *flight) {
		f.crl, f.err = rc.fetchCRL(fctx, u, now)
	}, func(f *flight) {
		if f.err == nil {
			rc.crls[u] = f.crl
		}
	})
	rc.mu.Unlock()
	if err := wait(ctx, f); err != nil {
		return nil, fmt.Errorf("crl %s: %w", u, err)
	}
	return f.crl, f.err
}

// join returns the download under way for key, or starts one. It is
// called with rc.mu held, which it keeps. The download runs in its own
// goroutine on a context detached from the caller's and bounded by the
// configured timeout: concurrent logins share it, so the first caller's
// cancellation (a closed browser tab, a client that gave up) must not fail
// the others waiting for the same answer. fetch fills in the flight; file
// runs with rc.mu held afterwards to put the result into the cache.
func (rc *revocationChecker) join(ctx context.Context, key string, fetch func(context.Context, *flight), file func(*flight)) *flight {
	if f, ok := rc.flights[key]; ok {
		return f
	}
	f := &flight{done: make(chan struct{})}
	rc.flights[key] = f
	timeout := rc.opt.timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	go func() {
		defer cancel()
		// Waiters read f only after done is closed.
		fetch(fctx, f)
		rc.mu.Lock()
		delete(rc.flights, key)
		file(f)
		rc.mu.Unlock()
		close(f.done)
	}()
	return f
}

// wait blocks until f is done or the caller gives up; the download goes on
// for the others either way.
func wait(ctx context.Context, f *flight) error {
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (rc *revocationChecker) fetchCRL(ctx context.Context, u string, now time.Time) (*crlEntry, error) {
	body, err := rc.fetch(ctx, http.MethodGet, u, "", nil, maxCRLBytes)
	if err != nil {
		return nil, fmt.Errorf("crl %s: %w", u, err)
	}
	der := body
	if block, _ := pem.Decode(body); block != nil && block.Type == "X509 CRL" {
		der = block.Bytes
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		// A body that does not parse is as good as no answer: a captive
		// portal or an error page, not a forged CRL (that would need a
		// signature to be dangerous, and it is checked separately).
		return nil, fmt.Errorf("crl %s: parse: %w", u, err)
	}
	e := &crlEntry{
		crl:     crl,
		hash:    sha256.Sum256(der),
		revoked: make(map[string]struct{}, len(crl.RevokedCertificateEntries)),
		usable:  func(*x509.Certificate) bool { return true },
	}
	for _, r := range crl.RevokedCertificateEntries {
		e.revoked[r.SerialNumber.String()] = struct{}{}
	}
	for _, ext := range crl.Extensions {
		switch {
		case ext.Id.Equal(oidDeltaCRLIndicator):
			e.delta = true
		case ext.Id.Equal(oidIssuingDistributionPoint):
			usable, err := parseIDP(ext.Value)
			if err != nil {
				return nil, fmt.Errorf("crl %s: issuing distribution point: %w", u, err)
			}
			e.usable = usable
		}
	}
	e.expires = now.Add(rc.opt.cacheTTL)
	if !crl.NextUpdate.IsZero() && crl.NextUpdate.Before(e.expires) {
		e.expires = crl.NextUpdate
	}
	return e, nil
}

// parseIDP reads the issuing distribution point extension (RFC 5280
// §5.2.5) and returns which certificates the CRL speaks for. Partial CRLs by
// reason and indirect CRLs are not supported and speak for none, so they
// can never make a certificate look good.
func parseIDP(der []byte) (func(*x509.Certificate) bool, error) {
	var idp struct {
		DistributionPoint          asn1.RawValue  `asn1:"optional,tag:0"`
		OnlyContainsUserCerts      bool           `asn1:"optional,tag:1"`
		OnlyContainsCACerts        bool           `asn1:"optional,tag:2"`
		OnlySomeReasons            asn1.BitString `asn1:"optional,tag:3"`
		IndirectCRL                bool           `asn1:"optional,tag:4"`
		OnlyContainsAttributeCerts bool           `asn1:"optional,tag:5"`
	}
	rest, err := asn1.Unmarshal(der, &idp)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if len(rest) > 0 {
		return nil, errors.New("trailing data")
	}
	if idp.IndirectCRL || idp.OnlySomeReasons.BitLength > 0 || idp.OnlyContainsAttributeCerts {
		return func(*x509.Certificate) bool { return false }, nil
	}
	return func(c *x509.Certificate) bool {
		isCA := c.BasicConstraintsValid && c.IsCA
		if idp.OnlyContainsUserCerts && isCA {
			return false
		}
		if idp.OnlyContainsCACerts && !isCA {
			return false
		}
		return true
	}, nil
}

// --- OCSP ---

func (rc *revocationChecker) ocspStatus(ctx context.Context, cert, issuer *x509.Certificate) revResult {
	res := revResult{source: "ocsp"}
	responder := rc.opt.ocspURL
	if responder == "" {
		if urls := httpURLs(cert.OCSPServer); len(urls) > 0 {
			responder = urls[0]
		}
	}
	if responder == "" {
		res.err = errors.New("no http OCSP responder")
		return res
	}
	issuerKey := sha256.Sum256(issuer.RawSubjectPublicKeyInfo)
	key := fmt.Sprintf("ocsp %x %s %s", issuerKey, cert.SerialNumber.Text(16), responder)
	now := rc.opt.now()

	rc.mu.Lock()
	if e, ok := rc.ocsps[key]; ok && now.Before(e.expires) {
		rc.mu.Unlock()
		return e.res
	}
	f := rc.join(ctx, key, func(fctx context.Context, f *flight) {
		f.res, f.expires = rc.queryOCSP(fctx, responder, cert, issuer, now)
	}, func(f *flight) {
		if !f.expires.IsZero() {
			if len(rc.ocsps) >= maxCacheEntries {
				rc.evictOCSP(now)
			}
			rc.ocsps[key] = ocspEntry{res: f.res, expires: f.expires}
		}
	})
	rc.mu.Unlock()
	if err := wait(ctx, f); err != nil {
		res.err = err
		return res
	}
	return f.res
}

// evictOCSP makes room; called with rc.mu held.
func (rc *revocationChecker) evictOCSP(now time.Time) {
	for k, e := range rc.ocsps {
		if !now.Before(e.expires) {
			delete(rc.ocsps, k)
		}
	}
	for k := range rc.ocsps {
		if len(rc.ocsps) < maxCacheEntries {
			break
		}
		delete(rc.ocsps, k)
	}
}

// queryOCSP asks the responder; a non-zero expiry means the result may be
// cached until then.
func (rc *revocationChecker) queryOCSP(ctx context.Context, responder string, cert, issuer *x509.Certificate, now time.Time) (revResult, time.Time) {
	res := revResult{source: "ocsp"}
	// SHA-1 in the CertID is what responders universally support; it only
	// names the certificate, the response signature is what is trusted.
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		res.status, res.err = statusInvalid, fmt.Errorf("create request: %w", err)
		return res, time.Time{}
	}
	body, err := rc.fetch(ctx, http.MethodPost, responder, "application/ocsp-request", req, maxOCSPBytes)
	if err != nil {
		res.err = fmt.Errorf("responder %s: %w", responder, err)
		return res, time.Time{}
	}
	// No issuer here: the library would reject a response that embeds the
	// issuing CA's own certificate; verifyOCSPSigner does the issuer part.
	resp, err := ocsp.ParseResponseForCert(body, cert, nil)
	if err != nil {
		var re ocsp.ResponseError
		if errors.As(err, &re) {
			// tryLater, internalError, unauthorized: the responder is up
			// but gives no answer.
			res.err = fmt.Errorf("responder %s: %w", responder, err)
			return res, time.Time{}
		}
		res.status, res.err = statusInvalid, fmt.Errorf("responder %s: parse response: %w", responder, err)
		return res, time.Time{}
	}
	if err := verifyOCSPSigner(resp, issuer, now); err != nil {
		res.status, res.err = statusInvalid, fmt.Errorf("responder %s: %w", responder, err)
		return res, time.Time{}
	}
	if resp.ThisUpdate.After(now.Add(clockSkew)) {
		res.status, res.err = statusInvalid, fmt.Errorf("responder %s: response from the future", responder)
		return res, time.Time{}
	}
	if !resp.NextUpdate.IsZero() && now.After(resp.NextUpdate) {
		res.err = fmt.Errorf("responder %s: stale response", responder)
		return res, time.Time{}
	}
	switch resp.Status {
	case ocsp.Good:
		res.status = statusGood
	case ocsp.Revoked:
		res.status = statusRevoked
	default:
		res.status = statusUnknown
	}
	expires := now.Add(rc.opt.cacheTTL)
	if !resp.NextUpdate.IsZero() && resp.NextUpdate.Before(expires) {
		expires = resp.NextUpdate
	}
	return res, expires
}

// verifyOCSPSigner checks that the response was signed by the issuing CA
// or by a responder the issuing CA delegated to (RFC 6960 §4.2.2.2).
func verifyOCSPSigner(resp *ocsp.Response, issuer *x509.Certificate, now time.Time) error {
	signer := resp.Certificate
	if signer == nil || bytes.Equal(signer.Raw, issuer.Raw) {
		if err := resp.CheckSignatureFrom(issuer); err != nil {
			return fmt.Errorf("response signature: %w", err)
		}
		return nil
	}
	// The library has checked the response signature against the embedded
	// certificate; the embedded certificate must be the issuer's delegate.
	if err := signer.CheckSignatureFrom(issuer); err != nil {
		return fmt.Errorf("responder certificate not issued by the CA: %w", err)
	}
	delegated := false
	for _, u := range signer.ExtKeyUsage {
		if u == x509.ExtKeyUsageOCSPSigning {
			delegated = true
		}
	}
	if !delegated {
		return errors.New("responder certificate lacks id-kp-OCSPSigning")
	}
	if now.Before(signer.NotBefore) || now.After(signer.NotAfter) {
		return errors.New("responder certificate outside its validity period")
	}
	return nil
}

// fetch does one bounded HTTP exchange.
func (rc *revocationChecker) fetch(ctx context.Context, method, u, contentType string, body []byte, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, rc.opt.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := rc.opt.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("http status %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("body larger than %d bytes", limit)
	}
	return data, nil
}

func httpURLs(urls []string) []string {
	var out []string
	for _, s := range urls {
		if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			out = append(out, s)
		}
	}
	return out
}
