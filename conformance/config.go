package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// Emitter is the adapter the suite drives: a few functions around the
// emitter under test. One way to scrape is required, and Tick for every
// active spec; every other function is optional. Leaving one nil declares
// the capability missing, so the specs that need it Skip with the reason
// instead of passing silently.
type Emitter struct {
	// Tick increments counter c of targetType by one. The suite passes
	// target types as they come, hostile ones included; an emitter that
	// changes them (normalises, truncates, folds) declares how in
	// Config.Normalize and Config.MaxTargetTypes. Must be safe for
	// concurrent use. Nil: the emitter cannot be driven, and only the
	// passive specs run (against whatever it already counts).
	Tick func(c Counter, targetType string)

	// Record counts one deployment that ended in outcome o as one update,
	// so that no scrape sees part of it (DESIGN §2). Nil: the emitter ticks
	// counters one by one, and the specs on outcome recording and on
	// invariants under concurrency skip.
	Record func(targetType string, o counters.Outcome)

	// Snapshot returns the current counters, sorted by target type. Nil:
	// the snapshot-isolation spec skips.
	Snapshot func() []counters.DeploySnapshot

	// Exactly one of Handler, URL and Scrape says how to scrape.
	//
	// Handler serves the metrics endpoint; the suite serves it on a
	// loopback httptest.Server and scrapes it over real HTTP, so the http.*
	// rules and the gzip spec apply.
	Handler http.Handler
	// URL is the address of a running endpoint, e.g.
	// "http://127.0.0.1:9464/metrics/prometheus".
	URL string
	// Scrape returns an exposition for an Accept header (scrape.AcceptText
	// or scrape.AcceptOpenMetrics) without HTTP: the http.* rules and the
	// gzip spec do not apply.
	Scrape func(ctx context.Context, accept string) (body []byte, contentType string, err error)

	// Close, when set, is called after the spec that made the emitter.
	Close func()
}

// Config configures a run of the suite. Start from NewConfig, which fills
// in every default below; a zero Config is not usable (NewEmitter is
// required).
type Config struct {
	// NewEmitter returns a fresh emitter: no target type seen, every counter
	// zero. It is called once for every spec, so that the active specs can
	// compare the emitter with a model that starts from zero. Required.
	NewEmitter func() (*Emitter, error)

	// Namespace prefixes the family names. Default check.DefaultNamespace
	// ("certctl").
	Namespace string

	// Options are the check engine's options for every check. A nil
	// Options.Schema means the deploy schema for Namespace (the suite
	// always judges the deploy schema). Disable an engine rule here only
	// for a documented reason: a disabled rule is no longer part of what
	// the run proves. Default: the engine's defaults, not strict.
	Options check.Options

	// TargetTypes are the target types the active specs tick. Default
	// counters.KnownTargetTypes(). At least two; none may be one the
	// emitter changes (see Normalize), so that the model stays exact.
	TargetTypes []string

	// Seed seeds every random sequence of the suite. Zero (the default)
	// takes Ginkgo's random seed (--ginkgo.seed, printed at the start of
	// every run), so a failure is reproduced by passing that seed back.
	// Each spec logs the seed it used.
	Seed int64

	// Scrapes is how many successive scrapes the passive specs check,
	// each against the previous one (the scrape.* rules). Default 3.
	Scrapes int
	// Deployments is how many random deployments an active spec drives
	// (each one outcome: one to three ticks). Default 400.
	Deployments int
	// Goroutines is how many goroutines tick at once in the concurrency
	// specs. Default 4.
	Goroutines int
	// ConcurrentScrapes is how many scrapes the concurrency specs check
	// while those goroutines tick. Default 12.
	ConcurrentScrapes int
	// ScrapeTimeout bounds every scrape. Default 10s.
	ScrapeTimeout time.Duration
	// MaxBytes bounds every scraped body. Default 16 MiB.
	MaxBytes int64

	// OpenMetrics declares that the emitter serves OpenMetrics 1.0.0 when
	// asked; false skips the OpenMetrics specs and scrapes only the text
	// format. Default true.
	OpenMetrics bool
	// Gzip declares that the emitter compresses with gzip when the scraper
	// allows it; false skips the gzip spec. Default true. Only an emitter
	// scraped over HTTP (Handler or URL) can be checked for it.
	Gzip bool

	// MaxTargetTypes declares the emitter's cardinality cap: it keeps the
	// first MaxTargetTypes distinct target types and counts every tick on
	// a later one into the series of OverflowTargetType. Zero (the
	// default) declares no cap, and the cardinality spec skips.
	MaxTargetTypes int
	// OverflowTargetType is the target type overflow is counted under.
	// Default counters.OverflowTargetType.
	OverflowTargetType string

	// Normalize declares the label value the emitter exports a target type
	// under: the hostile-names spec expects every tick on t in the series
	// with target_type Normalize(t). Nil means the identity, which no
	// emitter can keep for the empty string or invalid UTF-8 without
	// breaking the exposition: declare what yours does.
	Normalize func(targetType string) string
}

// NewConfig returns a Config with every default set, to which the caller
// adds NewEmitter and its emitter's capabilities.
func NewConfig() Config {
	return Config{
		Namespace:          check.DefaultNamespace,
		TargetTypes:        counters.KnownTargetTypes(),
		Scrapes:            3,
		Deployments:        400,
		Goroutines:         4,
		ConcurrentScrapes:  12,
		ScrapeTimeout:      10 * time.Second,
		MaxBytes:           16 << 20,
		OpenMetrics:        true,
		Gzip:               true,
		OverflowTargetType: counters.OverflowTargetType,
	}
}

// ReferenceConfig returns the Config that runs the suite against the
// reference emitter (package counters behind package handler) with every
// capability declared, its tables capped at maxTargetTypes target types
// (zero: counters.DefaultMaxTargetTypes). The suite runs it in its own
// tests; it is also the model for an adapter of another emitter. The
// handler serves the namespace the config has when ReferenceConfig
// returns; set Options, not Namespace, on the result.
func ReferenceConfig(maxTargetTypes int) Config {
	if maxTargetTypes <= 0 {
		maxTargetTypes = counters.DefaultMaxTargetTypes
	}
	cfg := NewConfig()
	cfg.MaxTargetTypes = maxTargetTypes
	cfg.Normalize = counters.NewDeployCounters().Normalize
	ns := cfg.Namespace
	cfg.NewEmitter = func() (*Emitter, error) {
		dc := counters.NewDeployCounters(counters.WithMaxTargetTypes(maxTargetTypes))
		h := handler.NewMetricsHandler(handler.WithNamespace(ns))
		h.SetDeployCounters(dc)
		return &Emitter{
			Tick:     func(c Counter, targetType string) { tickReference(dc, c, targetType) },
			Record:   dc.Record,
			Snapshot: dc.Snapshot,
			Handler:  h,
		}, nil
	}
	return cfg
}

// tickReference maps a Counter to the reference table's Inc method.
func tickReference(dc *counters.DeployCounters, c Counter, targetType string) {
	switch c {
	case AttemptSuccess:
		dc.IncAttemptSuccess(targetType)
	case AttemptFailure:
		dc.IncAttemptFailure(targetType)
	case ValidateFailure:
		dc.IncValidateFailure(targetType)
	case ReloadFailure:
		dc.IncReloadFailure(targetType)
	case PostVerifyFailure:
		dc.IncPostVerifyFailure(targetType)
	case RollbackRestored:
		dc.IncRollbackRestored(targetType)
	case RollbackAlsoFailed:
		dc.IncRollbackAlsoFailed(targetType)
	case IdempotentSkip:
		dc.IncIdempotentSkip(targetType)
	}
}

// validate reports every reason the config cannot run, each saying what to
// set.
func (cfg *Config) validate() error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if cfg.NewEmitter == nil {
		fail("NewEmitter is nil: set it to a function returning a fresh emitter")
	}
	if err := handler.ValidateNamespace(cfg.Namespace); err != nil {
		fail("Namespace: %v", err)
	}
	if len(cfg.TargetTypes) < 2 {
		fail("TargetTypes: %d given, want at least two (NewConfig sets counters.KnownTargetTypes())", len(cfg.TargetTypes))
	}
	seen := make(map[string]bool, len(cfg.TargetTypes))
	for _, t := range cfg.TargetTypes {
		n := cfg.normalize(t)
		if n != t {
			fail("TargetTypes: %q is exported as %q (Config.Normalize): the model needs target types the emitter keeps as they are", t, n)
		}
		if seen[t] {
			fail("TargetTypes: %q listed twice", t)
		}
		seen[t] = true
	}
	if cfg.Scrapes < 2 {
		fail("Scrapes: %d, want at least 2 so that scrapes are compared (NewConfig sets 3)", cfg.Scrapes)
	}
	if cfg.Deployments < 1 || cfg.Goroutines < 2 || cfg.ConcurrentScrapes < 2 {
		fail("Deployments (%d) must be at least 1, Goroutines (%d) and ConcurrentScrapes (%d) at least 2: start from NewConfig",
			cfg.Deployments, cfg.Goroutines, cfg.ConcurrentScrapes)
	}
	if cfg.ScrapeTimeout <= 0 || cfg.MaxBytes <= 0 {
		fail("ScrapeTimeout (%s) and MaxBytes (%d) must be positive: start from NewConfig", cfg.ScrapeTimeout, cfg.MaxBytes)
	}
	if cfg.MaxTargetTypes < 0 {
		fail("MaxTargetTypes: %d, want 0 (no cap) or the cap", cfg.MaxTargetTypes)
	}
	if cfg.MaxTargetTypes > 0 && len(cfg.TargetTypes) > cfg.MaxTargetTypes {
		fail("TargetTypes: %d, more than the declared cap MaxTargetTypes (%d): the active specs need them all kept", len(cfg.TargetTypes), cfg.MaxTargetTypes)
	}
	if cfg.MaxTargetTypes > 0 && cfg.OverflowTargetType == "" {
		fail("OverflowTargetType: empty, but MaxTargetTypes declares a cap: name the overflow target type")
	}
	if cfg.Options.Schema != nil {
		if err := cfg.Options.Schema.Validate(); err != nil {
			fail("Options.Schema: %v", err)
		}
	}
	if err := check.ValidateRuleNames(cfg.Options.Disabled); err != nil {
		fail("Options.Disabled: %v", err)
	}
	return errors.Join(errs...)
}

// normalize is Config.Normalize, or the identity.
func (cfg *Config) normalize(t string) string {
	if cfg.Normalize == nil {
		return t
	}
	return cfg.Normalize(t)
}

// options returns the engine options of the config with the schema filled
// in, as a copy the caller may change.
func (cfg *Config) options() check.Options {
	o := cfg.Options
	if o.Schema == nil {
		o.Schema = check.DeploySchema(cfg.Namespace)
	}
	o.Disabled = append([]string(nil), o.Disabled...)
	sev := make(map[string]check.Severity, len(o.Severities)+1)
	for k, v := range o.Severities {
		sev[k] = v
	}
	o.Severities = sev
	return o
}

// validateEmitter reports what is wrong with an emitter NewEmitter returned.
func validateEmitter(e *Emitter) error {
	if e == nil {
		return errors.New("NewEmitter returned a nil *Emitter")
	}
	ways := 0
	for _, set := range []bool{e.Handler != nil, e.URL != "", e.Scrape != nil} {
		if set {
			ways++
		}
	}
	if ways != 1 {
		return fmt.Errorf("the emitter sets %d of Handler, URL and Scrape; set exactly one, so the suite knows how to scrape it", ways)
	}
	return nil
}
