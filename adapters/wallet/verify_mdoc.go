package wallet

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/mdoc"
)

// verifyMDoc verifies an mdoc PID presentation (a base64url DeviceResponse,
// OpenID4VP 1.0 Appendix B.2): MSO signature against the IACA trust list,
// validity, element digests, device signature over the OpenID4VP session
// transcript of this request, status.
func (a *Adapter) verifyMDoc(ctx context.Context, pres string, st loginState, now time.Time) (*pid, error) {
	raw, err := base64.RawURLEncoding.DecodeString(pres)
	if err != nil {
		return nil, fmt.Errorf("%w: device response is not base64url", ErrCredential)
	}
	priv, err := responseKey(st.Key)
	if err != nil {
		return nil, err
	}
	thumb, err := jwkThumbprint(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	transcript, err := mdoc.OpenID4VPSessionTranscript(a.clientID, st.Nonce, thumb, a.responseURI())
	if err != nil {
		return nil, err
	}
	v, err := mdoc.Verify(raw, mdoc.VerifyOptions{Roots: a.mdRoots, Now: now, Skew: clockSkew,
		DocType: PIDDocType, SessionTranscript: transcript})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCredential, err)
	}
	var status any
	if s := v.MSO.Status; s != nil && s.StatusList != nil {
		status = map[string]any{"status_list": map[string]any{"idx": s.StatusList.Idx, "uri": s.StatusList.URI}}
	}
	if err := a.checkStatus(ctx, status, FormatMDoc); err != nil {
		return nil, err
	}
	return pidFromMDoc(v.Elements[PIDDocType], requestedMDoc(st.Claims)), nil
}

// pidFromMDoc reads the asked elements of the PID name space.
func pidFromMDoc(e map[string]any, asked map[string]bool) *pid {
	str := func(k string) string {
		if !asked[k] {
			return ""
		}
		s, _ := e[k].(string)
		return s
	}
	p := &pid{FamilyName: str("family_name"), GivenName: str("given_name"),
		Birthdate: fullDate(e["birth_date"]), IssuingCountry: countryCode(str("issuing_country")),
		BirthFamilyName: str("family_name_birth")}
	if m, ok := e["place_of_birth"].(map[string]any); ok && asked["place_of_birth"] {
		s := func(k string) string { v, _ := m[k].(string); return v }
		p.PlaceOfBirth = &adapters.PlaceOfBirth{Country: countryCode(s("country")), Region: s("region"), Locality: s("locality")}
	}
	if l, ok := e["nationality"].([]any); ok && asked["nationality"] {
		for _, v := range l {
			if s, _ := v.(string); countryCode(s) != "" {
				p.Nationalities = append(p.Nationalities, countryCode(s))
			}
		}
	}
	if asked["resident_city"] {
		street := str("resident_street")
		if hn := str("resident_house_number"); hn != "" && street != "" {
			street += " " + hn
		}
		addr := adapters.Address{StreetAddress: street, Locality: str("resident_city"),
			PostalCode: str("resident_postal_code"), Country: countryCode(str("resident_country"))}
		if addr != (adapters.Address{}) {
			p.Address = &addr
		}
	}
	return p
}

// fullDate reads a birth date: full-date (tag 1004) or a plain string.
func fullDate(v any) string {
	switch x := v.(type) {
	case cbor.Tag:
		if x.Number == 1004 {
			s, _ := x.Content.(string)
			return s
		}
	case string:
		return x
	}
	return ""
}
