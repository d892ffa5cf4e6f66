package wallet

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
)

var _ adapters.HealthChecker = (*Adapter)(nil)

// CheckHealth reports, for readiness, what makes every wallet login fail:
// an access certificate outside its validity (wallets refuse the request)
// and a format whose trust anchors are all outside theirs.
func (a *Adapter) CheckHealth(context.Context) error {
	now := a.now()
	for _, c := range a.accessChain {
		if !valid(c, now) {
			return fmt.Errorf("wallet health: access certificate %q is valid only from %s to %s", c.Subject.CommonName,
				c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly))
		}
	}
	for _, f := range []struct {
		on      bool
		name    string
		anchors []*x509.Certificate
	}{{a.sdjwt, FormatSDJWT, a.sdAnchors}, {a.mdoc, FormatMDoc, a.mdAnchors}} {
		if !f.on {
			continue
		}
		ok := false
		for _, c := range f.anchors {
			ok = ok || valid(c, now)
		}
		if !ok {
			return fmt.Errorf("wallet health: no %s trust anchor is currently valid", f.name)
		}
	}
	return nil
}

func valid(c *x509.Certificate, now time.Time) bool {
	return !now.Before(c.NotBefore) && !now.After(c.NotAfter)
}
