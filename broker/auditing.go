package broker

import (
	"context"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/ozg-broker/eidas-broker/broker/audit"
)

// auditTx records an event about a login transaction: client, services,
// adapter, option, levels and the hashed pairwise subject, nothing else.
func (s *Server) auditTx(ctx context.Context, event string, tx *transaction, reason string) {
	if s.audit == nil || tx == nil {
		return
	}
	e := audit.Event{
		Event: event, Client: tx.ClientID, Services: tx.Services, Adapter: tx.AdapterID, Option: tx.Option,
		Requested: tx.Floor.String(), Reason: reason, RequestID: middleware.GetReqID(ctx),
		Subject: s.audit.Subject(tx.Subject),
	}
	if tx.Identity != nil {
		e.Proved = tx.Identity.Level.String()
	}
	s.audit.Record(ctx, e)
}

// auditEvent records an event outside a transaction (logout, token family
// revocation).
func (s *Server) auditEvent(ctx context.Context, e audit.Event) {
	if s.audit == nil {
		return
	}
	e.RequestID = middleware.GetReqID(ctx)
	s.audit.Record(ctx, e)
}
