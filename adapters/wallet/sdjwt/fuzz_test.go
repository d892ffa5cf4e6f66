package sdjwt

import (
	"encoding/base64"
	"testing"
)

// FuzzParseAndReconstruct feeds arbitrary presentations and payloads
// through the parser and the disclosure processing: they must refuse or
// succeed, never panic or run away.
func FuzzParseAndReconstruct(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiJ9.eyJfc2QiOlsiWDl5SDBBanJkbTFPaWo0dFdzbzlVenpLSnZQb0R4d211RWNPM1hBZFJDMCJdfQ.c2ln~"+rfcFamilyName+"~", `{"_sd":["X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"]}`)
	f.Add("a.b.c~"+rfcArrayFR+"~k.b.j", `{"n":[{"...":"x"}],"_sd_alg":"sha-256"}`)
	f.Add("~~~", `{"_sd":[1,2]}`)
	f.Fuzz(func(t *testing.T, pres, payload string) {
		s, err := Parse(pres)
		if err != nil {
			return
		}
		_ = s.Presented()
		for _, d := range s.Disclosures {
			_, _ = DecodeDisclosure(d)
		}
		p, err := DecodePayload([]byte(payload))
		if err != nil {
			return
		}
		_, _ = Reconstruct(p, s.Disclosures)
	})
}

// FuzzDisclosure decodes arbitrary disclosure bytes.
func FuzzDisclosure(f *testing.F) {
	f.Add([]byte(`["salt","name","value"]`))
	f.Add([]byte(`["salt",{"...":"x"}]`))
	f.Add([]byte(`["s","_sd",[]]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		enc := base64.RawURLEncoding.EncodeToString(b)
		d, err := DecodeDisclosure(enc)
		if err != nil {
			return
		}
		if d.Name == "_sd" || d.Name == "..." {
			t.Fatalf("reserved name accepted: %q", d.Name)
		}
	})
}
