package eidas

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/xmlsec"
)

// values are the values of one attribute, split by script (Attribute
// Profile §2.4: a non-Latin value is marked LatinScript="false" and comes
// with a transliterated Latin one).
type values struct {
	latin  []string
	native []string
}

func (v *values) empty() bool { return v == nil || len(v.latin)+len(v.native) == 0 }

// one returns the single main value (Latin if there is one) and the native
// form, refusing several values where eIDAS defines one.
func (v *values) one(name string) (main, native string, err error) {
	if v.empty() {
		return "", "", nil
	}
	if len(v.latin) > 1 || len(v.native) > 1 {
		return "", "", fmt.Errorf("%w: %s has several values", ErrAttribute, name)
	}
	if len(v.native) == 1 {
		native = v.native[0]
	}
	if len(v.latin) == 1 {
		return v.latin[0], native, nil
	}
	return native, "", nil
}

var (
	// personIDRE is the unique identifier format XX/YY/…: the issuing and
	// the receiving country, then up to 250 non-blank characters (Attribute
	// Profile §2.2.3: at most 256 characters, no white space).
	personIDRE = regexp.MustCompile(`^([A-Z]{2})/([A-Z]{2})/(\S{1,250})$`)
	isoRE      = regexp.MustCompile(`^[A-Z]{2}$`)
)

// naturalMDS are the representative attributes we read when a natural
// person acts for a legal person.
var naturalMDS = []string{"PersonIdentifier", "CurrentFamilyName", "CurrentGivenName", "DateOfBirth"}

// collectAttributes reads every attribute of the statement by Name URI
// (never FriendlyName). Duplicated attribute names are refused.
func collectAttributes(stmt *etree.Element) (map[string]*values, error) {
	out := map[string]*values{}
	for _, at := range samlxml.Children(stmt, samlxml.NSAssertion, "Attribute") {
		name := samlxml.AttrValue(at, "Name")
		if name == "" {
			return nil, fmt.Errorf("%w: attribute without Name", ErrMalformed)
		}
		if f, ok := samlxml.Attr(at, "NameFormat"); ok && f != samlxml.AttrNameFormatURI {
			return nil, fmt.Errorf("%w: attribute NameFormat %q", ErrMalformed, samlxml.Truncate(f, 80))
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%w: attribute %s given twice", ErrAttribute, shortAttr(name))
		}
		v := &values{}
		for _, av := range samlxml.Children(at, samlxml.NSAssertion, "AttributeValue") {
			s := samlxml.Text(av)
			if s == "" {
				continue
			}
			ls, ok := samlxml.NSAttr(av, samlxml.NSNatural, "LatinScript")
			if !ok {
				ls, ok = samlxml.NSAttr(av, samlxml.NSLegal, "LatinScript")
			}
			if ok && ls == "false" {
				v.native = append(v.native, s)
			} else {
				v.latin = append(v.latin, s)
			}
		}
		out[name] = v
	}
	return out, nil
}

func shortAttr(uri string) string {
	if i := strings.LastIndex(uri, "/"); i >= 0 && i < len(uri)-1 {
		return uri[i+1:]
	}
	return samlxml.Truncate(uri, 60)
}

// mapAttributes turns the attribute statement into an identity. It handles
// representation (Attribute Profile §2.8): a natural person acting for a
// legal person (legal attributes plus representative natural attributes)
// is supported; any other representation is refused, so a portal never
// mistakes a representative for the represented person.
func (a *Adapter) mapAttributes(stmt *etree.Element, c *country, st *loginState) (adapters.Identity, error) {
	all, err := collectAttributes(stmt)
	if err != nil {
		return adapters.Identity{}, err
	}
	repNatural, repLegal := false, false
	for name, v := range all {
		if v.empty() {
			continue
		}
		repNatural = repNatural || strings.HasPrefix(name, naturalRepPrefix)
		repLegal = repLegal || strings.HasPrefix(name, legalRepPrefix)
	}
	// Only what we asked for is used (data minimisation); the identifiers
	// and, for representation, the representative's minimum data set are
	// always read.
	wanted := map[string]bool{AttrPersonIdentifier: true}
	for _, n := range st.Attrs {
		wanted[n] = true
	}
	for _, s := range naturalMDS {
		wanted[naturalRepPrefix+s] = true
	}
	got := map[string]*values{}
	for name, v := range all {
		if wanted[name] && !v.empty() {
			got[name] = v
		}
	}
	for _, n := range st.Required {
		if got[n].empty() {
			return adapters.Identity{}, fmt.Errorf("%w: %s", ErrMissingAttribute, shortAttr(n))
		}
	}

	natural := !got[AttrPersonIdentifier].empty()
	legal := !got[AttrLegalPersonIdentifier].empty() || !got[AttrLegalName].empty()
	person := naturalPrefix
	switch {
	case repLegal:
		return adapters.Identity{}, fmt.Errorf("%w: a legal person acting as representative", ErrRepresentation)
	case natural && repNatural:
		return adapters.Identity{}, fmt.Errorf("%w: a natural person acting for another natural person", ErrRepresentation)
	case legal && repNatural:
		person = naturalRepPrefix
	case legal && !natural:
		return adapters.Identity{}, fmt.Errorf("%w: legal-person answer names no natural person", ErrRepresentation)
	case !natural:
		return adapters.Identity{}, fmt.Errorf("%w: PersonIdentifier", ErrMissingAttribute)
	}
	get := func(suffix string) *values { return got[person+suffix] }

	var id adapters.Identity
	pid, _, err := get("PersonIdentifier").one("PersonIdentifier")
	if err != nil {
		return adapters.Identity{}, err
	}
	if pid == "" {
		return adapters.Identity{}, fmt.Errorf("%w: PersonIdentifier of the representative", ErrMissingAttribute)
	}
	if len(get("PersonIdentifier").native) > 0 {
		return adapters.Identity{}, fmt.Errorf("%w: non-Latin identifier", ErrPersonIdentifier)
	}
	if err := a.checkIdentifier(pid, c.code); err != nil {
		return adapters.Identity{}, err
	}
	id.Subject = canonicalIdentifier(pid)

	cl := &id.Claims
	extra := map[string]string{}
	sc := newScripts(c.code)
	setName := func(suffix string, dst func(*adapters.Claims) *string) error {
		main, native, err := get(suffix).one(shortAttr(suffix))
		if err != nil {
			return err
		}
		*dst(cl) = main
		if native != "" {
			*dst(sc.of(native)) = native
		}
		return nil
	}
	if err := setName("CurrentFamilyName", func(c *adapters.Claims) *string { return &c.FamilyName }); err != nil {
		return adapters.Identity{}, err
	}
	if err := setName("CurrentGivenName", func(c *adapters.Claims) *string { return &c.GivenName }); err != nil {
		return adapters.Identity{}, err
	}
	// BirthName is the first names and family name at birth in one value
	// (Attribute Profile §2.2), not a family name: it becomes birth_name and
	// never birth_family_name, which must not hold given names.
	birth, birthNative, err := get("BirthName").one("BirthName")
	if err != nil {
		return adapters.Identity{}, err
	}
	if birth != "" {
		extra[ClaimBirthName] = birth
	}
	if birthNative != "" {
		sc.setExtra(ClaimBirthName, birthNative)
	}
	if dob, _, err := get("DateOfBirth").one("DateOfBirth"); err != nil {
		return adapters.Identity{}, err
	} else if dob != "" {
		if cl.Birthdate, err = normalizeDate(dob); err != nil {
			return adapters.Identity{}, err
		}
	}
	if person == naturalPrefix {
		if err := mapOptionalNatural(got, cl, extra, sc); err != nil {
			return adapters.Identity{}, err
		}
	}
	if legal {
		le, err := a.mapLegal(got, c.code, extra, sc)
		if err != nil {
			return adapters.Identity{}, err
		}
		cl.LegalEntity = le
	}
	if len(extra) > 0 {
		cl.Extra = extra
	}
	cl.Scripts = sc.result()
	return id, nil
}

// ClaimBirthName is the claim (in Claims.Extra) for eIDAS BirthName: the
// person's first names and family name at birth as one value, as the
// member state writes it.
const ClaimBirthName = "birth_name"

// nativeScripts collects the non-Latin forms of an identity's values by
// language tag (Claims.Scripts).
type nativeScripts struct {
	country string // eIDAS code of the sending country
	byTag   map[string]*adapters.Claims
}

func newScripts(country string) *nativeScripts {
	return &nativeScripts{country: country, byTag: map[string]*adapters.Claims{}}
}

// of returns the entry for the language tag of value.
func (n *nativeScripts) of(value string) *adapters.Claims {
	tag := scriptTag(value, n.country)
	c, ok := n.byTag[tag]
	if !ok {
		c = &adapters.Claims{}
		n.byTag[tag] = c
	}
	return c
}

// setExtra sets an Extra claim of the entry for value's tag.
func (n *nativeScripts) setExtra(key, value string) {
	c := n.of(value)
	if c.Extra == nil {
		c.Extra = map[string]string{}
	}
	c.Extra[key] = value
}

// result is Claims.Scripts: nil when every value was Latin.
func (n *nativeScripts) result() map[string]adapters.Claims {
	if len(n.byTag) == 0 {
		return nil
	}
	out := make(map[string]adapters.Claims, len(n.byTag))
	for tag, c := range n.byTag {
		out[tag] = *c
	}
	return out
}

// mapOptionalNatural maps the optional natural-person attributes.
func mapOptionalNatural(got map[string]*values, cl *adapters.Claims, extra map[string]string, sc *nativeScripts) error {
	single := func(uri string) (string, string, error) { return got[uri].one(shortAttr(uri)) }
	town, _, err := single(AttrTownOfBirth)
	if err != nil {
		return err
	}
	place, placeNative, err := single(AttrPlaceOfBirth)
	if err != nil {
		return err
	}
	cob, _, err := single(AttrCountryOfBirth)
	if err != nil {
		return err
	}
	if town != "" || place != "" || cob != "" {
		pob := &adapters.PlaceOfBirth{Locality: place}
		if town != "" {
			pob.Locality = town
		}
		if isoRE.MatchString(cob) {
			pob.Country = isoCountryCode(cob)
		}
		cl.PlaceOfBirth = pob
		if placeNative != "" && town == "" {
			sc.of(placeNative).PlaceOfBirth = &adapters.PlaceOfBirth{Locality: placeNative}
		}
	}
	if addr, _, err := single(AttrCurrentAddress); err != nil {
		return err
	} else if addr != "" {
		if cl.Address, err = decodeAddress(addr); err != nil {
			return err
		}
	}
	if g, _, err := single(AttrGender); err != nil {
		return err
	} else {
		switch strings.ToLower(g) {
		case "male":
			cl.Gender = "male"
		case "female":
			cl.Gender = "female"
		case "unspecified", "not specified":
			cl.Gender = "unspecified"
		}
	}
	if v := got[AttrNationality]; !v.empty() {
		for _, n := range v.latin {
			if !isoRE.MatchString(n) {
				return fmt.Errorf("%w: Nationality is not an ISO 3166-1 alpha-2 code", ErrAttribute)
			}
			if code := isoCountryCode(n); !slices.Contains(cl.Nationalities, code) {
				cl.Nationalities = append(cl.Nationalities, code)
			}
		}
	}
	for uri, key := range map[string]string{AttrCountryOfResidence: "country_of_residence", AttrPhoneNumber: "phone_number", AttrEmailAddress: "email"} {
		v, _, err := single(uri)
		if err != nil {
			return err
		}
		if v != "" {
			if uri == AttrCountryOfResidence {
				v = isoCountryCode(v)
			}
			extra[key] = v
		}
	}
	return nil
}

// mapLegal maps the legal-person attributes to the legal entity claim.
func (a *Adapter) mapLegal(got map[string]*values, country string, extra map[string]string, sc *nativeScripts) (*adapters.LegalEntity, error) {
	lpi, _, err := got[AttrLegalPersonIdentifier].one("LegalPersonIdentifier")
	if err != nil {
		return nil, err
	}
	le := &adapters.LegalEntity{}
	if lpi != "" {
		if err := a.checkIdentifier(lpi, country); err != nil {
			return nil, fmt.Errorf("LegalPersonIdentifier: %w", err)
		}
		le.Identifier = canonicalIdentifier(lpi)
		le.Country = isoCountryCode(lpi[:2])
	}
	name, native, err := got[AttrLegalName].one("LegalName")
	if err != nil {
		return nil, err
	}
	le.Name = name
	if native != "" {
		sc.of(native).LegalEntity = &adapters.LegalEntity{Name: native}
	}
	for uri, key := range map[string]string{
		AttrVATRegistration: "legal_vat_registration", AttrTaxReference: "legal_tax_reference",
		AttrEUIdentifier: "legal_eu_identifier", AttrLEI: "legal_lei", AttrEORI: "legal_eori",
		AttrSEED: "legal_seed", AttrSIC: "legal_sic",
	} {
		v, _, err := got[uri].one(shortAttr(uri))
		if err != nil {
			return nil, err
		}
		if v != "" {
			extra[key] = v
		}
	}
	if v, _, err := got[AttrLegalAddress].one("LegalPersonAddress"); err != nil {
		return nil, err
	} else if v != "" {
		addr, err := decodeAddress(v)
		if err != nil {
			return nil, err
		}
		extra["legal_address"] = addr.Formatted
	}
	return le, nil
}

// checkIdentifier checks an eIDAS unique identifier XX/YY/…: XX must be
// the country that was asked, YY our node country; for Greece "EL" and
// "GR" both match.
func (a *Adapter) checkIdentifier(pid, country string) error {
	m := personIDRE.FindStringSubmatch(pid)
	if m == nil || len(pid) > 256 {
		return fmt.Errorf("%w: not of the form XX/YY/identifier", ErrPersonIdentifier)
	}
	if !sameCountry(m[1], country) {
		return fmt.Errorf("%w: issued for country %s, but %s was asked", ErrPersonIdentifier, m[1], country)
	}
	if !sameCountry(m[2], a.cfg.NodeCountry) {
		return fmt.Errorf("%w: destination country %s, we are %s", ErrPersonIdentifier, m[2], a.cfg.NodeCountry)
	}
	return nil
}

// canonicalIdentifier writes the two country parts of a checked XX/YY/…
// identifier in their eIDAS form, so a node that writes "GR/DE/…" one day
// and "EL/DE/…" the next still yields one subject (and one pairwise sub
// for the portal).
func canonicalIdentifier(pid string) string {
	return samlxml.CountryCode(pid[:2]) + "/" + samlxml.CountryCode(pid[3:5]) + pid[5:]
}

// normalizeDate accepts an xs:date (YYYY-MM-DD) and the partial forms some
// registers use for unknown parts ("1970-00-00", "1970-05-00"), which
// become the OIDC partial forms "1970" and "1970-05".
func normalizeDate(s string) (string, error) {
	switch {
	case len(s) == 10 && strings.HasSuffix(s, "-00-00"):
		s = s[:4]
	case len(s) == 10 && strings.HasSuffix(s, "-00"):
		s = s[:7]
	}
	layouts := map[int]string{4: "2006", 7: "2006-01", 10: "2006-01-02"}
	layout, ok := layouts[len(s)]
	if !ok {
		return "", fmt.Errorf("%w: DateOfBirth is not YYYY-MM-DD", ErrAttribute)
	}
	if _, err := time.Parse(layout, s); err != nil {
		return "", fmt.Errorf("%w: DateOfBirth is not a valid date", ErrAttribute)
	}
	return s, nil
}

var prefixRE = regexp.MustCompile(`</?([A-Za-z_][A-Za-z0-9_.-]*):`)

// decodeAddress reads a CurrentAddress/LegalPersonAddress value: base64 of
// an XML fragment of address elements (Attribute Profile §2.6) with no
// root and usually no namespace declarations. The fragment is parsed with
// the same safe parser as every message, inside a wrapper that binds the
// prefixes it uses to the natural-person namespace.
func decodeAddress(b64 string) (*adapters.Address, error) {
	raw, err := decodeBase64(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: address is not base64", ErrAttribute)
	}
	var wrap strings.Builder
	wrap.WriteString("<address")
	declared := map[string]bool{"xml": true, "xmlns": true}
	for _, m := range prefixRE.FindAllSubmatch(raw, -1) {
		p := string(m[1])
		if !declared[p] && !strings.Contains(string(raw), "xmlns:"+p+"=") {
			declared[p] = true
			fmt.Fprintf(&wrap, " xmlns:%s=%q", p, samlxml.NSNatural)
		}
	}
	wrap.WriteString(">")
	wrap.Write(raw)
	wrap.WriteString("</address>")
	doc, err := xmlsec.Parse([]byte(wrap.String()), xmlsec.Limits{MaxBytes: 16 << 10, MaxDepth: 6, MaxAttributes: 16})
	if err != nil {
		return nil, fmt.Errorf("%w: address: %w", ErrAttribute, err)
	}
	f := map[string]string{}
	for _, e := range doc.Root().ChildElements() {
		f[strings.ToLower(e.Tag)] = samlxml.Text(e)
	}
	ad := &adapters.Address{
		PostalCode: f["postcode"],
		Locality:   f["postname"],
		Region:     f["adminunitsecondline"],
	}
	if ad.Locality == "" {
		ad.Locality = f["cvaddressarea"]
	}
	street := strings.TrimSpace(f["thoroughfare"] + " " + f["locatordesignator"])
	var lines []string
	if f["locatorname"] != "" {
		lines = append(lines, f["locatorname"])
	}
	if street != "" {
		lines = append(lines, street)
	}
	if f["pobox"] != "" {
		lines = append(lines, "PO Box "+f["pobox"])
	}
	ad.StreetAddress = strings.Join(lines, "\n")
	if c := f["adminunitfirstline"]; isoRE.MatchString(c) {
		ad.Country = isoCountryCode(c)
	}
	if full := f["fullcvaddress"]; full != "" {
		ad.Formatted = full
	} else {
		formatted := lines
		if pl := strings.TrimSpace(ad.PostalCode + " " + ad.Locality); pl != "" {
			formatted = append(formatted, pl)
		}
		if ad.Country != "" {
			formatted = append(formatted, ad.Country)
		}
		ad.Formatted = strings.Join(formatted, "\n")
	}
	if *ad == (adapters.Address{}) {
		return nil, fmt.Errorf("%w: address has no known element", ErrAttribute)
	}
	return ad, nil
}
