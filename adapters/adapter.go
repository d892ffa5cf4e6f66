package adapters

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Adapter authenticates a person against one upstream identity system.
//
// Adapters are stateless between calls: whatever a login needs to remember
// between Begin and Finish goes into the state bytes that Begin returns. The
// broker stores them with the transaction (encrypted, TTL-bound) and hands
// them back to Finish exactly once. An adapter must therefore never trust
// anything in the browser's request that is not bound to that state.
//
// Implementations must be safe for concurrent use.
type Adapter interface {
	// Info describes the adapter for the login page and the level engine.
	// It is called often and must be cheap.
	Info() Info

	// Begin starts authentication for req and says how to hand the browser
	// over. It must not block on the person (no polling here).
	Begin(ctx context.Context, req Request) (Handoff, []byte, error)

	// Finish verifies the upstream's answer, which arrived as r at
	// req.CallbackURL, against state from Begin. It returns the identity with
	// the level the upstream evidence proves (never a level copied from the
	// request). Errors should wrap ErrCancelled when the person cancelled,
	// so the broker can answer the portal with access_denied.
	Finish(ctx context.Context, req Request, state []byte, r *http.Request) (Identity, error)
}

// Info is the static description of a configured adapter.
type Info struct {
	// Type is the adapter kind ("eid", "elster", "eidas", "demo"); it is also
	// the amr value put into ID tokens.
	Type string
	// Name is shown on the login page, in German and English.
	Name Text
	// MaxLevel is the highest level this adapter can ever prove (after the
	// admin's cap). The login page only offers adapters whose MaxLevel (or an
	// Option's Level) satisfies the floor.
	MaxLevel assurance.Level
	// Options are sub-choices the person picks on the broker's login page
	// (eIDAS: one per country). Empty for adapters without a choice.
	Options []Option
	// Family groups adapters that people know as one login means reached
	// by different routes ("elster": the certificate checked by the broker,
	// and ELSTER's own NEZO login). When several configured adapters share
	// a Family, the login page offers them as one choice named FamilyName
	// with the routes underneath. Empty: the adapter stands alone.
	Family     string
	FamilyName Text
	// Route names this adapter's route within its Family on the login page.
	Route Text
}

// Option is one sub-choice of an adapter, such as a country.
type Option struct {
	ID    string // stable, URL-safe ("AT", "SE")
	Name  Text
	Level assurance.Level // the highest level reachable through this option
	// Unavailable is set when the option cannot be used right now (metadata
	// unreachable); the page shows it greyed out with this reason.
	Unavailable string
}

// Text is a short user-facing text in German and English.
type Text struct{ DE, EN string }

// In returns the text for lang: "en" is English, anything else German
// (the default language of the pages).
func (t Text) In(lang string) string {
	if lang == "en" {
		return t.EN
	}
	return t.DE
}

// LevelName is how pages name a notified level to people; false for any
// other level.
func LevelName(l assurance.Level) (Text, bool) {
	switch l {
	case assurance.Low:
		return Text{DE: "niedrig", EN: "low"}, true
	case assurance.Substantial:
		return Text{DE: "substanziell", EN: "substantial"}, true
	case assurance.High:
		return Text{DE: "hoch", EN: "high"}, true
	case assurance.Unspecified, assurance.NotNotifiedLow, assurance.NotNotifiedSubstantial, assurance.NotNotifiedHigh:
	}
	return Text{}, false
}

// Request is what the broker tells an adapter about one login.
type Request struct {
	// TxID identifies the transaction. Unguessable and single-use; adapters
	// may use it as a correlation ID upstream (e.g. SAML RelayState).
	TxID string
	// Ref is a second unguessable reference to the same transaction, safe to
	// put in URLs fetched without the person's cookie (eID-Client TC Token).
	Ref string
	// MinLevel is the floor the broker will enforce; the adapter should ask
	// its upstream for at least this level (eIDAS RequestedAuthnContext).
	MinLevel assurance.Level
	// Option is the sub-choice the person picked (a country code), if any.
	Option string
	// CallbackURL is where the upstream's answer must arrive (GET or POST);
	// the broker calls Finish from there.
	CallbackURL string
	// BaseURL is the broker's external base URL (scheme://host[/prefix]).
	BaseURL string
	// Claims lists the OIDC claims the portal may receive; an adapter asks
	// its upstream only for what is needed (data minimisation).
	Claims []string
	// Locale is the person's language preference ("de" or "en").
	Locale string
	// ClientID is the portal the login is for, and Services the
	// administrative services it requested (scope "service:<id>"), so an
	// adapter can tell its upstream which online service asks (BundID's
	// OnlineServiceId and OrganizationDisplayName per service). Neither is
	// a secret nor personal data; both may be empty.
	ClientID string
	Services []string
}

// Handoff says how the browser continues after Begin. Exactly one of
// RedirectURL, PostURL, Content or Page is set.
type Handoff struct {
	// RedirectURL: answer with 303 to this URL.
	RedirectURL string
	// PostURL and PostForm: render an auto-submitting form (SAML HTTP-POST).
	PostURL  string
	PostForm url.Values
	// Content is the main content of a page of the adapter's own (HTML
	// that goes inside <main>, in req.Locale, with exactly one <h1>), which
	// the broker shows in its own layout: the operator's branding, the
	// portal and service the login is for, the language switch and the
	// legal links. Title names the step for the page's <title>. Preferred
	// over Page; it is served with the same strict CSP (no inline script
	// or style).
	Content []byte
	Title   string
	// Needs loosen the broker's page policy for Content, only as far as
	// the page needs; the zero value is the strictest.
	Needs ContentNeeds
	// Page is a complete HTML page of the adapter's own, rendered as is,
	// with a strict CSP. It has none of the broker's layout (branding,
	// portal, language switch, expiry warning): use Content.
	Page []byte
}

// ContentNeeds are what a Content page needs beyond the broker's strict
// page policy. Each is granted for that one page only.
type ContentNeeds struct {
	// Fetch lets the page's script ask the broker's own origin
	// (connect-src 'self'), e.g. to poll the state of a login.
	Fetch bool
	// DataImages lets the page show data: images (img-src data:), e.g. a
	// QR code rendered on the server.
	DataImages bool
	// SameOriginReferrer sets the page's referrer policy to same-origin
	// instead of no-referrer, so that browsers without Fetch Metadata send
	// the broker's origin (not "null") in the Origin header of the page's
	// form posts, for adapters that check it.
	SameOriginReferrer bool
}

// Identity is what an adapter proved about a person.
type Identity struct {
	// Subject is the stable upstream identifier (eID restricted
	// identification, eIDAS PersonIdentifier, ELSTER certificate identity).
	// The broker never shows it to portals: it derives pairwise subjects.
	Subject string
	// Level is the level the upstream evidence proves.
	Level assurance.Level
	// AuthTime is when the upstream authenticated the person.
	AuthTime time.Time
	// Claims are the normalised attributes.
	Claims Claims
	// AMR lists how the upstream says it authenticated the person, as
	// amr values (BundID's AssertionProvedBy: "eid", "elster", "eidas"),
	// for the ID token's amr after the adapter type. Empty when the
	// upstream does not say.
	AMR []string `json:"amr,omitempty"`
}

// Claims are normalised person attributes, named after the OIDC and OpenID
// Identity Assurance claims they become. Empty fields are absent.
type Claims struct {
	GivenName       string `json:"given_name,omitempty"`
	FamilyName      string `json:"family_name,omitempty"`
	BirthFamilyName string `json:"birth_family_name,omitempty"`
	// Birthdate is YYYY-MM-DD, or YYYY-MM / YYYY when day or month are unknown.
	Birthdate     string        `json:"birthdate,omitempty"`
	PlaceOfBirth  *PlaceOfBirth `json:"place_of_birth,omitempty"`
	Address       *Address      `json:"address,omitempty"`
	Nationalities []string      `json:"nationalities,omitempty"` // ISO 3166-1 alpha-2
	Gender        string        `json:"gender,omitempty"`
	Title         string        `json:"title,omitempty"`
	// Extra carries values with no standard claim (document type, issuing
	// state, eIDAS birth_name); keys are snake_case claim names.
	Extra       map[string]string `json:"extra,omitempty"`
	LegalEntity *LegalEntity      `json:"legal_entity,omitempty"`
	// Scripts holds the values an upstream also wrote in a non-Latin script
	// (eIDAS LatinScript="false": Greek, Cyrillic), keyed by BCP 47 language
	// tag ("el", "bg", "und-Cyrl"). An entry sets only the fields that have
	// such a form, while the fields above keep the Latin transliteration;
	// entries have no Scripts of their own. The broker releases them as
	// OIDC Core §5.2 language-tagged claims ("family_name#el") together
	// with the claim they belong to.
	Scripts map[string]Claims `json:"scripts,omitempty"`
}

// PlaceOfBirth follows OpenID Identity Assurance (country, region, locality).
type PlaceOfBirth struct {
	Country  string `json:"country,omitempty"`
	Region   string `json:"region,omitempty"`
	Locality string `json:"locality,omitempty"`
}

// Address follows OIDC Core 5.1.1.
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"street_address,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postal_code,omitempty"`
	Country       string `json:"country,omitempty"`
}

// LegalEntity is the organisation a person acts for. Name, Identifier and
// Country are what every upstream can give (eIDAS LegalName and
// LegalPersonIdentifier); the optional fields carry the German register
// and tax data that ELSTER's organisation accounts deliver.
type LegalEntity struct {
	Name       string `json:"name,omitempty"`
	Identifier string `json:"identifier,omitempty"`
	Country    string `json:"country,omitempty"`
	// TaxNumber is the German Steuernummer as the tax office issued it.
	TaxNumber string `json:"tax_number,omitempty"`
	// VATID is the VAT identification number (USt-IdNr, "DE" + 9 digits).
	VATID string `json:"vat_id,omitempty"`
	// LegalForm is the legal form as the upstream names it ("GmbH").
	LegalForm string `json:"legal_form,omitempty"`
	// Register is the entry in a public register (Handelsregister,
	// Vereinsregister, …), when there is one.
	Register *Register `json:"register,omitempty"`
	// Address is the organisation's address (OIDC address structure).
	Address *Address `json:"address,omitempty"`
}

// Register is an entry in a German public register.
type Register struct {
	// Type is the kind of register as the upstream names it ("HRB",
	// "Handelsregister B", "VR").
	Type string `json:"type,omitempty"`
	// Number is the register number ("12345").
	Number string `json:"number,omitempty"`
	// Court is the keeping court ("Amtsgericht München").
	Court string `json:"court,omitempty"`
}

// ErrCancelled is wrapped by Finish when the person cancelled upstream.
var ErrCancelled = errors.New("authentication cancelled by the person")

// Deps are what the broker lends an adapter when it opens it.
type Deps struct {
	// Logger is already scoped with the adapter's ID by the broker; an
	// adapter adds only what its own lines need. Never log personal data.
	Logger *slog.Logger
	HTTP   *http.Client
	Now    func() time.Time
	// BaseURL is the broker's external base URL.
	BaseURL string
	// Store is short-lived storage lent to the adapter, already confined to
	// a key space of its own (keys cannot collide with the broker's or
	// another adapter's). Use it only for what must be found without the
	// transaction (a TC Token fetched by the eID-Client by reference) or
	// remembered across transactions (replay caches: Create returns
	// store.ErrExists for an ID seen before). Store errors must fail the
	// login closed.
	Store store.Store
}

// Optional capabilities, probed with type assertions.

// Router is implemented by adapters that serve HTTP endpoints of their own
// (metadata, TC Token, challenge pages). The broker mounts the handler under
// /login/{adapter id}/ and, for mandated paths, under the path the adapter
// names (e.g. /saml/connector/). Handlers must not rely on the person's cookie.
type Router interface {
	Routes() http.Handler
}

// HealthChecker is implemented by adapters whose upstream can be down
// (metadata unreachable, eID-Server not answering); readiness reports it.
type HealthChecker interface {
	CheckHealth(ctx context.Context) error
}

// Reason classifies why Finish refused an answer, so the broker can tell
// the person what happened and what to do next (another method, another
// certificate, try later) instead of one vague sentence. It never carries
// personal data; the wrapped error keeps the technical detail for the log.
type Reason string

// The reasons the broker explains on its pages. An error without one is
// shown as "the login could not be verified".
const (
	ReasonCertificateRevoked   Reason = "certificate_revoked"   // ELSTER: certificate revoked or suspended
	ReasonCertificateExpired   Reason = "certificate_expired"   // ELSTER: certificate expired or not yet valid
	ReasonCertificateUsage     Reason = "certificate_usage"     // ELSTER: certificate not meant for logging in
	ReasonCertificateUntrusted Reason = "certificate_untrusted" // ELSTER: certificate not issued by ELSTER
	ReasonCardBlocked          Reason = "card_blocked"          // eID: card blocked, PIN locked, document invalid or revoked
	ReasonDocumentNotAccepted  Reason = "document_not_accepted" // eID: document type or Smart-eID below the level
	ReasonCredentialRevoked    Reason = "credential_revoked"    // wallet: the PID was revoked or suspended by its issuer
	ReasonUpstreamUnreachable  Reason = "upstream_unreachable"  // the upstream did not answer
	ReasonAuthnFailed          Reason = "authn_failed"          // the upstream reports that authentication failed
)

// ReasonError attaches a Reason to an error of Finish.
type ReasonError struct {
	Reason Reason
	Err    error
}

func (e *ReasonError) Error() string { return e.Err.Error() }
func (e *ReasonError) Unwrap() error { return e.Err }

// WithReason wraps err with r; nil stays nil.
func WithReason(r Reason, err error) error {
	if err == nil {
		return nil
	}
	return &ReasonError{Reason: r, Err: err}
}

// ReasonOf returns the reason attached anywhere in err's chain, or "".
func ReasonOf(err error) Reason {
	var re *ReasonError
	if errors.As(err, &re) {
		return re.Reason
	}
	return ""
}
