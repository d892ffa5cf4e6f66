package broker

import (
	"testing"
	"time"
)

func TestFamilyLifetime(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		name    string
		session time.Time
		want    time.Duration
	}{
		{"high: session of 30 minutes", now.Add(30 * time.Minute), 30*time.Minute + accessTokenTTL},
		{"session just ended", now, accessTokenTTL},
		{"session long over", now.Add(-time.Hour), accessTokenTTL},
		{"no session expiry recorded", time.Time{}, accessTokenTTL},
		{"longer than the cap", now.Add(48 * time.Hour), usedMarkerTTL},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := familyLifetime(&grant{SessionExpiry: c.session}, now); got != c.want {
				t.Fatalf("familyLifetime = %v, want %v", got, c.want)
			}
		})
	}
}
