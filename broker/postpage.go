package broker

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// postPages keeps the auto-POST page that hands a login to a SAML
// upstream (post.html) rendered once per shape, cut where the form's
// values go. Every SAML login sends this page, and its largest value is
// the signed AuthnRequest: kilobytes of base64 that html/template
// escaped byte by byte on every login (and wrote '+' as a character
// reference, which the browser then decodes back). A request now writes
// the cached pieces with its own values, escaped for a quoted attribute,
// in between.
//
// Nothing per login is cached: a shape is the language, the upstream's
// URL and the form's field names; the values (the AuthnRequest, the
// RelayState) are put in per request. The markers the shape is rendered
// with are random per process, so no value or configured text can
// contain them.
type postPages struct {
	mark  string // the values' markers are mark + field index + "."
	mu    sync.Mutex
	pages map[string]*postSkeleton
}

// postSkeleton is a rendered post page cut at its field values.
type postSkeleton struct {
	parts [][]byte // len(fields)+1 pieces, a field's value between two
	size  int      // bytes of all pieces
}

// maxPostPages bounds the cache: the shapes are bounded by the
// configured upstreams and the two languages; the bound only keeps a
// mistake from growing it.
const maxPostPages = 128

func newPostPages() *postPages {
	return &postPages{mark: randomID(), pages: map[string]*postSkeleton{}}
}

// postField is one hidden input of the page.
type postField struct{ Name, Value string }

// postFields lists the form's fields, by name (a name's values in their
// order), so that one shape has one key.
func postFields(form map[string][]string) []postField {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	slices.Sort(names)
	var fields []postField
	for _, k := range names {
		for _, v := range form[k] {
			fields = append(fields, postField{k, v})
		}
	}
	return fields
}

// handoffPost writes the auto-POST page of h with the headers render
// gives it (the strict policy, form-action the upstream's origin). A GET
// (whose page links the language switch to its own path) and a page that
// cannot be cut are rendered by the template directly.
func (p *pages) handoffPost(w http.ResponseWriter, r *http.Request, h adapters.Handoff) {
	fields := postFields(h.PostForm)
	if r.Method != http.MethodGet {
		lang := langOf(r, nil)
		if sk := p.postSkeleton(r, lang, h.PostURL, fields); sk != nil {
			p.writePost(w, sk, fields, origin(h.PostURL))
			return
		}
	}
	p.renderPost(w, r, h.PostURL, fields)
}

// renderPost renders post.html through the template (what every post
// page was before the cache, and the cache's reference).
func (p *pages) renderPost(w http.ResponseWriter, r *http.Request, postURL string, fields []postField) {
	p.render(w, http.StatusOK, "post.html", p.view(r, nil, titleRedirect, map[string]any{
		"URL": postURL, "Fields": fields,
	}), origin(postURL))
}

// postSkeleton returns the cut page of this shape, rendering it on the
// first use; nil if the page cannot be cut (a marker missing or
// repeated, which a template change could cause).
func (p *pages) postSkeleton(r *http.Request, lang, postURL string, fields []postField) *postSkeleton {
	c := p.post
	var kb strings.Builder
	kb.Grow(len(lang) + len(postURL) + 16*len(fields))
	kb.WriteString(lang)
	kb.WriteByte(0)
	kb.WriteString(postURL)
	for _, f := range fields {
		kb.WriteByte(0)
		kb.WriteString(f.Name)
	}
	key := kb.String()
	c.mu.Lock()
	sk, ok := c.pages[key]
	c.mu.Unlock()
	if ok {
		return sk
	}
	marked := make([]postField, len(fields))
	markers := make([]string, len(fields))
	for i, f := range fields {
		markers[i] = c.mark + strconv.Itoa(i) + "."
		marked[i] = postField{f.Name, markers[i]}
	}
	data := p.view(r, nil, titleRedirect, map[string]any{"URL": postURL, "Fields": marked})
	data["Lang"] = lang
	page, err := p.execute("post.html", data)
	if err != nil || policyOf(data) != (pagePolicy{}) {
		return nil
	}
	sk = &postSkeleton{}
	rest := page
	for _, m := range markers {
		before, after, found := bytes.Cut(rest, []byte(m))
		if !found || bytes.Contains(after, []byte(m)) {
			return nil
		}
		sk.parts = append(sk.parts, before)
		sk.size += len(before)
		rest = after
	}
	if bytes.Contains(rest, []byte(c.mark)) {
		return nil
	}
	sk.parts = append(sk.parts, rest)
	sk.size += len(rest)
	c.mu.Lock()
	if len(c.pages) >= maxPostPages {
		clear(c.pages)
	}
	c.pages[key] = sk
	c.mu.Unlock()
	return sk
}

// writePost writes sk with the fields' values, in one piece with its
// length.
func (p *pages) writePost(w http.ResponseWriter, sk *postSkeleton, fields []postField, formOrigin string) {
	n := sk.size
	for _, f := range fields {
		n += attrEscapedLen(f.Value)
	}
	page := make([]byte, 0, n)
	for i, f := range fields {
		page = append(page, sk.parts[i]...)
		page = appendAttrEscaped(page, f.Value)
	}
	page = append(page, sk.parts[len(fields)]...)
	writePageWith(w, http.StatusOK, page, pagePolicy{}, formOrigin)
}

// attrEscapes are the escapes of a value in a double-quoted attribute:
// the characters html/template replaces there, except '+', '=' and '`',
// which are harmless inside quotes (the base64 of a SAML message is full
// of '+' and ends in '='). NUL becomes U+FFFD, as the template writes it.
// attrEscaped marks them, so that the scan tests one byte per byte.
var (
	attrEscapes = func() (t [256]string) {
		t[0] = "\uFFFD"
		t['"'] = "&#34;"
		t['&'] = "&amp;"
		t['\''] = "&#39;"
		t['<'] = "&lt;"
		t['>'] = "&gt;"
		return t
	}()
	attrEscaped = func() (t [256]bool) {
		for c, e := range attrEscapes {
			t[c] = e != ""
		}
		return t
	}()
)

// attrEscapedLen is len(appendAttrEscaped(nil, s)).
func attrEscapedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if attrEscaped[s[i]] {
			n += len(attrEscapes[s[i]]) - 1
		}
	}
	return n
}

// appendAttrEscaped appends s escaped for a double-quoted attribute.
func appendAttrEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		if attrEscaped[s[i]] {
			b = append(b, s[start:i]...)
			b = append(b, attrEscapes[s[i]]...)
			start = i + 1
		}
	}
	return append(b, s[start:]...)
}
