package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ozg-broker/eidas-broker/broker"
)

func main() {
	// The broker exports no traces; see broker.DisableLibraryTracing.
	broker.DisableLibraryTracing()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: broker <command> [flags]

commands:
  demo          run a complete demo on 127.0.0.1 (memory store, generated keys, simulators, loopback admin listener)
  serve         run the broker from a config file (--config broker.yaml)
  check-config  validate a config file and print every problem with file:line: path
  keygen        print a new key: --alg ES256|RS256 (PEM), --data-key or --subject-secret (base64)
  saml          eIDAS interop tools: verify --cert FILE|--metadata FILE MSG, decrypt --key KEY.pem MSG, inspect FILE|-
  load          load tool: whole logins per method (--method M --logins N --concurrency C [--json]); in-process demo on loopback, or --issuer URL --client ID --secret S --redirect URI
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "demo":
		return cmdDemo(args[1:], stdout, stderr)
	case "serve":
		return cmdServe(args[1:], stderr)
	case "check-config":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "usage: broker check-config FILE")
			return 2
		}
		return checkConfig(args[1], stdout)
	case "keygen":
		return cmdKeygen(args[1:], stdout, stderr)
	case "load":
		return cmdLoad(args[1:], stdout, stderr)
	case "saml":
		return cmdSAML(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "broker: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
	// The OIDC library logs through the default logger; route it through
	// ours so every line has one format and level. main owns the process,
	// so setting the default here is the one place it is right to do.
	slog.SetDefault(log)
	return log
}

// listener is one HTTP listener of the process.
type listener struct {
	name string // in logs and errors: "public", "admin"
	addr string
	h    http.Handler
}

// serveUntilSignal serves the listeners until SIGINT or SIGTERM.
func serveUntilSignal(log *slog.Logger, bound func(addrs []string), ls ...listener) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, log, bound, ls...)
}

// serve binds every listener first, so that a taken admin port stops the
// start before anything is served, then calls bound with the bound
// addresses (in order; a port 0 is resolved), and serves until ctx ends or
// one server fails. Then it shuts all of them down gracefully.
func serve(ctx context.Context, log *slog.Logger, bound func(addrs []string), ls ...listener) error {
	var nls []net.Listener
	defer func() {
		for _, nl := range nls {
			_ = nl.Close()
		}
	}()
	addrs := make([]string, len(ls))
	for i, l := range ls {
		nl, err := net.Listen("tcp", l.addr)
		if err != nil {
			return fmt.Errorf("%s listener: %w", l.name, err)
		}
		nls = append(nls, nl)
		addrs[i] = nl.Addr().String()
	}
	if bound != nil {
		bound(addrs)
	}
	srvs := make([]*http.Server, len(ls))
	errc := make(chan error, len(ls))
	for i, l := range ls {
		srvs[i] = &http.Server{
			Handler:           l.h,
			ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
			MaxHeaderBytes: 64 << 10,
		}
		go func() {
			if err := srvs[i].Serve(nls[i]); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s listener: %w", l.name, err)
			}
		}()
	}
	var err error
	select {
	case err = <-errc:
		log.Error("server failed, shutting down", "err", err)
	case <-ctx.Done():
		log.Info("shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range srvs {
		if serr := srv.Shutdown(sctx); serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
	}
	return err
}

func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) bool {
	fs.SetOutput(stderr)
	return fs.Parse(args) == nil
}
