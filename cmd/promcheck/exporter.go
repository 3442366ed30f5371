package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/deploymetrics/deploymetrics/internal/exporter"
)

const exporterUsage = `Usage: promcheck exporter [flags]

Serves the conformance of a fleet to Prometheus, continuously, in the
multi-target exporter pattern of blackbox_exporter: Prometheus discovers the
emitters and scrapes /probe?target=URL&module=NAME here; each probe scrapes
the target, checks it with the engine (as promcheck check does, judged
against the previous probe of the same target for the scrape.* rules) and
answers with the verdict as metrics: promcheck_probe_success,
promcheck_probe_findings{rule,severity}, promcheck_probe_samples, ...

  GET  /probe?target=URL&module=NAME   one probe
  GET  /metrics                        the exporter's own metrics
  GET  /                               recent probes, their verdicts and findings
  GET  /rules                          every rule and its description
  GET  /-/healthy                      200 while serving
  POST /-/reload                       reload --config (as SIGHUP does)

Modules come from --config (YAML; examples/prometheus/promcheck.yml shows
every field), or are the built-in "deploy" (the deploy schema) and
"generic" (any valid exposition). A module probes only the targets it
allows: loopback addresses unless it lists others (allowed_targets), since
an exporter that fetches any URL for anyone is an SSRF hole. A bad or
disallowed request is answered 400, one beyond --max-concurrent 503.

The first line on stdout is the exporter's URL. SIGHUP reloads the config
(an invalid one is reported and the current one kept); SIGINT or SIGTERM
shuts down gracefully. examples/prometheus holds a Prometheus configuration
(file_sd, the relabelling to __param_target, hashmod sharding across
exporters) and alerting rules with their unit tests.

Examples:
  promcheck exporter
  promcheck exporter --config promcheck.yml --listen 0.0.0.0:9465
  promcheck exporter --check-config promcheck.yml
  curl 'http://127.0.0.1:9465/probe?module=deploy&target=http://127.0.0.1:9464/metrics/prometheus'
  curl -X POST http://127.0.0.1:9465/-/reload
`

// exporterFlags are the flags of the exporter command, as parsed.
type exporterFlags struct {
	listen, config, checkConfig string
	maxConcurrent               int
	storeEntries                int
	storeBytes                  int64
	storeTTL                    time.Duration
	history                     int
	timeoutMargin               time.Duration
	logLevel                    string
}

func (f *exporterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:9465", "`address` to listen on (port 0: any free port)")
	fs.StringVar(&f.config, "config", "", "module `file` (YAML); default: the built-in deploy and generic modules")
	fs.StringVar(&f.checkConfig, "check-config", "", "validate the module `file` (schema, TLS and credential files included) and exit")
	fs.IntVar(&f.maxConcurrent, "max-concurrent", 0, "probes at once; beyond it 503 (`number`, 0: twice the CPUs, at least 4)")
	fs.IntVar(&f.storeEntries, "store-max-entries", exporter.DefaultStoreEntries, "previous expositions kept for the cross-probe rules (`number`)")
	fs.Int64Var(&f.storeBytes, "store-max-bytes", exporter.DefaultStoreBytes, "estimated memory of the previous expositions kept (`bytes`)")
	fs.DurationVar(&f.storeTTL, "store-ttl", exporter.DefaultStoreTTL, "how long a previous exposition is kept (`duration`)")
	fs.IntVar(&f.history, "history", exporter.DefaultHistory, "recent probes (and as many failures) the status page keeps (`number`)")
	fs.DurationVar(&f.timeoutMargin, "timeout-margin", exporter.DefaultTimeoutMargin, "taken off Prometheus's scrape timeout to bound a probe (`duration`)")
	fs.StringVar(&f.logLevel, "log-level", "info", "`level` of the log on stderr: debug (every probe), info (failed probes), warn (refused requests), error")
}

func (f *exporterFlags) validate() error {
	switch {
	case f.maxConcurrent < 0:
		return fmt.Errorf("--max-concurrent %d: want a number >= 0", f.maxConcurrent)
	case f.storeEntries < 1:
		return fmt.Errorf("--store-max-entries %d: want at least 1", f.storeEntries)
	case f.storeBytes < 1:
		return fmt.Errorf("--store-max-bytes %d: want a positive number of bytes", f.storeBytes)
	case f.storeTTL <= 0:
		return fmt.Errorf("--store-ttl %s: want a positive duration", f.storeTTL)
	case f.history < 1:
		return fmt.Errorf("--history %d: want at least 1", f.history)
	case f.timeoutMargin <= 0:
		return fmt.Errorf("--timeout-margin %s: want a positive duration", f.timeoutMargin)
	}
	return nil
}

func runExporter(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("exporter", e)
	var f exporterFlags
	f.register(fs)
	positional, code, ok := parseFlags(fs, args, exporterUsage, e)
	if !ok {
		return code
	}
	if len(positional) > 0 {
		fmt.Fprintf(e.stderr, "promcheck exporter: takes no arguments, got %q (targets come from Prometheus: /probe?target=URL)\n", positional[0])
		return exitCannotCheck
	}
	if f.checkConfig != "" {
		cfg, err := exporter.LoadConfig(f.checkConfig)
		if err != nil {
			fmt.Fprintf(e.stderr, "promcheck exporter: %v\n", err)
			return exitCannotCheck
		}
		fmt.Fprintf(e.stdout, "%s: valid, modules %s\n", f.checkConfig, strings.Join(cfg.ModuleNames(), ", "))
		return exitConforms
	}
	if err := f.validate(); err != nil {
		fmt.Fprintf(e.stderr, "promcheck exporter: %v\n", err)
		return exitCannotCheck
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		fmt.Fprintf(e.stderr, "promcheck exporter: --log-level %q: want debug, info, warn or error\n", f.logLevel)
		return exitCannotCheck
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))

	cfg := exporter.BuiltinConfig()
	var load func() (*exporter.Config, error)
	if f.config != "" {
		load = func() (*exporter.Config, error) { return exporter.LoadConfig(f.config) }
		var err error
		if cfg, err = load(); err != nil {
			fmt.Fprintf(e.stderr, "promcheck exporter: %v\n", err)
			return exitCannotCheck
		}
	}
	exp, err := exporter.New(cfg, exporter.Options{
		Logger:        logger,
		MaxConcurrent: f.maxConcurrent,
		Store:         exporter.StoreLimits{MaxEntries: f.storeEntries, MaxBytes: f.storeBytes, TTL: f.storeTTL},
		History:       f.history,
		TimeoutMargin: f.timeoutMargin,
		Version:       version,
		Load:          load,
	})
	if err != nil {
		fmt.Fprintf(e.stderr, "promcheck exporter: %v\n", err)
		return exitCannotCheck
	}
	defer exp.Close()

	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		fmt.Fprintf(e.stderr, "promcheck exporter: listen on %s: %v\n", f.listen, err)
		return exitCannotCheck
	}
	srv := &http.Server{
		Handler: exp,
		// Slow clients must not hold the server; probes themselves are
		// bounded by their timeouts, so there is no write timeout.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	fmt.Fprintf(e.stdout, "http://%s/\n", ln.Addr())
	logger.Info("promcheck exporter listening", "address", ln.Addr().String(), "config", cfg.Source, "modules", cfg.ModuleNames(),
		"max_concurrent", exp.MaxConcurrent(), "version", version)
	if f.config == "" && !isLoopback(ln.Addr()) {
		logger.Warn("listening beyond loopback with the built-in modules, which probe loopback targets only: give --config with the targets your modules may probe (allowed_targets)")
	}
	return serveExporter(ctx, srv, served, exp, e)
}

// serveExporter runs until ctx ends, reloading the config on SIGHUP, then
// shuts down gracefully, letting probes in flight finish for a while.
func serveExporter(ctx context.Context, srv *http.Server, served chan error, exp *exporter.Exporter, e env) int {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			// Reload logs its outcome; a failure keeps the current config.
			_ = exp.Reload()
		case err := <-served:
			fmt.Fprintf(e.stderr, "promcheck exporter: %v\n", err)
			return exitCannotCheck
		case <-ctx.Done():
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := srv.Shutdown(shutdownCtx)
			if serveErr := <-served; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
				err = errors.Join(err, serveErr)
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "promcheck exporter: shutdown: %v\n", err)
				return exitCannotCheck
			}
			fmt.Fprintln(e.stderr, "promcheck exporter: shut down")
			return exitConforms
		}
	}
}

// isLoopback reports whether a listener's address is a loopback one.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
