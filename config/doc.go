// Package config reads broker.yaml: the file format (types.go), strict
// decoding, validation and defaults.
//
// Why strict: the file decides who may log in at which level of assurance.
// A misspelt key that a lenient decoder skipped would silently fall back to
// a default (a missing min_level, an https check not applied), so every
// unknown key, wrong type, missing required value and invalid value is an
// error. Why all errors at once, with line and path: an admin fixing a file
// before a deployment should see every problem in one run of
// `broker check-config`, each in the form
//
//	broker.yaml:14: adapters[1].config.metadata: required
//
// Adapters are plugged in through a Registry filled by cmd/broker (this
// package imports no adapter). Each adapter's `config:` block is decoded
// into the type's own struct with the same strictness; yaml.v3's
// Node.Decode would drop KnownFields there, which is why the package walks
// the YAML node tree itself rather than delegating to yaml.v3's decoder.
//
// Secrets are never printed: Secret's String, Format and Marshal methods
// show "[redacted]". They come from files ({file: PATH}) or from the
// environment ("${NAME}"); a literal in the file works but is discouraged.
//
// Keys: with a memory store and no keys section at all, the broker
// generates its signing keys, subject secret and data key at start (demo,
// single node; subjects change on restart). Otherwise subject_secret and
// a data key (data_key, or data_keys for rotation: one active key seals,
// the others only open) are required, and a redis store also requires
// signing keys. admin_listen (metrics, profiling) must be loopback unless
// admin_listen_allow_remote is set.
//
// docs/configuration.md is the reference of every key, with defaults.
package config
