package wallet

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/statuslist"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Store key prefixes (all under store.KindChallenge in the adapter's own
// key space).
const (
	keyRequest  = "req:"  // request ID → request object (taken by the wallet's fetch)
	keyPending  = "pend:" // response key ID → where the response goes (taken by the response)
	keyFlow     = "flow:" // response key ID → "same" or "cross" (set by the fetch)
	keyResponse = "resp:" // response key ID → the encrypted response (taken by Finish)
	keyPoll     = "poll:" // hash of the page's poll secret → response key ID
	keyState    = "st:"   // hash of the request's state → response key ID (plain error responses)
)

// clockSkew is tolerated between the wallet's, the issuer's and our clock.
const clockSkew = time.Minute

// Adapter is an opened EUDI wallet verifier. Safe for concurrent use.
type Adapter struct {
	id               string
	origin           string
	clientID         string
	accessKey        crypto.Signer
	accessChain      []*x509.Certificate
	sdRoots, mdRoots *x509.CertPool
	sdAnchors        []*x509.Certificate
	mdAnchors        []*x509.Certificate
	sdjwt, mdoc      bool
	vcts             []string
	requestTTL       time.Duration
	walletURL        string
	crossDevice      bool
	rpName           string
	registrationCert string
	clients          map[string]clientRP // per portal (OIDC client ID), for the intermediary case
	statusRequired   bool
	allowUnreachable bool
	status           *statuslist.Checker
	page             *pageBuilder
	store            store.Store
	now              func() time.Time
	log              *slog.Logger
}

// Interface guards.
var (
	_ adapters.Adapter = (*Adapter)(nil)
	_ adapters.Router  = (*Adapter)(nil)
)

// Info describes the adapter for the login page.
func (a *Adapter) Info() adapters.Info {
	return adapters.Info{
		Type:     Type,
		Name:     adapters.Text{DE: "EUDI-Wallet", EN: "EUDI Wallet"},
		MaxLevel: assurance.High,
	}
}

// ClientID is the client_id the wallet sees (with its prefix).
func (a *Adapter) ClientID() string { return a.clientID }

// loginState is what Begin hands the broker to keep with the transaction.
// clientRP is a portal the broker asks on behalf of (see IntermediatedRP).
type clientRP struct{ name, purpose, registrationCert string }

type loginState struct {
	Client  string   `json:"client,omitempty"` // the portal the login is for
	Kid     string   `json:"kid"`
	Nonce   string   `json:"nonce"`
	State   string   `json:"state"`
	Key     []byte   `json:"key"` // ephemeral response decryption key (P-256 scalar)
	Claims  []string `json:"claims"`
	Expires int64    `json:"exp"`
}

// pendingRecord is stored under keyPending until the wallet answers.
type pendingRecord struct {
	Callback string `json:"cb"`
}

// responseRecord is the wallet's encrypted response, kept for Finish.
type responseRecord struct {
	JWE      string `json:"jwe,omitempty"`
	Error    string `json:"err,omitempty"`  // a plain error response: access_denied or error
	CodeHash []byte `json:"code,omitempty"` // SHA-256 of the one response code handed out
	Flow     string `json:"flow"`
}

type pollRecord struct {
	Kid      string `json:"kid"`
	Callback string `json:"cb"`
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func hashKey(s string) string { return base64.RawURLEncoding.EncodeToString(hashToken(s)) }

// Begin builds and signs the request object, stores it for the wallet's
// fetch, and returns the page with the same-device link and the QR code.
func (a *Adapter) Begin(ctx context.Context, req adapters.Request) (adapters.Handoff, []byte, error) {
	if req.CallbackURL == "" {
		return adapters.Handoff{}, nil, errors.New("begin wallet login: no callback url")
	}
	now := a.now()
	exp := now.Add(a.requestTTL)
	encKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("begin wallet login: %w", err)
	}
	rawKey, err := encKey.Bytes()
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("begin wallet login: %w", err)
	}
	st := loginState{
		Kid: randomToken(16), Nonce: randomToken(24), State: randomToken(24),
		Key: rawKey, Claims: req.Claims, Expires: exp.Unix(), Client: req.ClientID,
	}
	requestID, pollSecret := randomToken(24), randomToken(24)
	ro, err := a.requestObject(st, &encKey.PublicKey, now, exp)
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("begin wallet login: %w", err)
	}
	ttl := a.requestTTL + clockSkew
	if err := a.putJSON(ctx, keyPending+st.Kid, pendingRecord{Callback: req.CallbackURL}, ttl); err != nil {
		return adapters.Handoff{}, nil, err
	}
	if err := a.store.Create(ctx, store.KindChallenge, keyRequest+requestID, []byte(st.Kid+" "+ro), ttl); err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("begin wallet login: store request: %w", err)
	}
	if err := a.store.Create(ctx, store.KindChallenge, keyState+hashKey(st.State), []byte(st.Kid), ttl); err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("begin wallet login: store state: %w", err)
	}
	if err := a.putJSON(ctx, keyPoll+hashKey(pollSecret), pollRecord{Kid: st.Kid, Callback: req.CallbackURL}, ttl); err != nil {
		return adapters.Handoff{}, nil, err
	}
	state, err := json.Marshal(st)
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("begin wallet login: %w", err)
	}
	requestURI := a.origin + "/login/" + a.id + "/request/" + requestID
	var cross string
	if a.crossDevice {
		cross = a.invocationURL(requestURI + "?d=cross")
	}
	content, title, err := a.page.render(pageData{
		Locale:     req.Locale,
		SameDevice: a.invocationURL(requestURI + "?d=same"),
		CrossQR:    cross,
		StatusURL:  a.origin + "/login/" + a.id + "/status?s=" + pollSecret,
		CancelURL:  req.CallbackURL + "?cancel=1",
		RPName:     a.rpName,
		Claims:     req.Claims,
	})
	if err != nil {
		return adapters.Handoff{}, nil, fmt.Errorf("begin wallet login: %w", err)
	}
	// The page's content goes into the broker's layout; its script polls
	// the status on the broker's origin, and the QR code is a data: image.
	return adapters.Handoff{Content: content, Title: title, Needs: adapters.ContentNeeds{Fetch: true, DataImages: cross != ""}}, state, nil
}

// invocationURL is the authorization request by reference (OpenID4VP 1.0
// §5.7 with JAR): only client_id and request_uri travel in the URL.
func (a *Adapter) invocationURL(requestURI string) string {
	q := url.Values{"client_id": {a.clientID}, "request_uri": {requestURI}}
	return a.walletURL + "?" + q.Encode()
}

func (a *Adapter) putJSON(ctx context.Context, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := a.store.Create(ctx, store.KindChallenge, key, b, ttl); err != nil {
		return fmt.Errorf("wallet store %s: %w", key[:5], err)
	}
	return nil
}

// Finish checks the response code the browser brings against the stored
// response, decrypts the response with the key from state and verifies
// the presentation.
func (a *Adapter) Finish(ctx context.Context, req adapters.Request, state []byte, r *http.Request) (adapters.Identity, error) {
	id, err := a.finish(ctx, state, r)
	if err != nil {
		if !errors.Is(err, adapters.ErrCancelled) {
			a.log.InfoContext(ctx, "wallet login refused", "err", err)
		}
		err = fmt.Errorf("finish wallet login: %w", err)
		if errors.Is(err, ErrRevoked) && adapters.ReasonOf(err) == "" {
			err = adapters.WithReason(adapters.ReasonCredentialRevoked, err)
		}
		return adapters.Identity{}, err
	}
	return id, nil
}

func (a *Adapter) finish(ctx context.Context, raw []byte, r *http.Request) (adapters.Identity, error) {
	now := a.now()
	var st loginState
	if err := json.Unmarshal(raw, &st); err != nil || st.Kid == "" || len(st.Key) != 32 {
		return adapters.Identity{}, fmt.Errorf("%w: unreadable login state", ErrRequest)
	}
	if now.Unix() > st.Expires+int64(clockSkew/time.Second) {
		return adapters.Identity{}, fmt.Errorf("%w: the request has expired", ErrRequest)
	}
	q := r.URL.Query()
	if q.Get("cancel") == "1" {
		return adapters.Identity{}, adapters.ErrCancelled
	}
	code := q.Get("response_code")
	if code == "" {
		return adapters.Identity{}, fmt.Errorf("%w: no response code", ErrRequest)
	}
	rec, err := a.takeResponse(ctx, st.Kid, code)
	if err != nil {
		return adapters.Identity{}, err
	}
	switch rec.Error {
	case "access_denied":
		return adapters.Identity{}, adapters.ErrCancelled
	case "":
	default:
		return adapters.Identity{}, fmt.Errorf("%w: the wallet answered with an error", ErrResponse)
	}
	resp, err := a.decryptResponse(rec.JWE, st)
	if err != nil {
		return adapters.Identity{}, err
	}
	return a.verifyResponse(ctx, resp, st, now)
}

// takeResponse checks code against the stored response's code hash and
// only then takes the response (single use). A wrong code leaves the
// response in place: the broker counts refused answers per attempt, and a
// guess must not destroy the person's real answer.
func (a *Adapter) takeResponse(ctx context.Context, kid, code string) (responseRecord, error) {
	e, err := a.store.Get(ctx, store.KindChallenge, keyResponse+kid)
	if errors.Is(err, store.ErrNotFound) {
		return responseRecord{}, fmt.Errorf("%w: no wallet response (not yet sent, or already used)", ErrRequest)
	}
	if err != nil {
		return responseRecord{}, fmt.Errorf("%w: %w", ErrStore, err)
	}
	var rec responseRecord
	if err := json.Unmarshal(e.Value, &rec); err != nil {
		return responseRecord{}, fmt.Errorf("%w: stored response unreadable", ErrRequest)
	}
	if len(rec.CodeHash) == 0 || subtle.ConstantTimeCompare(hashToken(code), rec.CodeHash) != 1 {
		return responseRecord{}, fmt.Errorf("%w: response code does not match", ErrRequest)
	}
	if _, err := a.store.Take(ctx, store.KindChallenge, keyResponse+kid); errors.Is(err, store.ErrNotFound) {
		return responseRecord{}, fmt.Errorf("%w: the response was used concurrently", ErrRequest)
	} else if err != nil {
		return responseRecord{}, fmt.Errorf("%w: %w", ErrStore, err)
	}
	return rec, nil
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
