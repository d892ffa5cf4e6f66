package logtest

import (
	"bytes"
	"log/slog"
	"slices"
	"testing"
)

func TestKeys(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{`time=2026-01-01T00:00:00Z level=INFO msg=hello`, []string{"time", "level", "msg"}},
		{`level=WARN msg="a b=c" err="x \"y\" z" n=3`, []string{"level", "msg", "err", "n"}},
		{`msg=x component=a component=a`, []string{"msg", "component", "component"}},
		{`msg="unterminated`, []string{"msg"}},
		{`not a pair`, nil},
		{``, nil},
	}
	for _, tt := range tests {
		if got := Keys(tt.line); !slices.Equal(got, tt.want) {
			t.Errorf("Keys(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

// TestRepeatedWithSlog runs the parser over real slog output, so a change
// of the text format shows here rather than as a silent pass elsewhere.
func TestRepeatedWithSlog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.With("component", "x").Info("clean line", "err", "a b=c \"d\"", "k", 1)
	if bad := Repeated(buf.String()); bad != nil {
		t.Fatalf("clean output reported: %q\n%s", bad, buf.String())
	}
	log.With("component", "x").With("component", "x").Info("doubled")
	if bad := Repeated(buf.String()); !slices.Equal(bad, []string{"line 2: component"}) {
		t.Fatalf("Repeated = %q\n%s", bad, buf.String())
	}
}
