package eidasservice

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Transaction stages.
const (
	stageAuth = "auth" // waiting for the eID-Client to come back
	// stageDelivered: the eID result is verified and waits for the browser
	// that delivered it (it alone got the one-time handle) to show the
	// handle together with the binding cookie.
	stageDelivered = "delivered"
	stageConsent   = "consent" // identity delivered to the binding browser, waiting for the decision
)

// maxCallbackFailures bounds how often answers without the binding cookie
// may be refused before the transaction is dropped: such a refusal keeps
// the state (a junk request cannot end a genuine login) but cannot repeat
// forever.
const maxCallbackFailures = 3

// txRecord is one pending answer to a connector. It lives in the store,
// sealed, under a key derived from the reference; the reference itself is
// only in URLs, never stored in clear.
type txRecord struct {
	V       int    `json:"v"`
	Stage   string `json:"st"`
	Created int64  `json:"cr"`
	// Bind is the SHA-256 of the browser binding token (cookie).
	Bind   string `json:"b"`
	Locale string `json:"l"`
	// LogID correlates log lines of one transaction.
	LogID string `json:"id"`

	Country      string          `json:"cc"`
	ConnName     string          `json:"cn"`
	Requester    string          `json:"rq,omitempty"`
	Attrs        []requestedAttr `json:"ra"`
	Claims       []string        `json:"cl"`
	AdapterState []byte          `json:"as,omitempty"`
	Answer       answer          `json:"an"`
	// Failures counts refused answers that arrived without the cookie.
	Failures int `json:"fl,omitempty"`
	// Deliver is the hash of the one-time handle of stageDelivered.
	Deliver string `json:"dh,omitempty"`
}

const txVersion = 1

// refPattern is the shape of our references (base64url, 32 random bytes).
var refPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashHex(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func txKey(ref string) string { return hashHex("tx", ref) }

// sealKey binds the record to both the data key and the reference: the
// store alone (or a leaked data key alone) opens nothing.
func (s *Service) sealKey(ref string) []byte {
	m := hmac.New(sha256.New, s.cfg.DataKey)
	m.Write([]byte("eidas-service-tx\x00"))
	m.Write([]byte(ref))
	return m.Sum(nil)
}

func (s *Service) seal(ref string, rec *txRecord) ([]byte, error) {
	plain, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("seal transaction: %w", err)
	}
	block, err := aes.NewCipher(s.sealKey(ref))
	if err != nil {
		return nil, fmt.Errorf("seal transaction: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal transaction: %w", err)
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal transaction: %w", err)
	}
	return gcm.Seal(nonce, nonce, plain, []byte(txKey(ref))), nil
}

func (s *Service) open(ref string, sealed []byte) (*txRecord, error) {
	block, err := aes.NewCipher(s.sealKey(ref))
	if err != nil {
		return nil, fmt.Errorf("open transaction: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("open transaction: %w", err)
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, fmt.Errorf("open transaction: %w", ErrTransaction)
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], []byte(txKey(ref)))
	if err != nil {
		return nil, fmt.Errorf("open transaction: %w", ErrTransaction)
	}
	var rec txRecord
	if err := json.Unmarshal(plain, &rec); err != nil || rec.V != txVersion {
		return nil, fmt.Errorf("open transaction: %w", ErrTransaction)
	}
	return &rec, nil
}

// ttlLeft is the remaining lifetime of a transaction (Swap resets TTLs, so
// every write passes what is left, never a fresh TTL).
func (s *Service) ttlLeft(rec *txRecord) time.Duration {
	left := time.Unix(rec.Created, 0).Add(s.cfg.TransactionTTL).Sub(s.cfg.Now())
	if left < time.Second {
		left = time.Second
	}
	return left
}

func storeErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: %w", ErrTransaction, err)
	}
	return fmt.Errorf("%w: %w", ErrStore, err)
}

func (s *Service) createTx(ctx context.Context, ref string, rec *txRecord) error {
	b, err := s.seal(ref, rec)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.Create(ctx, store.KindTransaction, txKey(ref), b, s.cfg.TransactionTTL); err != nil {
		return storeErr(err)
	}
	return nil
}

func (s *Service) getTx(ctx context.Context, ref string) (*txRecord, uint64, error) {
	e, err := s.cfg.Store.Get(ctx, store.KindTransaction, txKey(ref))
	if err != nil {
		return nil, 0, storeErr(err)
	}
	rec, err := s.open(ref, e.Value)
	if err != nil {
		return nil, 0, err
	}
	return rec, e.Revision, nil
}

func (s *Service) swapTx(ctx context.Context, ref string, rev uint64, rec *txRecord) error {
	b, err := s.seal(ref, rec)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.Swap(ctx, store.KindTransaction, txKey(ref), rev, b, s.ttlLeft(rec)); err != nil {
		return storeErr(err)
	}
	return nil
}

// updateTx re-reads and rewrites a record until the compare-and-swap
// succeeds; f may refuse the change by returning an error.
func (s *Service) updateTx(ctx context.Context, ref string, f func(*txRecord) error) (*txRecord, error) {
	for range 8 {
		rec, rev, err := s.getTx(ctx, ref)
		if err != nil {
			return nil, err
		}
		if err := f(rec); err != nil {
			return nil, err
		}
		err = s.swapTx(ctx, ref, rev, rec)
		if err == nil {
			return rec, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: update kept conflicting", ErrTransaction)
}

func (s *Service) takeTx(ctx context.Context, ref string) (*txRecord, error) {
	b, err := s.cfg.Store.Take(ctx, store.KindTransaction, txKey(ref))
	if err != nil {
		return nil, storeErr(err)
	}
	return s.open(ref, b)
}
