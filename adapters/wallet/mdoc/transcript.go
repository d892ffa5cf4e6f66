package mdoc

import (
	"crypto/sha256"
	"errors"

	"github.com/fxamacker/cbor/v2"
)

// OpenID4VPSessionTranscript is the SessionTranscript of OpenID4VP 1.0
// Appendix B.2.6.1 (invocation via redirects):
//
//	SessionTranscript = [null, null, ["OpenID4VPHandover", sha-256(cbor(
//	    [clientId, nonce, jwkThumbprint / null, responseUri]))]]
//
// jwkThumbprint is the RFC 7638 SHA-256 thumbprint of the response
// encryption key, nil when the response is not encrypted.
func OpenID4VPSessionTranscript(clientID, nonce string, jwkThumbprint []byte, responseURI string) ([]byte, error) {
	if clientID == "" || nonce == "" || responseURI == "" {
		return nil, errors.New("session transcript: client id, nonce and response uri are required")
	}
	var thumb any // CBOR null when absent
	if jwkThumbprint != nil {
		thumb = jwkThumbprint
	}
	info, err := Marshal([]any{clientID, nonce, thumb, responseURI})
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(info)
	return Marshal([]any{nil, nil, []any{"OpenID4VPHandover", h[:]}})
}

// deviceAuthenticationBytes is #6.24(bstr .cbor ["DeviceAuthentication",
// SessionTranscript, DocType, DeviceNameSpacesBytes]), the detached
// payload of the device signature (§9.1.3.4).
func deviceAuthenticationBytes(sessionTranscript []byte, docType string, deviceNameSpacesBytes []byte) ([]byte, error) {
	da, err := Marshal([]any{"DeviceAuthentication", cbor.RawMessage(sessionTranscript), docType,
		cbor.RawMessage(deviceNameSpacesBytes)})
	if err != nil {
		return nil, err
	}
	return tag24(da)
}
