// Command gen regenerates the eID adapter's test key material:
//
//	go run ./testdata/eid/gen            (from the repository root)
//
// It writes testdata/eid/*.pem (a TLS CA, the eID-Server's TLS certificate,
// the eService's client certificate, and both WS-Security signing pairs) and
// testdata/eid/rogue/*.pem, an unrelated second set used to prove that
// foreign keys and certificates are refused. All of it is for tests only.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters/eid/eidsim"
)

func main() {
	dir := flag.String("dir", filepath.Join("testdata", "eid"), "output directory")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	opts := eidsim.PKIOptions{
		NotBefore: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:  time.Date(2035, 12, 31, 23, 59, 59, 0, time.UTC),
		RSABits:   3072,
	}
	opts.Name = "eID test"
	primary, err := eidsim.NewPKI(opts)
	if err != nil {
		return err
	}
	if err := primary.WritePEM(dir); err != nil {
		return err
	}
	opts.Name = "eID rogue"
	rogue, err := eidsim.NewPKI(opts)
	if err != nil {
		return err
	}
	return rogue.WritePEM(filepath.Join(dir, "rogue"))
}
