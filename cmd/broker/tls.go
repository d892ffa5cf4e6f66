package main

import "crypto/tls"

// tlsConfig is the client TLS policy for connections the broker opens
// (Redis): TLS 1.2 at least, system roots.
func tlsConfig() *tls.Config { return &tls.Config{MinVersion: tls.VersionTLS12} }
