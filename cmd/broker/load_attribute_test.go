package main

import (
	"bytes"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"testing"

	"github.com/google/pprof/profile"
)

func TestCPUSharesSplitByPart(t *testing.T) {
	fn := &profile.Function{ID: 1, Name: "f"}
	loc := &profile.Location{ID: 1, Line: []profile.Line{{Function: fn}}}
	sample := func(ns int64, part string) *profile.Sample {
		s := &profile.Sample{Location: []*profile.Location{loc}, Value: []int64{1, ns}}
		if part != "" {
			s.Label = map[string][]string{partLabel: {part}}
		}
		return s
	}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		Sample: []*profile.Sample{
			sample(600, partBroker), sample(100, partBroker), sample(200, partSimulator),
			sample(100, partDriver), sample(500, ""), // unlabelled: split in proportion
		},
		Location: []*profile.Location{loc}, Function: []*profile.Function{fn},
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	s, err := readCPUShares(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for part, want := range map[string]float64{partBroker: 0.7, partSimulator: 0.2, partDriver: 0.1, "other": 0} {
		if got := s.fraction(part); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: %v, want %v", part, got, want)
		}
	}
	if _, err := readCPUShares(bytes.NewReader([]byte("not a profile"))); err == nil {
		t.Error("garbage read as a profile")
	}
}

// A simulator's request runs as the simulator's, anything else keeps the
// broker's label from the server's base context.
func TestLabelSimulators(t *testing.T) {
	var got string
	h := labelSimulators(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got, _ = pprof.Label(r.Context(), partLabel)
	}))
	for path, want := range map[string]string{"/sim/eidas/sso": partSimulator, "/authorize": partBroker, "/simulator": partBroker} {
		r := httptest.NewRequest(http.MethodGet, path, nil).WithContext(brokerContext())
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != want {
			t.Errorf("%s: label %q, want %q", path, got, want)
		}
	}
}
