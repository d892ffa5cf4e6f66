package broker

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
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
	pages       map[string]*skeleton
	// buffers hold pages while write assembles them (*[]byte).
	buffers sync.Pool
	// keys hold page keys while they are built and looked up (*keyBuilder).
	keys sync.Pool
}

// skeleton is a cached page cut at its placeholders, so that a request
// writes the pieces and its own values straight into the response
// instead of building a copy of the page.
type skeleton struct {
	head [][]byte // the page up to the slot (all of it if none), cut at each transaction ID
	tail [][]byte // after the slot, cut likewise; nil when the page has no slot
	size int      // bytes of all pieces
}

// maxCachedPages bounds the cache: service sets come from requests
// (validated against the configuration, but combinable), so the number
// of keys is bounded only by the configuration's combinations.
const maxCachedPages = 512

func newPageCache() *pageCache {
	return &pageCache{placeholder: []byte(randomID()), slot: []byte(randomID()), pages: map[string]*skeleton{}}
}

// get looks key up; the map index with a converted []byte does not
// allocate, so a hit costs no string.
func (c *pageCache) get(key *keyBuilder) (*skeleton, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sk, ok := c.pages[string(key.b)]
	return sk, ok
}

// put cuts a page rendered with the placeholders and keeps it under key.
func (c *pageCache) put(key *keyBuilder, page []byte) *skeleton {
	sk := &skeleton{size: len(page) - bytes.Count(page, c.placeholder)*len(c.placeholder)}
	before, after, slotted := bytes.Cut(page, c.slot)
	sk.head = bytes.Split(before, c.placeholder)
	if slotted {
		sk.tail = bytes.Split(after, c.placeholder)
		sk.size -= len(c.slot)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pages) >= maxCachedPages {
		clear(c.pages)
	}
	c.pages[string(key.b)] = sk
	return sk
}

// write sends the page with txID in place of each placeholder and what
// rows appends (nil: nothing) in place of the slot. The page is put
// together in a pooled buffer and handed to the ResponseWriter in one
// Write: piece by piece, each small write went through net/http's buffers
// on its own, and a page larger than them left in more packets than
// needed.
func (c *pageCache) write(w http.ResponseWriter, sk *skeleton, txID string, rows func([]byte) []byte, formAction ...string) {
	bp, _ := c.buffers.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	page := (*bp)[:0]
	if n := sk.size + (len(sk.head)+len(sk.tail))*len(txID) + 1024; cap(page) < n {
		page = make([]byte, 0, n)
	}
	parts := func(ps [][]byte) {
		for i, p := range ps {
			if i > 0 {
				page = append(page, txID...)
			}
			page = append(page, p...)
		}
	}
	parts(sk.head)
	if sk.tail != nil {
		if rows != nil {
			page = rows(page)
		}
		parts(sk.tail)
	}
	// The cached pages (method and consent) carry the expiry warning.
	pageHeadersWith(w, http.StatusOK, len(page), expiryPolicy, formAction...)
	_, _ = w.Write(page)
	// Write does not keep the slice (the ResponseWriter contract), so the
	// buffer can serve the next page. It is wiped first: a consent page
	// holds the person's data, which must not linger in a pooled buffer.
	clear(page)
	if cap(page) <= maxPooledPage {
		*bp = page[:0]
		c.buffers.Put(bp)
	}
}

// maxPooledPage keeps an unusually large page's buffer out of the pool.
const maxPooledPage = 64 << 10

// keyBuilder writes length-prefixed fields, so that no two different
// field lists give the same key. Its buffer comes from the cache's pool
// (a method page's key names every method and option, about a kilobyte,
// for every login) and goes back with release.
type keyBuilder struct {
	b    []byte
	pool *sync.Pool
}

func (b *keyBuilder) field(s string) {
	b.b = strconv.AppendInt(b.b, int64(len(s)), 10)
	b.b = append(b.b, ':')
	b.b = append(b.b, s...)
}

func (b *keyBuilder) sep(c byte) { b.b = append(b.b, c) }

// release returns the buffer to the pool; the key is not used after.
func (b *keyBuilder) release() {
	if cap(b.b) <= maxPooledKey {
		b.b = b.b[:0]
		b.pool.Put(b)
	}
}

// maxPooledKey keeps an unusually large key's buffer out of the pool.
const maxPooledKey = 16 << 10

// pageKey starts a key with what every login page shows: page, language,
// portal and the services of the login.
func (c *pageCache) pageKey(page, lang string, tx *transaction) *keyBuilder {
	b, _ := c.keys.Get().(*keyBuilder)
	if b == nil {
		b = &keyBuilder{b: make([]byte, 0, 2048), pool: &c.keys}
	}
	b.field(page)
	b.field(lang)
	b.field(tx.ClientID)
	for _, svc := range tx.Services {
		b.field(svc)
	}
	b.sep('|')
	return b
}

// methodPageKey names everything the method page shows besides the
// transaction ID.
func (c *pageCache) methodPageKey(lang string, tx *transaction, ms []method, note adapters.Text) *keyBuilder {
	b := c.pageKey("methods", lang, tx)
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
			b.sep('!')
		}
		b.sep('o')
		for _, o := range m.Options {
			option(o)
		}
		b.sep('b')
		for _, o := range m.Below {
			option(o)
		}
	}
	return b
}

// appendConsentRows appends the consent page's claim rows, escaped.
func appendConsentRows(b []byte, lang string, items []consentItem) []byte {
	for _, it := range items {
		b = append(b, `<tr><th scope="row">`...)
		b = append(b, template.HTMLEscapeString(it.Label.In(lang))...)
		b = append(b, `</th><td>`...)
		b = append(b, template.HTMLEscapeString(it.Value)...)
		b = append(b, "</td></tr>\n"...)
	}
	return b
}
