package broker

import (
	"context"
	"time"
)

// SetExpiryWarning makes the login pages warn d before a login expires
// instead of two minutes, so a browser test sees the warning without
// waiting minutes. Call it before the first page is served (the cached
// pages keep what they were rendered with).
func SetExpiryWarning(s *Server, d time.Duration) { s.expiryWarn = d }

// TxRenewed is when the login id was last renewed.
func TxRenewed(s *Server, id string) (time.Time, error) {
	tx, err := s.getTx(context.Background(), id)
	if err != nil {
		return time.Time{}, err
	}
	if tx.Renewed.IsZero() {
		return tx.Created, nil
	}
	return tx.Renewed, nil
}
