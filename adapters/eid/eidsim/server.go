package eidsim

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters/eid"
	"github.com/ozg-broker/eidas-broker/adapters/eid/internal/wsse"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

// ServerConfig configures the eID-Server simulator.
type ServerConfig struct {
	// SigningKey and SigningCert sign every response (recipient token).
	SigningKey  crypto.Signer
	SigningCert *x509.Certificate
	// ClientSigningCerts are the eServices' trusted signature certificates
	// (initiator tokens). Requests signed otherwise get no answer.
	ClientSigningCerts []*x509.Certificate
	// RequireClientTLS refuses requests that did not arrive over TLS with a
	// verified client certificate. (StartDemo's listener also demands one
	// during the handshake; this check covers other wiring.)
	RequireClientTLS bool
	// ECardServerAddress is returned by useID and must be the ServerAddress
	// the eID-Client connects to (https).
	ECardServerAddress string
	// MaxOpenSessions per eService (default 50); beyond it useID answers
	// tooManyOpenSessions.
	MaxOpenSessions int
	// SessionTTL bounds a session from useID to getResult (default 10m).
	SessionTTL time.Duration
	// Rights are the terminal authorisation certificate's rights
	// (DocumentVerificationRights); nil means every data group.
	Rights *eid.Operations
	// Now defaults to time.Now.
	Now func() time.Time
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Server simulates an eID-Server's eID-Interface (TR-03130-1 §3) over real
// SOAP with WS-Security. The card protocol (PAOS, PACE, EAC) is replaced by
// Connect, Complete and Cancel, which the eID-Client simulator calls with the
// TC Token's session identifier and PSK.
type Server struct {
	cfg      ServerConfig
	signer   *wsse.Signer
	verifier *wsse.Verifier
	rights   eid.Operations
	log      *slog.Logger

	mu       sync.Mutex
	sessions map[string]*session // by session ID
	byPSK    map[string]*session // by PSK ID
}

type session struct {
	id, pskID string
	psk       []byte
	owner     string // fingerprint of the eService's signature certificate
	req       eid.UseIDRequest
	expires   time.Time
	counter   int
	result    *eid.GetResultResponse
	connected bool
}

// Errors of the simulated card channel.
var (
	ErrNoSession   = errors.New("eidsim: no open session for this session identifier")
	ErrWrongPSK    = errors.New("eidsim: PSK does not match")
	ErrWrongServer = errors.New("eidsim: TC Token names another eID-Server")
	ErrRefused     = errors.New("eidsim: eID-Server refused the card")
	ErrDeselect    = errors.New("eidsim: a required data group cannot be deselected")
)

// NewServer checks cfg and returns the simulator.
func NewServer(cfg ServerConfig) (*Server, error) {
	s := &wsse.Signer{Key: cfg.SigningKey, Cert: cfg.SigningCert, Now: cfg.Now}
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("new eid-server simulator: %w", err)
	}
	if len(cfg.ClientSigningCerts) == 0 {
		return nil, errors.New("new eid-server simulator: at least one trusted eService certificate required")
	}
	if !strings.HasPrefix(cfg.ECardServerAddress, "https://") {
		return nil, errors.New("new eid-server simulator: ECardServerAddress must be an https URL")
	}
	if cfg.MaxOpenSessions <= 0 {
		cfg.MaxOpenSessions = 50
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := &Server{
		cfg:      cfg,
		signer:   s,
		verifier: &wsse.Verifier{Certs: cfg.ClientSigningCerts, Now: cfg.Now},
		log:      log,
		sessions: map[string]*session{},
		byPSK:    map[string]*session{},
	}
	if cfg.Rights != nil {
		srv.rights = *cfg.Rights
	} else {
		for _, n := range eid.OperationNames() {
			srv.rights.Set(n, eid.Allowed)
		}
	}
	return srv, nil
}

// ServeHTTP answers SOAP requests of the eID-Interface.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "the eID-Interface takes SOAP POST requests; the card channel (PAOS) is not simulated", http.StatusMethodNotAllowed)
		return
	}
	if s.cfg.RequireClientTLS && (r.TLS == nil || len(r.TLS.VerifiedChains) == 0) {
		http.Error(w, "client certificate required", http.StatusForbidden)
		return
	}
	body, err := wsse.ReadLimited(r.Body, wsse.DefaultMaxBytes)
	if err != nil {
		soapFault(w, http.StatusRequestEntityTooLarge, "request too large")
		return
	}
	op := strings.Trim(r.Header.Get("SOAPAction"), `"`)
	opened, err := s.verifier.Open(body)
	switch {
	case errors.Is(err, wsse.ErrUnsigned), errors.Is(err, wsse.ErrUnknownSigner):
		// TR-03130-1 §3.5.2.1: no answer to unsigned requests or requests
		// signed with an unknown certificate.
		s.log.Info("eidsim: request refused", "err", err)
		http.Error(w, "request not signed by a known eService", http.StatusForbidden)
		return
	case errors.Is(err, wsse.ErrBadSignature), errors.Is(err, wsse.ErrStale):
		// §3.5.2: an invalid signature is answered with internalError only.
		s.log.Info("eidsim: invalid request signature", "err", err)
		s.respond(w, errorResponse(op, eid.MinorInternalError, "Invalid signature"))
		return
	case err != nil:
		soapFault(w, http.StatusBadRequest, "malformed request")
		return
	}
	owner := fingerprint(opened.Signer)
	if opened.Space != eid.NamespaceEID && !(opened.Space == "" && opened.Local == "getServerInfoRequest") {
		s.respond(w, errorResponse(op, eid.MinorSchemaViolation, "Unknown namespace"))
		return
	}
	switch opened.Local {
	case "useIDRequest":
		var req eid.UseIDRequest
		if err := xml.Unmarshal(opened.Payload, &req); err != nil {
			s.respond(w, &eid.UseIDResponse{Result: result(eid.MinorSchemaViolation, "Request does not match the schema")})
			return
		}
		s.respond(w, s.useID(owner, &req))
	case "getResultRequest":
		var req eid.GetResultRequest
		if err := xml.Unmarshal(opened.Payload, &req); err != nil {
			s.respond(w, &eid.GetResultResponse{Result: result(eid.MinorSchemaViolation, "Request does not match the schema")})
			return
		}
		s.respond(w, s.getResult(owner, &req))
	case "getServerInfoRequest":
		bugfix := 0
		s.respond(w, &eid.GetServerInfoResponse{
			ServerVersion:              eid.Version{VersionString: "eID-Server simulator 2.4.0 (test only)", Major: 2, Minor: 4, Bugfix: &bugfix},
			DocumentVerificationRights: s.rights,
		})
	default:
		soapFault(w, http.StatusBadRequest, "unknown operation")
	}
}

func (s *Server) respond(w http.ResponseWriter, v any) {
	payload, err := xml.Marshal(v)
	if err != nil {
		soapFault(w, http.StatusInternalServerError, "encode response")
		return
	}
	msg, err := s.signer.Seal(payload)
	if err != nil {
		soapFault(w, http.StatusInternalServerError, "sign response")
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(msg)
}

func soapFault(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(msg))
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>`+b.String()+`</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`)
}

func result(minor, msg string) eid.Result {
	if minor == "" {
		return eid.Result{ResultMajor: eid.MajorOK}
	}
	return eid.Result{ResultMajor: eid.MajorError, ResultMinor: minor, ResultMessage: &eid.ResultMessage{Lang: "en", Text: msg}}
}

func errorResponse(action, minor, msg string) any {
	switch action {
	case eid.ActionUseID:
		return &eid.UseIDResponse{Result: result(minor, msg)}
	case eid.ActionGetServerInfo:
		// getServerInfoResponse has no Result element; a getResultResponse
		// is the closest the schema offers for an error.
		return &eid.GetResultResponse{Result: result(minor, msg)}
	}
	return &eid.GetResultResponse{Result: result(minor, msg)}
}

func fingerprint(c *x509.Certificate) string {
	h := sha256.Sum256(c.Raw)
	return hex.EncodeToString(h[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it aborts the program instead)
	return hex.EncodeToString(b)
}

var communityIDPattern = regexp.MustCompile(`^0[0-9]{3}([0-9]{2}(0[0-9]([0-9]{2}(0[0-9]{3})?)?)?)?$`)

// expire drops sessions past their TTL; callers hold s.mu.
func (s *Server) expire(now time.Time) {
	for id, ss := range s.sessions {
		if now.After(ss.expires) {
			delete(s.sessions, id)
			delete(s.byPSK, ss.pskID)
		}
	}
}

func (s *Server) useID(owner string, req *eid.UseIDRequest) *eid.UseIDResponse {
	fail := func(minor, msg string) *eid.UseIDResponse {
		return &eid.UseIDResponse{Result: result(minor, msg)}
	}
	for _, n := range eid.OperationNames() {
		switch req.UseOperations.Get(n) {
		case eid.Required, eid.Allowed, eid.Prohibited:
		default:
			return fail(eid.MinorSchemaViolation, "Invalid value for "+n)
		}
	}
	var psk *eid.PSK
	if req.PSK != nil {
		id, key := strings.TrimSpace(req.PSK.ID), strings.TrimSpace(req.PSK.Key)
		raw, err := hex.DecodeString(key)
		if len(id) < 16 || err != nil || len(raw) < 16 {
			return fail(eid.MinorInvalidPSK, "Initial PSK is invalid")
		}
		psk = &eid.PSK{ID: id, Key: key}
	}
	ops := req.UseOperations
	if ops.Get("AgeVerification") != eid.Prohibited && (req.AgeVerificationRequest == nil || req.AgeVerificationRequest.Age < 0) {
		return fail(eid.MinorMissingArgument, "AgeVerificationRequest missing")
	}
	if ops.Get("PlaceVerification") != eid.Prohibited && (req.PlaceVerificationRequest == nil ||
		!communityIDPattern.MatchString(strings.TrimSpace(req.PlaceVerificationRequest.CommunityID))) {
		return fail(eid.MinorMissingArgument, "PlaceVerificationRequest missing")
	}
	for _, n := range eid.OperationNames() {
		if ops.Get(n) != eid.Prohibited && s.rights.Get(n) != eid.Allowed {
			return fail(eid.MinorMissingTerminalRights, "Terminal authorisation lacks "+n)
		}
	}
	if l := strings.TrimSpace(req.LevelOfAssuranceRequest); l != "" {
		if _, err := assurance.ParseBSIURI(l); err != nil {
			return fail(eid.MinorSchemaViolation, "Unknown level of assurance")
		}
	}

	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	open := 0
	for _, ss := range s.sessions {
		if ss.owner == owner {
			open++
		}
	}
	if open >= s.cfg.MaxOpenSessions {
		return fail(eid.MinorTooManyOpenSessions, "Maximum number of sessions is reached")
	}
	if psk == nil {
		psk = &eid.PSK{ID: randomHex(16), Key: randomHex(32)}
	} else if _, taken := s.byPSK[psk.ID]; taken {
		return fail(eid.MinorInvalidPSK, "Initial PSK is invalid")
	}
	rawKey, _ := hex.DecodeString(psk.Key)
	ss := &session{id: randomHex(16), pskID: psk.ID, psk: rawKey, owner: owner, req: *req, expires: now.Add(s.cfg.SessionTTL)}
	s.sessions[ss.id] = ss
	s.byPSK[ss.pskID] = ss
	return &eid.UseIDResponse{
		Session:            &eid.Session{ID: ss.id},
		ECardServerAddress: s.cfg.ECardServerAddress,
		PSK:                &eid.PSK{ID: psk.ID, Key: psk.Key},
		Result:             result("", ""),
	}
}

func (s *Server) getResult(owner string, req *eid.GetResultRequest) *eid.GetResultResponse {
	fail := func(minor, msg string) *eid.GetResultResponse {
		return &eid.GetResultResponse{Result: result(minor, msg)}
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	ss := s.sessions[strings.TrimSpace(req.Session.ID)]
	if ss == nil || ss.owner != owner {
		return fail(eid.MinorInvalidSession, "Used session ID is invalid")
	}
	// TR-03130-1 §3.2.2: every answer but noResultYet ends the session.
	if req.RequestCounter != ss.counter+1 {
		s.drop(ss)
		return fail(eid.MinorInvalidCounter, "RequestCounter incremented incorrectly")
	}
	ss.counter = req.RequestCounter
	if ss.result == nil {
		return fail(eid.MinorNoResultYet, "Request still has not been completed")
	}
	s.drop(ss)
	return ss.result
}

func (s *Server) drop(ss *session) {
	delete(s.sessions, ss.id)
	delete(s.byPSK, ss.pskID)
}

// SessionInfo is what the eID-Client learns once its PSK channel to the
// eID-Server stands: the data the eService asks for (in the real protocol,
// the required and optional CHAT of EAC1InputType) and the checks.
type SessionInfo struct {
	Required, Optional []string // data group names in schema order
	AgeVerification    int      // 0 when not asked
	PlaceVerification  string   // Wohnort-ID prefix, "" when not asked
	TransactionInfo    string
	LevelOfAssurance   string
}

// lookup finds an open session for the card channel; callers hold s.mu.
func (s *Server) lookup(serverAddress, sessionIdentifier string, psk []byte) (*session, error) {
	s.expire(s.cfg.Now())
	if serverAddress != s.cfg.ECardServerAddress {
		return nil, ErrWrongServer
	}
	ss := s.byPSK[sessionIdentifier]
	if ss == nil || ss.result != nil {
		return nil, ErrNoSession
	}
	if subtle.ConstantTimeCompare(ss.psk, psk) != 1 {
		return nil, ErrWrongPSK
	}
	return ss, nil
}

// Connect opens the simulated card channel with the TC Token's values.
func (s *Server) Connect(serverAddress, sessionIdentifier string, psk []byte) (*SessionInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.lookup(serverAddress, sessionIdentifier, psk)
	if err != nil {
		return nil, err
	}
	ss.connected = true
	info := &SessionInfo{TransactionInfo: ss.req.TransactionInfo, LevelOfAssurance: strings.TrimSpace(ss.req.LevelOfAssuranceRequest)}
	for _, n := range eid.OperationNames() {
		switch ss.req.UseOperations.Get(n) {
		case eid.Required:
			info.Required = append(info.Required, n)
		case eid.Allowed:
			info.Optional = append(info.Optional, n)
		}
	}
	if r := ss.req.AgeVerificationRequest; r != nil && ss.req.UseOperations.Get("AgeVerification") != eid.Prohibited {
		info.AgeVerification = r.Age
	}
	if r := ss.req.PlaceVerificationRequest; r != nil && ss.req.UseOperations.Get("PlaceVerification") != eid.Prohibited {
		info.PlaceVerification = strings.TrimSpace(r.CommunityID)
	}
	return info, nil
}

// Cancel records that the person cancelled (eCard-API cancellationByUser).
func (s *Server) Cancel(serverAddress, sessionIdentifier string, psk []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.lookup(serverAddress, sessionIdentifier, psk)
	if err != nil {
		return err
	}
	ss.result = &eid.GetResultResponse{Result: result(eid.MinorCancellationByUser, "Cancellation by the user")}
	return nil
}

// Complete runs the simulated card protocol with card: it checks the
// document as an eID-Server would (block list, eID type against the
// requested level) and prepares the getResult answer. deselect names
// optional data groups the person unticked. An error wrapping ErrRefused
// means the server refused the card and getResult will report why.
func (s *Server) Complete(serverAddress, sessionIdentifier string, psk []byte, card Card, deselect []string) error {
	if card.Cancel {
		return s.Cancel(serverAddress, sessionIdentifier, psk)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.lookup(serverAddress, sessionIdentifier, psk)
	if err != nil {
		return err
	}
	req := &ss.req
	for _, n := range deselect {
		if req.UseOperations.Get(n) == eid.Required {
			return fmt.Errorf("%w: %s", ErrDeselect, n)
		}
	}
	if card.Blocked {
		ss.result = &eid.GetResultResponse{Result: result(eid.MinorInvalidDocument, "Used eID-Document is invalid")}
		return fmt.Errorf("%w: invalidDocument", ErrRefused)
	}
	eidType := card.EIDType
	if eidType == "" {
		eidType = "CardCertified"
	}
	typeSel := ""
	if t := req.EIDTypeRequest; t != nil {
		switch eidType {
		case "CardCertified":
			typeSel = t.CardCertified
		case "SECertified":
			typeSel = t.SECertified
		case "SEEndorsed":
			typeSel = t.SEEndorsed
		case "HWKeyStore":
			typeSel = t.HWKeyStore
		}
		typeSel = strings.TrimSpace(typeSel)
	}
	cardLevel := eidTypeLevel(eidType)
	if lr := strings.TrimSpace(req.LevelOfAssuranceRequest); typeSel == "DENIED" ||
		(lr != "" && typeSel != "ALLOWED" && cardLevel < bsiLevel(lr)) {
		ss.result = &eid.GetResultResponse{Result: result(eid.MinorDeniedDocument, "Used eID-Document did not match level of assurance or has been denied")}
		return fmt.Errorf("%w: deniedDocument", ErrRefused)
	}
	ss.result = s.readCard(ss, card, deselect, eidType, cardLevel)
	return nil
}

func bsiLevel(uri string) int {
	l, err := assurance.ParseBSIURI(uri)
	if err != nil {
		return 4
	}
	return int(l - assurance.Low + 1)
}

// readCard builds the successful getResult answer; callers hold s.mu.
func (s *Server) readCard(ss *session, card Card, deselect []string, eidType string, cardLevel int) *eid.GetResultResponse {
	req := &ss.req
	resp := &eid.GetResultResponse{Result: result("", "")}
	pd := &eid.PersonalData{}
	allowed := &eid.Operations{}
	str := func(v string) *string { return &v }
	for _, n := range eid.OperationNames() {
		sel := req.UseOperations.Get(n)
		if sel == eid.Prohibited || slices.Contains(deselect, n) {
			allowed.Set(n, eid.Prohibited)
			continue
		}
		if slices.Contains(card.NotOnChip, n) {
			allowed.Set(n, eid.NotOnChip)
			continue
		}
		present := true
		switch n {
		case "DocumentType":
			pd.DocumentType = card.DocumentType
		case "IssuingState":
			pd.IssuingState = card.IssuingState
		case "DateOfExpiry":
			pd.DateOfExpiry = card.DateOfExpiry
		case "GivenNames":
			pd.GivenNames = card.GivenNames
		case "FamilyNames":
			pd.FamilyNames = card.FamilyNames
		case "ArtisticName":
			pd.ArtisticName = str(card.ArtisticName)
		case "AcademicTitle":
			pd.AcademicTitle = str(card.AcademicTitle)
		case "DateOfBirth":
			present = card.DateOfBirth != ""
			if present {
				d := &eid.GeneralDate{DateString: card.DateOfBirth}
				if t, err := time.Parse("20060102", card.DateOfBirth); err == nil {
					d.DateValue = t.Format(time.DateOnly)
				}
				pd.DateOfBirth = d
			}
		case "PlaceOfBirth":
			present = card.PlaceOfBirth != nil
			pd.PlaceOfBirth = card.PlaceOfBirth
		case "Nationality":
			pd.Nationality = card.Nationality
		case "BirthName":
			pd.BirthName = str(card.BirthName)
		case "PlaceOfResidence":
			present = card.PlaceOfResidence != nil
			pd.PlaceOfResidence = card.PlaceOfResidence
		case "CommunityID":
			present = card.CommunityID != ""
			pd.CommunityID = card.CommunityID
		case "ResidencePermitI":
			present = card.ResidencePermitI != ""
			pd.ResidencePermitI = card.ResidencePermitI
		case "RestrictedID":
			mac := hmac.New(sha256.New, []byte(card.Secret))
			mac.Write([]byte(ss.owner))
			pd.RestrictedID = &eid.RestrictedID{ID: strings.ToUpper(hex.EncodeToString(mac.Sum(nil)))}
		case "AgeVerification":
			resp.FulfilsAgeVerification = &eid.VerificationResult{FulfilsRequest: ageAtLeast(card.DateOfBirth, req.AgeVerificationRequest.Age, s.cfg.Now())}
		case "PlaceVerification":
			resp.FulfilsPlaceVerification = &eid.VerificationResult{FulfilsRequest: card.CommunityID != "" &&
				strings.HasPrefix(card.CommunityID, strings.TrimSpace(req.PlaceVerificationRequest.CommunityID))}
		}
		if present {
			allowed.Set(n, eid.Allowed)
		} else {
			allowed.Set(n, eid.NotOnChip)
		}
	}
	resp.PersonalData = pd
	resp.OperationsAllowedByUser = allowed
	if strings.TrimSpace(req.LevelOfAssuranceRequest) != "" {
		resp.LevelOfAssuranceResult = assurance.Level(int(assurance.Low) + cardLevel - 1).BSIURI()
	}
	if req.EIDTypeRequest != nil {
		used := &eid.EIDTypes{}
		switch eidType {
		case "CardCertified":
			used.CardCertified = "USED"
		case "SECertified":
			used.SECertified = "USED"
		case "SEEndorsed":
			used.SEEndorsed = "USED"
		case "HWKeyStore":
			used.HWKeyStore = "USED"
		}
		resp.EIDTypeResponse = used
	}
	return resp
}

// ageAtLeast checks the age on the chip's date string. Unknown parts count
// as the latest possible date, so the check never passes too early.
func ageAtLeast(dateString string, age int, now time.Time) bool {
	if len(dateString) != 8 || strings.Contains(dateString[:4], " ") {
		return false
	}
	y, m, d := dateString[:4], dateString[4:6], dateString[6:8]
	if strings.Contains(m, " ") {
		m, d = "12", "31"
	}
	birth, err := time.Parse("20060102", y+m+"01")
	if err != nil {
		return false
	}
	if strings.Contains(d, " ") {
		birth = birth.AddDate(0, 1, -1)
	} else if t, err := time.Parse("20060102", y+m+d); err == nil {
		birth = t
	}
	return !birth.AddDate(age, 0, 0).After(now)
}
