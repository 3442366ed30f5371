package conformance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
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
	// Tick increments counter c of targetType by one; TickFrom builds it
	// from an emitter with the eight Inc methods. The suite passes
	// target types as they come, hostile ones included; an emitter that
	// changes them (normalises, truncates, folds) declares how in
	// Config.Normalize and Config.MaxTargetTypes. Must be safe for
	// concurrent use. Nil: the emitter cannot be driven, and only the
	// passive specs run (against whatever it already counts).
	Tick func(c Counter, targetType string)

	// Record counts one deployment that ended in outcome o as one update,
	// so that no scrape sees part of it (SPEC.md §2.3). Nil: the emitter ticks
	// counters one by one, and the specs on outcome recording and on
	// invariants under concurrency skip.
	Record func(targetType string, o counters.Outcome)

	// Snapshot returns the current counters, one entry per target type, in
	// any order: the suite sorts what it gets before comparing it, unless
	// the order is what a spec tests (Config.SortedSnapshot declares the
	// sorted order of counters.DeployCounters.Snapshot). SnapshotFrom
	// builds it from an emitter's own snapshot type. Nil: the snapshot
	// specs skip.
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
	// Scrape returns an exposition for an Accept header without HTTP: the
	// http.* rules and the HTTP specs (negotiation, gzip, methods) do not
	// apply. The suite's specs call it with AcceptFor(p) for each protocol p
	// the config declares, and nothing else, and expects the body in p with a
	// Content-Type naming p, as an HTTP handler would negotiate it:
	//
	//	AcceptFor(check.PrometheusText0_0_4)   the text format 0.0.4 (scrape.AcceptText)
	//	AcceptFor(check.OpenMetricsText1_0_0)  OpenMetrics 1.0.0 (scrape.AcceptOpenMetrics)
	//	AcceptFor(check.OpenMetricsText0_0_1)  OpenMetrics, version=0.0.1
	//	AcceptFor(check.PrometheusText1_0_0)   the text format 1.0.0
	//	AcceptFor(check.PrometheusProto)       length-delimited MetricFamily messages
	//
	// p.ContentType(scheme) writes each Content-Type (the escaping scheme
	// for the 1.0.0 formats, "" for the others). An answer in another
	// protocol fails the spec with [suite.declared]. The first two headers
	// are the ones the suite sent before Config.Protocols existed, so a
	// Scrape function written for them keeps working.
	Scrape func(ctx context.Context, accept string) (body []byte, contentType string, err error)

	// Close, when set, is called after the spec that made the emitter.
	Close func()
}

// Config configures a run of the suite. Start from NewConfig, which fills
// in every default below; a zero Config is not usable (NewEmitter is
// required).
type Config struct {
	// Name names the emitter in the summary, in failure messages and, under
	// Run, in the container its specs run in. Default "emitter".
	Name string

	// Level is the conformance level the run holds the emitter to. Full
	// (the default, and the zero Level) fails the run when a capability
	// SPEC.md §6.2 requires is declared missing; Core accepts a text-only,
	// tick-by-tick emitter. See Level.
	Level Level

	// NewEmitter returns a fresh emitter: no target type seen, every counter
	// zero. It is called before every spec, so that the active specs can
	// compare the emitter with a model that starts from zero, and once per
	// round by active-first-tick, whose every round needs target types no
	// emitter has seen. Required.
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
	// Goroutines is how many goroutines tick or record at once in the
	// race specs (active-concurrency, active-invariants, active-first-tick).
	// Default 4.
	Goroutines int
	// ConcurrentScrapes is the least number of scrapes active-concurrency
	// and active-invariants check while those goroutines run. Default 12.
	ConcurrentScrapes int
	// RaceFor is how long each race spec keeps the emitter under
	// contention: goroutines tick or record in tight loops, with no pause,
	// while the suite scrapes in process (through Emitter.Handler or
	// Emitter.Scrape, no socket) as fast as it can. A conforming emitter
	// takes all of it; a broken one fails at the first sign. The package
	// documentation gives the detection rates measured with the default,
	// 1s.
	RaceFor time.Duration
	// ScrapeTimeout bounds every scrape. Default 10s.
	ScrapeTimeout time.Duration
	// MaxBytes bounds every scraped body. Default 16 MiB.
	MaxBytes int64

	// Protocols declares the exposition protocols of content_negotiation.md
	// the emitter serves when a scraper asks for them, in any order:
	// check.PrometheusText0_0_4 (required: every target's last resort),
	// check.OpenMetricsText1_0_0 (required at level Full, SPEC.md §6.2),
	// and any of check.OpenMetricsText0_0_1, check.PrometheusText1_0_0 and
	// check.PrometheusProto, the protocols Prometheus 3 added. The passive
	// spec of each declared protocol runs, the active specs compare every
	// declared protocol's values with the model, and the negotiation specs
	// hold the emitter to serving a declared protocol whenever the Accept
	// header prefers it ([suite.declared] when it does not). An undeclared
	// protocol is not asked for, and the text fallback is accepted where a
	// scraper prefers it. Default (NewConfig): text 0.0.4 and OpenMetrics
	// 1.0.0; ReferenceConfig declares all five. A text-only emitter lists
	// check.PrometheusText0_0_4 alone (and sets Level to Core).
	Protocols []check.Protocol
	// OpenMetrics is the declaration Protocols replaced, kept so that
	// configs written before it keep their meaning: false declares the text
	// format 0.0.4 only, whatever Protocols lists; true (the default)
	// leaves Protocols as it is.
	//
	// Deprecated: set Protocols, e.g. to
	// []check.Protocol{check.PrometheusText0_0_4} for a text-only emitter.
	OpenMetrics bool
	// Gzip declares that the emitter compresses with gzip when the scraper
	// allows it; false skips the gzip spec. Default true. Only an emitter
	// scraped over HTTP (Handler or URL) can be checked for it.
	Gzip bool
	// Methods declares that the endpoint answers GET and HEAD only and
	// refuses other methods with 405 Method Not Allowed and an Allow
	// header (SPEC.md §1.11); false skips the methods spec. Default true.
	// Only an emitter scraped over HTTP can be checked for it.
	Methods bool
	// NegotiationWaivers lists cases of passive-negotiation-edge the
	// emitter is known to fail, by case ID ("om-q0-wildcard"; the package
	// documentation lists them), each with the reason. The spec skips
	// them and logs the reason; the summary lists them. It is for a
	// library's deviation written down where the config is, the way
	// Options.Disabled is for an engine rule: a waived case is no longer
	// part of what the run proves.
	NegotiationWaivers map[string]string
	// SortedSnapshot declares that Emitter.Snapshot returns its entries
	// sorted by target type (bytewise), each once, as the reference API
	// does; active-snapshot-sorted checks it. False (the default): the
	// order of a snapshot is not judged.
	SortedSnapshot bool

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
		Name:               "emitter",
		Namespace:          check.DefaultNamespace,
		TargetTypes:        counters.KnownTargetTypes(),
		Scrapes:            3,
		Deployments:        400,
		Goroutines:         4,
		ConcurrentScrapes:  12,
		RaceFor:            time.Second,
		ScrapeTimeout:      10 * time.Second,
		MaxBytes:           16 << 20,
		Protocols:          []check.Protocol{check.PrometheusText0_0_4, check.OpenMetricsText1_0_0},
		OpenMetrics:        true,
		Gzip:               true,
		Methods:            true,
		OverflowTargetType: counters.OverflowTargetType,
	}
}

// ReferenceConfig returns the Config that runs the suite against the
// reference emitter (package counters behind package handler) with every
// capability declared, the five protocols of content_negotiation.md
// among them, its tables capped at maxTargetTypes target types
// (zero: counters.DefaultMaxTargetTypes). The suite runs it in its own
// tests; it is also the model for an adapter of another emitter. The
// handler serves the namespace the config has when ReferenceConfig
// returns; set Options, not Namespace, on the result.
func ReferenceConfig(maxTargetTypes int) Config {
	if maxTargetTypes <= 0 {
		maxTargetTypes = counters.DefaultMaxTargetTypes
	}
	cfg := NewConfig()
	cfg.Name = "reference emitter"
	cfg.MaxTargetTypes = maxTargetTypes
	cfg.Normalize = counters.NewDeployCounters().Normalize
	cfg.SortedSnapshot = true
	cfg.Protocols = referenceProtocols()
	ns := cfg.Namespace
	cfg.NewEmitter = func() (*Emitter, error) {
		dc := counters.NewDeployCounters(counters.WithMaxTargetTypes(maxTargetTypes))
		h := handler.NewMetricsHandler(handler.WithNamespace(ns))
		h.SetDeployCounters(dc)
		return &Emitter{
			Tick:     TickFrom(dc),
			Record:   dc.Record,
			Snapshot: dc.Snapshot,
			Handler:  h,
		}, nil
	}
	return cfg
}

// validate reports every reason the config cannot run, each saying what to
// set.
func (cfg *Config) validate() error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if cfg.NewEmitter == nil {
		fail("NewEmitter is nil: set it to a function returning a fresh emitter")
	}
	if cfg.Level != Full && cfg.Level != Core {
		fail("Level: %d is no level; set conformance.Full (the default) or conformance.Core", cfg.Level)
	}
	cfg.validateProtocols(fail)
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
	if cfg.ScrapeTimeout <= 0 || cfg.MaxBytes <= 0 || cfg.RaceFor <= 0 {
		fail("ScrapeTimeout (%s), MaxBytes (%d) and RaceFor (%s) must be positive: start from NewConfig", cfg.ScrapeTimeout, cfg.MaxBytes, cfg.RaceFor)
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
	for _, id := range slices.Sorted(maps.Keys(cfg.NegotiationWaivers)) {
		reason := cfg.NegotiationWaivers[id]
		if !slices.Contains(negotiationCaseIDs(), id) {
			fail("NegotiationWaivers: %q is no case of passive-negotiation-edge (its cases: %s)", id, strings.Join(negotiationCaseIDs(), ", "))
		}
		if strings.TrimSpace(reason) == "" {
			fail("NegotiationWaivers[%q]: give the reason the emitter fails the case", id)
		}
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

// name is Config.Name, or "emitter" when it is empty.
func (cfg *Config) name() string {
	if cfg.Name == "" {
		return "emitter"
	}
	return cfg.Name
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
