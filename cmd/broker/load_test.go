package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ozg-broker/eidas-broker/config"
)

// loadJSON runs the load tool with --json and decodes its line.
func loadJSON(t *testing.T, args ...string) (loadResult, int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"load", "--json"}, args...), &out, &errb)
	var res loadResult
	if code == 0 || code == 1 {
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 1 {
			t.Fatalf("want one JSON line, got %q (stderr %s)", out.String(), errb.String())
		}
		dec := json.NewDecoder(strings.NewReader(lines[0]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&res); err != nil {
			t.Fatalf("output is not the JSON summary: %v: %q (exit %d, stderr %s)", err, out.String(), code, errb.String())
		}
	}
	return res, code, errb.String()
}

// TestLoadMethods runs five whole logins per method through the in-process
// demo, each upstream through its simulator, and reads the JSON summary.
func TestLoadMethods(t *testing.T) {
	methods := slices.Sorted(maps.Keys(loadLegs("")))
	for _, want := range []string{"demo", "eid", "eidas", "elster", "elster-nezo", "bundid", "eudi-wallet", "oidc-upstream"} {
		if !slices.Contains(methods, want) {
			t.Errorf("load --method lacks %s (has %v)", want, methods)
		}
	}
	type run struct{ method, keys string }
	runs := []run{{"eidas", "rsa"}}
	for _, m := range methods {
		runs = append(runs, run{m, "ec"})
	}
	for _, r := range runs {
		name := r.method
		if r.method == "eidas" {
			name += "/" + r.keys
		}
		t.Run(name, func(t *testing.T) {
			res, code, stderr := loadJSON(t, "--method", r.method, "--eidas-keys", r.keys, "--logins", "5", "--concurrency", "2", "--testdata", "../../testdata")
			if code != 0 || res.OK != 5 || res.Errors != 0 || res.Count != 5 {
				t.Fatalf("exit %d, summary %+v, stderr %s", code, res, stderr)
			}
			if res.Method != r.method || res.External || res.Concurrency != 2 || res.Rate <= 0 || res.P50 <= 0 || res.P99 < res.P95 || res.P95 < res.P50 || res.Max < res.P99 {
				t.Fatalf("summary %+v", res)
			}
			if processCPU() > 0 && res.CPUPerLogin <= 0 {
				t.Fatalf("no CPU per login: %+v", res)
			}
			if (r.method == "eidas") != (res.EIDASKeys == r.keys) {
				t.Fatalf("eidas_keys %q for method %s", res.EIDASKeys, r.method)
			}
		})
	}
}

// TestLoadHumanOutput: without --json the summary is for people; bad
// flags are refused before anything starts.
func TestLoadHumanOutput(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"load", "--logins", "3", "--concurrency", "1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	for _, want := range []string{"method demo against in-process demo – logins: 3 ok, 0 failed", "throughput:", "latency: p50"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, args := range [][]string{
		{"--method", "nope"},
		{"--eidas-keys", "dsa"},
		{"--concurrency", "0"},
		{"--client", "x"}, // only with --issuer
		{"--issuer", "http://127.0.0.1:1"},
		{"--issuer", "ftp://127.0.0.1:1", "--client", "c", "--secret", "s", "--redirect", "https://p.example/cb"},
		{"--issuer", "http://127.0.0.1:1", "--client", "c", "--secret", "s", "--redirect", "/cb"},
	} {
		var out, errb bytes.Buffer
		if code := run(append([]string{"load"}, args...), &out, &errb); code != 2 || !strings.Contains(errb.String(), "load:") {
			t.Errorf("%v: exit %d, want 2 with a reason: %s", args, code, errb.String())
		}
	}
}

// TestLoadExternalBroker drives a broker that is not the load tool's own:
// serve with environment staging on a loopback port, its configured
// client and redirect URI. The demo identities and the eIDAS simulator
// are offered there; the ELSTER certificate simulator is not (its test
// PKI is not found from this folder; the configured ELSTER adapter has
// another ID), so --method elster is refused up front with the offered
// methods named, and a wrong secret counts errors.
func TestLoadExternalBroker(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	anchor, err := filepath.Abs("../../testdata/elster/root.pem")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(writeConfig(t, fmt.Sprintf(`issuer: %s
secure_cookies: false
environment: staging
store: {type: memory}
clients:
  - id: portal
    redirect_uris: [https://portal.example.de/cb]
    secret: "a-long-enough-client-secret"
adapters:
  - id: tax
    type: elster
    max_level: substantial
    config: {trust_anchors: [%s]}
`, issuer, anchor)), serveRegistry())
	if err != nil {
		t.Fatal(err)
	}
	b := startBroker(t, cfg, newLogger(os.Stderr, "warn"), nil)
	srv := &http.Server{Handler: b.Handler()}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	ext := []string{"--issuer", issuer + "/", "--client", "portal", "--secret", "a-long-enough-client-secret",
		"--redirect", "https://portal.example.de/cb", "--logins", "5", "--concurrency", "2"}
	for _, m := range []string{"demo", "eidas"} {
		res, code, stderr := loadJSON(t, append([]string{"--method", m}, ext...)...)
		if code != 0 || res.OK != 5 || res.Errors != 0 || !res.External || res.Issuer != issuer {
			t.Fatalf("%s: exit %d, summary %+v, stderr %s", m, code, res, stderr)
		}
	}
	_, code, stderr := loadJSON(t, append([]string{"--method", "elster"}, ext...)...)
	if code != 2 || !strings.Contains(stderr, `does not offer the adapter "elster"`) || !strings.Contains(stderr, "demo") {
		t.Fatalf("elster without its simulator: exit %d, stderr %s", code, stderr)
	}
	bad := slices.Clone(ext)
	bad[5] = "not-the-secret"
	res, code, _ := loadJSON(t, append([]string{"--method", "demo"}, bad...)...)
	if code != 1 || res.Errors != 5 || res.OK != 0 || len(res.Reasons) != 1 || !strings.Contains(res.Reasons[0], "code exchange") {
		t.Fatalf("wrong secret: exit %d, summary %+v", code, res)
	}
}

// TestLoadEncodeForm: the driver's form encoder writes exactly what
// url.Values.Encode writes (browsers and the broker's form parser agree on
// it), for SAML-sized base64 and for every byte value.
func TestLoadEncodeForm(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for name, form := range map[string]url.Values{
		"empty":     {},
		"saml":      {"SAMLResponse": {strings.Repeat("PD94bWwg+/9=", 2000)}, "RelayState": {"ab-_CD12xyzXYZ0987654321"}},
		"all bytes": {string(all): {string(all), ""}, "a b": {"c d", "ä€"}},
		"sorted":    {"z": {"1"}, "a": {"2", "3"}, "m": {""}},
	} {
		if got, want := string(encodeForm(form)), form.Encode(); got != want {
			t.Errorf("%s: got %.80q, want %.80q", name, got, want)
		}
	}
}
