package broker

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

func testDataKey(id string, active bool) DataKey {
	return DataKey{ID: id, Key: bytes.Repeat([]byte(id[:1]), 32), Active: active}
}

// sealLegacy writes a record the way the broker did before key IDs: nonce
// first, additional data kind NUL key.
func sealLegacy(t *testing.T, key []byte, kind store.Kind, k string, v any, nonce []byte) []byte {
	t.Helper()
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	plain, _ := json.Marshal(v)
	if nonce == nil {
		nonce = make([]byte, aead.NonceSize())
		_, _ = rand.Read(nonce)
	}
	return aead.Seal(append([]byte{}, nonce...), nonce, plain, []byte(string(kind)+"\x00"+k))
}

// TestDataKeyRotation: a record sealed under key A opens after B became
// active while A is kept; once A is removed it reads as not found (so the
// session or token is over, never a 500). The header picks the key.
func TestDataKeyRotation(t *testing.T) {
	a, b, c := testDataKey("A-2025", true), testDataKey("B-2026", true), testDataKey("C-2027", true)
	retired := func(k DataKey) DataKey { k.Active = false; return k }
	type rec struct{ V string }
	legacyNonceLikeHeader := append(append([]byte{sealedMagic, byte(len(a.ID))}, a.ID...), 1, 2, 3, 4) // 12 bytes

	for _, tc := range []struct {
		name   string
		write  []DataKey // nil: a record in the format before key IDs, under A
		nonce  []byte    // of that record
		read   []DataKey
		opens  bool
		sealer string // the key ID a new record gets under read
	}{
		{"same key", []DataKey{a}, nil, []DataKey{a}, true, "A-2025"},
		{"rotated, old key kept", []DataKey{a}, nil, []DataKey{retired(a), b}, true, "B-2026"},
		{"rotated, old key listed after", []DataKey{a}, nil, []DataKey{b, retired(a)}, true, "B-2026"},
		{"old key removed", []DataKey{a}, nil, []DataKey{b}, false, "B-2026"},
		{"two rotations, first key kept", []DataKey{a}, nil, []DataKey{retired(a), retired(b), c}, true, "C-2027"},
		{"record under a later key", []DataKey{retired(a), b}, nil, []DataKey{a}, false, "A-2025"},
		{"before key IDs", nil, nil, []DataKey{a}, true, "A-2025"},
		{"before key IDs, rotated", nil, nil, []DataKey{b, retired(a)}, true, "B-2026"},
		{"before key IDs, key removed", nil, nil, []DataKey{b}, false, "B-2026"},
		// A record from before key IDs whose random nonce happens to look
		// like a header naming a configured key still opens.
		{"before key IDs, nonce like a header", nil, legacyNonceLikeHeader, []DataKey{retired(a), b}, true, "B-2026"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := memory.New()
			defer raw.Close()
			ctx := t.Context()
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			if tc.write == nil {
				if err := raw.Create(ctx, store.KindSession, "s", sealLegacy(t, a.Key, store.KindSession, "s", rec{"Erika"}, tc.nonce), 60e9); err != nil {
					t.Fatal(err)
				}
			} else {
				w, err := newSealedStore(raw, tc.write, log)
				if err != nil {
					t.Fatal(err)
				}
				if err := w.create(ctx, store.KindSession, "s", rec{"Erika"}, 60e9); err != nil {
					t.Fatal(err)
				}
			}
			r, err := newSealedStore(raw, tc.read, log)
			if err != nil {
				t.Fatal(err)
			}
			var out rec
			_, err = r.get(ctx, store.KindSession, "s", &out)
			switch {
			case tc.opens && (err != nil || out.V != "Erika"):
				t.Fatalf("open: %v %+v", err, out)
			case !tc.opens && !errors.Is(err, store.ErrNotFound):
				t.Fatalf("open: err = %v, want one that reads as not found", err)
			case !tc.opens && (!strings.Contains(logs.String(), "treated as expired") || strings.Contains(logs.String(), "Erika")):
				t.Fatalf("log: %s", logs.String())
			}
			// New records carry the active key's ID.
			if err := r.create(ctx, store.KindSession, "n", rec{"x"}, 60e9); err != nil {
				t.Fatal(err)
			}
			e, _ := raw.Get(ctx, store.KindSession, "n")
			if e.Value[0] != sealedMagic || string(e.Value[2:2+int(e.Value[1])]) != tc.sealer {
				t.Fatalf("new record header %q, want key %s", e.Value[:2+int(e.Value[1])], tc.sealer)
			}
		})
	}
}

// TestSealedHeaderIsAuthenticated: relabelling a record with another
// configured key's ID, or cutting the header off, does not open it.
func TestSealedHeaderIsAuthenticated(t *testing.T) {
	a, b := testDataKey("A", false), testDataKey("B", true)
	raw := memory.New()
	defer raw.Close()
	s, err := newSealedStore(raw, []DataKey{a, b}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.seal(store.KindSession, "s", map[string]string{"v": "x"})
	if err != nil {
		t.Fatal(err)
	}
	relabelled := append([]byte{}, sealed...)
	relabelled[2] = 'A'
	var out map[string]string
	for name, v := range map[string][]byte{"relabelled": relabelled, "header cut": sealed[3:], "truncated": sealed[:10], "empty": nil} {
		if err := s.open(store.KindSession, "s", v, &out); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: err = %v, want not found", name, err)
		}
	}
	if err := s.open(store.KindSession, "s", sealed, &out); err != nil || out["v"] != "x" {
		t.Fatalf("genuine record: %v", err)
	}
}

func TestDataKeyConfigErrors(t *testing.T) {
	key := make([]byte, 32)
	for _, tc := range []struct {
		name string
		keys []DataKey
		want string
	}{
		{"none active", []DataKey{{ID: "a", Key: key}}, "no active data key"},
		{"two active", []DataKey{{ID: "a", Key: key, Active: true}, {ID: "b", Key: key, Active: true}}, "both active"},
		{"duplicate", []DataKey{{ID: "a", Key: key, Active: true}, {ID: "a", Key: key}}, "twice"},
		{"short key", []DataKey{{ID: "a", Key: key[:16], Active: true}}, "want 32 bytes"},
		{"no id", []DataKey{{Key: key, Active: true}}, "want 1 to 64 bytes"},
		{"long id", []DataKey{{ID: strings.Repeat("x", 65), Key: key, Active: true}}, "want 1 to 64 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newSealedStore(memory.New(), tc.keys, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	cfg := Config{DataKey: key, DataKeys: []DataKey{{ID: "a", Key: key, Active: true}}}
	if _, err := cfg.dataKeys(); err == nil {
		t.Fatal("DataKey and DataKeys together accepted")
	}
	cfg = Config{DataKey: key}
	if ks, err := cfg.dataKeys(); err != nil || len(ks) != 1 || ks[0].ID != DefaultDataKeyID || !ks[0].Active {
		t.Fatalf("single DataKey: %+v %v", ks, err)
	}
}

// TestTokenCryptoRotation: access tokens name their data key (kid) and
// open after a rotation while the key is kept; tokens from before key IDs
// (no kid, the library's format) open too.
func TestTokenCryptoRotation(t *testing.T) {
	a, b := testDataKey("A", true), testDataKey("B", true)
	oldA := a
	oldA.Active = false
	before := newTokenCrypto([]DataKey{a})
	tok, err := before.Encrypt("token-id:subject")
	if err != nil || !strings.HasPrefix(tok, tokenPrefix) {
		t.Fatalf("token %q: %v", tok, err)
	}
	var k32 [32]byte
	copy(k32[:], tokenKey(a.Key))
	legacy, err := opCrypto(k32).Encrypt("legacy-id:subject")
	if err != nil {
		t.Fatal(err)
	}
	jwe := jweToken(t, a, "jwe-id:subject")
	tampered := []byte(tok)
	tampered[len(tampered)-3] ^= 1
	relabelled := strings.Replace(tok, base64.RawURLEncoding.EncodeToString([]byte("A")), base64.RawURLEncoding.EncodeToString([]byte("B")), 1)
	for _, tc := range []struct {
		name  string
		keys  []DataKey
		token string
		want  string
	}{
		{"same key", []DataKey{a}, tok, "token-id:subject"},
		{"rotated, kept", []DataKey{oldA, b}, tok, "token-id:subject"},
		{"removed", []DataKey{b}, tok, ""},
		{"legacy, kept", []DataKey{b, oldA}, legacy, "legacy-id:subject"},
		{"legacy, removed", []DataKey{b}, legacy, ""},
		{"garbage", []DataKey{a}, "not-a-jwe", ""},
		{"compact format", []DataKey{a}, tok, "token-id:subject"},
		{"tampered", []DataKey{a}, string(tampered), ""},
		{"key ID swapped", []DataKey{a, func() DataKey { k := b; k.Key = a.Key; k.Active = false; return k }()}, relabelled, ""},
		{"truncated", []DataKey{a}, tok[:20], ""},
		{"JWE of the previous version, kept", []DataKey{oldA, b}, jwe, "jwe-id:subject"},
		{"JWE of the previous version, removed", []DataKey{b}, jwe, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := newTokenCrypto(tc.keys).Decrypt(tc.token)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("opened: %q", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
}

// jweToken is an access token as the previous version issued it: compact
// JWE, A256GCMKW with A256GCM, kid = data key ID.
func jweToken(t *testing.T, k DataKey, plain string) string {
	t.Helper()
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.A256GCMKW, Key: tokenKey(k.Key), KeyID: k.ID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := enc.Encrypt([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// opCrypto is the OIDC library's own token encryption, which the broker
// used before key IDs.
func opCrypto(key [32]byte) interface{ Encrypt(string) (string, error) } {
	return op.NewAES256GCMCrypto(key, "")
}
