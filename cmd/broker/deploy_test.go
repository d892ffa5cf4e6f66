package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	redisstore "github.com/ozg-broker/eidas-broker/broker/store/redis"
	"github.com/ozg-broker/eidas-broker/config"
)

// The deployment examples in docs/deploy are checked here, so that what
// docs/deployment.md shows keeps matching the broker: probes on the right
// paths, non-root users, secrets mounted as files where the sample config
// reads them, and a sample config that validates.

const deployDir = "../../docs/deploy"

// k8sObject is the part of a Kubernetes object the checks read.
type k8sObject map[string]any

func (o k8sObject) get(path ...string) any {
	var cur any = map[string]any(o)
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func (o k8sObject) str(path ...string) string { s, _ := o.get(path...).(string); return s }

func readManifests(t *testing.T, name string) map[string]k8sObject {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, "kubernetes", name))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]k8sObject{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		// A plain map: yaml.v3 would give nested mappings the named type.
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m == nil {
			continue
		}
		o := k8sObject(m)
		out[o.str("kind")+"/"+o.str("metadata", "name")] = o
	}
	return out
}

func list(v any) []any { l, _ := v.([]any); return l }

func asObj(v any) k8sObject { m, _ := v.(map[string]any); return m }

func containers(o k8sObject, field string) []k8sObject {
	var out []k8sObject
	for _, c := range list(o.get("spec", "template", "spec", field)) {
		out = append(out, asObj(c))
	}
	return out
}

func TestKubernetesBroker(t *testing.T) {
	objs := readManifests(t, "broker.yaml")
	dep, ok := objs["Deployment/broker"]
	if !ok {
		t.Fatalf("no Deployment/broker in %v", keys(objs))
	}
	if n, _ := dep.get("spec", "replicas").(int); n < 2 {
		t.Errorf("replicas = %v, want at least 2", dep.get("spec", "replicas"))
	}
	pod := asObj(dep.get("spec", "template", "spec"))
	if pod.get("securityContext", "runAsNonRoot") != true || isRoot(pod.get("securityContext", "runAsUser")) {
		t.Errorf("pod security context = %v, want runAsNonRoot and a non-zero runAsUser", pod.get("securityContext"))
	}
	cs := containers(dep, "containers")
	if len(cs) != 1 {
		t.Fatalf("containers = %d", len(cs))
	}
	c := cs[0]
	if c.str("livenessProbe", "httpGet", "path") != "/healthz" || c.str("readinessProbe", "httpGet", "path") != "/readyz" {
		t.Errorf("probes: liveness %v, readiness %v", c.get("livenessProbe"), c.get("readinessProbe"))
	}
	sc := asObj(c.get("securityContext"))
	if sc.get("allowPrivilegeEscalation") != false || sc.get("readOnlyRootFilesystem") != true || sc.get("runAsNonRoot") != true {
		t.Errorf("container security context = %v", sc)
	}
	if len(list(c.get("env"))) != 0 || c.get("envFrom") != nil {
		t.Error("secrets must come as files, not environment")
	}
	// The secret volume is mounted read-only where the config reads it.
	secretVol := ""
	for _, v := range list(pod.get("volumes")) {
		if asObj(v).str("secret", "secretName") == "broker-secrets" {
			secretVol = asObj(v).str("name")
		}
	}
	secretDir := ""
	for _, m := range list(c.get("volumeMounts")) {
		if mo := asObj(m); mo.str("name") == secretVol && mo.get("readOnly") == true {
			secretDir = mo.str("mountPath")
		}
	}
	if secretVol == "" || secretDir == "" {
		t.Fatalf("no read-only mount of the broker-secrets volume")
	}
	pdb, ok := objs["PodDisruptionBudget/broker"]
	if !ok || pdb.get("spec", "minAvailable") != 1 ||
		pdb.str("spec", "selector", "matchLabels", "app.kubernetes.io/name") != dep.str("spec", "selector", "matchLabels", "app.kubernetes.io/name") {
		t.Errorf("PodDisruptionBudget = %v", pdb)
	}

	// The sample config validates, with every {file: ...} secret under the
	// mounted secret directory and named in the example Secret.
	cm := objs["ConfigMap/broker-config"]
	brokerYAML := cm.str("data", "broker.yaml")
	secretObjs := readManifests(t, "secret.example.yaml")
	declared := asObj(secretObjs["Secret/broker-secrets"].get("stringData"))
	tmp := t.TempDir()
	td, _ := filepath.Abs("../../testdata")
	fixtures := map[string]string{"signing-key.pem": td + "/config/keys/signing-es256.pem",
		"subject_secret": td + "/config/secrets/subject_secret", "data_key": td + "/config/secrets/data_key"}
	for name := range declared {
		content := []byte("a-test-value-long-enough-0123456789")
		if f, ok := fixtures[name]; ok {
			var err error
			if content, err = os.ReadFile(f); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(tmp, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, line := range strings.Split(brokerYAML, "\n") {
		if i := strings.Index(line, secretDir+"/"); i >= 0 {
			name := strings.TrimRight(line[i+len(secretDir)+1:], "}] ")
			if _, ok := declared[name]; !ok {
				t.Errorf("config reads secret %q, which broker-secrets does not declare", name)
			}
		}
	}
	if strings.Contains(brokerYAML, "${") {
		t.Error("config takes a secret from the environment")
	}
	body := strings.ReplaceAll(brokerYAML, secretDir+"/", tmp+"/")
	body = strings.ReplaceAll(body, "/etc/broker/elster/root.pem", td+"/elster/root.pem")
	cfg, err := config.Parse("broker.yaml", []byte(body), serveRegistry())
	if err != nil {
		t.Fatalf("sample config invalid:\n%v", err)
	}
	if cfg.Store.Type != "redis" || cfg.Store.Redis.MasterName == "" {
		t.Errorf("sample store = %+v, want Redis Sentinel", cfg.Store)
	}

	// The store addresses name the Sentinel Service of redis-sentinel.yaml.
	redisObjs := readManifests(t, "redis-sentinel.yaml")
	svc := redisObjs["Service/redis-sentinel"]
	if svc == nil || !slices.Contains(cfg.Store.Redis.Addrs, "redis-sentinel:26379") {
		t.Errorf("store addrs %v do not name the redis-sentinel Service", cfg.Store.Redis.Addrs)
	}
}

func TestKubernetesRedisSentinel(t *testing.T) {
	objs := readManifests(t, "redis-sentinel.yaml")
	sts, ok := objs["StatefulSet/redis"]
	if !ok {
		t.Fatalf("no StatefulSet/redis in %v", keys(objs))
	}
	if n, _ := sts.get("spec", "replicas").(int); n < 3 {
		t.Errorf("replicas = %v, want 3 (a Sentinel quorum of 2 survives one loss)", n)
	}
	pod := asObj(sts.get("spec", "template", "spec"))
	if pod.get("securityContext", "runAsNonRoot") != true || isRoot(pod.get("securityContext", "runAsUser")) {
		t.Errorf("pod security context = %v", pod.get("securityContext"))
	}
	var names []string
	for _, c := range append(containers(sts, "initContainers"), containers(sts, "containers")...) {
		names = append(names, c.str("name"))
		if c.get("securityContext", "allowPrivilegeEscalation") != false || c.get("securityContext", "runAsNonRoot") != true {
			t.Errorf("container %s security context = %v", c.str("name"), c.get("securityContext"))
		}
		mounted := false
		for _, m := range list(c.get("volumeMounts")) {
			if asObj(m).str("mountPath") == "/run/secrets/redis" && asObj(m).get("readOnly") == true {
				mounted = true
			}
		}
		if !mounted {
			t.Errorf("container %s lacks the read-only secret mount", c.str("name"))
		}
	}
	if !slices.Contains(names, "sentinel") || !slices.Contains(names, "redis") {
		t.Errorf("containers = %v, want redis and sentinel", names)
	}
	script := objs["ConfigMap/redis-scripts"].str("data", "configure.sh")
	// The broker's user has exactly the rule the TLS/ACL store test uses.
	if !strings.Contains(script, "user broker on >${BROKER_PW} "+redisstore.ACLRule("broker")+"\n") {
		t.Error("redis-scripts: the broker user's ACL is not redisstore.ACLRule(\"broker\")")
	}
	for _, want := range []string{"sentinel monitor broker ${MASTER} 6379 2", "user default off"} {
		if !strings.Contains(script, want) {
			t.Errorf("redis-scripts lacks %q", want)
		}
	}
	if pdb := objs["PodDisruptionBudget/redis"]; pdb == nil || pdb.get("spec", "minAvailable") != 2 {
		t.Errorf("redis PodDisruptionBudget = %v", pdb)
	}
}

func TestContainerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]string // instructions per stage
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("instruction before FROM: %s", line)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], line)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a multi-stage build", len(stages))
	}
	build := strings.Join(stages[0], "\n")
	if !strings.Contains(build, "CGO_ENABLED=0") || !strings.Contains(build, "./cmd/broker") {
		t.Error("build stage does not build a static ./cmd/broker")
	}
	final := stages[len(stages)-1]
	var user, entry string
	for _, l := range final {
		switch {
		case strings.HasPrefix(l, "USER "):
			user = strings.TrimPrefix(l, "USER ")
		case strings.HasPrefix(l, "ENTRYPOINT "):
			entry = l
		case strings.HasPrefix(l, "COPY ") && !strings.Contains(l, "--from="):
			t.Errorf("final stage copies from the build context: %s", l)
		case strings.HasPrefix(l, "RUN "):
			t.Errorf("final stage runs commands (it should hold only the binary): %s", l)
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || uid == "0" || uid == "root" || strings.Trim(uid, "0123456789") != "" {
		t.Errorf("final USER %q, want a numeric non-root user", user)
	}
	if !strings.Contains(entry, "/usr/local/bin/broker") {
		t.Errorf("ENTRYPOINT = %q", entry)
	}
}

func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "broker.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := map[string][]string{} // "Section.Key" → values
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("bad line %q", line)
			}
			unit[section+"."+k] = append(unit[section+"."+k], v)
		}
	}
	one := func(k string) string {
		if len(unit[k]) == 0 {
			return ""
		}
		return unit[k][len(unit[k])-1]
	}
	if !strings.HasPrefix(one("Service.ExecStart"), "/usr/local/bin/broker serve --config ") {
		t.Errorf("ExecStart = %q", one("Service.ExecStart"))
	}
	if one("Service.DynamicUser") != "yes" && (one("Service.User") == "" || one("Service.User") == "root") {
		t.Error("the service runs as root")
	}
	if one("Service.NoNewPrivileges") != "yes" || one("Service.CapabilityBoundingSet") != "" {
		t.Error("privileges not dropped")
	}
	if one("Service.ExecReload") == "" || !strings.Contains(one("Service.ExecReload"), "-HUP") {
		t.Error("reload is not SIGHUP")
	}
	creds := map[string]bool{}
	for _, c := range unit["Service.LoadCredential"] {
		name, _, _ := strings.Cut(c, ":")
		creds[name] = true
	}
	for _, want := range []string{"subject_secret", "data_key", "signing-key.pem"} {
		if !creds[want] {
			t.Errorf("secret %s is not passed as a credential file", want)
		}
	}
	if len(unit["Service.Environment"]) != 0 || len(unit["Service.EnvironmentFile"]) != 0 {
		t.Error("secrets must come as credential files, not environment")
	}
}

func isRoot(v any) bool {
	n, ok := v.(int)
	return !ok || n == 0
}

func keys(m map[string]k8sObject) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
