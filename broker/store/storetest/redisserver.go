package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/logtest"
)

// RequireRedisEnv names the environment variable that turns a missing
// redis-server from a skip into a failure. CI sets it to 1.
const RequireRedisEnv = "BROKER_REQUIRE_REDIS"

const (
	redisBinary    = "redis-server"
	startAttempts  = 3
	readyTimeout   = 10 * time.Second
	stopTimeout    = 5 * time.Second
	pingTimeout    = 500 * time.Millisecond
	readyPollDelay = 20 * time.Millisecond
)

// RedisServer is a redis-server process owned by one test.
type RedisServer struct {
	addr     string
	cmd      *exec.Cmd
	exited   chan struct{} // closed once the process has been reaped
	out      *logtest.Buffer
	stopOnce sync.Once
}

// StartRedis starts a throw-away redis-server and returns its address; it is
// stopped when the test ends. See StartRedisServer.
func StartRedis(t testing.TB) (addr string) {
	t.Helper()
	return StartRedisServer(t).Addr()
}

// StartRedisServer starts redis-server on a free loopback port, without
// persistence and with its working directory in a temporary folder, waits
// until it answers PING and registers its shutdown with t.Cleanup. Tests
// that need the server to vanish mid-way call Stop themselves.
//
// args are appended to the command line, e.g. "--cluster-enabled", "yes" or
// "--sentinel". The base settings are written to a config file in the
// temporary folder (a Sentinel needs a writable one).
//
// If redis-server is not installed the test is skipped, or fails when
// BROKER_REQUIRE_REDIS=1.
func StartRedisServer(t testing.TB, args ...string) *RedisServer {
	t.Helper()
	bin, err := exec.LookPath(redisBinary)
	if err != nil {
		if os.Getenv(RequireRedisEnv) == "1" {
			t.Fatalf("redis-server not installed and %s=1: %v", RequireRedisEnv, err)
		}
		t.Skip("redis-server not installed; `make test` installs it")
	}
	dir := t.TempDir()
	var lastErr error
	// A port found free can be taken by someone else before the server binds
	// it; another port is the cure.
	for range startAttempts {
		r, err := startRedis(bin, dir, args)
		if err == nil {
			t.Cleanup(r.Stop)
			return r
		}
		lastErr = err
	}
	t.Fatalf("start redis-server: %v", lastErr)
	return nil
}

// Pause stops the server process (SIGSTOP) without closing its sockets:
// the kernel still accepts connections and buffers commands, nothing
// answers, and on Resume the server runs what arrived in the meantime. This
// is how a hung Redis looks to a client (a stalled node, a network that
// drops replies), the case a plain Stop cannot show.
func (r *RedisServer) Pause() error { return r.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (r *RedisServer) Resume() error { return r.cmd.Process.Signal(syscall.SIGCONT) }

// Addr is the server's host:port.
func (r *RedisServer) Addr() string { return r.addr }

// Stop terminates the server and waits for it to exit. It is safe to call
// more than once.
func (r *RedisServer) Stop() {
	r.stopOnce.Do(func() {
		_ = r.cmd.Process.Signal(syscall.SIGCONT) // a paused server cannot act on SIGTERM
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.exited:
		case <-time.After(stopTimeout):
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
	})
}

func startRedis(bin, dir string, args []string) (*RedisServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "redis-"+strconv.Itoa(port)+".conf")
	settings := fmt.Sprintf("port %d\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndaemonize no\ndir %q\n", port, dir)
	if err := os.WriteFile(conf, []byte(settings), 0o600); err != nil {
		return nil, fmt.Errorf("write redis config: %w", err)
	}
	out := &logtest.Buffer{}
	cmd := exec.Command(bin, append([]string{conf}, args...)...)
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	r := &RedisServer{
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		cmd:    cmd,
		exited: make(chan struct{}),
		out:    out,
	}
	go func() {
		_ = cmd.Wait()
		close(r.exited)
	}()

	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-r.exited:
			return nil, fmt.Errorf("redis-server on port %d exited early: %s", port, out.String())
		default:
		}
		err := ping(r.addr)
		if err == nil {
			return r, nil
		}
		if time.Now().After(deadline) {
			r.Stop()
			return nil, fmt.Errorf("redis-server on port %d not ready after %s: %w; output: %s",
				port, readyTimeout, err, out.String())
		}
		time.Sleep(readyPollDelay)
	}
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ping sends a PING in the Redis wire format and expects PONG. It speaks the
// protocol directly so the fixture does not depend on a client library.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, pingTimeout)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(pingTimeout)); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	if _, err := io.WriteString(c, "*1\r\n$4\r\nPING\r\n"); err != nil {
		return fmt.Errorf("send ping: %w", err)
	}
	want := []byte("+PONG\r\n")
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("read pong: %w", err)
	}
	if !bytes.Equal(got, want) {
		return errors.New("read pong: unexpected reply")
	}
	return nil
}
