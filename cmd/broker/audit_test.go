package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/broker/audit"
	"github.com/ozg-broker/eidas-broker/config"
)

// TestOpenAudit: a file output is appended to; the subject key is derived
// from the subject secret when audit.key is not set, so two processes
// with the same config hash a subject alike.
func TestOpenAudit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	cfg := &config.Config{Audit: config.Audit{Output: path}}
	cfg.Keys.SubjectSecret = config.NewSecret("a subject secret of thirty-two bytes!")
	for range 2 {
		trail, closeTrail, err := openAudit(cfg, io.Discard, io.Discard, nil)
		if err != nil {
			t.Fatal(err)
		}
		trail.Record(context.Background(), audit.Event{Event: audit.ConfigReloaded, Subject: trail.Subject("pairwise-sub")})
		closeTrail()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"event":"config_reloaded"`) {
		t.Fatalf("trail: %q", b)
	}
	if strings.Contains(string(b), "pairwise-sub") {
		t.Fatal("subject not hashed")
	}
	sub := func(l string) string { return l[strings.Index(l, `"subject"`):] }
	if sub(lines[0]) != sub(lines[1]) {
		t.Fatal("the derived key differs between two opens")
	}
	if trail, _, _ := openAudit(&config.Config{}, io.Discard, io.Discard, nil); trail != nil {
		t.Fatal("a trail without audit.output")
	}
}
