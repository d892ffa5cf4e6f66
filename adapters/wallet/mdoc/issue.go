package mdoc

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"
	cose "github.com/veraison/go-cose"
)

// Element is one data element to issue.
type Element struct {
	ID    string
	Value any
}

// FullDate is a full-date (RFC 8943, tag 1004) value such as a birth date.
func FullDate(s string) cbor.Tag { return cbor.Tag{Number: 1004, Content: s} }

// Issued is an issued mdoc as a wallet holds it.
type Issued struct {
	DocType    string
	IssuerAuth []byte
	items      map[string]map[string]cbor.RawMessage // name space → element → #6.24 item
}

// IssueOptions describe one mdoc to issue.
type IssueOptions struct {
	Key                 crypto.Signer       // document signer key
	Chain               []*x509.Certificate // document signer first, without the IACA
	DocType             string
	NameSpaces          map[string][]Element
	DeviceKey           crypto.PublicKey
	Signed, From, Until time.Time
	Status              *StatusListRef
}

// Issue makes the IssuerSignedItems and signs the MSO (ES256).
func Issue(o IssueOptions) (*Issued, error) {
	out := &Issued{DocType: o.DocType, items: map[string]map[string]cbor.RawMessage{}}
	digests := map[string]map[uint64][]byte{}
	var id uint64
	for ns, els := range o.NameSpaces {
		out.items[ns] = map[string]cbor.RawMessage{}
		digests[ns] = map[uint64][]byte{}
		for _, e := range els {
			salt := make([]byte, 32)
			if _, err := rand.Read(salt); err != nil {
				return nil, err
			}
			enc, err := Marshal(IssuerSignedItem{DigestID: id, Random: salt, ElementIdentifier: e.ID, ElementValue: e.Value})
			if err != nil {
				return nil, fmt.Errorf("encode %s: %w", e.ID, err)
			}
			item, err := tag24(enc)
			if err != nil {
				return nil, err
			}
			h, _ := digestHash("SHA-256")
			d := h()
			d.Write(item)
			digests[ns][id] = d.Sum(nil)
			out.items[ns][e.ID] = item
			id++
		}
	}
	ck, err := cose.NewKeyFromPublic(o.DeviceKey)
	if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	dk, err := ck.MarshalCBOR()
	if err != nil {
		return nil, err
	}
	mso := MSO{Version: "1.0", DigestAlgorithm: "SHA-256", ValueDigests: digests, DocType: o.DocType,
		DeviceKeyInfo: DeviceKeyInfo{DeviceKey: dk},
		ValidityInfo:  ValidityInfo{Signed: o.Signed.UTC().Truncate(time.Second), ValidFrom: o.From.UTC().Truncate(time.Second), ValidUntil: o.Until.UTC().Truncate(time.Second)}}
	if o.Status != nil {
		mso.Status = &Status{StatusList: o.Status}
	}
	msoBytes, err := Marshal(mso)
	if err != nil {
		return nil, err
	}
	payload, err := tag24(msoBytes)
	if err != nil {
		return nil, err
	}
	signer, err := cose.NewSigner(cose.AlgorithmES256, o.Key)
	if err != nil {
		return nil, err
	}
	var x5 any
	if len(o.Chain) == 1 {
		x5 = o.Chain[0].Raw
	} else {
		var l []any
		for _, c := range o.Chain {
			l = append(l, c.Raw)
		}
		x5 = l
	}
	m := cose.UntaggedSign1Message{
		Headers: cose.Headers{Protected: cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmES256},
			Unprotected: cose.UnprotectedHeader{cose.HeaderLabelX5Chain: x5}},
		Payload: payload,
	}
	if err := m.Sign(rand.Reader, nil, signer); err != nil {
		return nil, err
	}
	if out.IssuerAuth, err = m.MarshalCBOR(); err != nil {
		return nil, err
	}
	return out, nil
}

// Present makes a DeviceResponse disclosing the named elements of name
// space ns, signed by the device key over the session transcript.
func (d *Issued) Present(ns string, ids []string, deviceKey crypto.Signer, sessionTranscript []byte) ([]byte, error) {
	var items []cbor.RawMessage
	for _, id := range ids {
		it, ok := d.items[ns][id]
		if !ok {
			return nil, fmt.Errorf("mdoc: element %q not issued", id)
		}
		items = append(items, it)
	}
	emptyNS, err := Marshal(map[string]any{})
	if err != nil {
		return nil, err
	}
	devNS, err := tag24(emptyNS)
	if err != nil {
		return nil, err
	}
	dab, err := deviceAuthenticationBytes(sessionTranscript, d.DocType, devNS)
	if err != nil {
		return nil, err
	}
	signer, err := cose.NewSigner(cose.AlgorithmES256, deviceKey)
	if err != nil {
		return nil, err
	}
	m := cose.UntaggedSign1Message{
		Headers: cose.Headers{Protected: cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmES256}},
		Payload: dab,
	}
	if err := m.Sign(rand.Reader, nil, signer); err != nil {
		return nil, err
	}
	m.Payload = nil // detached
	sig, err := m.MarshalCBOR()
	if err != nil {
		return nil, err
	}
	dr := DeviceResponse{Version: "1.0", Documents: []Document{{
		DocType:      d.DocType,
		IssuerSigned: IssuerSigned{NameSpaces: map[string][]cbor.RawMessage{ns: items}, IssuerAuth: d.IssuerAuth},
		DeviceSigned: DeviceSigned{NameSpaces: devNS, DeviceAuth: DeviceAuth{DeviceSignature: sig}},
	}}}
	return Marshal(dr)
}
