package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime/pprof"
	"strings"

	"github.com/google/pprof/profile"
)

// The in-process load run holds the broker, the simulated upstreams and the
// driver in one process, so the process's CPU per login is theirs together.
// To tell the broker's share, the run is profiled with labels (runtime/pprof
// labels ride on goroutines, and goroutines inherit them):
//
//   - the HTTP server's goroutines carry part=broker, and so does every
//     request's context (http.Server.BaseContext);
//   - a request for a simulator (/sim/...) runs its handler as
//     part=simulator;
//   - the driver's goroutines, and the client connections they dial, carry
//     part=driver.
//
// The CPU samples of each part are summed; samples with no label (the
// garbage collector's background work, the scheduler) are split in
// proportion. The HTTP server's reading and writing of a simulator's
// requests counts as the broker's, so the broker's share is, if anything,
// overstated.

const (
	partLabel     = "part"
	partBroker    = "broker"
	partSimulator = "simulator"
	partDriver    = "driver"
)

// brokerContext is the base context of the in-process server: requests
// start out as the broker's.
func brokerContext() context.Context {
	return pprof.WithLabels(context.Background(), pprof.Labels(partLabel, partBroker))
}

// labelSimulators runs the handlers of the simulators' paths as theirs.
func labelSimulators(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/sim/") {
			next.ServeHTTP(w, r)
			return
		}
		pprof.Do(r.Context(), pprof.Labels(partLabel, partSimulator), func(ctx context.Context) {
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	})
}

// cpuShares is the CPU of a profiled run by part, in nanoseconds.
type cpuShares struct {
	byPart     map[string]int64
	unlabelled int64
}

func readCPUShares(r io.Reader) (*cpuShares, error) {
	p, err := profile.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("read the run's CPU profile: %w", err)
	}
	cpu := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			cpu = i
		}
	}
	if cpu < 0 {
		return nil, fmt.Errorf("read the run's CPU profile: no cpu samples")
	}
	s := &cpuShares{byPart: map[string]int64{}}
	for _, smp := range p.Sample {
		v := smp.Value[cpu]
		if parts := smp.Label[partLabel]; len(parts) == 1 {
			s.byPart[parts[0]] += v
		} else {
			s.unlabelled += v
		}
	}
	return s, nil
}

// fraction is part's share of the labelled CPU (the unlabelled work split
// in proportion), 0 if nothing was labelled.
func (s *cpuShares) fraction(part string) float64 {
	var labelled int64
	for _, v := range s.byPart {
		labelled += v
	}
	if labelled == 0 {
		return 0
	}
	return float64(s.byPart[part]) / float64(labelled)
}

// profiledRun profiles the logins into memory, and into file if set.
type profiledRun struct {
	buf  bytes.Buffer
	file io.Writer
}

func (p *profiledRun) start() error {
	var w io.Writer = &p.buf
	if p.file != nil {
		w = io.MultiWriter(&p.buf, p.file)
	}
	return pprof.StartCPUProfile(w)
}

func (p *profiledRun) stop() (*cpuShares, error) {
	pprof.StopCPUProfile()
	return readCPUShares(&p.buf)
}
