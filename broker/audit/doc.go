// Package audit writes the broker's audit trail: one JSON line per login
// outcome, consent, logout, refusal, token family revocation and
// configuration reload.
//
// The trail answers "who logged in to which portal at which level by which
// method" without holding personal data: the person appears only as the
// portal's pairwise subject hashed again with the audit key, so events of
// one person are linkable within the trail but not to what a portal holds.
// Names, birth dates, addresses, tokens and codes never enter an Event (it
// has no field for them).
package audit
