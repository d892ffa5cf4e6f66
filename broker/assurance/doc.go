// Package assurance defines the broker's level of assurance: an ordered value
// low < substantial < high, plus the eIDAS not-notified levels, with lossless
// mappings to every vocabulary the broker meets (eIDAS LoA URIs, BSI eID-Server
// URIs, STORK QAA numbers, config names).
//
// It is a leaf: it imports nothing of the project, so every other package may
// depend on it. The type is closed; a switch over it must name every value.
package assurance
