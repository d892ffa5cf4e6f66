package broker_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// slowUpstream answers "no result yet" until ready is set, like an
// eID-Server polled before the card was read.
type slowUpstream struct{ ready atomic.Bool }

type notYet struct{}

func (notYet) Error() string   { return "no result yet" }
func (notYet) Retryable() bool { return true }

func (s *slowUpstream) Info() adapters.Info {
	return adapters.Info{Type: "slow", Name: adapters.Text{DE: "Langsam", EN: "Slow"}, MaxLevel: assurance.High}
}

func (s *slowUpstream) Begin(_ context.Context, req adapters.Request) (adapters.Handoff, []byte, error) {
	return adapters.Handoff{RedirectURL: req.CallbackURL}, []byte("state"), nil
}

func (s *slowUpstream) Finish(_ context.Context, _ adapters.Request, state []byte, _ *http.Request) (adapters.Identity, error) {
	if string(state) != "state" {
		return adapters.Identity{}, errors.New("state lost")
	}
	if !s.ready.Load() {
		return adapters.Identity{}, notYet{}
	}
	return adapters.Identity{Subject: "p1", Level: assurance.High, AuthTime: time.Now()}, nil
}

func TestRetryableUpstreamKeepsState(t *testing.T) {
	up := &slowUpstream{}
	e := newEnv(t, func(c *broker.Config) {
		c.Adapters = []broker.AdapterEntry{{ID: "slow", Adapter: up}}
	})
	r := e.rp("other", "other-secret", rp2Redirect)
	f, methods := r.authorize()
	m := txPath.FindStringSubmatch(methods.body)
	p := r.post("/login/"+m[1]+"/start", map[string][]string{"method": {"slow"}})
	if p.status != http.StatusAccepted || !strings.Contains(p.body, `id="continue"`) {
		t.Fatalf("want the wait page, got %d %.300s", p.status, p.body)
	}
	up.ready.Store(true)
	cont := strings.Split(strings.Split(p.body, `id="continue" href="`)[1], `"`)[0]
	q := r.callbackParams(r.get(cont), f)
	if q.Get("code") == "" {
		t.Fatalf("no code after the retry: %v", q)
	}
	// And the state is single use again once the answer was taken.
	if p := r.get(cont); p.status != http.StatusBadRequest {
		t.Fatalf("callback after completion: %d", p.status)
	}
}

type downUpstream struct{ slowUpstream }

func (*downUpstream) CheckHealth(context.Context) error { return errors.New("metadata of SE expired") }

// An upstream that is down degrades readiness but does not fail it: one
// foreign node must not take every replica out of service.
func TestReadyzDegradedUpstream(t *testing.T) {
	e := newEnv(t, func(c *broker.Config) {
		c.Adapters = append(c.Adapters, broker.AdapterEntry{ID: "down", Adapter: &downUpstream{}})
	})
	resp, err := http.Get(e.srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "degraded") || !strings.Contains(string(b), "down: metadata of SE expired") {
		t.Fatalf("readyz: %d %s", resp.StatusCode, b)
	}
}
