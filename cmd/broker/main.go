package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: broker <command> [flags]

commands:
  demo          run a complete demo on 127.0.0.1 (memory store, generated keys, simulators)
  serve         run the broker from a config file (--config broker.yaml)
  check-config  validate a config file and print every problem with file:line: path
  keygen        print a new key: --alg ES256|RS256 (PEM), --data-key or --subject-secret (base64)
  saml          eIDAS interop tools: verify --cert FILE|--metadata FILE MSG, decrypt --key KEY.pem MSG, inspect FILE|-
  load          load tool: whole demo logins on loopback (--logins N --concurrency C)
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

// listenAndServe runs h until SIGINT/SIGTERM, then shuts down gracefully.
// ready is called once the listener is bound.
func listenAndServe(addr string, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Addr: addr, Handler: h,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) bool {
	fs.SetOutput(stderr)
	return fs.Parse(args) == nil
}
