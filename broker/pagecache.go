package broker

import (
	"bytes"
	"html/template"
	"strconv"
	"strings"
	"sync"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// pageCache keeps rendered skeletons of the two pages every login shows.
// Template execution was the largest single cost of a login; yet the
// method page is the same for every login of one portal, service set,
// floor, language and method state, and the consent page is the same
// but for the claim values. So each is rendered once per key with
// placeholders, and each request gets a copy with its own transaction ID
// and (consent) its own, escaped, claim rows put in.
//
// Nothing personal and nothing single-use is cached: skeletons hold no
// identity data, and the transaction ID is substituted per request. The
// placeholders are random per process, so no configured text (a portal's
// name, a service's) can contain them. A key covers every input of its
// page except those substituted, including each method's current
// availability, so an option that becomes unavailable changes the key
// rather than serving a stale page.
type pageCache struct {
	placeholder []byte // stands for the transaction ID
	slot        []byte // stands for the consent page's claim rows
	mu          sync.Mutex
	pages       map[string][]byte
}

// maxCachedPages bounds the cache: service sets come from requests
// (validated against the configuration, but combinable), so the number
// of keys is bounded only by the configuration's combinations.
const maxCachedPages = 512

func newPageCache() *pageCache {
	return &pageCache{placeholder: []byte(randomID()), slot: []byte(randomID()), pages: map[string][]byte{}}
}

func (c *pageCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.pages[key]
	return b, ok
}

func (c *pageCache) put(key string, page []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pages) >= maxCachedPages {
		clear(c.pages)
	}
	c.pages[key] = page
}

// fill returns the cached page with txID in place of the placeholder.
func (c *pageCache) fill(page []byte, txID string) []byte {
	return bytes.ReplaceAll(page, c.placeholder, []byte(txID))
}

// fillSlot returns the page with txID put in and rows in place of the slot.
func (c *pageCache) fillSlot(page []byte, txID string, rows []byte) []byte {
	before, after, ok := bytes.Cut(c.fill(page, txID), c.slot)
	if !ok {
		return before
	}
	out := make([]byte, 0, len(before)+len(rows)+len(after))
	return append(append(append(out, before...), rows...), after...)
}

// keyBuilder writes length-prefixed fields, so that no two different
// field lists give the same key.
type keyBuilder struct{ strings.Builder }

func (b *keyBuilder) field(s string) {
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
}

// pageKey starts a key with what every login page shows: page, language,
// portal and the services of the login.
func pageKey(page, lang string, tx *transaction) *keyBuilder {
	b := &keyBuilder{}
	b.Grow(256)
	b.field(page)
	b.field(lang)
	b.field(tx.ClientID)
	for _, svc := range tx.Services {
		b.field(svc)
	}
	b.WriteByte('|')
	return b
}

// methodPageKey names everything the method page shows besides the
// transaction ID.
func methodPageKey(lang string, tx *transaction, ms []method, note adapters.Text) string {
	b := pageKey("methods", lang, tx)
	field := b.field
	field(tx.Floor.String())
	field(note.DE)
	option := func(o adapters.Option) {
		field(o.ID)
		field(o.Name.DE)
		field(o.Name.EN)
		field(o.Level.String())
		field(o.Unavailable)
	}
	for _, m := range ms {
		field(m.ID)
		field(m.Name.DE)
		field(m.Name.EN)
		field(m.Level.String())
		if m.Insufficient {
			b.WriteByte('!')
		}
		b.WriteByte('o')
		for _, o := range m.Options {
			option(o)
		}
		b.WriteByte('b')
		for _, o := range m.Below {
			option(o)
		}
	}
	return b.String()
}

// consentRows renders the consent page's claim rows, escaped.
func consentRows(lang string, items []consentItem) []byte {
	var b bytes.Buffer
	for _, it := range items {
		b.WriteString(`<tr><th scope="row">`)
		template.HTMLEscape(&b, []byte(it.Label.In(lang)))
		b.WriteString(`</th><td>`)
		template.HTMLEscape(&b, []byte(it.Value))
		b.WriteString("</td></tr>\n")
	}
	return b.Bytes()
}
