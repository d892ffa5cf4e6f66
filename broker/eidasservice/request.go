package eidasservice

import (
	"bytes"
	"compress/flate"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// authnRequest is the content of a verified eIDAS AuthnRequest.
type authnRequest struct {
	ID           string
	Issuer       string
	IssuerFormat string
	Version      string
	Destination  string
	IssueInstant time.Time
	ProviderName string

	ForceAuthn    string // attribute as given ("" when absent)
	IsPassive     string
	ACSURL        string
	ACSIndex      int
	HasACSIndex   bool
	ProtocolBind  string
	NameIDFormat  string // "" when NameIDPolicy or its Format is absent
	SPType        string
	RequesterIDs  []string
	Comparison    string // "" when RequestedAuthnContext has none
	HasAuthnCtx   bool
	AuthnContexts []string
	Attributes    []requestedAttr
}

type requestedAttr struct {
	Name       string
	NameFormat string
	Required   bool
}

// inbound is a request as it arrived, before the signature is checked.
type inbound struct {
	Binding    string
	XML        []byte
	RelayState string
	// Redirect binding: the signed octet string and the signature.
	SigAlg    string
	Signature []byte
	SignedQS  []byte
}

// decodeBinding reads SAMLRequest and RelayState from an HTTP-POST or
// HTTP-Redirect request (SAML bindings §3.4, §3.5). Sizes are bounded
// before decoding and before inflating (DEFLATE bombs).
func decodeBinding(w http.ResponseWriter, r *http.Request, maxBytes int) (*inbound, error) {
	switch r.Method {
	case http.MethodPost:
		// base64 inflates by 4/3; leave room for RelayState and the rest.
		r.Body = http.MaxBytesReader(w, r.Body, int64(maxBytes)*2+4096)
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("%w: form: %w", ErrBinding, err)
		}
		if len(r.PostForm["SAMLRequest"]) != 1 {
			return nil, fmt.Errorf("%w: want exactly one SAMLRequest form value", ErrBinding)
		}
		if len(r.PostForm["RelayState"]) > 1 {
			return nil, fmt.Errorf("%w: more than one RelayState", ErrBinding)
		}
		raw := r.PostForm.Get("SAMLRequest")
		if base64.StdEncoding.DecodedLen(len(raw)) > maxBytes+3 {
			return nil, fmt.Errorf("%w: SAMLRequest larger than %d bytes", xmlsec.ErrTooLarge, maxBytes)
		}
		xml, err := samlxml.DecodeBase64(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: SAMLRequest is not base64", ErrBinding)
		}
		return &inbound{Binding: samlxml.BindingPOST, XML: xml, RelayState: r.PostForm.Get("RelayState")}, nil
	case http.MethodGet:
		return decodeRedirect(r.URL.RawQuery, maxBytes)
	}
	return nil, fmt.Errorf("%w: method %s", ErrBinding, r.Method)
}

// decodeRedirect parses the raw query of an HTTP-Redirect request. The
// signature covers the parameters exactly as they were URL-encoded by the
// sender (SAML bindings §3.4.4.1), so the signed octets are rebuilt from
// the raw query, never re-encoded.
func decodeRedirect(rawQuery string, maxBytes int) (*inbound, error) {
	raw := map[string]string{}
	for _, part := range strings.Split(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("%w: query encoding", ErrBinding)
		}
		switch key {
		case "SAMLRequest", "RelayState", "SigAlg", "Signature", "SAMLEncoding":
			if _, dup := raw[key]; dup {
				return nil, fmt.Errorf("%w: duplicate %s", ErrBinding, key)
			}
			raw[key] = v
		}
	}
	if enc, ok := raw["SAMLEncoding"]; ok {
		if e, _ := url.QueryUnescape(enc); e != "urn:oasis:names:tc:SAML:2.0:bindings:URL-Encoding:DEFLATE" {
			return nil, fmt.Errorf("%w: SAMLEncoding not supported", ErrBinding)
		}
	}
	reqRaw, ok := raw["SAMLRequest"]
	if !ok {
		return nil, fmt.Errorf("%w: SAMLRequest missing", ErrBinding)
	}
	if _, ok := raw["Signature"]; !ok {
		return nil, fmt.Errorf("%w: %w: Redirect binding without Signature", ErrSignature, xmlsec.ErrNotSigned)
	}
	unesc := func(k string) (string, error) {
		v, err := url.QueryUnescape(raw[k])
		if err != nil {
			return "", fmt.Errorf("%w: %s encoding", ErrBinding, k)
		}
		return v, nil
	}
	b64, err := unesc("SAMLRequest")
	if err != nil {
		return nil, err
	}
	if base64.StdEncoding.DecodedLen(len(b64)) > maxBytes+3 {
		return nil, fmt.Errorf("%w: SAMLRequest larger than %d bytes", xmlsec.ErrTooLarge, maxBytes)
	}
	deflated, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: SAMLRequest is not base64", ErrBinding)
	}
	xml, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(deflated)), int64(maxBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: SAMLRequest is not DEFLATE", ErrBinding)
	}
	if len(xml) > maxBytes {
		return nil, fmt.Errorf("%w: inflated SAMLRequest larger than %d bytes", xmlsec.ErrTooLarge, maxBytes)
	}
	in := &inbound{Binding: samlxml.BindingRedirect, XML: xml}
	if in.RelayState, err = unesc("RelayState"); err != nil {
		return nil, err
	}
	if in.SigAlg, err = unesc("SigAlg"); err != nil {
		return nil, err
	}
	sig, err := unesc("Signature")
	if err != nil {
		return nil, err
	}
	if in.Signature, err = samlxml.DecodeBase64(sig); err != nil {
		return nil, fmt.Errorf("%w: Signature is not base64", ErrSignature)
	}
	signed := "SAMLRequest=" + reqRaw
	if rs, ok := raw["RelayState"]; ok {
		signed += "&RelayState=" + rs
	}
	signed += "&SigAlg=" + raw["SigAlg"]
	in.SignedQS = []byte(signed)
	return in, nil
}

// peekIssuer parses the request and returns its root and the Issuer, read
// before any signature check, only to find whose keys to check it with.
func peekIssuer(xml []byte, maxBytes int) (*etree.Element, string, error) {
	doc, err := xmlsec.Parse(xml, xmlsec.Limits{MaxBytes: maxBytes})
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	root := doc.Root()
	if !samlxml.Is(root, samlxml.NSProtocol, "AuthnRequest") {
		return nil, "", fmt.Errorf("%w: root is not samlp:AuthnRequest", ErrMalformed)
	}
	iss := samlxml.Children(root, samlxml.NSAssertion, "Issuer")
	if len(iss) != 1 || samlxml.Text(iss[0]) == "" {
		return nil, "", fmt.Errorf("%w: want exactly one non-empty Issuer", ErrMalformed)
	}
	return root, samlxml.Text(iss[0]), nil
}

// verifyRequest checks the request's signature with the connector's
// signing certificates and returns the element to read from: for
// HTTP-POST the copy xmlsec re-parsed from the signed bytes, for
// HTTP-Redirect the parsed message, all of whose bytes the query signature
// covers. Only RSASSA-PSS and ECDSA are accepted.
func verifyRequest(in *inbound, root *etree.Element, md *spMetadata, now time.Time, maxBytes int) (*etree.Element, error) {
	switch in.Binding {
	case samlxml.BindingPOST:
		el, _, err := xmlsec.Verify(root, xmlsec.VerifyOptions{
			Trusted: md.SigningCerts,
			Now:     func() time.Time { return now },
			Limits:  xmlsec.Limits{MaxBytes: maxBytes},
		})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSignature, err)
		}
		return el, nil
	case samlxml.BindingRedirect:
		// An enveloped signature inside a Redirect message is not part of
		// the binding; refusing it keeps one unambiguous signature.
		if samlxml.First(root, samlxml.NSDSig, "Signature") != nil {
			return nil, fmt.Errorf("%w: XML signature inside an HTTP-Redirect message", ErrSignature)
		}
		var last error = xmlsec.ErrSignatureInvalid
		for _, c := range md.SigningCerts {
			if now.Before(c.NotBefore) || now.After(c.NotAfter) {
				last = xmlsec.ErrCertificateValidity
				continue
			}
			err := verifyRaw(c.PublicKey, in.SigAlg, in.SignedQS, in.Signature)
			if err == nil {
				return root, nil
			}
			last = err
			if errors.Is(err, xmlsec.ErrAlgorithmNotAllowed) || errors.Is(err, xmlsec.ErrUnsupportedAlgorithm) {
				break
			}
		}
		return nil, fmt.Errorf("%w: redirect signature: %w", ErrSignature, last)
	}
	return nil, fmt.Errorf("%w: binding", ErrBinding)
}

// verifyRaw checks an HTTP-Redirect signature. ECDSA values are raw r‖s
// (as XML Signature defines them for the SigAlg URI); because some
// implementations of the binding send the ASN.1 DER form, that is accepted
// too. The key must satisfy the eIDAS key policy.
func verifyRaw(pub crypto.PublicKey, sigAlg string, data, sig []byte) error {
	return xmlsec.VerifyBytes(pub, sigAlg, data, sig)
}

// readRequest reads the content of a verified AuthnRequest. It fails only
// on structure (the request cannot be understood); policy checks come
// later so they can be answered with a SAML error Response.
func readRequest(el *etree.Element) (*authnRequest, error) {
	if !samlxml.Is(el, samlxml.NSProtocol, "AuthnRequest") {
		return nil, fmt.Errorf("%w: not an AuthnRequest", ErrMalformed)
	}
	r := &authnRequest{
		ID:           samlxml.AttrValue(el, "ID"),
		Version:      samlxml.AttrValue(el, "Version"),
		Destination:  samlxml.AttrValue(el, "Destination"),
		ProviderName: samlxml.AttrValue(el, "ProviderName"),
		ForceAuthn:   samlxml.AttrValue(el, "ForceAuthn"),
		IsPassive:    samlxml.AttrValue(el, "IsPassive"),
		ACSURL:       samlxml.AttrValue(el, "AssertionConsumerServiceURL"),
		ProtocolBind: samlxml.AttrValue(el, "ProtocolBinding"),
	}
	if !validID(r.ID) {
		return nil, fmt.Errorf("%w: ID missing or not an NCName of at most 256 characters", ErrMalformed)
	}
	t, err := samlxml.ParseTime(samlxml.AttrValue(el, "IssueInstant"))
	if err != nil {
		return nil, fmt.Errorf("%w: IssueInstant: %w", ErrMalformed, err)
	}
	r.IssueInstant = t
	if v, ok := samlxml.Attr(el, "AssertionConsumerServiceIndex"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return nil, fmt.Errorf("%w: AssertionConsumerServiceIndex malformed", ErrMalformed)
		}
		r.ACSIndex, r.HasACSIndex = n, true
	}
	iss := samlxml.Children(el, samlxml.NSAssertion, "Issuer")
	if len(iss) != 1 {
		return nil, fmt.Errorf("%w: want exactly one Issuer", ErrMalformed)
	}
	r.Issuer, r.IssuerFormat = samlxml.Text(iss[0]), samlxml.AttrValue(iss[0], "Format")
	if r.IssuerFormat != "" && r.IssuerFormat != samlxml.NameIDEntity {
		return nil, fmt.Errorf("%w: Issuer Format must be entity", ErrMalformed)
	}
	if ext := samlxml.Children(el, samlxml.NSProtocol, "Extensions"); len(ext) > 1 {
		return nil, fmt.Errorf("%w: more than one Extensions", ErrMalformed)
	} else if len(ext) == 1 {
		spt := samlxml.Children(ext[0], samlxml.NSEIDAS, "SPType")
		if len(spt) > 1 {
			return nil, fmt.Errorf("%w: more than one SPType", ErrMalformed)
		}
		if len(spt) == 1 {
			r.SPType = samlxml.Text(spt[0])
		}
		ras := samlxml.Children(ext[0], samlxml.NSEIDAS, "RequestedAttributes")
		if len(ras) > 1 {
			return nil, fmt.Errorf("%w: more than one RequestedAttributes", ErrMalformed)
		}
		for _, ra := range samlxml.Children(samlxml.First(ext[0], samlxml.NSEIDAS, "RequestedAttributes"), samlxml.NSEIDAS, "RequestedAttribute") {
			a := requestedAttr{Name: samlxml.AttrValue(ra, "Name"), NameFormat: samlxml.AttrValue(ra, "NameFormat")}
			if a.Name == "" {
				return nil, fmt.Errorf("%w: RequestedAttribute without Name", ErrMalformed)
			}
			switch samlxml.AttrValue(ra, "isRequired") {
			case "true", "1":
				a.Required = true
			case "", "false", "0":
			default:
				return nil, fmt.Errorf("%w: isRequired is not a boolean", ErrMalformed)
			}
			r.Attributes = append(r.Attributes, a)
		}
	}
	if nips := samlxml.Children(el, samlxml.NSProtocol, "NameIDPolicy"); len(nips) > 1 {
		return nil, fmt.Errorf("%w: more than one NameIDPolicy", ErrMalformed)
	} else if len(nips) == 1 {
		r.NameIDFormat = samlxml.AttrValue(nips[0], "Format")
	}
	if racs := samlxml.Children(el, samlxml.NSProtocol, "RequestedAuthnContext"); len(racs) > 1 {
		return nil, fmt.Errorf("%w: more than one RequestedAuthnContext", ErrMalformed)
	} else if len(racs) == 1 {
		r.HasAuthnCtx = true
		r.Comparison = samlxml.AttrValue(racs[0], "Comparison")
		for _, ref := range samlxml.Children(racs[0], samlxml.NSAssertion, "AuthnContextClassRef") {
			r.AuthnContexts = append(r.AuthnContexts, samlxml.Text(ref))
		}
	}
	if sc := samlxml.First(el, samlxml.NSProtocol, "Scoping"); sc != nil {
		for _, rid := range samlxml.Children(sc, samlxml.NSProtocol, "RequesterID") {
			if v := samlxml.Text(rid); v != "" {
				r.RequesterIDs = append(r.RequesterIDs, v)
			}
		}
	}
	return r, nil
}

// validID accepts an xs:ID (NCName) of sane length.
func validID(id string) bool {
	if id == "" || len(id) > 256 {
		return false
	}
	for i, r := range id {
		switch {
		case r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z':
		case i > 0 && (r == '-' || r == '.' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return true
}
