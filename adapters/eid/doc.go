// Package eid is the upstream adapter for the German eID card (Online-Ausweis:
// identity card, electronic residence permit, eID card for EU citizens).
//
// Why it looks the way it does: the broker never talks to the card. An
// eID-Server (usually rented as an "eID-Service") does PACE/EAC with the card
// through the person's eID-Client (AusweisApp), and the broker drives that
// server over the SOAP eID-Interface of BSI TR-03130-1: useID opens a session
// and returns a pre-shared key, getResult fetches the data once the
// eID-Client is done. Everything on that interface is mutually authenticated
// twice (mutual TLS, and a WS-Security signature on every message in both
// directions), because the data returned decides who logs in.
//
// The flow (TR-03124-1 §2):
//
//  1. Begin calls useID, stores the TC Token data (server address, session
//     identifier, PSK, refresh address) in the broker's store under the
//     transaction's unguessable Ref, sealed with a key derived from the Ref,
//     and returns a page whose link starts the eID-Client with
//     tcTokenURL = BaseURL/eid/tctoken/{ref}.
//  2. The eID-Client fetches the TC Token without cookies (Routes serves it,
//     once), runs the card protocol with the eID-Server, then sends the
//     browser to the RefreshAddress, which is the broker's callback with a
//     one-time secret. The secret is only in the TC Token: the start page
//     (which a relaying attacker sees) shows the reference, never the
//     secret, and the refresh address has the TC Token URL's origin, as
//     TR-03124-1 requires.
//  3. Finish refuses a request without the secret (ErrRefreshSecret) before
//     asking the eID-Server anything; only the start page's own cancel link,
//     which cannot carry it, ends the attempt as a cancellation without a
//     result. Then it ignores what the URL claims and calls getResult with the
//     session ID from the state and the next RequestCounter (kept in the
//     store so it only ever increases). Every result code maps to its own
//     error (see the Err* sentinels and ResultError); a cancellation wraps
//     adapters.ErrCancelled; noResultYet is retryable.
//
// The restricted identification (a card- and sector-specific pseudonym)
// becomes Identity.Subject; the personal data becomes adapters.Claims. Data
// groups are requested per login only as far as the portal's claims need
// them, and anything returned beyond the request is dropped. The level is
// high unless the eID-Server reports a lower one or an admin caps a document
// type (Config.LevelCaps).
//
// Simulators of the eID-Server and the eID-Client live in package eidsim;
// they are for the demo and tests only.
package eid
