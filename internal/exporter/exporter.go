package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure an Exporter. Zero fields take the defaults.
type Options struct {
	// Logger receives a line for every refused request, every failed probe
	// (at debug level, every probe) and every reload. Nil discards them.
	Logger *slog.Logger
	// MaxConcurrent bounds the probes running at once; a probe request
	// beyond it is answered 503 at once. Default: twice GOMAXPROCS, at
	// least 4, room for a probe per core checking and as many waiting on
	// the network.
	MaxConcurrent int
	// Store bounds the cross-probe memory.
	Store StoreLimits
	// History is how many recent probes (and as many recent failures) the
	// status page keeps. Default DefaultHistory.
	History int
	// TimeoutMargin is taken off Prometheus's scrape timeout to bound a
	// probe, so that its answer arrives in time. Default
	// DefaultTimeoutMargin.
	TimeoutMargin time.Duration
	// Version is reported by /metrics and the status page.
	Version string
	// Load reads the config again, for Reload (SIGHUP, POST /-/reload).
	// Nil: the config cannot be reloaded, and /-/reload says so.
	Load func() (*Config, error)
	// Now is the clock, for tests; nil is time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultHistory       = 100
	DefaultTimeoutMargin = 500 * time.Millisecond
)

// Exporter serves /probe for Prometheus, its own /metrics, a status page
// and the lifecycle endpoints. It is an http.Handler; create it with New.
type Exporter struct {
	opts      Options
	log       *slog.Logger
	now       func() time.Time
	userAgent string

	config   atomic.Pointer[Config]
	loaded   atomic.Int64 // unix nanoseconds of the last successful load
	reloadMu sync.Mutex   // one reload at a time

	slots   chan struct{} // a token per running probe
	store   *store
	history *history
	metrics *selfMetrics
	mux     *http.ServeMux
	bufs    sync.Pool // of *[]byte, exposition buffers
}

// New returns an exporter serving cfg.
func New(cfg *Config, opts Options) (*Exporter, error) {
	if cfg == nil || cfg.modules == nil {
		return nil, errors.New("exporter: the config was not built by LoadConfig, ParseConfig or BuiltinConfig")
	}
	if opts.MaxConcurrent < 0 || opts.History < 0 || opts.TimeoutMargin < 0 {
		return nil, fmt.Errorf("exporter: negative option (max concurrent %d, history %d, timeout margin %s)", opts.MaxConcurrent, opts.History, opts.TimeoutMargin)
	}
	if opts.MaxConcurrent == 0 {
		opts.MaxConcurrent = max(2*runtime.GOMAXPROCS(0), 4)
	}
	if opts.History == 0 {
		opts.History = DefaultHistory
	}
	if opts.TimeoutMargin == 0 {
		opts.TimeoutMargin = DefaultTimeoutMargin
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	e := &Exporter{
		opts:      opts,
		log:       opts.Logger,
		now:       opts.Now,
		userAgent: "promcheck-exporter/" + opts.Version,
		slots:     make(chan struct{}, opts.MaxConcurrent),
		history:   newHistory(opts.History),
	}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.store = newStore(opts.Store, e.now)
	e.metrics = newSelfMetrics(e.now())
	e.setConfig(cfg)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /probe", e.serveProbe)
	mux.HandleFunc("GET /metrics", e.serveMetrics)
	mux.HandleFunc("GET /{$}", e.serveStatus)
	mux.HandleFunc("GET /rules", e.serveRules)
	mux.HandleFunc("GET /-/healthy", serveHealthy)
	mux.HandleFunc("POST /-/reload", e.serveReload)
	mux.HandleFunc("PUT /-/reload", e.serveReload)
	e.mux = mux
	return e, nil
}

// ServeHTTP routes a request. GET serves HEAD too; other methods get 405
// with an Allow header.
func (e *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.mux.ServeHTTP(w, r) }

// MaxConcurrent returns the bound on probes at once.
func (e *Exporter) MaxConcurrent() int { return cap(e.slots) }

func (e *Exporter) setConfig(cfg *Config) {
	old := e.config.Swap(cfg)
	e.loaded.Store(e.now().UnixNano())
	e.metrics.addModules(cfg.ModuleNames())
	if old != nil && old != cfg {
		// Probes in flight finish with the old clients; their idle
		// connections are not reused by the new config.
		for _, m := range old.modules {
			m.client.CloseIdleConnections()
		}
	}
}

func (e *Exporter) loadedAt() time.Time { return time.Unix(0, e.loaded.Load()) }

// Reload loads the config again (Options.Load) and serves it if it is
// valid; an invalid one is reported and the current one kept.
func (e *Exporter) Reload() error {
	if e.opts.Load == nil {
		return errors.New("reload: the exporter runs with the built-in modules; start it with --config FILE to reload a file")
	}
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	cfg, err := e.opts.Load()
	if err != nil {
		e.metrics.reloaded(false, e.now())
		e.log.Error("reload failed, keeping the current modules", "err", err)
		return fmt.Errorf("reload: %w", err)
	}
	e.setConfig(cfg)
	e.metrics.reloaded(true, e.now())
	e.log.Info("config reloaded", "source", cfg.Source, "modules", cfg.ModuleNames())
	return nil
}

// Close releases the idle connections of the current config's modules.
func (e *Exporter) Close() {
	for _, m := range e.config.Load().modules {
		m.client.CloseIdleConnections()
	}
}

// serveProbe answers /probe: 400 for a bad request, 503 beyond the
// concurrency limit, otherwise 200 with the probe's result, whether the
// target conforms, fails or could not be checked (the result says which,
// as blackbox_exporter's probe_success does).
func (e *Exporter) serveProbe(w http.ResponseWriter, r *http.Request) {
	req, err := e.parseProbeRequest(r, e.config.Load())
	if err != nil {
		e.reject(w, r, err)
		return
	}
	// The slot is taken before anything waits on the network (the
	// allowlist's DNS lookup included), so that the limit bounds every
	// request doing work.
	select {
	case e.slots <- struct{}{}:
	default:
		e.reject(w, r, &badRequest{reasonOverloaded, fmt.Sprintf("overloaded: %d probes are running, the most this exporter runs at once (--max-concurrent); retry later", cap(e.slots))})
		return
	}
	defer func() { <-e.slots }()

	ctx, cancel := context.WithTimeout(r.Context(), req.timeout)
	defer cancel()
	if err := req.module.checkAllowed(ctx, req.target); err != nil {
		e.reject(w, r, err)
		return
	}
	rec := e.probe(ctx, req)
	e.history.add(rec)
	e.metrics.probed(rec.Module, resultOf(rec))
	e.logProbe(rec, req.timeout)

	bp := e.buffer()
	defer e.bufs.Put(bp)
	ew := newExpoWriter(r, *bp)
	writeProbe(ew, rec)
	ew.write(w, r)
	*bp = ew.buf
}

// reject answers a refused probe request, 400 or (overloaded) 503, and
// logs it.
func (e *Exporter) reject(w http.ResponseWriter, r *http.Request, err error) {
	var bad *badRequest
	if !errors.As(err, &bad) {
		bad = &badRequest{reasonBadTarget, err.Error()}
	}
	status := http.StatusBadRequest
	if bad.reason == reasonOverloaded {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	e.metrics.rejected(bad.reason)
	e.log.Warn("probe refused", "status", status, "reason", bad.reason, "error", bad.message, "remote", r.RemoteAddr)
	http.Error(w, bad.message, status)
}

func (e *Exporter) logProbe(rec *probeRecord, timeout time.Duration) {
	level := slog.LevelDebug
	if !rec.Success {
		level = slog.LevelInfo
	}
	if !e.log.Enabled(context.Background(), level) {
		return
	}
	attrs := []any{"module", rec.Module, "target", rec.Target, "success", rec.Success,
		"duration", rec.Duration.Round(time.Microsecond), "timeout", timeout}
	for _, s := range rec.Scrapes {
		if s.Err != "" {
			attrs = append(attrs, "scrape_"+s.Accept, s.ErrKind+": "+s.Err)
			continue
		}
		attrs = append(attrs, "findings_"+s.Accept, fmt.Sprintf("%d errors, %d warnings, %d info", s.Errors, s.Warnings, s.Infos))
	}
	e.log.Log(context.Background(), level, "probe", attrs...)
}

func (e *Exporter) serveMetrics(w http.ResponseWriter, r *http.Request) {
	bp := e.buffer()
	defer e.bufs.Put(bp)
	ew := newExpoWriter(r, *bp)
	e.metrics.write(ew, gaugeReadings{
		inFlight:    len(e.slots),
		maxInFlight: cap(e.slots),
		store:       e.store.stats(),
		limits:      e.store.limits,
		historyLen:  e.history.len(),
		version:     e.opts.Version,
	})
	ew.write(w, r)
	*bp = ew.buf
}

// buffer returns an exposition buffer from the pool.
func (e *Exporter) buffer() *[]byte {
	if bp, ok := e.bufs.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, 4<<10)
	return &b
}

func serveHealthy(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "Healthy.\n")
}

// serveReload reloads the config: POST or PUT only, as Prometheus's
// /-/reload, so that following a link never reloads.
func (e *Exporter) serveReload(w http.ResponseWriter, _ *http.Request) {
	if err := e.Reload(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "Reloaded.\n")
}
