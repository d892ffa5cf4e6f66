package eid

import (
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/russellhaering/goxmldsig/etreeutils"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/eid/internal/wsse"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/testfiles"
)

// bodyPayload returns the Body's element of an (unsigned) example envelope,
// detached with its namespace declarations.
func bodyPayload(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := wsse.Parse(b, wsse.Limits{})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	body := doc.Root().FindElement("Body")
	if body == nil || len(body.ChildElements()) != 1 {
		t.Fatalf("%s: no single body element", file)
	}
	p := body.ChildElements()[0]
	ctx, err := etreeutils.NSBuildParentContext(p)
	if err != nil {
		t.Fatal(err)
	}
	det, err := etreeutils.NSDetatch(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	doc.SetRoot(det)
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// roundTrip unmarshals, marshals and unmarshals again, and requires the two
// decoded values to be equal.
func roundTrip[T any](t *testing.T, payload []byte) *T {
	t.Helper()
	var a, b T
	if err := xml.Unmarshal(payload, &a); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	out, err := xml.Marshal(&a)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if err := xml.Unmarshal(out, &b); err != nil {
		t.Fatalf("unmarshal again: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip changed the message:\n%+v\n%+v", a, b)
	}
	return &a
}

func TestVectorUseIDRequest(t *testing.T) {
	req := roundTrip[UseIDRequest](t, bodyPayload(t, filepath.Join(testfiles.Vectors(t, "eid", "soap"), "useIDRequest.xml")))
	ops := &req.UseOperations
	for name, want := range map[string]Selection{
		"DocumentType": Required, "ArtisticName": Allowed, "AcademicTitle": Allowed,
		"CommunityID": Prohibited, "ResidencePermitI": Prohibited, "RestrictedID": Required,
		"PlaceVerification": Required,
	} {
		if got := ops.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if req.AgeVerificationRequest == nil || req.AgeVerificationRequest.Age != 18 {
		t.Errorf("age verification %+v", req.AgeVerificationRequest)
	}
	if req.PlaceVerificationRequest == nil || req.PlaceVerificationRequest.CommunityID != "027605" {
		t.Errorf("place verification %+v", req.PlaceVerificationRequest)
	}
	if l, err := assurance.Parse(trim(req.LevelOfAssuranceRequest)); err != nil || l != assurance.High {
		t.Errorf("level %q: %v", req.LevelOfAssuranceRequest, err)
	}
	if req.EIDTypeRequest == nil || req.EIDTypeRequest.SECertified != "ALLOWED" || req.EIDTypeRequest.SEEndorsed != "ALLOWED" {
		t.Errorf("eID types %+v", req.EIDTypeRequest)
	}
	if req.TransactionAttestationRequest == nil || req.TransactionAttestationRequest.TransactionContext != "id599456-df" {
		t.Errorf("transaction attestation %+v", req.TransactionAttestationRequest)
	}
}

func TestVectorUseIDResponse(t *testing.T) {
	resp := roundTrip[UseIDResponse](t, bodyPayload(t, filepath.Join(testfiles.Vectors(t, "eid", "soap"), "useIDResponse.xml")))
	if err := resultError("useID", resp.Result); err != nil {
		t.Fatalf("result: %v", err)
	}
	if resp.Session == nil || !validSessionID(resp.Session.ID) {
		t.Errorf("session %+v", resp.Session)
	}
	if resp.PSK == nil || checkPSK(resp.PSK) != nil || resp.PSK.ID != "0987654321abcdef1234567890abcdef" {
		t.Errorf("psk %+v", resp.PSK)
	}
}

func TestVectorGetResultRequest(t *testing.T) {
	req := roundTrip[GetResultRequest](t, bodyPayload(t, filepath.Join(testfiles.Vectors(t, "eid", "soap"), "getResultRequest.xml")))
	if req.Session.ID != "1234567890abcdef1234567890abcdef" || req.RequestCounter != 1 {
		t.Errorf("%+v", req)
	}
}

func TestVectorGetResultResponse(t *testing.T) {
	resp := roundTrip[GetResultResponse](t, bodyPayload(t, filepath.Join(testfiles.Vectors(t, "eid", "soap"), "getResultResponse.xml")))
	if err := resultError("getResult", resp.Result); err != nil {
		t.Fatalf("result: %v", err)
	}
	if resp.LevelOfAssurance() != assurance.BSIHoch {
		t.Errorf("level %q", resp.LevelOfAssurance())
	}
	if resp.OperationsAllowedByUser.Get("BirthName") != NotOnChip || resp.OperationsAllowedByUser.Get("ArtisticName") != Prohibited {
		t.Errorf("operations %+v", resp.OperationsAllowedByUser)
	}
	a := &Adapter{s: settings{caps: map[string]assurance.Level{}}, now: fixedNow}
	all := state{V: 1, SessionID: "1234567890abcdef1234567890abcdef", Requested: operationNames, Required: []string{"RestrictedID", "GivenNames"}, Age: 18}
	id, err := a.identity(all, resp)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "01a4fb509cebc6595151a4fb5f9c75c6fe01a4fb59cb655a4fb5f9c75c6fee" {
		t.Errorf("subject %q", id.Subject)
	}
	if id.Level != assurance.High || !id.AuthTime.Equal(fixedNow()) {
		t.Errorf("level %v auth time %v", id.Level, id.AuthTime)
	}
	c := id.Claims
	want := adapters.Claims{
		GivenName:     "ERIKA",
		FamilyName:    "MUSTERMANN",
		Birthdate:     "1964-08-12",
		PlaceOfBirth:  &adapters.PlaceOfBirth{Locality: "BERLIN"},
		Address:       &adapters.Address{Formatted: "HEIDESTRASSE 17\n51147 KÖLN", StreetAddress: "HEIDESTRASSE 17", Locality: "KÖLN", PostalCode: "51147", Country: "DE"},
		Nationalities: []string{"DE"},
		Extra: map[string]string{
			ExtraDocumentType: "ID", ExtraIssuingState: "DE", ExtraDateOfExpiry: "2029-10-31",
			"age_over_18": "true", ExtraPlaceVerification: "true", ExtraEIDType: "CardCertified",
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("claims\n got %+v\nwant %+v", c, want)
	}

	// Data groups not requested are dropped even if the server sends them.
	few := state{V: 1, SessionID: all.SessionID, Requested: []string{"RestrictedID", "GivenNames"}, Required: []string{"RestrictedID"}}
	id, err = a.identity(few, resp)
	if err != nil {
		t.Fatal(err)
	}
	if id.Claims.FamilyName != "" || id.Claims.Address != nil || id.Claims.Birthdate != "" || id.Claims.Extra[ExtraPlaceVerification] != "" {
		t.Errorf("unrequested data passed on: %+v", id.Claims)
	}
}

func TestVectorGetServerInfo(t *testing.T) {
	dir := testfiles.Vectors(t, "eid", "soap")
	var req GetServerInfoRequest
	if err := xml.Unmarshal(bodyPayload(t, filepath.Join(dir, "getServerInfoRequest.xml")), &req); err != nil {
		t.Fatalf("unqualified getServerInfoRequest (TR erratum) refused: %v", err)
	}
	out, err := xml.Marshal(req)
	if err != nil || string(out) != `<getServerInfoRequest xmlns="http://bsi.bund.de/eID/"></getServerInfoRequest>` {
		t.Fatalf("marshal %s: %v", out, err)
	}
	resp := roundTrip[GetServerInfoResponse](t, bodyPayload(t, filepath.Join(dir, "getServerInfoResponse.xml")))
	if resp.ServerVersion.Major != 2 || resp.ServerVersion.Minor != 4 || resp.ServerVersion.Bugfix == nil || *resp.ServerVersion.Bugfix != 0 {
		t.Errorf("version %+v", resp.ServerVersion)
	}
	if resp.DocumentVerificationRights.Get("RestrictedID") != Allowed || resp.DocumentVerificationRights.Get("CommunityID") != Prohibited {
		t.Errorf("rights %+v", resp.DocumentVerificationRights)
	}
}

func TestVectorErrors(t *testing.T) {
	dir := filepath.Join(testfiles.Vectors(t, "eid", "soap"), "errors")
	tests := []struct {
		file string
		want error
	}{
		{"useIDResponse-invalidPSK.xml", ErrInvalidPSK},
		{"useIDResponse-tooManyOpenSessions.xml", ErrTooManyOpenSessions},
		{"getResultResponse-noResultYet.xml", ErrNoResultYet},
		{"getResultResponse-invalidSession.xml", ErrInvalidSession},
		{"getResultResponse-invalidCounter.xml", ErrInvalidCounter},
		{"getResultResponse-deniedDocument.xml", ErrDeniedDocument},
		{"getResultResponse-invalidDocument.xml", ErrInvalidDocument},
		{"getResultResponse-internalError.xml", ErrInternal},
		{"getResultResponse-cancellationByUser.xml", adapters.ErrCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			payload := bodyPayload(t, filepath.Join(dir, tt.file))
			var res Result
			if tt.file[:5] == "useID" {
				r := roundTrip[UseIDResponse](t, payload)
				res = r.Result
			} else {
				r := roundTrip[GetResultResponse](t, payload)
				res = r.Result
			}
			err := resultError("op", res)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var re *ResultError
			if !errors.As(err, &re) || re.Minor != trim(res.ResultMinor) || re.Message == "" {
				t.Fatalf("result error %+v", re)
			}
			if re.Retryable() != (tt.want == ErrNoResultYet) {
				t.Errorf("retryable = %v", re.Retryable())
			}
		})
	}
}
