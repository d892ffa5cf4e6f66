package storetest

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Kill ends the server with SIGKILL, as a crash or a lost machine would:
// no goodbye to clients, replicas or the cluster bus.
func (r *RedisServer) Kill() {
	r.stopOnce.Do(func() {
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		<-r.exited
	})
}

// Port is the server's TCP port.
func (r *RedisServer) Port() string {
	_, p, _ := net.SplitHostPort(r.addr)
	return p
}

// RedisCluster is a Redis Cluster of real redis-server processes on
// loopback: Masters[i] is replicated by Replicas[i].
type RedisCluster struct {
	Masters  []*RedisServer
	Replicas []*RedisServer
	// NodeTimeout is cluster-node-timeout: how long a master may be
	// unreachable before the cluster fails it over.
	NodeTimeout time.Duration
}

// Addrs are the seed addresses for a client: every node.
func (c *RedisCluster) Addrs() []string {
	var out []string
	for _, s := range append(append([]*RedisServer{}, c.Masters...), c.Replicas...) {
		out = append(out, s.Addr())
	}
	return out
}

// StartRedisCluster starts masters masters with one replica each, joins
// them with redis-cli --cluster create and waits until the cluster is
// healthy and every replica is in sync. Skips like StartRedisServer when
// redis-server or redis-cli (both in Debian's redis-server package) are
// missing.
func StartRedisCluster(t testing.TB, masters int, nodeTimeout time.Duration) *RedisCluster {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv(RequireRedisEnv) == "1" {
			t.Fatalf("redis-cli not installed and %s=1: %v", RequireRedisEnv, err)
		}
		t.Skip("redis-cli not installed; `make test` installs it")
	}
	ms := strconv.FormatInt(nodeTimeout.Milliseconds(), 10)
	var nodes []*RedisServer
	for range 2 * masters {
		nodes = append(nodes, StartRedisServer(t, "--cluster-enabled", "yes", "--cluster-node-timeout", ms,
			"--cluster-replica-validity-factor", "0", "--repl-diskless-sync-delay", "0"))
	}
	args := []string{"--cluster", "create"}
	for _, n := range nodes {
		args = append(args, n.Addr())
	}
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v: %s", err, out)
	}
	c := &RedisCluster{NodeTimeout: nodeTimeout}
	byID := map[string]*RedisServer{}
	for _, n := range nodes {
		byID[strings.TrimSpace(CLI(t, n.Addr(), "cluster", "myid"))] = n
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c.Masters, c.Replicas = nil, nil
		healthy := true
		for _, n := range nodes {
			info := CLI(t, n.Addr(), "cluster", "info")
			if !strings.Contains(info, "cluster_state:ok") {
				healthy = false
			}
			role := strings.Fields(CLI(t, n.Addr(), "role"))
			if len(role) > 0 && role[0] == "master" {
				c.Masters = append(c.Masters, n)
			}
		}
		// Pair each master with the replica that follows it, in sync.
		for _, m := range c.Masters {
			var rep *RedisServer
			for _, n := range nodes {
				role := strings.Fields(CLI(t, n.Addr(), "role"))
				if len(role) >= 5 && role[0] == "slave" && role[2] == m.Port() && role[3] == "connected" {
					rep = n
				}
			}
			if rep == nil {
				healthy = false
			}
			c.Replicas = append(c.Replicas, rep)
		}
		if healthy && len(c.Masters) == masters {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not healthy after 30s: %d masters", len(c.Masters))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// CLI runs one redis-cli command against addr and returns its output
// (empty when the server does not answer).
func CLI(t testing.TB, addr string, args ...string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command("redis-cli", append([]string{"-h", host, "-p", port}, args...)...).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// WaitPromoted polls replica until it reports itself master and returns
// how long that took from since.
func WaitPromoted(t testing.TB, replica *RedisServer, since time.Time, limit time.Duration) time.Duration {
	t.Helper()
	for time.Since(since) < limit {
		if f := strings.Fields(CLI(t, replica.Addr(), "role")); len(f) > 0 && f[0] == "master" {
			return time.Since(since)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("replica %s not promoted within %v", replica.Addr(), limit)
	return 0
}
