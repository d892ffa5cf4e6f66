package wsse

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// Namespaces of SOAP 1.1, WS-Security 1.0 and XML-DSig.
const (
	NSSoap = "http://schemas.xmlsoap.org/soap/envelope/"
	NSWsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	NSWsu  = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	NSDsig = "http://www.w3.org/2000/09/xmldsig#"
)

// Algorithm URIs.
const (
	AlgExcC14N   = "http://www.w3.org/2001/10/xml-exc-c14n#"
	AlgRSASHA1   = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	AlgRSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	AlgRSASHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
	AlgRSASHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
	AlgSHA1      = "http://www.w3.org/2000/09/xmldsig#sha1"
	AlgSHA256    = "http://www.w3.org/2001/04/xmlenc#sha256"
	AlgSHA384    = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	AlgSHA512    = "http://www.w3.org/2001/04/xmlenc#sha512"
)

// Errors of Open. Each is wrapped with detail; errors.Is selects the class.
var (
	// ErrUnsigned: the message carries no WS-Security signature.
	ErrUnsigned = errors.New("message not signed")
	// ErrUnknownSigner: the signature does not verify with any trusted
	// certificate (or names a certificate that is not trusted).
	ErrUnknownSigner = errors.New("message signed by an untrusted key")
	// ErrBadSignature: the structure, a digest or the signature value is wrong.
	ErrBadSignature = errors.New("message signature invalid")
	// ErrStale: the Timestamp is missing, expired or from the future.
	ErrStale = errors.New("message timestamp not valid now")
	// ErrStructure: the envelope is not a SOAP 1.1 envelope of the expected shape.
	ErrStructure = errors.New("message is not a well-formed SOAP envelope")
)

var sigAlgs = map[string]crypto.Hash{
	AlgRSASHA1:   crypto.SHA1,
	AlgRSASHA256: crypto.SHA256,
	AlgRSASHA384: crypto.SHA384,
	AlgRSASHA512: crypto.SHA512,
}

var digestAlgs = map[string]crypto.Hash{
	AlgSHA1:   crypto.SHA1,
	AlgSHA256: crypto.SHA256,
	AlgSHA384: crypto.SHA384,
	AlgSHA512: crypto.SHA512,
}

func sigURI(h crypto.Hash) string {
	switch h {
	case crypto.SHA384:
		return AlgRSASHA384
	case crypto.SHA512:
		return AlgRSASHA512
	}
	return AlgRSASHA256
}

func digestURI(h crypto.Hash) string {
	switch h {
	case crypto.SHA384:
		return AlgSHA384
	case crypto.SHA512:
		return AlgSHA512
	}
	return AlgSHA256
}

// Signer wraps payloads in signed SOAP envelopes.
type Signer struct {
	// Key signs; it must hold an RSA key (Basic256Sha256 is an RSA suite).
	// A crypto.Signer so that an HSM can take its place.
	Key crypto.Signer
	// Cert is the X.509 token the signature references by issuer and serial.
	Cert *x509.Certificate
	// Hash is SHA-256 (default), SHA-384 or SHA-512, for digests and signature.
	Hash crypto.Hash
	// TTL is the Timestamp's lifetime (default 5 minutes).
	TTL time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
}

// Check reports whether the signer can sign.
func (s *Signer) Check() error {
	if s == nil || s.Key == nil || s.Cert == nil {
		return errors.New("check signer: key and certificate required")
	}
	pub, ok := s.Key.Public().(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("check signer: key is %T, want RSA", s.Key.Public())
	}
	cp, ok := s.Cert.PublicKey.(*rsa.PublicKey)
	if !ok || !cp.Equal(pub) {
		return errors.New("check signer: key does not match certificate")
	}
	if pub.N.BitLen() < 2048 {
		return fmt.Errorf("check signer: RSA key of %d bits, want at least 2048", pub.N.BitLen())
	}
	return nil
}

func (s *Signer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func randomID(prefix string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate id: %w", err)
	}
	return prefix + hex.EncodeToString(b), nil
}

// Seal puts payload (one XML element, as encoding/xml marshals it) into a
// SOAP 1.1 Body and signs Body and a fresh Timestamp. It returns the whole
// envelope, ready to send.
func (s *Signer) Seal(payload []byte) ([]byte, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	h := s.Hash
	switch h {
	case 0:
		h = crypto.SHA256
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return nil, fmt.Errorf("seal: hash %v not allowed (want SHA-256, SHA-384 or SHA-512)", h)
	}
	ttl := s.TTL
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	pdoc := etree.NewDocument()
	if err := pdoc.ReadFromBytes(payload); err != nil || pdoc.Root() == nil {
		return nil, fmt.Errorf("seal payload: %w", errors.Join(ErrStructure, err))
	}
	bodyID, err := randomID("Body-")
	if err != nil {
		return nil, err
	}
	tsID, err := randomID("TS-")
	if err != nil {
		return nil, err
	}

	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	env := doc.CreateElement("soapenv:Envelope")
	env.CreateAttr("xmlns:soapenv", NSSoap)
	env.CreateAttr("xmlns:wsu", NSWsu)
	header := env.CreateElement("soapenv:Header")
	sec := header.CreateElement("wsse:Security")
	sec.CreateAttr("xmlns:wsse", NSWsse)
	sec.CreateAttr("soapenv:mustUnderstand", "1")
	ts := sec.CreateElement("wsu:Timestamp")
	ts.CreateAttr("wsu:Id", tsID)
	now := s.now().UTC()
	ts.CreateElement("wsu:Created").SetText(now.Format("2006-01-02T15:04:05.000Z"))
	ts.CreateElement("wsu:Expires").SetText(now.Add(ttl).Format("2006-01-02T15:04:05.000Z"))
	body := env.CreateElement("soapenv:Body")
	body.CreateAttr("wsu:Id", bodyID)
	body.AddChild(pdoc.Root().Copy())

	sig := sec.CreateElement("ds:Signature")
	sig.CreateAttr("xmlns:ds", NSDsig)
	si := sig.CreateElement("ds:SignedInfo")
	si.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", AlgExcC14N)
	si.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", sigURI(h))
	for _, ref := range []struct {
		id string
		el *etree.Element
	}{{tsID, ts}, {bodyID, body}} {
		d, err := digestElement(ref.el, "", h)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		r := si.CreateElement("ds:Reference")
		r.CreateAttr("URI", "#"+ref.id)
		r.CreateElement("ds:Transforms").CreateElement("ds:Transform").CreateAttr("Algorithm", AlgExcC14N)
		r.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", digestURI(h))
		r.CreateElement("ds:DigestValue").SetText(base64.StdEncoding.EncodeToString(d))
	}
	c14n, err := canonicalize(si, "")
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	hh := h.New()
	hh.Write(c14n)
	sv, err := s.Key.Sign(rand.Reader, hh.Sum(nil), h)
	if err != nil {
		return nil, fmt.Errorf("seal: sign: %w", err)
	}
	sig.CreateElement("ds:SignatureValue").SetText(base64.StdEncoding.EncodeToString(sv))
	str := sig.CreateElement("ds:KeyInfo").CreateElement("wsse:SecurityTokenReference")
	is := str.CreateElement("ds:X509Data").CreateElement("ds:X509IssuerSerial")
	is.CreateElement("ds:X509IssuerName").SetText(s.Cert.Issuer.String())
	is.CreateElement("ds:X509SerialNumber").SetText(s.Cert.SerialNumber.String())

	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("seal: serialise: %w", err)
	}
	return out, nil
}

// canonicalize returns the exclusive C14N of el as it stands in its
// document: the namespaces in scope are copied onto a detached copy first,
// and exclusive C14N keeps only the visibly used ones.
func canonicalize(el *etree.Element, prefixList string) ([]byte, error) {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, fmt.Errorf("canonicalise %s: %w", el.Tag, err)
	}
	det, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return nil, fmt.Errorf("canonicalise %s: %w", el.Tag, err)
	}
	out, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(prefixList).Canonicalize(det)
	if err != nil {
		return nil, fmt.Errorf("canonicalise %s: %w", el.Tag, err)
	}
	return out, nil
}

func digestElement(el *etree.Element, prefixList string, h crypto.Hash) ([]byte, error) {
	c, err := canonicalize(el, prefixList)
	if err != nil {
		return nil, err
	}
	hh := h.New()
	hh.Write(c)
	return hh.Sum(nil), nil
}

// Verifier checks signed SOAP envelopes.
type Verifier struct {
	// Certs are the trusted signers. The signature must verify with one of
	// them; KeyInfo only narrows the choice, it never supplies a key.
	Certs []*x509.Certificate
	// Skew is the clock tolerance for the Timestamp (default 2 minutes).
	Skew time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
	// Limits bound parsing.
	Limits Limits
	// AllowSHA1 admits rsa-sha1 signatures and sha1 digests, which the
	// WS-SecurityPolicy Basic*Sha256 suites name for asymmetric signatures.
	// Off by default; only for eID-Servers that cannot sign with SHA-2.
	AllowSHA1 bool
}

// Opened is a verified message.
type Opened struct {
	// Payload is the only element child of the signed Body, detached with
	// its in-scope namespace declarations, serialised: ready for
	// encoding/xml.
	Payload []byte
	// Name is the payload element's namespace and local name.
	Space, Local string
	// Signer is the trusted certificate that verified the signature.
	Signer *x509.Certificate
	// Created is the Timestamp's creation time.
	Created time.Time
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// children returns the element children of el, and fails on non-whitespace
// text between them (mixed content has no place in a SOAP envelope).
func children(el *etree.Element) ([]*etree.Element, error) {
	for _, t := range el.Child {
		if cd, ok := t.(*etree.CharData); ok && !cd.IsWhitespace() {
			return nil, fmt.Errorf("%w: text in %s", ErrStructure, el.Tag)
		}
	}
	return el.ChildElements(), nil
}

func is(el *etree.Element, space, local string) bool {
	return el != nil && el.Tag == local && el.NamespaceURI() == space
}

// only returns the single child of el named (space, local) and fails when
// there is none, more than one, or (strict) any other child.
func only(el *etree.Element, space, local string, strict bool) (*etree.Element, error) {
	kids, err := children(el)
	if err != nil {
		return nil, err
	}
	var found *etree.Element
	for _, k := range kids {
		switch {
		case is(k, space, local):
			if found != nil {
				return nil, fmt.Errorf("%w: more than one %s in %s", ErrBadSignature, local, el.Tag)
			}
			found = k
		case strict:
			return nil, fmt.Errorf("%w: unexpected %s in %s", ErrBadSignature, k.Tag, el.Tag)
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no %s in %s", ErrBadSignature, local, el.Tag)
	}
	return found, nil
}

func algorithm(el *etree.Element) string {
	return strings.TrimSpace(el.SelectAttrValue("Algorithm", ""))
}

// wsuID returns the value of el's wsu:Id attribute.
func wsuID(el *etree.Element) (string, bool) {
	for i := range el.Attr {
		a := &el.Attr[i]
		if a.Key == "Id" && a.Space != "" && a.NamespaceURI() == NSWsu {
			return a.Value, true
		}
	}
	return "", false
}

// Open verifies msg and returns its signed payload.
func (v *Verifier) Open(msg []byte) (*Opened, error) {
	doc, err := Parse(msg, v.Limits)
	if err != nil {
		return nil, fmt.Errorf("open message: %w", err)
	}
	env := doc.Root()
	if !is(env, NSSoap, "Envelope") {
		return nil, fmt.Errorf("open message: %w: root is not a SOAP 1.1 Envelope", ErrStructure)
	}
	kids, err := children(env)
	if err != nil {
		return nil, fmt.Errorf("open message: %w", err)
	}
	var header, body *etree.Element
	switch {
	case len(kids) == 2 && is(kids[0], NSSoap, "Header") && is(kids[1], NSSoap, "Body"):
		header, body = kids[0], kids[1]
	case len(kids) == 1 && is(kids[0], NSSoap, "Body"):
		return nil, fmt.Errorf("open message: %w: no header", ErrUnsigned)
	default:
		return nil, fmt.Errorf("open message: %w: envelope must hold Header and Body", ErrStructure)
	}
	payloads, err := children(body)
	if err != nil {
		return nil, fmt.Errorf("open message: %w", err)
	}
	if len(payloads) != 1 {
		return nil, fmt.Errorf("open message: %w: body holds %d elements, want 1", ErrStructure, len(payloads))
	}

	// IDs must be unique in the whole document, or a reference could be
	// made to point at a copy the signature does not cover.
	ids := map[string]*etree.Element{}
	var dup string
	var walk func(*etree.Element)
	walk = func(el *etree.Element) {
		if id, ok := wsuID(el); ok {
			if _, seen := ids[id]; seen {
				dup = id
			}
			ids[id] = el
		}
		for _, c := range el.ChildElements() {
			walk(c)
		}
	}
	walk(env)
	if dup != "" {
		return nil, fmt.Errorf("open message: %w: duplicate wsu:Id %q", ErrBadSignature, dup)
	}

	hkids, err := children(header)
	if err != nil {
		return nil, fmt.Errorf("open message: %w", err)
	}
	var sec *etree.Element
	for _, k := range hkids {
		if is(k, NSWsse, "Security") {
			if sec != nil {
				return nil, fmt.Errorf("open message: %w: more than one Security header", ErrBadSignature)
			}
			sec = k
		}
	}
	if sec == nil {
		return nil, fmt.Errorf("open message: %w: no Security header", ErrUnsigned)
	}
	skids, err := children(sec)
	if err != nil {
		return nil, fmt.Errorf("open message: %w", err)
	}
	var ts, sig *etree.Element
	for _, k := range skids {
		switch {
		case is(k, NSWsu, "Timestamp") && ts == nil:
			ts = k
		case is(k, NSDsig, "Signature") && sig == nil:
			sig = k
		default:
			return nil, fmt.Errorf("open message: %w: unexpected %s in Security header", ErrBadSignature, k.Tag)
		}
	}
	if sig == nil {
		return nil, fmt.Errorf("open message: %w: no Signature", ErrUnsigned)
	}
	if ts == nil {
		return nil, fmt.Errorf("open message: %w: no Timestamp", ErrStale)
	}

	signer, err := v.verifySignature(sig, ids, map[*etree.Element]string{body: "Body", ts: "Timestamp"})
	if err != nil {
		return nil, fmt.Errorf("open message: %w", err)
	}
	created, err := v.checkTimestamp(ts)
	if err != nil {
		return nil, fmt.Errorf("open message: %w", err)
	}

	p := payloads[0]
	ctx, err := etreeutils.NSBuildParentContext(p)
	if err != nil {
		return nil, fmt.Errorf("open message: %w: %w", ErrStructure, err)
	}
	det, err := etreeutils.NSDetatch(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("open message: %w: %w", ErrStructure, err)
	}
	out, err := etree.NewDocumentWithRoot(det).WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("open message: serialise payload: %w", err)
	}
	return &Opened{Payload: out, Space: p.NamespaceURI(), Local: p.Tag, Signer: signer, Created: created}, nil
}

func (v *Verifier) checkTimestamp(ts *etree.Element) (time.Time, error) {
	skew := v.Skew
	if skew <= 0 {
		skew = 2 * time.Minute
	}
	kids, err := children(ts)
	if err != nil {
		return time.Time{}, err
	}
	if len(kids) != 2 || !is(kids[0], NSWsu, "Created") || !is(kids[1], NSWsu, "Expires") {
		return time.Time{}, fmt.Errorf("%w: Timestamp must hold Created and Expires", ErrStale)
	}
	created, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(kids[0].Text()))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: Created: %w", ErrStale, err)
	}
	expires, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(kids[1].Text()))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: Expires: %w", ErrStale, err)
	}
	now := v.now()
	switch {
	case !expires.After(created):
		return time.Time{}, fmt.Errorf("%w: expires before it was created", ErrStale)
	case created.After(now.Add(skew)):
		return time.Time{}, fmt.Errorf("%w: created in the future", ErrStale)
	case !now.Before(expires.Add(skew)):
		return time.Time{}, fmt.Errorf("%w: expired", ErrStale)
	}
	return created, nil
}

// verifySignature checks that sig covers exactly the elements in want (each
// once, found by wsu:Id), that every digest matches, and that SignedInfo is
// signed by one of the trusted certificates.
func (v *Verifier) verifySignature(sig *etree.Element, ids map[string]*etree.Element, want map[*etree.Element]string) (*x509.Certificate, error) {
	kids, err := children(sig)
	if err != nil {
		return nil, err
	}
	if len(kids) < 2 || len(kids) > 3 || !is(kids[0], NSDsig, "SignedInfo") || !is(kids[1], NSDsig, "SignatureValue") ||
		(len(kids) == 3 && !is(kids[2], NSDsig, "KeyInfo")) {
		return nil, fmt.Errorf("%w: Signature must hold SignedInfo, SignatureValue and KeyInfo", ErrBadSignature)
	}
	si, sv := kids[0], kids[1]
	var keyInfo *etree.Element
	if len(kids) == 3 {
		keyInfo = kids[2]
	}
	sikids, err := children(si)
	if err != nil {
		return nil, err
	}
	if len(sikids) < 3 || !is(sikids[0], NSDsig, "CanonicalizationMethod") || !is(sikids[1], NSDsig, "SignatureMethod") {
		return nil, fmt.Errorf("%w: SignedInfo must start with CanonicalizationMethod and SignatureMethod", ErrBadSignature)
	}
	if algorithm(sikids[0]) != AlgExcC14N {
		return nil, fmt.Errorf("%w: canonicalization %q not allowed", ErrBadSignature, algorithm(sikids[0]))
	}
	siPrefixes, err := inclusivePrefixes(sikids[0])
	if err != nil {
		return nil, err
	}
	sigHash, ok := sigAlgs[algorithm(sikids[1])]
	if !ok || (sigHash == crypto.SHA1 && !v.AllowSHA1) {
		return nil, fmt.Errorf("%w: signature method %q not allowed", ErrBadSignature, algorithm(sikids[1]))
	}
	covered := map[*etree.Element]bool{}
	for _, ref := range sikids[2:] {
		if !is(ref, NSDsig, "Reference") {
			return nil, fmt.Errorf("%w: unexpected %s in SignedInfo", ErrBadSignature, ref.Tag)
		}
		uri := ref.SelectAttrValue("URI", "")
		id, ok := strings.CutPrefix(uri, "#")
		if !ok || id == "" {
			return nil, fmt.Errorf("%w: reference URI %q is not a same-document reference", ErrBadSignature, uri)
		}
		target := ids[id]
		name, wanted := want[target]
		if target == nil || !wanted {
			return nil, fmt.Errorf("%w: reference %q does not point at the Body or the Timestamp", ErrBadSignature, uri)
		}
		if covered[target] {
			return nil, fmt.Errorf("%w: %s referenced twice", ErrBadSignature, name)
		}
		rkids, err := children(ref)
		if err != nil {
			return nil, err
		}
		if len(rkids) != 3 || !is(rkids[0], NSDsig, "Transforms") || !is(rkids[1], NSDsig, "DigestMethod") || !is(rkids[2], NSDsig, "DigestValue") {
			return nil, fmt.Errorf("%w: reference to %s must hold Transforms, DigestMethod and DigestValue", ErrBadSignature, name)
		}
		tkids, err := children(rkids[0])
		if err != nil {
			return nil, err
		}
		if len(tkids) != 1 || !is(tkids[0], NSDsig, "Transform") || algorithm(tkids[0]) != AlgExcC14N {
			return nil, fmt.Errorf("%w: reference to %s must use exactly one exclusive C14N transform", ErrBadSignature, name)
		}
		prefixes, err := inclusivePrefixes(tkids[0])
		if err != nil {
			return nil, err
		}
		dh, ok := digestAlgs[algorithm(rkids[1])]
		if !ok || (dh == crypto.SHA1 && !v.AllowSHA1) {
			return nil, fmt.Errorf("%w: digest method %q not allowed", ErrBadSignature, algorithm(rkids[1]))
		}
		got, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(rkids[2].Text()), ""))
		if err != nil {
			return nil, fmt.Errorf("%w: digest of %s: %w", ErrBadSignature, name, err)
		}
		d, err := digestElement(target, prefixes, dh)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
		}
		if subtle.ConstantTimeCompare(d, got) != 1 {
			return nil, fmt.Errorf("%w: digest of %s does not match", ErrBadSignature, name)
		}
		covered[target] = true
	}
	for el, name := range want {
		if !covered[el] {
			return nil, fmt.Errorf("%w: %s is not signed", ErrBadSignature, name)
		}
	}

	value, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(sv.Text()), ""))
	if err != nil {
		return nil, fmt.Errorf("%w: SignatureValue: %w", ErrBadSignature, err)
	}
	c14n, err := canonicalize(si, siPrefixes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	hh := sigHash.New()
	hh.Write(c14n)
	digest := hh.Sum(nil)
	candidates := v.candidates(keyInfo)
	if len(candidates) == 0 {
		return nil, fmt.Errorf("%w: KeyInfo names no trusted certificate", ErrUnknownSigner)
	}
	for _, c := range candidates {
		pub, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok {
			continue
		}
		if rsa.VerifyPKCS1v15(pub, sigHash, digest, value) == nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: signature value does not verify", ErrUnknownSigner)
}

func inclusivePrefixes(transform *etree.Element) (string, error) {
	kids, err := children(transform)
	if err != nil {
		return "", err
	}
	switch {
	case len(kids) == 0:
		return "", nil
	case len(kids) == 1 && is(kids[0], AlgExcC14N, "InclusiveNamespaces"):
		return kids[0].SelectAttrValue("PrefixList", ""), nil
	}
	return "", fmt.Errorf("%w: unexpected content in %s", ErrBadSignature, transform.Tag)
}

// candidates narrows the trusted certificates by the KeyInfo issuer/serial
// reference, when there is one. The issuer name is compared loosely (its
// string form differs between toolkits); the serial number must match.
func (v *Verifier) candidates(keyInfo *etree.Element) []*x509.Certificate {
	if keyInfo == nil {
		return v.Certs
	}
	serialEl := keyInfo.FindElement(".//X509SerialNumber")
	if serialEl == nil {
		return v.Certs
	}
	serial, ok := new(big.Int).SetString(strings.TrimSpace(serialEl.Text()), 10)
	if !ok {
		return nil
	}
	var out []*x509.Certificate
	for _, c := range v.Certs {
		if c.SerialNumber.Cmp(serial) == 0 {
			out = append(out, c)
		}
	}
	return out
}
