package eid

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ozg-broker/eidas-broker/adapters/eid/internal/wsse"
)

// TC Token constants (TR-03124-1 §2.4).
const (
	BindingPAOS     = "urn:liberty:paos:2006-08"
	PathSecurityPSK = "urn:ietf:rfc:4279"
)

// TCToken is the TR-03124-1 TC Token: it tells the eID-Client where the
// eID-Server is, which PSK opens the channel, and where to send the
// browser afterwards. The element has no namespace.
type TCToken struct {
	XMLName                   xml.Name                `xml:"TCTokenType"`
	ServerAddress             string                  `xml:"ServerAddress"`
	SessionIdentifier         string                  `xml:"SessionIdentifier"`
	RefreshAddress            string                  `xml:"RefreshAddress"`
	CommunicationErrorAddress string                  `xml:"CommunicationErrorAddress,omitempty"`
	Binding                   string                  `xml:"Binding"`
	PathSecurityProtocol      string                  `xml:"PathSecurity-Protocol"`
	PathSecurityParameters    *PathSecurityParameters `xml:"PathSecurity-Parameters,omitempty"`
}

// PathSecurityParameters carries the PSK (hex).
type PathSecurityParameters struct {
	PSK string `xml:"PSK"`
}

// ErrTCToken: a TC Token cannot be parsed or is incomplete.
var ErrTCToken = errors.New("tc token invalid")

// ParseTCToken parses a TC Token strictly (no DTD, bounded size) and checks
// that it is complete: binding PAOS, TLS-PSK, a PSK and all addresses.
func ParseTCToken(b []byte) (*TCToken, error) {
	if _, err := wsse.Parse(b, wsse.Limits{MaxBytes: 64 << 10, MaxDepth: 8, MaxElements: 64}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTCToken, err)
	}
	var t TCToken
	if err := xml.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTCToken, err)
	}
	t.ServerAddress = strings.TrimSpace(t.ServerAddress)
	t.SessionIdentifier = strings.TrimSpace(t.SessionIdentifier)
	t.RefreshAddress = strings.TrimSpace(t.RefreshAddress)
	t.CommunicationErrorAddress = strings.TrimSpace(t.CommunicationErrorAddress)
	t.Binding = strings.TrimSpace(t.Binding)
	t.PathSecurityProtocol = strings.TrimSpace(t.PathSecurityProtocol)
	switch {
	case t.Binding != BindingPAOS:
		return nil, fmt.Errorf("%w: binding %q", ErrTCToken, t.Binding)
	case t.PathSecurityProtocol != PathSecurityPSK:
		return nil, fmt.Errorf("%w: path security protocol %q", ErrTCToken, t.PathSecurityProtocol)
	case t.PathSecurityParameters == nil || !isHex(strings.TrimSpace(t.PathSecurityParameters.PSK)):
		return nil, fmt.Errorf("%w: PSK missing or not hex", ErrTCToken)
	case t.ServerAddress == "" || t.SessionIdentifier == "" || t.RefreshAddress == "":
		return nil, fmt.Errorf("%w: server address, session identifier and refresh address are required", ErrTCToken)
	}
	t.PathSecurityParameters.PSK = strings.TrimSpace(t.PathSecurityParameters.PSK)
	return &t, nil
}

// refPattern is what Begin accepts as a transaction reference. The
// reference is the only secret protecting the TC Token, so it must be long.
var refPattern = regexp.MustCompile(`^[A-Za-z0-9_~.-]{16,256}$`)

// The TC Token record is stored under a hash of the reference and sealed
// with a key derived from it: whoever can read the store but does not hold
// the reference learns neither the PSK nor which login it belongs to.
func tcTokenKey(ref string) string {
	h := sha256.Sum256([]byte("eid tctoken key v1\x00" + ref))
	return hex.EncodeToString(h[:])
}

func tcTokenAEAD(ref string) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, []byte(ref), nil, "eid tctoken record v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive tc token key: %w", err)
	}
	blk, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("derive tc token key: %w", err)
	}
	return cipher.NewGCM(blk)
}

func sealTCToken(ref string, t *TCToken) ([]byte, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("seal tc token: %w", err)
	}
	aead, err := tcTokenAEAD(ref)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal tc token: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, []byte(tcTokenKey(ref))), nil
}

func openTCToken(ref string, sealed []byte) (*TCToken, error) {
	aead, err := tcTokenAEAD(ref)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, fmt.Errorf("%w: stored record too short", ErrTCToken)
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(tcTokenKey(ref)))
	if err != nil {
		return nil, fmt.Errorf("%w: stored record does not open", ErrTCToken)
	}
	var t TCToken
	if err := json.Unmarshal(plain, &t); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTCToken, err)
	}
	return &t, nil
}

// Marshal renders the TC Token as the eID-Client expects it.
func (t *TCToken) Marshal() ([]byte, error) {
	b, err := xml.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("marshal tc token: %w", err)
	}
	return append([]byte(xml.Header), b...), nil
}
