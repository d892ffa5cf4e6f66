package eidasservice

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Refusals of authenticated requests.
//
// Once a request's signature has verified with the metadata of a configured
// connector, the service knows who sent it and where that connector takes
// Responses (its metadata). A request refused from then on — too old or
// from the future, seen before, malformed, naming an assertion consumer
// service its metadata lacks, a RelayState the binding forbids, or no
// encryption certificate the service could use — is answered with a signed
// SAML error Response to that connector (SAML core §3.2.2.2 status codes),
// so the connector learns the outcome instead of waiting for a Response
// that never comes. Only an error page would leave the person stranded at
// the foreign service.
//
// Nothing of this can be triggered by anyone but the connector: unsigned
// requests, unknown issuers and bad signatures never reach this code and
// keep getting the page. Two verified cases still get only the page:
//
//   - a Destination other than our SSO endpoint: SAML core §3.2.1 says the
//     recipient must discard such a request (it was meant for someone
//     else, and answering it would make us a party to it);
//   - no signature method the connector accepts, or a store outage while
//     checking for replay: no Response could be trusted or could be safely
//     decided, and the page (503 for the store) lets the person retry.
//
// An error Response carries no assertion, so nothing about any person can
// leave this way, and its destination is never taken from the request
// alone: an AssertionConsumerServiceURL or index that the metadata does not
// list sends the refusal to the metadata's default ACS.

// verifiedRefusal is a refusal of an authenticated request, ready to be
// answered with an error Response.
type verifiedRefusal struct {
	answer answer
	status status
	err    error
}

func (e *verifiedRefusal) Error() string { return e.err.Error() }
func (e *verifiedRefusal) Unwrap() error { return e.err }

// acceptVerified runs the checks after the signature: it reads the
// request, applies the transport checks and the replay cache. A failure
// the connector can be told about is a *verifiedRefusal; anything else is
// returned as is (an error page).
func (s *Service) acceptVerified(ctx context.Context, in *inbound, el *etree.Element, c *connector, md *spMetadata, now time.Time) (*plan, error) {
	req, err := readRequest(el)
	if err != nil {
		return nil, s.refusalFor(in, el, nil, c, md, err)
	}
	req.Issuer = strings.TrimSpace(req.Issuer)
	p, err := s.checkTransport(in, req, c, md, now)
	if err != nil {
		return nil, s.refusalFor(in, el, req, c, md, err)
	}
	// Single use: the ID is remembered for as long as the request could be
	// accepted at all. Fail closed when the store cannot answer.
	ttl := req.IssueInstant.Add(s.cfg.RequestMaxAge + 2*s.cfg.ClockSkew).Sub(now)
	if ttl < time.Second {
		ttl = time.Second
	}
	switch err := s.cfg.Store.Create(ctx, store.KindReplay, hashHex("authnrequest", c.entityID, req.ID), []byte{1}, ttl); {
	case errors.Is(err, store.ErrExists):
		return nil, s.refusalFor(in, el, req, c, md, errorf(ErrReplay, "connector %s", c.entityID))
	case err != nil:
		return nil, errorf(ErrStore, "replay cache: %v", err)
	}
	return p, nil
}

// refusalStatus is the status an authenticated refusal is answered with;
// false means it gets the error page only. The codes stay within those
// eIDAS nodes use (Requester with RequestDenied); the message says which
// rule was broken and nothing about any person.
func refusalStatus(err error) (status, bool) {
	denied := func(msg string) (status, bool) {
		return status{Top: samlxml.StatusRequester, Sub: samlxml.StatusRequestDenied, Message: msg}, true
	}
	switch {
	case errors.Is(err, ErrStale):
		return denied("AuthnRequest IssueInstant outside the accepted time window")
	case errors.Is(err, ErrReplay):
		return denied("AuthnRequest ID already received")
	case errors.Is(err, ErrACS):
		return denied("AssertionConsumerService not in the connector's metadata")
	case errors.Is(err, ErrNoAlgorithm):
		return denied("no usable encryption certificate in the connector's metadata")
	case errors.Is(err, ErrBinding):
		return denied("RelayState longer than 80 bytes")
	case errors.Is(err, ErrMalformed):
		return denied("AuthnRequest malformed")
	}
	return status{}, false
}

// refusalFor turns err into a *verifiedRefusal when the connector can be
// answered: the status is one refusalStatus gives, the request has an ID
// to answer to, and a signature method the connector accepts exists.
// Otherwise err is returned unchanged.
func (s *Service) refusalFor(in *inbound, el *etree.Element, req *authnRequest, c *connector, md *spMetadata, err error) error {
	st, ok := refusalStatus(err)
	if !ok {
		return err
	}
	id := samlxml.AttrValue(el, "ID")
	if req != nil {
		id = req.ID
	}
	if !validID(id) {
		return err // nothing to answer to: an unsolicited Response helps no one
	}
	alg, aerr := s.responseSigAlg(md)
	if aerr != nil {
		return err
	}
	a := answer{RequestID: id, Connector: c.entityID, ACS: refusalACS(req, md), SigAlg: alg}
	// RelayState goes back as received (SAML bindings §3.4.3, §3.5.3),
	// unless its length is what is refused.
	if len(in.RelayState) <= 80 {
		a.RelayState = in.RelayState
	}
	return &verifiedRefusal{answer: a, status: st, err: err}
}

// refusalACS is where a refusal goes: the ACS the request names when the
// metadata lists it (by URL or index), else the metadata's default.
func refusalACS(req *authnRequest, md *spMetadata) string {
	if req != nil {
		for _, e := range md.ACS {
			if req.ACSURL != "" && !req.HasACSIndex && e.Location == req.ACSURL {
				return e.Location
			}
			if req.HasACSIndex && req.ACSURL == "" && e.HasIndex && e.Index == req.ACSIndex {
				return e.Location
			}
		}
	}
	return md.defaultACS().Location
}

// refuse answers a request that acceptRequest refused: with a signed error
// Response to the connector when it is authenticated and may be told, else
// with the error page.
func (s *Service) refuse(w http.ResponseWriter, r *http.Request, lang string, err error) {
	var vr *verifiedRefusal
	if !errors.As(err, &vr) {
		s.refusePage(w, r, lang, err)
		return
	}
	s.log.InfoContext(r.Context(), "eidas service: request refused", "connector", vr.answer.Connector,
		"request", samlxml.Truncate(vr.answer.RequestID, 64), "err", vr.err)
	s.respondError(w, lang, &vr.answer, vr.status)
}
