package config

import "strings"

// Audit configures the audit trail: one JSON line per login outcome,
// consent, logout, refusal, token family revocation and reload.
type Audit struct {
	// Output is "stdout", "stderr" or the path of a file the trail is
	// appended to (rotated by the platform, e.g. logrotate copytruncate).
	// Empty: no audit trail.
	Output string `yaml:"output"`
	// Key (≥ 32 bytes) hashes the pairwise subjects in the trail. Without
	// it a key is derived from keys.subject_secret.
	Key Secret `yaml:"key"`
}

func (d *decoder) validateAudit(a *Audit) {
	if a.Output == "" {
		if a.Key.IsSet() {
			d.invalid("audit.key", "set without audit.output")
		}
		return
	}
	switch a.Output {
	case "stdout", "stderr":
	default:
		if strings.ContainsRune(a.Output, 0) {
			d.invalid("audit.output", "want stdout, stderr or a file path")
		} else {
			a.Output = d.resolve(a.Output)
		}
	}
	if a.Key.IsSet() && len(a.Key.Value()) < 32 {
		d.invalid("audit.key", "too short: want at least 32 bytes")
	}
}
