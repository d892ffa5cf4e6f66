// Package testfiles finds the files the tests of many packages read: the
// repository's own fixtures under testdata/ and the shared test vectors
// that live beside the repository in ../shared/vectors. It is an ordinary
// package, not a _test file, so that every package's tests find them the
// same way instead of each carrying its own walk up to go.mod.
//
// The shared vectors are absent from a fresh clone elsewhere. Tests that
// need them call Vectors, which skips with a message naming the folder;
// the generated fixtures under testdata/ cover every algorithm and attack
// on their own, so such a clone's tests stay meaningful. A package whose
// fixtures cover something more specific says so in its skip message with
// VectorsCoveredBy. A test that only prefers a vector when there is one
// calls FindVectors.
//
// Paths are found from the test's working directory, which go test sets to
// the package directory; the package keeps no state of its own.
package testfiles
