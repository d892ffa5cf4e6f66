package wallet

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/internal/x5cjwt"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/sdjwt"
)

// sdJWTTypes are the accepted typ values of an SD-JWT VC (vc+sd-jwt is the
// older name still sent by some issuers).
var sdJWTTypes = []string{"dc+sd-jwt", "vc+sd-jwt"}

// kbMaxAge bounds how old a Key Binding JWT may be.
const kbMaxAge = 5 * time.Minute

// verifySDJWT verifies an SD-JWT VC presentation (SD-JWT VC draft, RFC
// 9901): issuer signature and x5c chain against the SD-JWT VC trust list,
// type, validity, disclosures, key binding to this request, status.
func (a *Adapter) verifySDJWT(ctx context.Context, pres string, st loginState, now time.Time) (*pid, error) {
	sd, err := sdjwt.Parse(pres)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCredential, err)
	}
	res, err := x5cjwt.Verify(sd.IssuerJWT, sdJWTTypes, a.sdRoots, now)
	if err != nil {
		return nil, fmt.Errorf("%w: issuer signature: %w", ErrCredential, err)
	}
	payload, err := sdjwt.DecodePayload(res.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCredential, err)
	}
	vct, _ := payload["vct"].(string)
	if !contains(a.vcts, vct) {
		return nil, fmt.Errorf("%w: vct %q is not an accepted PID type", ErrCredential, truncate(vct, 60))
	}
	if iss, _ := payload["iss"].(string); iss == "" {
		return nil, fmt.Errorf("%w: no iss", ErrCredential)
	}
	if err := checkValidity(payload, now); err != nil {
		return nil, err
	}
	holderKey, err := cnfKey(payload)
	if err != nil {
		return nil, err
	}
	claims, err := sdjwt.Reconstruct(payload, sd.Disclosures)
	if err != nil {
		return nil, fmt.Errorf("%w: disclosures: %w", ErrCredential, err)
	}
	alg, _ := payload["_sd_alg"].(string)
	if err := sd.VerifyKB(sdjwt.KBCheck{HolderKey: holderKey, HashAlg: alg, Audience: a.clientID,
		Nonce: st.Nonce, Now: now, MaxAge: kbMaxAge, Skew: clockSkew}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCredential, err)
	}
	// SD-JWT VC: status is never selectively disclosable; read it plain.
	if err := a.checkStatus(ctx, payload["status"], FormatSDJWT); err != nil {
		return nil, err
	}
	return pidFromSDJWT(claims, requestedSD(st.Claims)), nil
}

// checkValidity applies exp (required), nbf and iat with the clock skew.
func checkValidity(p map[string]any, now time.Time) error {
	exp, ok := sdjwt.NumericDate(p["exp"])
	if !ok {
		return fmt.Errorf("%w: no exp", ErrCredential)
	}
	if !now.Before(exp.Add(clockSkew)) {
		return fmt.Errorf("%w: expired", ErrCredential)
	}
	if v, present := p["nbf"]; present {
		nbf, ok := sdjwt.NumericDate(v)
		if !ok || now.Add(clockSkew).Before(nbf) {
			return fmt.Errorf("%w: not yet valid", ErrCredential)
		}
	}
	if v, present := p["iat"]; present {
		iat, ok := sdjwt.NumericDate(v)
		if !ok || now.Add(clockSkew).Before(iat) {
			return fmt.Errorf("%w: issued in the future", ErrCredential)
		}
	}
	return nil
}

// cnfKey reads the holder's public key from cnf.jwk.
func cnfKey(p map[string]any) (any, error) {
	cnf, _ := p["cnf"].(map[string]any)
	raw, ok := cnf["jwk"]
	if !ok {
		return nil, fmt.Errorf("%w: no cnf.jwk holder key (key binding impossible)", ErrCredential)
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: cnf.jwk: %w", ErrCredential, err)
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(b); err != nil || !k.IsPublic() || !k.Valid() {
		return nil, fmt.Errorf("%w: cnf.jwk is not a valid public key", ErrCredential)
	}
	return k.Key, nil
}

// pidFromSDJWT reads the asked attributes; anything disclosed beyond the
// query is ignored.
func pidFromSDJWT(c map[string]any, asked map[string]bool) *pid {
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	p := &pid{
		FamilyName: str(c, "family_name"), GivenName: str(c, "given_name"),
		Birthdate: str(c, "birthdate"), IssuingCountry: countryCode(str(c, "issuing_country")),
	}
	if asked["birth_family_name"] {
		p.BirthFamilyName = str(c, "birth_family_name")
	}
	if m, ok := c["place_of_birth"].(map[string]any); ok && asked["place_of_birth"] {
		p.PlaceOfBirth = &adapters.PlaceOfBirth{Country: countryCode(str(m, "country")), Region: str(m, "region"), Locality: str(m, "locality")}
	}
	if l, ok := c["nationalities"].([]any); ok && asked["nationalities"] {
		for _, v := range l {
			if s, _ := v.(string); countryCode(s) != "" {
				p.Nationalities = append(p.Nationalities, countryCode(s))
			}
		}
	}
	if m, ok := c["address"].(map[string]any); ok && asked["address"] {
		street := str(m, "street_address")
		if hn := str(m, "house_number"); hn != "" && street != "" {
			street += " " + hn
		}
		p.Address = &adapters.Address{Formatted: str(m, "formatted"), StreetAddress: street, Locality: str(m, "locality"),
			Region: str(m, "region"), PostalCode: str(m, "postal_code"), Country: countryCode(str(m, "country"))}
	}
	return p
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
