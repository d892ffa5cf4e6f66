package broker_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/broker"
	"github.com/ozg-broker/eidas-broker/broker/logtest"
)

// TestLoginCompletedLogLine checks that a completed login is logged at
// info once, by "login completed" with everything the upstream's
// "upstream login verified" (now debug) named: adapter and proved level
// beside transaction, portal and acr. Nothing personal is in it.
func TestLoginCompletedLogLine(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		t.Run(level.String(), func(t *testing.T) {
			var logs logtest.Buffer
			e := newEnv(t, func(c *broker.Config) {
				c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: level}))
			})
			r := e.rp("portal", "portal-secret", rpRedirect)
			_, tk := r.login("erika", "high")
			var completed, verified []map[string]any
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("log line is not JSON: %v", err)
				}
				switch rec["msg"] {
				case "login completed":
					completed = append(completed, rec)
				case "upstream login verified":
					verified = append(verified, rec)
				}
			}
			if len(completed) != 1 {
				t.Fatalf("%d \"login completed\" lines, want 1", len(completed))
			}
			c := completed[0]
			want := map[string]any{"level": "INFO", "client": "portal", "adapter": "demo", "loa": "high"}
			for k, v := range want {
				if c[k] != v {
					t.Errorf("login completed: %s = %v, want %v", k, c[k], v)
				}
			}
			if acr, _ := tk.claims["acr"].(string); acr == "" || c["acr"] != acr {
				t.Errorf("login completed: acr = %v, want the ID token's %q", c["acr"], acr)
			}
			if tx, _ := c["tx"].(string); len(tx) != 8 {
				t.Errorf("login completed: tx = %q, want the 8-character log ID", tx)
			}
			switch {
			case level == slog.LevelInfo && len(verified) != 0:
				t.Errorf("\"upstream login verified\" logged at info; it is debug")
			case level == slog.LevelDebug && (len(verified) != 1 || verified[0]["level"] != "DEBUG" || verified[0]["loa"] != "high"):
				t.Errorf("\"upstream login verified\" at debug: %v", verified)
			}
			for _, personal := range []string{"Erika", "Mustermann", "1964"} {
				if strings.Contains(logs.String(), personal) {
					t.Errorf("the log names %q", personal)
				}
			}
		})
	}
}
