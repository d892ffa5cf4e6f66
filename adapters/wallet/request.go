package wallet

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Request object constants (OpenID4VP 1.0, RFC 9101).
const (
	requestObjectType = "oauth-authz-req+jwt"
	// staticAudience is the aud of a request object for a wallet whose
	// metadata the verifier does not know (OpenID4VP 1.0 §5.8).
	staticAudience = "https://self-issued.me/v2"
	// Credential query IDs in the DCQL query.
	querySDJWT = "pid_sd_jwt"
	queryMDoc  = "pid_mdoc"
)

// Accepted response encryption (HAIP 1.0: ECDH-ES on P-256 with A128GCM
// or A256GCM).
var (
	responseKeyAlgs = []jose.KeyAlgorithm{jose.ECDH_ES}
	responseEncs    = []jose.ContentEncryption{jose.A128GCM, jose.A256GCM}
)

// clientID derives the client identifier with its prefix from the access
// certificate: x509_hash is base64url(SHA-256(DER)) of the leaf.
func clientID(prefix string, leaf *x509.Certificate) string {
	if prefix == PrefixX509SanDNS {
		return PrefixX509SanDNS + ":" + leaf.DNSNames[0]
	}
	h := sha256.Sum256(leaf.Raw)
	return PrefixX509Hash + ":" + base64.RawURLEncoding.EncodeToString(h[:])
}

// responseURI is where the wallet posts (direct_post.jwt).
func (a *Adapter) responseURI() string { return a.origin + "/login/" + a.id + "/response" }

// requestObject signs the authorization request for one login.
func (a *Adapter) requestObject(st loginState, encPub *ecdsa.PublicKey, now, exp time.Time) (string, error) {
	jwk := jose.JSONWebKey{Key: encPub, KeyID: st.Kid, Use: "enc", Algorithm: string(jose.ECDH_ES)}
	meta := map[string]any{
		"jwks": map[string]any{"keys": []any{jwk}},
		"encrypted_response_enc_values_supported": []string{string(jose.A128GCM), string(jose.A256GCM)},
		"vp_formats_supported":                    a.vpFormats(),
	}
	regCert := a.registrationCert
	if a.rpName != "" {
		meta["client_name"] = a.rpName
	}
	if rp, ok := a.clients[st.Client]; ok {
		// The broker asks as an intermediary: the wallet shows the portal
		// (and through whom it asks) and the portal's intended use.
		meta["client_name"] = rp.name
		if a.rpName != "" {
			meta["client_name"] = rp.name + " (via " + a.rpName + ")"
		}
		if rp.purpose != "" {
			meta["purpose"] = rp.purpose
		}
		if rp.registrationCert != "" {
			regCert = rp.registrationCert
		}
	}
	claims := map[string]any{
		"iss":             a.clientID,
		"aud":             staticAudience,
		"iat":             now.Unix(),
		"exp":             exp.Unix(),
		"client_id":       a.clientID,
		"response_type":   "vp_token",
		"response_mode":   "direct_post.jwt",
		"response_uri":    a.responseURI(),
		"nonce":           st.Nonce,
		"state":           st.State,
		"dcql_query":      a.dcql(st.Claims),
		"client_metadata": meta,
	}
	if regCert != "" {
		claims["verifier_info"] = []any{map[string]any{"format": "registration_cert", "data": regCert}}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	x5c := make([]string, len(a.accessChain))
	for i, c := range a.accessChain {
		x5c[i] = base64.StdEncoding.EncodeToString(c.Raw)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: a.accessKey},
		(&jose.SignerOptions{}).WithType(requestObjectType).WithHeader("x5c", x5c))
	if err != nil {
		return "", fmt.Errorf("request object signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign request object: %w", err)
	}
	return jws.CompactSerialize()
}

func (a *Adapter) vpFormats() map[string]any {
	f := map[string]any{}
	if a.sdjwt {
		f[FormatSDJWT] = map[string]any{"sd-jwt_alg_values": []string{"ES256"}, "kb-jwt_alg_values": []string{"ES256"}}
	}
	if a.mdoc {
		f[FormatMDoc] = map[string]any{"issuerauth_alg_values": []int{-7}, "deviceauth_alg_values": []int{-7}}
	}
	return f
}

// pidClaim says how one OIDC claim is asked for in each format.
type pidClaim struct {
	sd   [][]any  // DCQL claim paths in the SD-JWT VC
	mdoc []string // data element identifiers in the PID namespace
}

// subjectClaims are always asked for: the upstream subject is derived
// from them (see the package documentation).
var subjectClaims = pidClaim{
	sd:   [][]any{{"family_name"}, {"given_name"}, {"birthdate"}, {"issuing_country"}},
	mdoc: []string{"family_name", "given_name", "birth_date", "issuing_country"},
}

// claimMap maps the OIDC claims a portal may ask for to PID attributes
// (ARF PID rulebook, chapters 3 and 4).
var claimMap = map[string]pidClaim{
	"place_of_birth":    {sd: [][]any{{"place_of_birth"}}, mdoc: []string{"place_of_birth"}},
	"nationalities":     {sd: [][]any{{"nationalities"}}, mdoc: []string{"nationality"}},
	"birth_family_name": {sd: [][]any{{"birth_family_name"}}, mdoc: []string{"family_name_birth"}},
	"address": {sd: [][]any{{"address"}}, mdoc: []string{"resident_street", "resident_postal_code",
		"resident_city", "resident_country"}},
}

// dcql is the DCQL query for exactly the PID attributes this login needs,
// one credential query per enabled format and a credential set that lets
// the wallet answer with either.
func (a *Adapter) dcql(oidcClaims []string) map[string]any {
	want := []pidClaim{subjectClaims}
	for _, c := range oidcClaims {
		if m, ok := claimMap[c]; ok {
			want = append(want, m)
		}
	}
	var creds []any
	var options []any
	if a.sdjwt {
		var cl []any
		for _, w := range want {
			for _, p := range w.sd {
				cl = append(cl, map[string]any{"path": p})
			}
		}
		creds = append(creds, map[string]any{"id": querySDJWT, "format": FormatSDJWT,
			"meta": map[string]any{"vct_values": a.vcts}, "claims": cl})
		options = append(options, []string{querySDJWT})
	}
	if a.mdoc {
		var cl []any
		for _, w := range want {
			for _, e := range w.mdoc {
				cl = append(cl, map[string]any{"path": []string{PIDDocType, e}, "intent_to_retain": false})
			}
		}
		creds = append(creds, map[string]any{"id": queryMDoc, "format": FormatMDoc,
			"meta": map[string]any{"doctype_value": PIDDocType}, "claims": cl})
		options = append(options, []string{queryMDoc})
	}
	return map[string]any{"credentials": creds, "credential_sets": []any{map[string]any{"options": options}}}
}

// requestedElements lists the attributes asked for, per format, for the
// check that nothing else is taken from the presentation.
func requestedSD(oidcClaims []string) map[string]bool {
	out := map[string]bool{}
	for _, w := range append([]pidClaim{subjectClaims}, claimsOf(oidcClaims)...) {
		for _, p := range w.sd {
			out[p[0].(string)] = true
		}
	}
	return out
}

func requestedMDoc(oidcClaims []string) map[string]bool {
	out := map[string]bool{}
	for _, w := range append([]pidClaim{subjectClaims}, claimsOf(oidcClaims)...) {
		for _, e := range w.mdoc {
			out[e] = true
		}
	}
	return out
}

func claimsOf(oidcClaims []string) []pidClaim {
	var out []pidClaim
	for _, c := range oidcClaims {
		if m, ok := claimMap[c]; ok {
			out = append(out, m)
		}
	}
	return out
}

// responseKey rebuilds the ephemeral decryption key from the state.
func responseKey(d []byte) (*ecdsa.PrivateKey, error) {
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		return nil, fmt.Errorf("%w: bad response key in state", ErrRequest)
	}
	return priv, nil
}

// jwkThumbprint is the RFC 7638 SHA-256 thumbprint of the response key,
// part of the mdoc session transcript.
func jwkThumbprint(pub *ecdsa.PublicKey) ([]byte, error) {
	return (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
}
