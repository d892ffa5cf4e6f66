package wallet

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Routes serves the wallet-facing endpoints and the page assets; the
// broker mounts it under /login/{id}/ with the prefix stripped. None of
// them sees the person's cookie:
//
//	GET  /request/{request id}?d=same|cross  the signed request object (once)
//	POST /response                           the wallet's direct_post.jwt
//	GET  /status?s={poll secret}             the waiting page's poll
//	GET  /assets/…                           script and style of the page
func (a *Adapter) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /request/{rid}", a.serveRequest)
	mux.HandleFunc("POST /request/{rid}", a.serveRequest) // request_uri_method=post wallets
	mux.HandleFunc("POST /response", a.serveResponse)
	mux.HandleFunc("GET /status", a.serveStatus)
	mux.Handle("GET /assets/", a.page.assets())
	return mux
}

// serveRequest hands the request object out once: a second fetch (a
// replayed QR code) finds nothing.
func (a *Adapter) serveRequest(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	flow := r.URL.Query().Get("d")
	if flow != "same" && (flow != "cross" || !a.crossDevice) {
		http.Error(w, "unknown request", http.StatusNotFound)
		return
	}
	b, err := a.store.Take(ctx, store.KindChallenge, keyRequest+r.PathValue("rid"))
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "unknown or already used request", http.StatusNotFound)
		return
	}
	if err != nil {
		a.log.ErrorContext(ctx, "wallet request fetch: store", "err", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	kid, ro, ok := strings.Cut(string(b), " ")
	if !ok {
		http.Error(w, "unknown request", http.StatusNotFound)
		return
	}
	if err := a.store.Create(ctx, store.KindChallenge, keyFlow+kid, []byte(flow), a.requestTTL+clockSkew); err != nil {
		a.log.ErrorContext(ctx, "wallet request fetch: store", "err", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/oauth-authz-req+jwt")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(ro))
}

// oauthError answers the wallet in the OAuth error format.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// serveResponse accepts the encrypted authorization response. It does not
// decrypt: the key is in the login state, which only Finish sees. It
// stores the JWE under its key ID (known only to the request object and
// the response) and, for the same-device flow, answers with a redirect_uri
// carrying a fresh one-time response code.
func (a *Adapter) serveResponse(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxResponseBytes)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	resp := r.PostForm.Get("response")
	var kid, walletErr string
	switch {
	case resp != "":
		jwe, err := jose.ParseEncryptedCompact(resp, responseKeyAlgs, responseEncs)
		if err != nil || jwe.Header.KeyID == "" {
			a.log.InfoContext(ctx, "wallet response refused: not an ECDH-ES JWE with a key ID", "err", err)
			oauthError(w, http.StatusBadRequest, "invalid_request", "the response must be a JWE encrypted to the request's key")
			return
		}
		kid = jwe.Header.KeyID
	case r.PostForm.Get("error") != "" && r.PostForm.Get("state") != "" && r.PostForm.Get("vp_token") == "":
		// An error response carries no personal data; wallets may send it
		// unencrypted. It is found by its state, which only the request
		// object carries, and can only end the login.
		b, err := a.store.Take(ctx, store.KindChallenge, keyState+hashKey(r.PostForm.Get("state")))
		if err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "unknown, expired or already answered request")
			return
		}
		kid, walletErr = string(b), "error"
		if r.PostForm.Get("error") == "access_denied" {
			walletErr = "access_denied"
		}
	default:
		// A plain direct_post with a vp_token in the clear: we asked for
		// an encrypted response and accept nothing else.
		a.log.InfoContext(ctx, "wallet response refused: not encrypted (direct_post.jwt was requested)")
		oauthError(w, http.StatusBadRequest, "invalid_request", "the response must be encrypted (direct_post.jwt)")
		return
	}
	b, err := a.store.Take(ctx, store.KindChallenge, keyPending+kid)
	if errors.Is(err, store.ErrNotFound) {
		a.log.InfoContext(ctx, "wallet response refused: unknown, expired or already answered request")
		oauthError(w, http.StatusBadRequest, "invalid_request", "unknown, expired or already answered request")
		return
	}
	if err != nil {
		a.log.ErrorContext(ctx, "wallet response: store", "err", err)
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "")
		return
	}
	var pend pendingRecord
	if err := json.Unmarshal(b, &pend); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "unknown request")
		return
	}
	flow := "cross"
	if f, err := a.store.Get(ctx, store.KindChallenge, keyFlow+kid); err == nil && string(f.Value) == "same" {
		flow = "same"
	}
	rec := responseRecord{JWE: resp, Error: walletErr, Flow: flow}
	var code string
	if flow == "same" {
		code = randomToken(32)
		rec.CodeHash = hashToken(code)
	}
	if err := a.putJSON(ctx, keyResponse+kid, rec, a.requestTTL+clockSkew); err != nil {
		a.log.ErrorContext(ctx, "wallet response: store", "err", err)
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "")
		return
	}
	a.log.InfoContext(ctx, "wallet response received", "flow", flow)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	out := map[string]string{}
	if code != "" {
		out["redirect_uri"] = pend.Callback + "?response_code=" + code
	}
	_ = json.NewEncoder(w).Encode(out)
}

// statusAnswer is what the waiting page reads.
type statusAnswer struct {
	// State is pending, done (Next is where to go, once), elsewhere (the
	// response went to a same-device browser) or expired.
	State string `json:"state"`
	Next  string `json:"next,omitempty"`
}

// serveStatus tells the waiting page whether the wallet has answered. In
// the cross-device flow it hands out the one response code, once, to the
// holder of the poll secret (which only the page that Begin rendered has).
func (a *Adapter) serveStatus(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	secret := r.URL.Query().Get("s")
	answer := func(s statusAnswer) { _ = json.NewEncoder(w).Encode(s) }
	if secret == "" {
		w.WriteHeader(http.StatusNotFound)
		answer(statusAnswer{State: "expired"})
		return
	}
	pollKey := keyPoll + hashKey(secret)
	e, err := a.store.Get(ctx, store.KindChallenge, pollKey)
	if errors.Is(err, store.ErrNotFound) {
		w.WriteHeader(http.StatusNotFound)
		answer(statusAnswer{State: "expired"})
		return
	}
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		answer(statusAnswer{State: "unavailable"})
		return
	}
	var pr pollRecord
	if err := json.Unmarshal(e.Value, &pr); err != nil {
		w.WriteHeader(http.StatusNotFound)
		answer(statusAnswer{State: "expired"})
		return
	}
	re, err := a.store.Get(ctx, store.KindChallenge, keyResponse+pr.Kid)
	if errors.Is(err, store.ErrNotFound) {
		answer(statusAnswer{State: "pending"})
		return
	}
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		answer(statusAnswer{State: "unavailable"})
		return
	}
	var rec responseRecord
	if err := json.Unmarshal(re.Value, &rec); err != nil || len(rec.CodeHash) > 0 {
		answer(statusAnswer{State: "elsewhere"})
		return
	}
	// Claim the poll secret first, so two polls cannot both get a code.
	if _, err := a.store.Take(ctx, store.KindChallenge, pollKey); err != nil {
		answer(statusAnswer{State: "elsewhere"})
		return
	}
	code := randomToken(32)
	rec.CodeHash = hashToken(code)
	b, _ := json.Marshal(rec)
	if err := a.store.Swap(ctx, store.KindChallenge, keyResponse+pr.Kid, re.Revision, b, a.requestTTL+clockSkew); err != nil {
		answer(statusAnswer{State: "elsewhere"})
		return
	}
	answer(statusAnswer{State: "done", Next: pr.Callback + "?response_code=" + code})
}
