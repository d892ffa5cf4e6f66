package storetest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestStartRedisServer(t *testing.T) {
	srv := StartRedisServer(t)
	if err := ping(srv.Addr()); err != nil {
		t.Fatalf("server not answering: %v", err)
	}
	srv.Stop()
	if err := ping(srv.Addr()); err == nil {
		t.Fatal("server still answering after Stop")
	}
	srv.Stop() // a second Stop, and the one from Cleanup, are harmless
}

// recordTB stands in for a test so the outcome of StartRedis can be observed
// without ending the real test.
type recordTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recordTB) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recordTB) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestStartRedisMissingServer(t *testing.T) {
	tests := []struct {
		require     string
		wantSkipped bool
	}{
		{"", true},
		{"0", true},
		{"1", false},
	}
	for _, tc := range tests {
		t.Run("require="+tc.require, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir()) // an empty folder: no redis-server
			t.Setenv(RequireRedisEnv, tc.require)
			rec := &recordTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				StartRedis(rec)
			}()
			<-done
			if rec.skipped != tc.wantSkipped || rec.failed == tc.wantSkipped {
				t.Fatalf("skipped=%v failed=%v (%q), want skipped=%v", rec.skipped, rec.failed, rec.msg, tc.wantSkipped)
			}
			if !strings.Contains(rec.msg, "redis-server not installed") {
				t.Fatalf("message %q does not say what is missing", rec.msg)
			}
		})
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewClock(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now = %v, want %v", c.Now(), start)
	}
	c.Advance(90 * time.Second)
	if want := start.Add(90 * time.Second); !c.Now().Equal(want) {
		t.Fatalf("Now = %v, want %v", c.Now(), want)
	}
}
