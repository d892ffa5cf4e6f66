package broker_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store"
	"github.com/ozg-broker/eidas-broker/broker/store/memory"
)

// namedAdapter logs in whoever the form names (given_name), with markup
// and all, and offers one option whose availability the test switches.
type namedAdapter struct{ down *atomic.Bool }

func (a namedAdapter) Info() adapters.Info {
	o := adapters.Option{ID: "AT", Name: adapters.Text{DE: "Österreich", EN: "Austria"}, Level: assurance.High}
	if a.down.Load() {
		o.Unavailable = "metadata expired"
	}
	return adapters.Info{Type: "eidas", Name: adapters.Text{DE: "EU-eID", EN: "EU eID"}, MaxLevel: assurance.High, Options: []adapters.Option{o}}
}

func (namedAdapter) Begin(_ context.Context, req adapters.Request) (adapters.Handoff, []byte, error) {
	return adapters.Handoff{PostURL: req.CallbackURL, PostForm: url.Values{"s": {"x"}}}, []byte("x"), nil
}

func (namedAdapter) Finish(_ context.Context, _ adapters.Request, _ []byte, r *http.Request) (adapters.Identity, error) {
	return adapters.Identity{Subject: "AT/DE/" + r.FormValue("name"), Level: assurance.High, AuthTime: time.Now(),
		Claims: adapters.Claims{GivenName: r.FormValue("name"), FamilyName: "Muster"}}, nil
}

// TestCachedPagesAreEachLogins: the method and consent pages come from
// rendered skeletons (pageCache); each login must still get its own
// transaction ID, its own person's values (escaped), and the current
// availability of every option.
func TestCachedPagesAreEachLogins(t *testing.T) {
	var down atomic.Bool
	e := newEnv(t, func(c *broker.Config) {
		c.Adapters = []broker.AdapterEntry{{ID: "eu", Adapter: namedAdapter{&down}}}
	})
	r := e.rp("portal", "portal-secret", rpRedirect)
	type login struct {
		tx              string
		methods, answer *page
	}
	start := func(name string) login {
		r.browser = e.newBrowser()
		_, methods := r.authorize(oauth2.SetAuthURLParam("scope", "openid profile service:tax"))
		m := txPath.FindStringSubmatch(methods.body)
		if m == nil {
			t.Fatalf("no method form: %d %s", methods.status, methods.body)
		}
		post := r.post("/login/"+m[1]+"/start", url.Values{"method": {"eu"}, "option": {"AT"}})
		answer := r.post(post.formAction(), url.Values{"s": {"x"}, "name": {name}})
		return login{m[1], methods, answer}
	}
	a := start(`<script>alert(1)</script>&"Ä"`)
	b := start("Zoë")
	if a.tx == b.tx {
		t.Fatal("two logins share a transaction ID")
	}
	for _, tc := range []struct {
		own, other login
	}{{a, b}, {b, a}} {
		for name, p := range map[string]*page{"methods": tc.own.methods, "consent": tc.own.answer} {
			if p.status != http.StatusOK {
				t.Fatalf("%s: %d %s", name, p.status, p.body)
			}
			if !strings.HasSuffix(strings.TrimSpace(p.body), "</html>") {
				t.Errorf("%s page cut short (Content-Length of the pieces?)", name)
			}
			if !strings.Contains(p.body, tc.own.tx) || strings.Contains(p.body, tc.other.tx) {
				t.Errorf("%s page of %s… does not carry its own transaction only", name, tc.own.tx[:8])
			}
		}
	}
	if strings.ReplaceAll(a.methods.body, a.tx, "T") != strings.ReplaceAll(b.methods.body, b.tx, "T") {
		t.Error("the method pages of two equal logins differ beyond their IDs")
	}
	if strings.Contains(a.answer.body, "<script>alert") || !strings.Contains(a.answer.body, "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#34;Ä&#34;") {
		t.Errorf("consent value not escaped:\n%s", a.answer.body)
	}
	if !strings.Contains(b.answer.body, "Zoë") || strings.Contains(b.answer.body, "alert(1)") {
		t.Errorf("consent page shows another login's values:\n%s", b.answer.body)
	}

	// The option becomes unavailable: the next method page says so.
	down.Store(true)
	r.browser = e.newBrowser()
	_, p := r.authorize(oauth2.SetAuthURLParam("scope", "openid profile service:tax"))
	if !strings.Contains(p.body, `value="AT" disabled`) {
		t.Fatalf("a stale method page after the option became unavailable:\n%s", p.body)
	}
}

// changingStore changes the transaction record (as a concurrent request
// would) just before the broker consumes it.
type changingStore struct {
	store.Store
	armed atomic.Bool
}

func (s *changingStore) Take(ctx context.Context, kind store.Kind, key string) ([]byte, error) {
	if kind == store.KindTransaction && s.armed.CompareAndSwap(true, false) {
		if e, err := s.Store.Get(ctx, kind, key); err == nil {
			changed := append([]byte{}, e.Value...)
			changed[len(changed)-1] ^= 1
			_ = s.Store.Swap(ctx, kind, key, e.Revision, changed, time.Minute)
		}
	}
	return s.Store.Take(ctx, kind, key)
}

// TestCodeOnlyForTheTransactionRead: the code stands for the transaction
// as the consent step read it; if the record changed before it was
// consumed, no code reaches the portal.
func TestCodeOnlyForTheTransactionRead(t *testing.T) {
	mem := memory.New()
	t.Cleanup(func() { _ = mem.Close() })
	st := &changingStore{Store: mem}
	e := newEnvWithStore(t, st, nil)
	r := e.rp("portal", "portal-secret", rpRedirect)
	_, methods := r.authorize()
	consent := r.demoLogin(methods, "erika", "high")
	st.armed.Store(true)
	got := r.consent(consent)
	if got.loc != nil && got.loc.Query().Get("code") != "" {
		t.Fatalf("a code was issued for a transaction that changed meanwhile: %v", got.loc)
	}
	if got.status != http.StatusBadRequest {
		t.Fatalf("status %d, want the expired-login page (400)", got.status)
	}
	if st.armed.Load() {
		t.Fatal("the transaction was never taken")
	}
	// And a normal login still works on the same broker.
	r.browser = e.newBrowser()
	r.login("erika", "high")
}
