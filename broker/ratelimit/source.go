package ratelimit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/go-chi/httprate"
)

// Prefix is a trusted proxy network.
type Prefix = netip.Prefix

// SourceAddress is the address a request is counted for: the TCP peer, or,
// when the peer is a trusted proxy, the last address in X-Forwarded-For
// that is not itself a trusted proxy (the one the first trusted proxy saw).
// Addresses left of that are written by the client and could be anything.
// IPv6 addresses count per /64, the block one subscriber gets.
func SourceAddress(r *http.Request, trusted []Prefix) string {
	peer := parseIP(r.RemoteAddr)
	if peer.IsValid() && isTrusted(peer, trusted) {
		hops := forwardedFor(r.Header.Values("X-Forwarded-For"))
		for i := len(hops) - 1; i >= 0; i-- {
			ip := parseIP(hops[i])
			if !ip.IsValid() {
				break // garbage: stop at the last address we can trust
			}
			peer = ip
			if !isTrusted(ip, trusted) {
				break
			}
		}
	}
	if !peer.IsValid() {
		return "unknown"
	}
	return httprate.CanonicalizeIP(peer.Unmap().String())
}

// FromTrustedProxy reports whether the request's TCP peer is one of the
// trusted proxies, whose headers (X-Forwarded-For, X-Request-Id) are
// believed.
func FromTrustedProxy(r *http.Request, trusted []Prefix) bool {
	peer := parseIP(r.RemoteAddr)
	return peer.IsValid() && isTrusted(peer, trusted)
}

func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func parseIP(s string) netip.Addr {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	ip, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}

func isTrusted(ip netip.Addr, trusted []Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// maxPeek bounds how much of a form body is read to find the client; the
// OIDC library applies its own limits to the full body afterwards.
const maxPeek = 64 << 10

// AuthorizeClient is the client_id of an authorization request (query, or
// form body of a POST).
func AuthorizeClient(r *http.Request) string {
	if id := r.URL.Query().Get("client_id"); id != "" {
		return id
	}
	return peekForm(r).Get("client_id")
}

// TokenClient is the client a token request authenticates as: the HTTP
// Basic user (form-encoded, RFC 6749 §2.3.1), the client_id parameter, or
// the issuer of a private_key_jwt client assertion. Nothing is verified
// here: the result only picks a bucket, and unknown IDs share one.
func TokenClient(r *http.Request) string {
	if u, _, ok := r.BasicAuth(); ok {
		if id, err := url.QueryUnescape(u); err == nil {
			return id
		}
		return u
	}
	f := peekForm(r)
	if id := f.Get("client_id"); id != "" {
		return id
	}
	if a := f.Get("client_assertion"); a != "" {
		parts := strings.Split(a, ".")
		if len(parts) == 3 {
			if raw, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
				var c struct {
					Iss string `json:"iss"`
				}
				if json.Unmarshal(raw, &c) == nil {
					return c.Iss
				}
			}
		}
	}
	return ""
}

// peekForm reads the start of a form body and puts it back, so the handler
// after the limiter reads the whole body as sent.
func peekForm(r *http.Request) url.Values {
	if r.Body == nil || r.Method != http.MethodPost ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return url.Values{}
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, maxPeek))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	if err != nil {
		return url.Values{}
	}
	v, _ := url.ParseQuery(string(head))
	return v
}
