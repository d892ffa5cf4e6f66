// Command broker runs the eIDAS identity broker.
//
//	broker demo [--addr 127.0.0.1:8080] [--admin-addr 127.0.0.1:0]   complete demo: memory store, generated keys, simulators, demo portal; admin listener on loopback
//	broker serve --config broker.yaml      production: the configured store, keys, clients and adapters
//	broker check-config broker.yaml        validate a config file; prints file:line: path: problem
//	broker keygen [--alg ES256|RS256] [--data-key] [--subject-secret]
//	broker load [--logins N] [--concurrency C]   whole demo logins on loopback: throughput and latency
//
// This is the only package that imports concrete adapters and store
// backends; it turns the file format (package config) into the runtime
// configuration (broker.Config). The registries are explicit maps, built
// per command: the one for serve never contains demo-only types, so no
// production config can enable a simulator.
package main
