package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// rssCheckpoints are the login counts at which load reports the process's
// memory: enough points to see whether it grows with the number of logins
// or levels off.
var rssCheckpoints = []int64{10_000, 50_000, 100_000, 250_000, 500_000, 1_000_000}

// reportRSS prints the resident set size (VmRSS) and the Go heap in use
// each time the count of logins begun passes a checkpoint, and once more
// when the returned stop is called. The load tool runs the demo broker in
// its own process, so this is the broker's memory plus the driver's.
func reportRSS(w io.Writer, begun *atomic.Int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		next := 0
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			for next < len(rssCheckpoints) && begun.Load() >= rssCheckpoints[next] {
				printMemory(w, "after "+strconv.FormatInt(rssCheckpoints[next], 10)+" logins")
				next++
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		printMemory(w, "at the end")
	}
}

func printMemory(w io.Writer, when string) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(w, "memory %s: RSS %s, Go heap in use %.1f MB\n", when, vmRSS(), float64(ms.HeapInuse)/(1<<20))
}

// vmRSS reads the resident set size from /proc (Linux); elsewhere it says
// so instead of guessing.
func vmRSS() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			fields := strings.Fields(v)
			if len(fields) != 2 || fields[1] != "kB" {
				return "unknown"
			}
			if kb, err := strconv.ParseFloat(fields[0], 64); err == nil {
				return fmt.Sprintf("%.1f MB", kb/1024)
			}
		}
	}
	return "unknown"
}
