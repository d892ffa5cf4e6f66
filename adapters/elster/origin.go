package elster

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// maxLoggedOrigin bounds how much of a foreign Origin header a refusal
// quotes: enough to recognise the site, not a channel for junk.
const maxLoggedOrigin = 100

// checkSameOrigin refuses a callback POST that the broker's own login page
// did not send. Without it, a page on any site could auto-submit the
// mutual-TLS form with a challenge its author obtained by starting a login
// himself: the victim's browser adds the installed certificate to the TLS
// handshake, and the victim's identity would complete the author's login.
//
// The rule, for both login modes (and for cancel):
//   - Sec-Fetch-Site, set by the browser and not by page script, must be
//     same-origin. "same-site" is refused too: another host of the same
//     site is another origin, and may be run by someone else.
//   - With Sec-Fetch-Site same-origin, an Origin header, if sent, must be
//     the broker's or "null" (Fetch sends "null" for a form POST from a page
//     whose referrer policy is no-referrer, and Sec-Fetch-Site already
//     proves where the request came from).
//   - Without Sec-Fetch-Site (browsers older than Fetch Metadata), the
//     Origin header must be present and be exactly the broker's origin. The
//     login page sets its referrer policy to same-origin (the broker's
//     pages default to no-referrer) so that such browsers send the real
//     origin rather than "null".
//
// The check runs before the challenge is compared or consumed, so a refused
// POST leaves the person's own login intact.
func (a *Adapter) checkSameOrigin(r *http.Request) error {
	origins := r.Header.Values("Origin")
	sites := r.Header.Values("Sec-Fetch-Site")
	if len(origins) > 1 || len(sites) > 1 {
		return fmt.Errorf("%w: repeated Origin or Sec-Fetch-Site header", ErrCrossSite)
	}
	origin, site := first(origins), first(sites)
	switch site {
	case "same-origin":
		if origin != "" && origin != "null" && origin != a.webOrigin {
			return fmt.Errorf("%w: Sec-Fetch-Site same-origin but Origin %s", ErrCrossSite, quoteOrigin(origin))
		}
		return nil
	case "":
		switch origin {
		case a.webOrigin:
			return nil
		case "":
			return fmt.Errorf("%w: neither Sec-Fetch-Site nor Origin sent", ErrCrossSite)
		}
		return fmt.Errorf("%w: Origin %s, want %s", ErrCrossSite, quoteOrigin(origin), a.webOrigin)
	}
	return fmt.Errorf("%w: Sec-Fetch-Site %s, Origin %s", ErrCrossSite, quoteOrigin(site), quoteOrigin(origin))
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func quoteOrigin(s string) string {
	if len(s) > maxLoggedOrigin {
		s = s[:maxLoggedOrigin] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// serializedOrigin turns a base URL into the origin a browser names in its
// Origin header: lower-case scheme and host, the port only when it is not
// the scheme's default, no path.
func serializedOrigin(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse: %w", err)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if scheme == "" || host == "" {
		return "", fmt.Errorf("%q has no origin", base)
	}
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + net.JoinHostPort(strings.Trim(host, "[]"), port), nil
	}
	return scheme + "://" + host, nil
}
