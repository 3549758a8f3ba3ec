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
	"strconv"
	"syscall"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/config"
)

// serveFlags are the flags of `herald serve`; each maps to a config key.
type serveFlags struct {
	fs   *flag.FlagSet
	file *string
}

func newServeFlags(stderr io.Writer) serveFlags {
	fs := newFlags("serve", stderr)
	sf := serveFlags{fs: fs, file: fs.String("config", os.Getenv("HERALD_CONFIG"), "YAML config file (env HERALD_CONFIG)")}
	fs.String("addr", "", "listen address (addr, HERALD_ADDR; default :8080)")
	fs.String("api-key", "", "server API key (api_key, HERALD_API_KEY)")
	fs.String("token-secret", "", "HS256 token secret (token_secret, HERALD_TOKEN_SECRET)")
	fs.Bool("allow-anonymous", false, "let clients in without a token (allow_anonymous, HERALD_ALLOW_ANONYMOUS)")
	fs.Bool("echo", false, "serve the diagnostic echo endpoint /echo (echo, HERALD_ECHO)")
	fs.String("log-level", "", "debug, info, warn or error (log.level, HERALD_LOG_LEVEL)")
	fs.String("broker", "", "memory, redis, nats, or a redis:// or nats:// URL (broker, HERALD_BROKER)")
	return sf
}

// overrides returns the flags given on the command line, keyed by config key.
func (sf serveFlags) overrides() map[string]string {
	keys := map[string]string{"addr": "addr", "api-key": "api_key", "token-secret": "token_secret",
		"allow-anonymous": "allow_anonymous", "echo": "echo", "log-level": "log.level", "broker": "broker"}
	out := map[string]string{}
	sf.fs.Visit(func(f *flag.Flag) {
		if key, ok := keys[f.Name]; ok {
			out[key] = f.Value.String()
		}
	})
	return out
}

func runServe(args []string, stdout, stderr io.Writer) error {
	sf := newServeFlags(stderr)
	if err := sf.fs.Parse(args); err != nil {
		return err
	}
	if sf.fs.NArg() > 0 {
		return usageError("serve takes no arguments, got %q", sf.fs.Args())
	}
	cfg, err := config.Load(config.Options{File: *sf.file, Env: os.Environ(), Flags: sf.overrides()})
	if err != nil {
		return err
	}
	if *sf.file == "" && cfg.APIKey == "" && cfg.TokenSecret == "" {
		cfg = devMode(cfg, stdout)
	}
	return serve(cfg, stderr)
}

// devMode fills in secrets for a server started with no config and no
// secrets, and says so loudly: it is for trying herald out, not for
// production.
func devMode(cfg herald.Config, out io.Writer) herald.Config {
	cfg.APIKey = auth.GenerateSecret(24)
	cfg.TokenSecret = auth.GenerateSecret(32)
	cfg.AllowAnonymous = true
	cfg.DevLogin = true
	fmt.Fprintf(out, `
  ******************************************************************
  *  DEV MODE: no config file and no secrets were given.            *
  *  Anonymous clients are allowed and POST /dev/token mints tokens *
  *  for any user. Do not run this in production:                   *
  *  write a config with "herald genconfig > herald.yaml".          *
  ******************************************************************

  api key:      %s
  token secret: %s

  try:  curl -H "Authorization: apikey %s" \
          -d '{"channel":"news","data":{"text":"hello"}}' http://localhost%s/api/publish

`, cfg.APIKey, cfg.TokenSecret, cfg.APIKey, portOf(cfg.Addr))
	return cfg
}

func portOf(addr string) string {
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return ":" + port
	}
	return addr
}

// serve runs the node until SIGINT or SIGTERM, then shuts down
// gracefully: /readyz answers 503 for shutdown_delay while everything
// else is served as before, then the listener closes and connections get
// shutdown_timeout to finish. A second signal stops at once.
func serve(cfg herald.Config, stderr io.Writer) error {
	node, err := herald.New(cfg)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ln, err := net.Listen("tcp", node.Config().Addr)
	if err != nil {
		_ = node.Shutdown(context.Background())
		return fmt.Errorf("listening on %s: %w", node.Config().Addr, err)
	}
	stop := make(chan os.Signal, 2)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(stop)
	served := make(chan error, 1)
	go func() { served <- node.Serve(ln, nil) }()
	log.Info("herald listening", "addr", ln.Addr().String(), "url", "http://"+displayAddr(ln.Addr()), "version", herald.Version)
	select {
	case err := <-served: // the listener failed
		_ = node.Shutdown(context.Background())
		return err
	case sig := <-stop:
		return shutDown(node, sig, stop, served, log)
	}
}

// shutDown shuts the node down after sig; another signal on stop ends
// the delay and the wait at once. It returns once Serve has.
func shutDown(node *herald.Node, sig os.Signal, stop <-chan os.Signal, served <-chan error, log *slog.Logger) error {
	c := node.Config()
	log.Info("shutting down: /readyz answers 503 for the delay, then the listener closes; signal again to stop now",
		"signal", sig.String(), "connections", node.Info().Connections,
		"shutdown_delay", c.ShutdownDelay, "shutdown_timeout", c.ShutdownTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case sig := <-stop:
			log.Info("stopping now", "signal", sig.String())
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := node.Shutdown(ctx); err != nil {
		log.Warn("connections or requests still open at the shutdown timeout were dropped", "err", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// displayAddr turns a listener address into something to paste in a browser.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		if ok {
			return "localhost:" + strconv.Itoa(tcp.Port)
		}
	}
	return a.String()
}
