package elster

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// attrOIDs are the subject attribute short names the mapping accepts
// (RFC 4519, X.520, ETSI EN 319 412-1 for organizationIdentifier).
var attrOIDs = map[string]string{
	"cn":                     "2.5.4.3",
	"commonname":             "2.5.4.3",
	"sn":                     "2.5.4.4",
	"surname":                "2.5.4.4",
	"serialnumber":           "2.5.4.5",
	"c":                      "2.5.4.6",
	"countryname":            "2.5.4.6",
	"l":                      "2.5.4.7",
	"localityname":           "2.5.4.7",
	"st":                     "2.5.4.8",
	"stateorprovincename":    "2.5.4.8",
	"street":                 "2.5.4.9",
	"o":                      "2.5.4.10",
	"organizationname":       "2.5.4.10",
	"ou":                     "2.5.4.11",
	"organizationalunitname": "2.5.4.11",
	"title":                  "2.5.4.12",
	"postalcode":             "2.5.4.17",
	"gn":                     "2.5.4.42",
	"givenname":              "2.5.4.42",
	"initials":               "2.5.4.43",
	"pseudonym":              "2.5.4.65",
	"organizationidentifier": "2.5.4.97",
	"uid":                    "0.9.2342.19200300.100.1.1",
	"emailaddress":           "1.2.840.113549.1.9.1",
}

// parseAttrName accepts a short name (case-insensitive) or a dotted OID.
func parseAttrName(name string) (asn1.ObjectIdentifier, error) {
	s := strings.TrimSpace(name)
	if s == "" {
		return nil, errors.New("empty attribute name")
	}
	if dotted, ok := attrOIDs[strings.ToLower(s)]; ok {
		s = dotted
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("unknown attribute %q (use a short name like GN or a dotted OID)", name)
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || (len(p) > 1 && p[0] == '0') {
			return nil, fmt.Errorf("unknown attribute %q (use a short name like GN or a dotted OID)", name)
		}
		oid[i] = n
	}
	return oid, nil
}

type compiledMapping struct {
	given, family, common  []asn1.ObjectIdentifier
	orgName, orgID, orgCtr []asn1.ObjectIdentifier
	serial                 []asn1.ObjectIdentifier
}

func compileMapping(m Mapping) (compiledMapping, error) {
	var c compiledMapping
	for _, f := range []struct {
		dst   *[]asn1.ObjectIdentifier
		names []string
	}{
		{&c.given, m.Person.GivenName},
		{&c.family, m.Person.FamilyName},
		{&c.common, m.Person.CommonName},
		{&c.orgName, m.Organisation.Name},
		{&c.orgID, m.Organisation.Identifier},
		{&c.orgCtr, m.Organisation.Country},
		{&c.serial, m.SerialNumber},
	} {
		for _, n := range f.names {
			oid, err := parseAttrName(n)
			if err != nil {
				return compiledMapping{}, err
			}
			*f.dst = append(*f.dst, oid)
		}
	}
	return c, nil
}

// attr returns the value of the first listed attribute the subject has.
// Several values of one attribute type (multi-valued RDNs, repeated given
// names) are joined with a space, in certificate order.
func attr(cert *x509.Certificate, oids []asn1.ObjectIdentifier) string {
	for _, oid := range oids {
		var vals []string
		for _, atv := range cert.Subject.Names {
			if !atv.Type.Equal(oid) {
				continue
			}
			if s, ok := atv.Value.(string); ok {
				if s = strings.TrimSpace(s); s != "" {
					vals = append(vals, s)
				}
			}
		}
		if len(vals) > 0 {
			return strings.Join(vals, " ")
		}
	}
	return ""
}

// claimsFor maps the subject of a verified leaf certificate to claims.
func (m compiledMapping) claimsFor(cert *x509.Certificate) adapters.Claims {
	var c adapters.Claims
	c.GivenName = attr(cert, m.given)
	c.FamilyName = attr(cert, m.family)
	if c.GivenName == "" && c.FamilyName == "" {
		// Split "Erika Mustermann" at the last space. Names with particles
		// ("von", "de") land in the given name; certificates that matter
		// carry GN and SN, so this is only a fallback.
		if cn := attr(cert, m.common); cn != "" {
			if i := strings.LastIndexByte(cn, ' '); i > 0 {
				c.GivenName, c.FamilyName = strings.TrimSpace(cn[:i]), strings.TrimSpace(cn[i+1:])
			} else {
				c.FamilyName = cn
			}
		}
	}
	if name := attr(cert, m.orgName); name != "" {
		le := &adapters.LegalEntity{Name: name, Identifier: attr(cert, m.orgID)}
		if ctr := strings.ToUpper(attr(cert, m.orgCtr)); len(ctr) == 2 {
			le.Country = ctr
		}
		c.LegalEntity = le
	}
	return c
}

// subjectID derives the stable identity of a certificate holder (see the
// package documentation for why).
func (a *Adapter) subjectID(cert *x509.Certificate) string {
	if !a.subjectSPKI {
		if sn := attr(cert, a.mapping.serial); sn != "" {
			issuer := sha256.Sum256(cert.RawIssuer)
			return "sn:" + base64.RawURLEncoding.EncodeToString(issuer[:16]) + ":" + sn
		}
	}
	spki := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "spki:" + base64.RawURLEncoding.EncodeToString(spki[:])
}
