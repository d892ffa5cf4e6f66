package testfiles

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the module root: the nearest directory at or above the
// test's working directory (its package directory) that holds go.mod. It
// fails the test when there is none.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := findRoot()
	if err != nil {
		tb.Fatalf("testfiles: %v", err)
	}
	return root
}

// Path joins parts below the module root, e.g. Path(t, "testdata", "eid").
// It does not check that the file exists; reading it does.
func Path(tb testing.TB, parts ...string) string {
	tb.Helper()
	return filepath.Join(append([]string{RepoRoot(tb)}, parts...)...)
}

// FindVectors returns the shared vector folder ../shared/vectors/<parts>
// beside the module root and whether it exists, for a test that only
// prefers a vector to its own data.
func FindVectors(tb testing.TB, parts ...string) (string, bool) {
	tb.Helper()
	dir := filepath.Join(append([]string{RepoRoot(tb), "..", "shared", "vectors"}, parts...)...)
	st, err := os.Stat(dir)
	return dir, err == nil && st.IsDir()
}

// Vectors returns the shared vector folder for a test that needs it, and
// skips the test when the folder is absent, saying that the generated
// fixtures under testdata/ still run.
func Vectors(tb testing.TB, parts ...string) string {
	tb.Helper()
	return VectorsCoveredBy(tb, "the generated fixtures under testdata/ still run", parts...)
}

// VectorsCoveredBy is Vectors with the end of the skip message given by the
// caller: cover says what still checks the same things without the
// vectors, e.g. "the generated fixtures in testdata/eidas still cover every
// algorithm and attack". The message always names the missing folder and
// that the vectors live beside the repository, not in it.
func VectorsCoveredBy(tb testing.TB, cover string, parts ...string) string {
	tb.Helper()
	dir, ok := FindVectors(tb, parts...)
	if !ok {
		tb.Skipf("shared test vectors not found at %s (they live beside the repository, not in it); %s", dir, cover)
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
			return "", errors.New("go.mod not found at or above the test's working directory")
		}
		dir = parent
	}
}
