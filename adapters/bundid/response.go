package bundid

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
)

// maxValue bounds one attribute value.
const maxValue = 1024

// Finish implements adapters.Adapter: the answer is an HTTP-POST of
// SAMLResponse and RelayState at the login's callback.
func (a *Adapter) Finish(ctx context.Context, _ adapters.Request, state []byte, r *http.Request) (adapters.Identity, error) {
	var st loginState
	if err := json.Unmarshal(state, &st); err != nil || st.V != stateVersion || st.ID == "" || st.Issued == 0 {
		return adapters.Identity{}, fmt.Errorf("%w: unreadable", ErrState)
	}
	raw, err := sp.ReadPOSTResponse(r, st.Ref)
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("%s: finish: %w", a.typ, err)
	}
	id, err := a.processResponse(ctx, &st, raw)
	if err != nil {
		return adapters.Identity{}, fmt.Errorf("%s: finish: %w", a.typ, err)
	}
	return id, nil
}

// attr is one attribute of the assertion, read from the verified element.
type attr struct {
	values []string
	trust  string
	hasTL  bool
}

func (a *Adapter) processResponse(ctx context.Context, st *loginState, raw []byte) (adapters.Identity, error) {
	now := a.now()
	issued := time.Unix(st.Issued, 0)
	if now.Sub(issued) > maxStateAge {
		return adapters.Identity{}, fmt.Errorf("%w: request older than %s", ErrState, maxStateAge)
	}
	md, _, err := a.peer.Usable()
	if err != nil {
		return adapters.Identity{}, err
	}
	var classLevel assurance.Level
	ai, err := sp.ValidateResponse(raw, sp.Expect{
		Peer: md, EntityID: a.entityID, ACSURL: a.acsURL, RequestID: st.ID, Issued: issued,
		Now: now, Skew: a.skew, Policy: a.policy, DecryptionKey: a.o.decKey, ForceAuthn: true,
		AuthnContext: func(ref string, present bool) error {
			if !present {
				return fmt.Errorf("%w: AuthnContextClassRef missing", ErrLevel)
			}
			l, ok := a.levels[ref]
			if !ok {
				return fmt.Errorf("%w: AuthnContextClassRef %q", ErrLevel, samlxml.Truncate(ref, 40))
			}
			classLevel = l
			return nil
		},
	})
	if err != nil {
		return adapters.Identity{}, err
	}
	attrs, err := readAttributes(ai.Attributes)
	if err != nil {
		return adapters.Identity{}, err
	}
	level, err := a.provedLevel(classLevel, attrs)
	if err != nil {
		return adapters.Identity{}, err
	}
	if floor, _ := assurance.ParseName(st.Floor); floor.Notified() && !level.Satisfies(floor) {
		// Asked for at least the floor, answered below it: reported as
		// proved, so the broker's level engine refuses it with the
		// unmet-level page and a way to a stronger method.
		a.log.Info("answer below the requested level", "asked", st.Asked, "proved", level.String())
	}
	subject, err := a.subject(ai, attrs)
	if err != nil {
		return adapters.Identity{}, err
	}
	for _, n := range st.Required {
		if v, ok := attrs[n]; !ok || len(v.values) == 0 {
			return adapters.Identity{}, fmt.Errorf("%w: %s", ErrMissing, n)
		}
	}
	claims := a.mapClaims(attrs, level, st.Attrs)
	var amr []string
	if a.methodAttr != "" {
		if v, ok := attrs[a.methodAttr]; ok {
			for _, m := range v.values {
				if x, ok := provedBy[m]; ok && !slices.Contains(amr, x) {
					amr = append(amr, x)
				} else if !ok {
					a.log.Warn("unknown means in the method attribute", "value", samlxml.Truncate(m, 24))
				}
			}
		}
	}
	// Single use across replicas, after every other check, so a refused
	// answer does not burn its IDs.
	if err := sp.Consume(ctx, a.store, a.typ+":", md.EntityID, ai, now, a.skew); err != nil {
		return adapters.Identity{}, err
	}
	a.log.Info("response accepted", "level", level.String(), "amr", strings.Join(amr, " "))
	return adapters.Identity{Subject: subject, Level: level, AuthTime: ai.AuthnInstant, Claims: claims, AMR: amr}, nil
}

// readAttributes reads the AttributeStatement: values by Name, with the
// AKDB per-attribute trust level. An attribute listed twice is refused
// (which of the two would be the truth?).
func readAttributes(stmt *etree.Element) (map[string]attr, error) {
	out := map[string]attr{}
	for _, at := range samlxml.Children(stmt, samlxml.NSAssertion, "Attribute") {
		name := strings.TrimSpace(samlxml.AttrValue(at, "Name"))
		if name == "" {
			continue
		}
		// Some published material has "urn:oid: 1.2…" with a space; the
		// name is matched without it.
		name = strings.ReplaceAll(name, " ", "")
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%w: attribute %s listed twice", sp.ErrMalformed, samlxml.Truncate(name, 60))
		}
		var v attr
		v.trust, v.hasTL = samlxml.NSAttr(at, NSAKDB, "TrustLevel")
		for _, av := range samlxml.Children(at, samlxml.NSAssertion, "AttributeValue") {
			s := samlxml.Text(av)
			if s == "" || len(s) > maxValue || strings.ContainsRune(s, 0) {
				continue
			}
			v.values = append(v.values, s)
		}
		out[name] = v
	}
	return out, nil
}

// provedLevel maps the AuthnContextClassRef level and, when configured and
// present, the level attribute; the lower of the two is proved. Both must
// be in the table.
func (a *Adapter) provedLevel(class assurance.Level, attrs map[string]attr) (assurance.Level, error) {
	if a.levelAttr == "" {
		return class, nil
	}
	v, ok := attrs[a.levelAttr]
	if !ok {
		return class, nil
	}
	if len(v.values) != 1 {
		return assurance.Unspecified, fmt.Errorf("%w: level attribute needs exactly one value", ErrLevel)
	}
	l, ok := a.levels[v.values[0]]
	if !ok {
		return assurance.Unspecified, fmt.Errorf("%w: level attribute %q", ErrLevel, samlxml.Truncate(v.values[0], 40))
	}
	return lowerLevel(class, l)
}

// lowerLevel is the weaker of two levels; two different levels of which one
// is not notified cannot be ordered and are refused.
func lowerLevel(x, y assurance.Level) (assurance.Level, error) {
	switch {
	case x == y:
		return x, nil
	case x.Notified() && y.Notified():
		return min(x, y), nil
	}
	return assurance.Unspecified, fmt.Errorf("%w: AuthnContextClassRef and level attribute disagree", ErrLevel)
}

// subject is the subject attribute's single value (bPK2) or, without one
// configured, a persistent NameID.
func (a *Adapter) subject(ai *sp.Assertion, attrs map[string]attr) (string, error) {
	if a.subjectAttr != "" {
		v, ok := attrs[a.subjectAttr]
		if !ok || len(v.values) != 1 {
			return "", fmt.Errorf("%w: %s needs exactly one value", ErrSubject, a.subjectAttr)
		}
		return v.values[0], nil
	}
	if ai.NameID == "" || ai.NameIDFormat != samlxml.NameIDPersistent {
		return "", fmt.Errorf("%w: a persistent NameID is required without subject_attribute", ErrSubject)
	}
	return ai.NameID, nil
}

var (
	birthdateRE = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?$`)
	alpha2RE    = regexp.MustCompile(`^[A-Z]{2}$`)
)

// country normalises BundID's country codes: ICAO "D" is Germany.
func country(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "D" {
		return "DE", true
	}
	return s, alpha2RE.MatchString(s)
}

// gender maps ISO/IEC 5218 (1 male, 2 female); 0 and 9 say nothing.
func gender(s string) string {
	switch s {
	case "1":
		return "male"
	case "2":
		return "female"
	}
	return ""
}

// mapClaims applies the attribute table to what was requested. With a
// trust-level table, an attribute verified below the proved level (or at
// a level the table does not know, such as self-asserted data) is
// dropped: every claim goes out at the level of the login.
func (a *Adapter) mapClaims(attrs map[string]attr, level assurance.Level, requested []string) adapters.Claims {
	var c adapters.Claims
	addr := &adapters.Address{}
	setExtra := func(k, v string) {
		if c.Extra == nil {
			c.Extra = map[string]string{}
		}
		c.Extra[k] = v
	}
	for _, e := range a.attributes {
		v, ok := attrs[e.Name]
		if !ok || len(v.values) == 0 || !slices.Contains(requested, e.Name) {
			continue
		}
		if len(a.trustLevels) > 0 && v.hasTL {
			tl, known := a.trustLevels[v.trust]
			if !known || !tl.Satisfies(level) {
				a.log.Info("attribute below the login's level dropped", "claim", e.Claim)
				continue
			}
		}
		first := v.values[0]
		switch e.Claim {
		case "given_name":
			c.GivenName = first
		case "family_name":
			c.FamilyName = first
		case "birth_family_name":
			c.BirthFamilyName = first
		case "birthdate":
			if birthdateRE.MatchString(first) {
				c.Birthdate = first
			}
		case "gender":
			c.Gender = gender(first)
		case "title":
			c.Title = first
		case "nationalities":
			for _, n := range v.values {
				if cc, ok := country(n); ok && !slices.Contains(c.Nationalities, cc) {
					c.Nationalities = append(c.Nationalities, cc)
				}
			}
		case "place_of_birth":
			c.PlaceOfBirth = &adapters.PlaceOfBirth{Locality: first}
		case "address.street_address":
			addr.StreetAddress = first
		case "address.postal_code":
			addr.PostalCode = first
		case "address.locality":
			addr.Locality = first
		case "address.region":
			addr.Region = first
		case "address.formatted":
			addr.Formatted = first
		case "address.country":
			if cc, ok := country(first); ok {
				addr.Country = cc
			}
		default:
			setExtra(e.Claim, first)
		}
	}
	if *addr != (adapters.Address{}) {
		c.Address = addr
	}
	return c
}
