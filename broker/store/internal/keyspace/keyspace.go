package keyspace

import (
	"fmt"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Check validates a kind and a key. The key is never quoted in the error:
// for single-use kinds it is the secret itself (a code or a token).
func Check(kind store.Kind, key string) error {
	if err := CheckKind(kind); err != nil {
		return err
	}
	if key == "" {
		return fmt.Errorf("check key: empty key: %w", store.ErrInvalid)
	}
	return nil
}

// CheckKind enforces the documented alphabet [a-z0-9_]. The restriction is
// what makes "<kind>:<key>" unambiguous: a kind can never contain the
// separator, so no (kind, key) pair can spell another pair's key.
func CheckKind(kind store.Kind) error {
	if kind == "" {
		return fmt.Errorf("check kind: empty kind: %w", store.ErrInvalid)
	}
	for i := 0; i < len(kind); i++ {
		c := kind[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return fmt.Errorf("check kind %q: byte %d not in [a-z0-9_]: %w", kind, i, store.ErrInvalid)
		}
	}
	return nil
}

// CheckTTL refuses zero and negative TTLs: nothing in the store may live
// forever, and a zero TTL would mean "no expiry" to Redis.
func CheckTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("check ttl %s: must be positive: %w", ttl, store.ErrInvalid)
	}
	return nil
}
