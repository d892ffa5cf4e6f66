package keyspace

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		kind    store.Kind
		key     string
		wantErr bool
	}{
		{store.KindTransaction, "k", false},
		{"a_9", "any:bytes\x00", false},
		{"", "k", true},
		{"Tx", "k", true},
		{"tx:", "k", true},
		{"t-x", "k", true},
		{"t.x", "k", true},
		{"t\u00e4", "k", true},
		{store.KindCode, "", true},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind)+"/"+tc.key, func(t *testing.T) {
			err := Check(tc.kind, tc.key)
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, store.ErrInvalid)) {
				t.Fatalf("Check = %v, want error %v wrapping ErrInvalid", err, tc.wantErr)
			}
		})
	}
}

// TestCheckNeverQuotesKey: the key of a single-use kind is the secret.
func TestCheckNeverQuotesKey(t *testing.T) {
	err := Check("BAD", "secret-code-value")
	if err == nil || strings.Contains(err.Error(), "secret-code-value") {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckTTL(t *testing.T) {
	for _, tc := range []struct {
		ttl     time.Duration
		wantErr bool
	}{
		{time.Nanosecond, false},
		{time.Hour, false},
		{0, true},
		{-time.Second, true},
	} {
		t.Run(tc.ttl.String(), func(t *testing.T) {
			err := CheckTTL(tc.ttl)
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, store.ErrInvalid)) {
				t.Fatalf("CheckTTL = %v, want error %v wrapping ErrInvalid", err, tc.wantErr)
			}
		})
	}
}
