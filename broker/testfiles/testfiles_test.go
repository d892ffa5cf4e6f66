package testfiles

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRepoRootIsThisModule(t *testing.T) {
	b := Read(t, Path(t, "go.mod"))
	if !strings.HasPrefix(string(b), "module github.com/ozg-broker/eidas-broker\n") {
		t.Fatalf("go.mod at %s does not name this module", RepoRoot(t))
	}
	if got, want := Path(t, "testdata", "eid"), filepath.Join(RepoRoot(t), "testdata", "eid"); got != want {
		t.Fatalf("Path = %s, want %s", got, want)
	}
}

// TestLayout builds a repository with and without the shared vectors beside
// it and looks from a nested package directory, as a test does.
func TestLayout(t *testing.T) {
	tmp := t.TempDir()
	repo := filepath.Join(tmp, "repo")
	pkg := filepath.Join(repo, "adapters", "eid")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module example.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(pkg)

	if got := RepoRoot(t); got != repo {
		t.Fatalf("RepoRoot = %s, want %s", got, repo)
	}
	want := filepath.Join(repo, "..", "shared", "vectors", "eid")
	if dir, ok := FindVectors(t, "eid"); ok || dir != want {
		t.Fatalf("FindVectors without the folder = %s, %v; want %s, false", dir, ok, want)
	}
	if !skips(t, func(t *testing.T) { Vectors(t, "eid") }) {
		t.Fatal("Vectors did not skip without the folder")
	}
	for _, tc := range []struct {
		cover string   // "" calls Vectors, anything else VectorsCoveredBy
		want  []string // substrings of the skip message
	}{
		{"", []string{want, "beside the repository", "; the generated fixtures under testdata/ still run"}},
		{"the eID fixtures still cover the SOAP messages", []string{want, "beside the repository", "; the eID fixtures still cover the SOAP messages"}},
	} {
		rec := &skipRecorder{TB: t}
		if tc.cover == "" {
			Vectors(rec, "eid")
		} else {
			VectorsCoveredBy(rec, tc.cover, "eid")
		}
		if !rec.skipped {
			t.Errorf("cover %q: no skip without the folder", tc.cover)
		}
		for _, w := range tc.want {
			if !strings.Contains(rec.msg, w) {
				t.Errorf("cover %q: skip message %q lacks %q", tc.cover, rec.msg, w)
			}
		}
	}

	if err := os.MkdirAll(filepath.Join(tmp, "shared", "vectors", "eid"), 0o755); err != nil {
		t.Fatal(err)
	}
	if dir, ok := FindVectors(t, "eid"); !ok || dir != want {
		t.Fatalf("FindVectors with the folder = %s, %v; want %s, true", dir, ok, want)
	}
	var got string
	if skips(t, func(t *testing.T) { got = Vectors(t, "eid") }) || got != want {
		t.Fatalf("Vectors with the folder = %q (skipped or wrong), want %s", got, want)
	}
	rec := &skipRecorder{TB: t}
	if got := VectorsCoveredBy(rec, "unused", "eid"); rec.skipped || got != want {
		t.Fatalf("VectorsCoveredBy with the folder = %q (skipped=%v), want %s", got, rec.skipped, want)
	}
}

// skips runs f in a subtest and reports whether it skipped.
func skips(t *testing.T, f func(*testing.T)) bool {
	t.Helper()
	var skipped bool
	t.Run("sub", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		f(t)
	})
	return skipped
}

// skipRecorder is a testing.TB whose Skipf only records the message, so
// that a test can read what a skip would have said; everything else goes
// to the real test.
type skipRecorder struct {
	testing.TB
	skipped bool
	msg     string
}

func (r *skipRecorder) Skipf(format string, args ...any) {
	r.skipped = true
	r.msg = fmt.Sprintf(format, args...)
}
