package broker_test

import (
	"os"
	"testing"

	"github.com/ozg-broker/eidas-broker/broker"
)

// TestMain sets up the process as cmd/broker's main does, so that tests and
// benchmarks run what the binary runs.
func TestMain(m *testing.M) {
	broker.DisableLibraryTracing()
	os.Exit(m.Run())
}
