package testfiles

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

var errNoModule = errors.New("go.mod not found at or above the test's working directory")

// RepoRoot returns the module root: the nearest directory at or above the
// test's working directory (its package directory) that holds go.mod.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := findRoot()
	if err != nil {
		tb.Fatalf("testfiles: %v", err)
	}
	return root
}

// Path joins parts below the module root, e.g. Path(t, "testdata", "eid").
func Path(tb testing.TB, parts ...string) string {
	tb.Helper()
	return filepath.Join(append([]string{RepoRoot(tb)}, parts...)...)
}

// FindVectors returns the shared vector folder ../shared/vectors/<parts>
// beside the module root and whether it exists.
func FindVectors(tb testing.TB, parts ...string) (string, bool) {
	tb.Helper()
	dir := filepath.Join(append([]string{RepoRoot(tb), "..", "shared", "vectors"}, parts...)...)
	st, err := os.Stat(dir)
	return dir, err == nil && st.IsDir()
}

// Vectors is FindVectors for a test that needs the folder: it skips the
// test when the folder is absent.
func Vectors(tb testing.TB, parts ...string) string {
	tb.Helper()
	dir, ok := FindVectors(tb, parts...)
	if !ok {
		tb.Skipf("shared test vectors not found at %s (they live beside the repository, not in it); the generated fixtures under testdata/ still run", dir)
	}
	return dir
}

// Read returns the file's contents or fails the test.
func Read(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("testfiles: %v", err)
	}
	return b
}

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errNoModule
		}
		dir = parent
	}
}
