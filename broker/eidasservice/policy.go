package eidasservice

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// samlError is a refusal the service answers with a SAML error Response:
// the request was verified and the connector's ACS is known, so telling the
// connector is safe. err is the reason for logs; Message goes to the
// connector and names no personal data.
type samlError struct {
	Top, Sub, Message string
	err               error
}

func (e *samlError) Error() string { return e.err.Error() }
func (e *samlError) Unwrap() error { return e.err }

func refuse(top, sub, msg string, err error) *samlError {
	return &samlError{Top: top, Sub: sub, Message: msg, err: fmt.Errorf("%w: %s", err, msg)}
}

// levelReq is what a request demands of the level: "minimum" with one
// notified level, or "exact" with a list of acceptable URIs.
type levelReq struct {
	Exact   bool     `json:"x,omitempty"`
	Minimum string   `json:"m,omitempty"` // level name
	URIs    []string `json:"u,omitempty"`
}

// satisfiedBy reports whether a proved level meets the request. Only
// notified levels order; an exact list matches URIs literally.
func (lr levelReq) satisfiedBy(l assurance.Level) bool {
	if lr.Exact {
		return l != assurance.Unspecified && contains(lr.URIs, l.URI())
	}
	min, err := assurance.ParseName(lr.Minimum)
	return err == nil && l.Satisfies(min)
}

// floor is the level the eID adapter is asked for.
func (lr levelReq) floor() assurance.Level {
	if !lr.Exact {
		if l, err := assurance.ParseName(lr.Minimum); err == nil {
			return l
		}
		return assurance.High
	}
	floor := assurance.Unspecified
	for _, u := range lr.URIs {
		if l, err := assurance.ParseURI(u); err == nil && l.Notified() && (floor == assurance.Unspecified || l < floor) {
			floor = l
		}
	}
	return floor
}

// plan is a verified, acceptable request turned into what the flow needs.
type plan struct {
	req        *authnRequest
	conn       *connector
	md         *spMetadata
	acs        string
	relayState string
	binding    string
	sigAlg     string
	enc        encKey
	spType     string
	nameID     string
	level      levelReq
	attrs      []requestedAttr // supported and allowed, deduplicated
}

// checkTransport applies the checks whose failure is answered with an error
// page, not a SAML Response: the request is not meant for us, is outdated,
// names an ACS the metadata does not list, or there is no way to produce a
// Response the connector accepts.
func (s *Service) checkTransport(in *inbound, r *authnRequest, c *connector, md *spMetadata, now time.Time) (*plan, error) {
	if r.Issuer != c.entityID {
		return nil, fmt.Errorf("%w: Issuer changed after verification", ErrMalformed)
	}
	if r.Destination == "" || r.Destination != s.cfg.ssoURL {
		return nil, fmt.Errorf("%w: Destination %q", ErrDestination, samlxml.Truncate(r.Destination, 120))
	}
	skew := s.cfg.ClockSkew
	if r.IssueInstant.After(now.Add(skew)) {
		return nil, fmt.Errorf("%w: IssueInstant in the future", ErrStale)
	}
	if r.IssueInstant.Before(now.Add(-s.cfg.RequestMaxAge - skew)) {
		return nil, fmt.Errorf("%w: IssueInstant older than %s", ErrStale, s.cfg.RequestMaxAge)
	}
	if len(in.RelayState) > 80 {
		return nil, fmt.Errorf("%w: RelayState longer than 80 bytes", ErrBinding)
	}
	p := &plan{req: r, conn: c, md: md, relayState: in.RelayState, binding: in.Binding}

	// The ACS comes from metadata only. A URL in the request must match a
	// listed HTTP-POST ACS exactly (case-sensitive); an index must exist.
	switch {
	case r.ACSURL != "" && r.HasACSIndex:
		return nil, fmt.Errorf("%w: both AssertionConsumerServiceURL and Index", ErrACS)
	case r.ACSURL != "":
		for _, e := range md.ACS {
			if e.Location == r.ACSURL {
				p.acs = e.Location
			}
		}
		if p.acs == "" {
			return nil, fmt.Errorf("%w: AssertionConsumerServiceURL %q", ErrACS, samlxml.Truncate(r.ACSURL, 120))
		}
	case r.HasACSIndex:
		for _, e := range md.ACS {
			if e.HasIndex && e.Index == r.ACSIndex {
				p.acs = e.Location
			}
		}
		if p.acs == "" {
			return nil, fmt.Errorf("%w: AssertionConsumerServiceIndex %d", ErrACS, r.ACSIndex)
		}
	default:
		p.acs = md.defaultACS().Location
	}

	alg, err := s.responseSigAlg(md)
	if err != nil {
		return nil, err
	}
	p.sigAlg = alg
	enc, err := pickEncryptionKey(md, now)
	if err != nil {
		return nil, err
	}
	p.enc = enc
	return p, nil
}

// responseSigAlg picks our signature method: the configured one, or, when
// the connector lists methods and ours is not among them, another method
// our key can make that it lists.
func (s *Service) responseSigAlg(md *spMetadata) (string, error) {
	if len(md.SigningMethods) == 0 || contains(md.SigningMethods, s.cfg.sigAlg) {
		return s.cfg.sigAlg, nil
	}
	for _, a := range append(append([]string(nil), pssAlgs...), ecdsaAlgs...) {
		if contains(md.SigningMethods, a) && sigAlgFits(a, s.cfg.SigningCert.PublicKey) {
			return a, nil
		}
	}
	return "", fmt.Errorf("%w: the connector lists no signature method our key can make", ErrNoAlgorithm)
}

// pickEncryptionKey chooses the connector's encryption certificate: the
// first one that is currently valid and whose listed methods (if any)
// include AES-GCM and the key transport or agreement for its key type.
func pickEncryptionKey(md *spMetadata, now time.Time) (encKey, error) {
	for _, k := range md.EncryptionKeys {
		if now.Before(k.Cert.NotBefore) || now.After(k.Cert.NotAfter) {
			continue
		}
		if len(k.Methods) > 0 {
			if dataAlgorithm(k) == "" {
				continue
			}
			switch k.Cert.PublicKey.(type) {
			case *rsa.PublicKey:
				if !contains(k.Methods, xmlsec.KeyTransportRSAOAEP) && hasKeyMethod(k.Methods) {
					continue
				}
			case *ecdsa.PublicKey:
				if !contains(k.Methods, xmlsec.KeyAgreementECDHES) && hasKeyMethod(k.Methods) {
					continue
				}
			}
		}
		return k, nil
	}
	return encKey{}, fmt.Errorf("%w: no usable encryption certificate", ErrNoAlgorithm)
}

// hasKeyMethod reports whether a method list says anything about key
// transport or agreement (many list only the content algorithms).
func hasKeyMethod(ms []string) bool {
	for _, m := range ms {
		if strings.Contains(m, "rsa-") || strings.Contains(m, "ECDH") {
			return true
		}
	}
	return false
}

// dataAlgorithm returns the content encryption: AES-256-GCM unless the
// connector lists methods without it, then AES-128-GCM if listed.
func dataAlgorithm(k encKey) string {
	if len(k.Methods) == 0 || contains(k.Methods, xmlsec.EncAES256GCM) {
		return xmlsec.EncAES256GCM
	}
	if contains(k.Methods, xmlsec.EncAES128GCM) {
		return xmlsec.EncAES128GCM
	}
	if !hasDataMethod(k.Methods) {
		return xmlsec.EncAES256GCM
	}
	return ""
}

func hasDataMethod(ms []string) bool {
	for _, m := range ms {
		if strings.Contains(m, "-gcm") || strings.Contains(m, "-cbc") {
			return true
		}
	}
	return false
}

// checkContent applies the eIDAS rules to a request whose sender is
// established. Every refusal is a *samlError.
func (s *Service) checkContent(p *plan) error {
	r := p.req
	if r.Version != "2.0" {
		return refuse(samlxml.StatusVersionMismatch, "", "SAML version 2.0 required", ErrVersion)
	}
	if r.ProtocolBind != "" && r.ProtocolBind != samlxml.BindingPOST {
		return refuse(samlxml.StatusRequester, samlxml.StatusUnsupportedBinding, "responses are sent with HTTP-POST only", ErrProtocolBind)
	}
	switch r.IsPassive {
	case "", "false", "0":
	default:
		return refuse(samlxml.StatusResponder, samlxml.StatusNoPassive, "passive authentication is not possible with the eID card", ErrIsPassive)
	}
	if r.ForceAuthn != "true" && r.ForceAuthn != "1" {
		return refuse(samlxml.StatusRequester, samlxml.StatusRequestDenied, "ForceAuthn must be true", ErrForceAuthn)
	}

	// SPType: in the connector's metadata or in the request, never both
	// (eIDAS SAML Message Format v1.4 §4.1); the configured type must agree.
	switch {
	case r.SPType != "" && p.md.SPType != "":
		return refuse(samlxml.StatusRequester, samlxml.StatusRequestDenied, "SPType must not be both in metadata and request", ErrSPType)
	case r.SPType != "":
		p.spType = r.SPType
	default:
		p.spType = p.md.SPType
	}
	if p.spType == "" {
		p.spType = p.conn.cfg.SPType
	}
	switch {
	case p.spType == "":
		return refuse(samlxml.StatusRequester, samlxml.StatusRequestDenied, "SPType missing", ErrSPType)
	case p.spType != SPTypePublic && p.spType != SPTypePrivate:
		return refuse(samlxml.StatusRequester, samlxml.StatusRequestDenied, "SPType must be public or private", ErrSPType)
	case p.conn.cfg.SPType != "" && p.spType != p.conn.cfg.SPType:
		return refuse(samlxml.StatusRequester, samlxml.StatusRequestDenied, "SPType contradicts the agreed SP type", ErrSPType)
	}
	if p.spType == SPTypePrivate && !s.cfg.RequesterIDOptional && len(r.RequesterIDs) == 0 {
		return refuse(samlxml.StatusRequester, samlxml.StatusRequestDenied, "RequesterID required for private sector relying parties", ErrRequesterID)
	}

	switch r.NameIDFormat {
	case "":
		p.nameID = samlxml.NameIDUnspecified
	case samlxml.NameIDPersistent, samlxml.NameIDTransient, samlxml.NameIDUnspecified:
		p.nameID = r.NameIDFormat
	default:
		return refuse(samlxml.StatusRequester, samlxml.StatusInvalidNameIDPolicy, "NameID format not supported", ErrNameIDPolicy)
	}

	lr, err := s.levelRequirement(r)
	if err != nil {
		return err
	}
	p.level = lr

	attrs, err := s.selectAttributes(r, p.conn)
	if err != nil {
		return err
	}
	p.attrs = attrs
	return nil
}

// levelRequirement reads RequestedAuthnContext (eIDAS Message Format §2.4.1:
// notified levels with "minimum", non-notified ones with "exact" and the
// full list) and refuses what the eID card cannot meet. The card's best
// level is the adapter's MaxLevel (high); an exact list must contain it.
func (s *Service) levelRequirement(r *authnRequest) (levelReq, error) {
	if !r.HasAuthnCtx || len(r.AuthnContexts) == 0 {
		return levelReq{}, refuse(samlxml.StatusRequester, samlxml.StatusNoAuthnContext, "RequestedAuthnContext with an eIDAS level required", ErrLevel)
	}
	best := s.cfg.Adapter.Info().MaxLevel
	comparison := r.Comparison
	if comparison == "" {
		comparison = "exact" // SAML core §3.3.2.2.1 default
	}
	switch comparison {
	case "minimum":
		if len(r.AuthnContexts) != 1 {
			return levelReq{}, refuse(samlxml.StatusRequester, samlxml.StatusNoAuthnContext, "minimum comparison takes exactly one level", ErrLevel)
		}
		l, err := assurance.ParseURI(r.AuthnContexts[0])
		if err != nil || !l.Notified() {
			return levelReq{}, refuse(samlxml.StatusRequester, samlxml.StatusNoAuthnContext, "minimum comparison needs a notified eIDAS level", ErrLevel)
		}
		if !best.Satisfies(l) {
			return levelReq{}, refuse(samlxml.StatusResponder, samlxml.StatusNoAuthnContext, "requested level cannot be met", ErrLevel)
		}
		return levelReq{Minimum: l.String()}, nil
	case "exact":
		lr := levelReq{Exact: true}
		for _, u := range r.AuthnContexts {
			if _, err := assurance.ParseURI(u); err == nil && !contains(lr.URIs, u) {
				lr.URIs = append(lr.URIs, u)
			}
		}
		if len(lr.URIs) == 0 {
			return levelReq{}, refuse(samlxml.StatusRequester, samlxml.StatusNoAuthnContext, "no eIDAS level requested", ErrLevel)
		}
		if !lr.satisfiedBy(best) {
			return levelReq{}, refuse(samlxml.StatusResponder, samlxml.StatusNoAuthnContext, "requested level cannot be met", ErrLevel)
		}
		return lr, nil
	}
	return levelReq{}, refuse(samlxml.StatusRequester, samlxml.StatusNoAuthnContext, "comparison must be minimum or exact", ErrLevel)
}

// selectAttributes keeps the requested attributes the service offers and
// the connector may receive. Others are ignored as the Message Format
// requires, unless they are required: then nothing could satisfy the
// request and it is refused up front.
func (s *Service) selectAttributes(r *authnRequest, c *connector) ([]requestedAttr, error) {
	var out []requestedAttr
	var unsupported []string
	index := map[string]int{}
	for _, a := range r.Attributes {
		d, ok := lookupAttr(a.Name)
		usable := ok && d.Published && (a.NameFormat == "" || a.NameFormat == samlxml.AttrNameFormatURI) &&
			(len(c.cfg.AllowedAttributes) == 0 || contains(c.cfg.AllowedAttributes, a.Name))
		if !usable {
			if a.Required {
				unsupported = append(unsupported, samlxml.Truncate(a.Name, 100))
			}
			continue
		}
		if i, dup := index[a.Name]; dup {
			out[i].Required = out[i].Required || a.Required
			continue
		}
		index[a.Name] = len(out)
		out = append(out, requestedAttr{Name: a.Name, NameFormat: samlxml.AttrNameFormatURI, Required: a.Required})
	}
	if len(unsupported) > 0 {
		return nil, refuse(samlxml.StatusRequester, samlxml.StatusInvalidAttrName, "required attribute not supported: "+strings.Join(unsupported, " "), ErrAttributes)
	}
	if len(out) == 0 {
		return nil, refuse(samlxml.StatusRequester, samlxml.StatusInvalidAttrName, "no supported attribute requested", ErrAttributes)
	}
	return out, nil
}

// claimsFor lists the claims the eID adapter must read for the attributes.
func claimsFor(attrs []requestedAttr) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range attrs {
		d, _ := lookupAttr(a.Name)
		for _, c := range d.Claims {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	if out == nil {
		out = []string{} // nil would mean "no narrowing" to the adapter
	}
	return out
}

// asSAMLError reports whether err is answered with a SAML Response.
func asSAMLError(err error) (*samlError, bool) {
	var se *samlError
	ok := errors.As(err, &se)
	return se, ok
}
