package walletsim

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ozg-broker/eidas-broker/adapters/wallet"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/mdoc"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/sdjwt"
)

// Request is a verified authorization request as the wallet sees it.
type Request struct {
	ClientID, Nonce, State, ResponseURI, ResponseMode string
	ClientName, Purpose                               string
	Verifier                                          *x509.Certificate
	EncKey                                            *jose.JSONWebKey
	Enc                                               jose.ContentEncryption
	Queries                                           []CredentialQuery
	Expires                                           time.Time
}

// CredentialQuery is one DCQL credential query.
type CredentialQuery struct {
	ID, Format string
	Paths      [][]string // SD-JWT: claim path; mdoc: [name space, element]
}

// Query returns the query for format, if the request has one.
func (r *Request) Query(format string) (CredentialQuery, bool) {
	for _, q := range r.Queries {
		if q.Format == format {
			return q, true
		}
	}
	return CredentialQuery{}, false
}

// FetchRequest resolves a wallet invocation URL: it fetches the request
// object by reference and checks it as a wallet must (signature with the
// x5c leaf, chain to the access CA, client_id bound to the certificate,
// type, expiry, response mode and encryption key).
func (s *Sim) FetchRequest(ctx context.Context, invocation string) (*Request, error) {
	u, err := url.Parse(invocation)
	if err != nil {
		return nil, fmt.Errorf("invocation url: %w", err)
	}
	clientID, requestURI := u.Query().Get("client_id"), u.Query().Get("request_uri")
	if clientID == "" || requestURI == "" {
		return nil, errors.New("invocation url without client_id or request_uri")
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, requestURI, nil)
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Accept", "application/oauth-authz-req+jwt")
	resp, err := s.opts.Client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("fetch request object: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch request object: status %d", resp.StatusCode)
	}
	return s.parseRequest(string(body), clientID)
}

func (s *Sim) parseRequest(ro, clientID string) (*Request, error) {
	jws, err := jose.ParseSigned(ro, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, fmt.Errorf("request object: %w", err)
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "oauth-authz-req+jwt" {
		return nil, fmt.Errorf("request object typ %q", typ)
	}
	roots := x509.NewCertPool()
	roots.AddCert(s.accessCA.Cert)
	chains, err := h.Certificates(x509.VerifyOptions{Roots: roots, CurrentTime: s.opts.Now(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, fmt.Errorf("request object x5c: %w", err)
	}
	leaf := chains[0][0]
	payload, err := jws.Verify(leaf.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("request object signature: %w", err)
	}
	switch {
	case strings.HasPrefix(clientID, wallet.PrefixX509Hash+":"):
		sum := sha256.Sum256(leaf.Raw)
		if strings.TrimPrefix(clientID, wallet.PrefixX509Hash+":") != base64.RawURLEncoding.EncodeToString(sum[:]) {
			return nil, errors.New("client_id x509_hash does not match the signing certificate")
		}
	case strings.HasPrefix(clientID, wallet.PrefixX509SanDNS+":"):
		if leaf.VerifyHostname(strings.TrimPrefix(clientID, wallet.PrefixX509SanDNS+":")) != nil {
			return nil, errors.New("client_id x509_san_dns does not match the signing certificate")
		}
	default:
		return nil, errors.New("client_id prefix not supported")
	}
	var c struct {
		ClientID       string         `json:"client_id"`
		ResponseType   string         `json:"response_type"`
		ResponseMode   string         `json:"response_mode"`
		ResponseURI    string         `json:"response_uri"`
		Nonce          string         `json:"nonce"`
		State          string         `json:"state"`
		Exp            int64          `json:"exp"`
		DCQL           map[string]any `json:"dcql_query"`
		ClientMetadata struct {
			JWKS       jose.JSONWebKeySet `json:"jwks"`
			EncValues  []string           `json:"encrypted_response_enc_values_supported"`
			ClientName string             `json:"client_name"`
			Purpose    string             `json:"purpose"`
		} `json:"client_metadata"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("request object claims: %w", err)
	}
	if c.ClientID != clientID {
		return nil, errors.New("client_id in the request object differs from the invocation")
	}
	if c.ResponseType != "vp_token" || c.Nonce == "" || c.ResponseURI == "" {
		return nil, errors.New("request object lacks response_type vp_token, nonce or response_uri")
	}
	if !s.opts.Now().Before(time.Unix(c.Exp, 0)) {
		return nil, errors.New("request object expired")
	}
	r := &Request{ClientID: c.ClientID, Nonce: c.Nonce, State: c.State, ResponseURI: c.ResponseURI,
		ResponseMode: c.ResponseMode, ClientName: c.ClientMetadata.ClientName, Purpose: c.ClientMetadata.Purpose, Verifier: leaf,
		Expires: time.Unix(c.Exp, 0), Enc: jose.A128GCM}
	for _, k := range c.ClientMetadata.JWKS.Keys {
		if k.Use == "enc" && (k.Algorithm == "" || k.Algorithm == string(jose.ECDH_ES)) {
			kk := k
			r.EncKey = &kk
			break
		}
	}
	if r.ResponseMode == "direct_post.jwt" && r.EncKey == nil {
		return nil, errors.New("direct_post.jwt without an encryption key")
	}
	for _, e := range c.ClientMetadata.EncValues {
		if e == string(jose.A256GCM) {
			r.Enc = jose.A256GCM // the stronger one when offered
		}
	}
	creds, _ := c.DCQL["credentials"].([]any)
	for _, x := range creds {
		m, _ := x.(map[string]any)
		q := CredentialQuery{}
		q.ID, _ = m["id"].(string)
		q.Format, _ = m["format"].(string)
		cl, _ := m["claims"].([]any)
		for _, y := range cl {
			cm, _ := y.(map[string]any)
			pl, _ := cm["path"].([]any)
			var path []string
			for _, p := range pl {
				ps, _ := p.(string)
				path = append(path, ps)
			}
			q.Paths = append(q.Paths, path)
		}
		r.Queries = append(r.Queries, q)
	}
	if len(r.Queries) == 0 {
		return nil, errors.New("request object has no DCQL credential query")
	}
	return r, nil
}

// PresentOptions choose what the wallet answers. The fields after Decline
// are for tests that prove the verifier refuses bad presentations.
type PresentOptions struct {
	Person  string
	Format  string // wallet.FormatSDJWT or wallet.FormatMDoc
	Decline bool

	Nonce            string            // overrides the request's nonce
	Audience         string            // overrides client_id as KB-JWT aud
	NoKeyBinding     bool              // SD-JWT without KB-JWT
	KeyBindingKey    *ecdsa.PrivateKey // signs KB-JWT / DeviceAuth instead of the device key
	ExtraDisclosures []string          // appended before key binding
	State            string            // overrides the request's state
	Holder           *Sim              // present the PID issued by another simulator
}

// Presentation builds the vp_token entry for req.
func (s *Sim) Presentation(req *Request, o PresentOptions) (string, error) {
	src := s
	if o.Holder != nil {
		src = o.Holder
	}
	h := src.holders[o.Person]
	if h == nil {
		return "", fmt.Errorf("unknown person %q", o.Person)
	}
	q, ok := req.Query(o.Format)
	if !ok {
		return "", fmt.Errorf("the request does not ask for %s", o.Format)
	}
	nonce, aud := req.Nonce, req.ClientID
	if o.Nonce != "" {
		nonce = o.Nonce
	}
	if o.Audience != "" {
		aud = o.Audience
	}
	key := h.deviceKey
	if o.KeyBindingKey != nil {
		key = o.KeyBindingKey
	}
	switch o.Format {
	case wallet.FormatSDJWT:
		sd := &sdjwt.SDJWT{IssuerJWT: h.sd.jwt}
		seen := map[string]bool{}
		for _, p := range q.Paths {
			if len(p) == 0 || seen[p[0]] {
				continue
			}
			seen[p[0]] = true
			sd.Disclosures = append(sd.Disclosures, h.sd.disclosures[p[0]]...)
		}
		sd.Disclosures = append(sd.Disclosures, o.ExtraDisclosures...)
		if o.NoKeyBinding {
			return sd.Presented(), nil
		}
		kb, err := sdjwt.SignKB(key, jose.ES256, sd.Presented(), aud, nonce, s.opts.Now())
		if err != nil {
			return "", err
		}
		sd.KBJWT = kb
		return sd.String(), nil
	case wallet.FormatMDoc:
		var thumb []byte
		if req.EncKey != nil {
			var err error
			if thumb, err = req.EncKey.Thumbprint(crypto.SHA256); err != nil {
				return "", err
			}
		}
		st, err := mdoc.OpenID4VPSessionTranscript(aud, nonce, thumb, req.ResponseURI)
		if err != nil {
			return "", err
		}
		var ids []string
		for _, p := range q.Paths {
			if len(p) == 2 && p[0] == wallet.PIDDocType {
				ids = append(ids, p[1])
			}
		}
		dr, err := h.md.Present(wallet.PIDDocType, ids, key, st)
		if err != nil {
			return "", err
		}
		return base64.RawURLEncoding.EncodeToString(dr), nil
	}
	return "", fmt.Errorf("format %q not supported", o.Format)
}

// ResponsePayload is the authorization response before encryption.
func (s *Sim) ResponsePayload(req *Request, o PresentOptions) (map[string]any, error) {
	state := req.State
	if o.State != "" {
		state = o.State
	}
	if o.Decline {
		return map[string]any{"error": "access_denied", "state": state}, nil
	}
	pres, err := s.Presentation(req, o)
	if err != nil {
		return nil, err
	}
	q, _ := req.Query(o.Format)
	return map[string]any{"vp_token": map[string]any{q.ID: []string{pres}}, "state": state}, nil
}

// Encrypt makes the direct_post.jwt response: a JWE with ECDH-ES to the
// request's key, carrying the key's kid.
func (s *Sim) Encrypt(req *Request, payload map[string]any) (string, error) {
	if req.EncKey == nil {
		return "", errors.New("request has no encryption key")
	}
	enc, err := jose.NewEncrypter(req.Enc, jose.Recipient{Algorithm: jose.ECDH_ES, Key: req.EncKey.Key, KeyID: req.EncKey.KeyID}, nil)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	obj, err := enc.Encrypt(b)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// PostResult is the verifier's answer to the response POST.
type PostResult struct {
	Status      int
	RedirectURI string
	Body        string
}

// Post sends form to the response URI.
func (s *Sim) Post(ctx context.Context, responseURI string, form url.Values) (*PostResult, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURI, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.opts.Client.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	out := &PostResult{Status: resp.StatusCode, Body: string(b)}
	var m struct {
		RedirectURI string `json:"redirect_uri"`
	}
	if json.Unmarshal(b, &m) == nil {
		out.RedirectURI = m.RedirectURI
	}
	return out, nil
}

// Respond presents, encrypts and posts: what the wallet does when the
// person agrees (or declines).
func (s *Sim) Respond(ctx context.Context, req *Request, o PresentOptions) (*PostResult, error) {
	payload, err := s.ResponsePayload(req, o)
	if err != nil {
		return nil, err
	}
	jwe, err := s.Encrypt(req, payload)
	if err != nil {
		return nil, err
	}
	return s.Post(ctx, req.ResponseURI, url.Values{"response": {jwe}})
}
