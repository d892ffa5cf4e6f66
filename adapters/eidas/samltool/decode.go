package samltool

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// Limits of the tools: the same order as the adapter's (a real message is
// a few tens of KiB, aggregated metadata up to a few MiB).
const (
	MaxInput    = 8 << 20
	maxInflated = 4 << 20
)

var (
	// ErrInput: the input is in none of the forms a SAML message arrives in.
	ErrInput = errors.New("samltool: input is not a SAML message")
	// ErrInvalid: the message's signature does not hold (wrapped together
	// with the xmlsec reason).
	ErrInvalid = errors.New("samltool: signature not valid")
	// ErrNoEncryptedAssertion: Decrypt found nothing to open.
	ErrNoEncryptedAssertion = errors.New("samltool: no EncryptedAssertion in the message")
)

var parseLimits = xmlsec.Limits{MaxBytes: MaxInput}

// Message is a SAML message as found in some input.
type Message struct {
	// XML is the message document.
	XML []byte
	// Form says how it was encoded: "xml", "base64" (HTTP-POST binding) or
	// "deflate" (HTTP-Redirect binding: DEFLATE, then base64).
	Form string
	// Param is the form or query parameter it came in (SAMLRequest or
	// SAMLResponse), if any.
	Param string
	// RelayState, SigAlg and Signature come from a Redirect query.
	RelayState string
	SigAlg     string
	Signature  []byte
	// SignedQuery is the exact octet string the Redirect signature covers
	// ("SAMLRequest=…&RelayState=…&SigAlg=…", still URL-encoded).
	SignedQuery string
}

// Decode finds the SAML message in input: an XML document; the base64 of
// one (POST binding) or of its DEFLATE form (Redirect binding), also
// URL-encoded; or a form body, query string or URL carrying SAMLRequest or
// SAMLResponse (with RelayState, SigAlg and Signature of the Redirect
// binding).
func Decode(input []byte) (*Message, error) {
	if len(input) > MaxInput {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInput, MaxInput)
	}
	s := strings.TrimSpace(string(bytes.TrimPrefix(input, []byte("\xef\xbb\xbf"))))
	if strings.HasPrefix(s, "<") {
		return &Message{XML: []byte(s), Form: "xml"}, nil
	}
	if strings.Contains(s, "SAMLRequest=") || strings.Contains(s, "SAMLResponse=") {
		return decodeQuery(s)
	}
	if strings.Contains(s, "%") {
		if u, err := url.QueryUnescape(s); err == nil {
			s = u
		}
	}
	m := &Message{}
	if err := m.decodeValue(s); err != nil {
		return nil, err
	}
	return m, nil
}

// decodeQuery reads a URL, query string or form body.
func decodeQuery(s string) (*Message, error) {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	raw := map[string]string{}
	for _, part := range strings.Split(s, "&") {
		k, v, _ := strings.Cut(part, "=")
		if _, dup := raw[k]; dup {
			return nil, fmt.Errorf("%w: parameter %s given twice", ErrInput, k)
		}
		raw[k] = v
	}
	m := &Message{Param: "SAMLRequest"}
	if _, ok := raw["SAMLResponse"]; ok {
		if _, both := raw["SAMLRequest"]; both {
			return nil, fmt.Errorf("%w: both SAMLRequest and SAMLResponse", ErrInput)
		}
		m.Param = "SAMLResponse"
	}
	unesc := func(k string) (string, error) {
		v, err := url.QueryUnescape(raw[k])
		if err != nil {
			return "", fmt.Errorf("%w: %s is not URL-encoded: %w", ErrInput, k, err)
		}
		return v, nil
	}
	val, err := unesc(m.Param)
	if err != nil {
		return nil, err
	}
	if m.RelayState, err = unesc("RelayState"); err != nil {
		return nil, err
	}
	if m.SigAlg, err = unesc("SigAlg"); err != nil {
		return nil, err
	}
	if sig, ok := raw["Signature"]; ok {
		sv, err := url.QueryUnescape(sig)
		if err != nil {
			return nil, fmt.Errorf("%w: Signature is not URL-encoded", ErrInput)
		}
		if m.Signature, err = base64.StdEncoding.DecodeString(sv); err != nil {
			return nil, fmt.Errorf("%w: Signature is not base64", ErrInput)
		}
	}
	if m.SigAlg != "" {
		// SAML bindings §3.4.4.1: the signature covers the parameters in
		// this order, exactly as they were URL-encoded on the wire.
		m.SignedQuery = m.Param + "=" + raw[m.Param]
		if v, ok := raw["RelayState"]; ok {
			m.SignedQuery += "&RelayState=" + v
		}
		m.SignedQuery += "&SigAlg=" + raw["SigAlg"]
	}
	if err := m.decodeValue(val); err != nil {
		return nil, err
	}
	return m, nil
}

// decodeValue reads the base64 value of a binding: plain XML (POST) or
// DEFLATE-compressed XML (Redirect).
func (m *Message) decodeValue(v string) error {
	v = samlxml.StripSpace(v)
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		if b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "=")); err != nil {
			return fmt.Errorf("%w: neither XML nor base64", ErrInput)
		}
	}
	if t := bytes.TrimSpace(b); bytes.HasPrefix(t, []byte("<")) {
		m.XML, m.Form = t, "base64"
		return nil
	}
	x, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(b)), maxInflated+1))
	if err != nil {
		return fmt.Errorf("%w: base64 content is neither XML nor DEFLATE: %w", ErrInput, err)
	}
	if len(x) > maxInflated {
		return fmt.Errorf("%w: inflates to more than %d bytes", ErrInput, maxInflated)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(x), []byte("<")) {
		return fmt.Errorf("%w: inflated content is not XML", ErrInput)
	}
	m.XML, m.Form = bytes.TrimSpace(x), "deflate"
	return nil
}

// parse reads the message XML with the strict parser.
func (m *Message) parse() (*etree.Element, error) {
	doc, err := xmlsec.Parse(m.XML, parseLimits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	return doc.Root(), nil
}

// Kind names a message by its root element ("Response", "AuthnRequest",
// "EntityDescriptor", …), with "?" for anything not SAML.
func kind(root *etree.Element) string {
	switch root.NamespaceURI() {
	case samlxml.NSProtocol, samlxml.NSMetadata, samlxml.NSAssertion:
		return root.Tag
	}
	return "?"
}
