package main

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/logtest"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// The bounded memory store drops sessions, never codes, and says so once.
func TestMemoryStoreBoundWarnsOnce(t *testing.T) {
	var out logtest.Buffer
	st := newMemoryStore(64<<10, slog.New(slog.NewTextHandler(&out, nil)))
	defer st.Close()
	ctx := context.Background()
	value := make([]byte, 1000)
	if err := st.Create(ctx, store.KindCode, "code", value, time.Minute); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := st.Create(ctx, store.KindSession, "s"+strconv.Itoa(i), value, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Get(ctx, store.KindCode, "code"); err != nil {
		t.Fatalf("the code was evicted: %v", err)
	}
	if _, err := st.Get(ctx, store.KindSession, "s0"); err == nil {
		t.Fatal("the oldest session survived 200 KB of sessions in a 64 KiB store")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "memory store full") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // a second line would be on its way by now
	if n := strings.Count(out.String(), "memory store full"); n != 1 {
		t.Fatalf("%d warnings, want exactly one:\n%s", n, out.String())
	}
}
