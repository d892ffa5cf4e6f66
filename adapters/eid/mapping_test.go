package eid

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
)

func trim(s string) string { return strings.TrimSpace(s) }

func fixedNow() time.Time { return time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC) }

func TestPartialDate(t *testing.T) {
	tests := []struct {
		in, value, want string
		err             bool
	}{
		{"19640812", "1964-08-12", "1964-08-12", false},
		{"19640812", "", "1964-08-12", false},
		{"196408  ", "", "1964-08", false},
		{"1964    ", "", "1964", false},
		{"1964  12", "", "1964", false},
		{"        ", "", "", false},
		{" 19640812 ", "", "1964-08-12", false},
		{"19641312", "", "", true},
		{"19640231", "", "", true},
		{"1964081", "", "", true},
		{"1964O812", "", "", true},
		{"19640812", "1964-08-13", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := partialDate(&GeneralDate{DateString: tt.in, DateValue: tt.value})
			if (err != nil) != tt.err {
				t.Fatalf("err = %v", err)
			}
			if err != nil && !errors.Is(err, ErrData) {
				t.Fatalf("error %v does not wrap ErrData", err)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestICAOToISO(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"D", "DE", true}, {" D ", "DE", true}, {"TUR", "TR", true}, {"GRC", "GR", true},
		{"FRA", "FR", true}, {"GBD", "GB", true}, {"RKS", "XK", true}, {"UKR", "UA", true},
		{"XXA", "", false}, {"XXB", "", false}, {"UNO", "", false}, {"EUE", "", false},
		{"ZZZ", "", false}, {"DE", "", false}, {"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ICAOToISO(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("got %q %v, want %q %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRestrictedID(t *testing.T) {
	if _, err := restrictedID(nil); !errors.Is(err, ErrData) {
		t.Errorf("nil: %v", err)
	}
	if _, err := restrictedID(&RestrictedID{ID: "xyz"}); !errors.Is(err, ErrData) {
		t.Errorf("not hex: %v", err)
	}
	if _, err := restrictedID(&RestrictedID{ID: "0102"}); !errors.Is(err, ErrData) {
		t.Errorf("too short: %v", err)
	}
	got, err := restrictedID(&RestrictedID{ID: "\n  0A0B0C0D0E0F1011121314\n  "})
	if err != nil || got != "0a0b0c0d0e0f1011121314" {
		t.Errorf("got %q %v", got, err)
	}
}

func TestMapClaimsPlaces(t *testing.T) {
	resp := &GetResultResponse{PersonalData: &PersonalData{
		PlaceOfBirth:     &GeneralPlace{StructuredPlace: &Place{City: "İZMIR", Country: "TUR"}},
		PlaceOfResidence: &GeneralPlace{NoPlaceInfo: "keine Wohnung in Deutschland"},
		Nationality:      "XXA",
		AcademicTitle:    new(string),
	}}
	c, err := mapClaims(resp, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := adapters.Claims{
		PlaceOfBirth: &adapters.PlaceOfBirth{Locality: "İZMIR", Country: "TR"},
		Extra:        map[string]string{ExtraResidenceNote: "keine Wohnung in Deutschland", ExtraNationalityICAO: "XXA"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
	resp.PersonalData.PlaceOfResidence = &GeneralPlace{FreetextPlace: "SOMEWHERE 1, 1234 ELSEWHERE"}
	c, err = mapClaims(resp, 0)
	if err != nil || c.Address == nil || c.Address.Formatted != "SOMEWHERE 1, 1234 ELSEWHERE" {
		t.Fatalf("free text address: %+v %v", c.Address, err)
	}
}

func TestLevel(t *testing.T) {
	a := &Adapter{s: settings{caps: map[string]assurance.Level{"AF": assurance.Substantial, "ID": assurance.High}}}
	tests := []struct {
		name string
		loa  string
		doc  string
		want assurance.Level
		err  error
	}{
		{"no LoA element", "", "ID", assurance.High, nil},
		{"hoch", assurance.BSIHoch, "ID", assurance.High, nil},
		{"server reports substantiell", assurance.BSISubstantiell, "ID", assurance.Substantial, nil},
		{"capped document", assurance.BSIHoch, "AF", assurance.Substantial, nil},
		{"cap never raises", assurance.BSINormal, "AF", assurance.Low, nil},
		{"document missing with caps", assurance.BSIHoch, "", assurance.Unspecified, ErrRequiredDenied},
		{"undefined", "http://bsi.bund.de/eID/LoA/undefined", "ID", assurance.Unspecified, ErrDeniedDocument},
		{"garbage", "http://example.org/loa", "ID", assurance.Unspecified, ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.level(&GetResultResponse{LevelOfAssuranceResult: tt.loa}, &PersonalData{DocumentType: tt.doc})
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestResultErrorUnknown(t *testing.T) {
	tests := []struct {
		r    Result
		want error
	}{
		{Result{ResultMajor: MajorOK}, nil},
		{Result{ResultMajor: "  " + MajorOK + "\n"}, nil},
		{Result{ResultMajor: MajorOK, ResultMinor: "http://example.org/warning"}, ErrUnknownResult},
		{Result{ResultMajor: "http://example.org/major"}, ErrUnknownResult},
		{Result{ResultMajor: MajorError, ResultMinor: "http://www.bsi.bund.de/ecard/api/1.1/resultminor/al/common#unknownError"}, ErrCardOrClientError},
		{Result{ResultMajor: MajorError, ResultMinor: MinorMissingArgument}, ErrMissingArgument},
		{Result{ResultMajor: MajorError, ResultMinor: MinorMissingTerminalRights}, ErrMissingTerminalRights},
		{Result{ResultMajor: MajorError, ResultMinor: MinorSchemaViolation}, ErrSchemaViolation},
		{Result{ResultMajor: MajorError}, ErrUnknownResult},
	}
	for _, tt := range tests {
		err := resultError("op", tt.r)
		if tt.want == nil {
			if err != nil {
				t.Errorf("%+v: %v", tt.r, err)
			}
			continue
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("%+v: got %v, want %v", tt.r, err, tt.want)
		}
	}
}
