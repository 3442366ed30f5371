package mutants

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// MaxTargetTypes is the cardinality cap every mutant declares (and, but for
// no-cardinality-cap, has), low so that the cardinality spec stays quick.
const MaxTargetTypes = 64

// A Mutant is the reference emitter with one defect, and the spec that
// must catch it.
type Mutant struct {
	// Name identifies the mutant, e.g. "unsorted-target-types".
	Name string
	// Defect says in one line what is broken.
	Defect string
	// Spec is the ID of the conformance spec that must fail
	// (conformance.SpecID).
	Spec string
	// Rule is what that spec's failure message must name: the ID of the
	// engine rule that trips ("order.series"), or the tag of the suite's
	// own assertion ("[suite.model]": exposed values differ from the model
	// the suite kept of its ticks). A defect whose symptom depends on
	// timing lists the alternatives separated by " | ", and the message
	// must name one of them.
	Rule string
	// Race says that the defect shows only on timing: the mutant runs
	// with the default Config.RaceFor, so that the meta-test proves the
	// race specs catch it as they run for every emitter. The others run
	// the race specs for raceForOthers, which their defects do not need.
	Race bool

	// build applies the defect to a fresh emitter; configure, to the
	// config (a false declaration).
	build     func(e *emitter)
	configure func(cfg *conformance.Config)
}

// raceForOthers is Config.RaceFor for the mutants whose defect is not a
// race: the race specs still run for them, briefly.
const raceForOthers = 100 * time.Millisecond

// Config returns the suite config of the mutant: the scaffold's, with the
// defect applied to every fresh emitter.
func (m Mutant) Config() conformance.Config {
	cfg := config(m.build)
	cfg.Name = "mutant " + m.Name
	if !m.Race {
		cfg.RaceFor = raceForOthers
	}
	if m.configure != nil {
		m.configure(&cfg)
	}
	return cfg
}

// Control returns the config of the scaffold with no defect: it must pass
// the whole suite, so that a mutant's failure is its defect's doing.
func Control() conformance.Config {
	cfg := config(nil)
	cfg.Name = "control"
	return cfg
}

// config declares what the scaffold (the reference table, negotiation and
// renderers) can do, the five protocols included, and builds each fresh
// emitter with build applied.
func config(build func(e *emitter)) conformance.Config {
	cfg := conformance.NewConfig()
	cfg.Protocols = conformance.ReferenceConfig(0).Protocols
	cfg.MaxTargetTypes = MaxTargetTypes
	cfg.Normalize = counters.NewDeployCounters().Normalize
	cfg.SortedSnapshot = true
	ns := cfg.Namespace
	cfg.NewEmitter = func() (*conformance.Emitter, error) {
		e := &emitter{ns: ns, table: newRefTable(counters.WithMaxTargetTypes(MaxTargetTypes)), ref: handler.NewMetricsHandler(handler.WithNamespace(ns))}
		if build != nil {
			build(e)
		}
		return e.adapter(), nil
	}
	return cfg
}

// Names reports whether a failure message names the mutant's rule, or
// one of its alternatives.
func (m Mutant) Names(message string) bool {
	for _, r := range strings.Split(m.Rule, " | ") {
		if strings.Contains(message, r) {
			return true
		}
	}
	return false
}

// Lookup returns the mutant with the given name.
func Lookup(name string) (Mutant, bool) {
	for _, m := range All() {
		if m.Name == name {
			return m, true
		}
	}
	return Mutant{}, false
}

// All returns every mutant, in a fixed order.
func All() []Mutant {
	ns := conformance.NewConfig().Namespace
	family := func(name string) string { return ns + "_deploy_" + name }
	return []Mutant{
		{
			Name:   "unsorted-target-types",
			Defect: "sorts target types case-insensitively (Apache before AWSACM), not bytewise",
			Spec:   "passive-text", Rule: "order.series",
			build: func(e *emitter) {
				e.rows = func(_ check.Protocol, s []counters.DeploySnapshot) {
					slices.SortFunc(s, func(a, b counters.DeploySnapshot) int {
						return strings.Compare(strings.ToLower(a.TargetType), strings.ToLower(b.TargetType))
					})
				}
			},
		},
		{
			Name:   "go-quote-escaping",
			Defect: "escapes target_type with Go's %q (strconv.Quote): \\u200b instead of the raw rune",
			Spec:   "active-hostile", Rule: "spec.escape-go-quote",
			build: func(e *emitter) {
				e.edit = func(body []byte, _ bool) []byte {
					return editLines(body, func(line string) []string { return []string{goQuoteTargetType(line)} })
				}
			},
		},
		{
			Name:   "sub-label-order",
			Defect: "writes result=failure before result=success, also_failed before restored",
			Spec:   "passive-text", Rule: "order.series",
			build: func(e *emitter) {
				e.edit = func(body []byte, _ bool) []byte {
					lines := strings.SplitAfter(string(body), "\n")
					for i := 0; i+1 < len(lines); i++ {
						if strings.Contains(lines[i], `result="success"`) && strings.Contains(lines[i+1], `result="failure"`) ||
							strings.Contains(lines[i], `outcome="restored"`) && strings.Contains(lines[i+1], `outcome="also_failed"`) {
							lines[i], lines[i+1] = lines[i+1], lines[i]
							i++
						}
					}
					return []byte(strings.Join(lines, ""))
				}
			},
		},
		{
			Name:   "zero-series-dropped",
			Defect: "leaves zero series out of the idempotent_skip family, so it misses target types the others list",
			Spec:   "active-new-target-type", Rule: "schema.key-set",
			build: func(e *emitter) {
				e.edit = func(body []byte, _ bool) []byte {
					return editLines(body, func(line string) []string {
						if strings.HasPrefix(line, family("idempotent_skip_total{")) && strings.HasSuffix(line, "} 0") {
							return nil
						}
						return []string{line}
					})
				}
			},
		},
		{
			Name:   "help-missing",
			Defect: "writes no HELP line for validate_failures",
			Spec:   "passive-text", Rule: "schema.help",
			build: func(e *emitter) {
				e.edit = func(body []byte, _ bool) []byte {
					return editLines(body, func(line string) []string {
						if strings.HasPrefix(line, "# HELP "+family("validate_failures")) {
							return nil
						}
						return []string{line}
					})
				}
			},
		},
		{
			Name:   "type-duplicated",
			Defect: "writes the TYPE line of reload_failures twice",
			Spec:   "passive-text", Rule: "spec.metadata-repeated",
			build: func(e *emitter) {
				e.edit = func(body []byte, _ bool) []byte {
					return editLines(body, func(line string) []string {
						if strings.HasPrefix(line, "# TYPE "+family("reload_failures")) {
							return []string{line, line}
						}
						return []string{line}
					})
				}
			},
		},
		{
			Name:   "wrong-type",
			Defect: "declares the rollback family a gauge",
			Spec:   "passive-text", Rule: "schema.type",
			build: func(e *emitter) {
				e.edit = func(body []byte, _ bool) []byte {
					return editLines(body, func(line string) []string {
						if strings.HasPrefix(line, "# TYPE "+family("rollback")) {
							return []string{strings.Replace(line, " counter", " gauge", 1)}
						}
						return []string{line}
					})
				}
			},
		},
		{
			Name:   "extra-label",
			Defect: `adds instance="emitter-1" to every series`,
			Spec:   "passive-text", Rule: "schema.labels",
			build: func(e *emitter) {
				e.edit = func(body []byte, _ bool) []byte {
					return editLines(body, func(line string) []string {
						if i := strings.LastIndex(line, "} "); i > 0 && !strings.HasPrefix(line, "#") {
							line = line[:i] + `,instance="emitter-1"` + line[i:]
						}
						return []string{line}
					})
				}
			},
		},
		{
			Name:   "empty-target-type",
			Defect: `keeps the empty target type as target_type="" instead of naming it`,
			Spec:   "active-hostile", Rule: "schema.key-label-empty",
			build: func(e *emitter) {
				e.rows = func(_ check.Protocol, s []counters.DeploySnapshot) {
					for i := range s {
						if s[i].TargetType == counters.EmptyTargetType {
							s[i].TargetType = ""
						}
					}
					// A table keyed by "" sorts it first.
					slices.SortFunc(s, func(a, b counters.DeploySnapshot) int { return strings.Compare(a.TargetType, b.TargetType) })
				}
			},
		},
		{
			Name:   "shared-snapshot",
			Defect: "returns its cached snapshot slice itself while nothing changed, so a caller's writes reach the exposition",
			Spec:   "active-snapshot-isolation", Rule: "[suite.model]",
			build: func(e *emitter) { e.table = &cachingTable{refTable: e.table.(refTable)} },
		},
		{
			Name:   "lost-ticks",
			Defect: "ticks by copy-on-write without compare-and-swap, so a tick stored between another's load and store is lost",
			// A lost update shows as a decrease when a scrape saw the
			// overwritten value, else as a short final total.
			Spec: "active-concurrency", Rule: "scrape.counter-decreased | [suite.model]", Race: true,
			build: func(e *emitter) { e.table = &lossyTable{refTable: e.table.(refTable)} },
		},
		{
			Name:   "counter-decreases",
			Defect: "exports the counts since the previous scrape (resets on scrape), so counters go down",
			Spec:   "passive-text", Rule: "scrape.counter-decreased",
			build: func(e *emitter) { e.table = &deltaTable{refTable: e.table.(refTable)} },
		},
		{
			Name:   "wrong-target-type",
			Defect: "caches bound handles by the length of the name, so IIS ticks land on SSH",
			Spec:   "active-model", Rule: "[suite.model]",
			build: func(e *emitter) { e.table = &lengthKeyedTable{refTable: e.table.(refTable)} },
		},
		{
			Name:   "torn-record",
			Defect: "Record ticks an outcome's counters one by one, nanoseconds apart, so a scrape can see half a deployment",
			Spec:   "active-invariants", Rule: "invariant.i1-rollbacks | invariant.i2-failures", Race: true,
			build: func(e *emitter) { e.table = tornTable{refTable: e.table.(refTable)} },
		},
		{
			Name:   "duplicate-first-tick",
			Defect: "adds a new target type's row with check-then-act, so two goroutines racing to its first tick both add one",
			// The second row shows as a duplicate series; the ticks it took
			// are missing from the first row, which the model sees.
			Spec: "active-first-tick", Rule: "spec.duplicate-series | [suite.model]", Race: true,
			build: func(e *emitter) { e.table = &rowsTable{refTable: e.table.(refTable)} },
		},
		{
			Name:   "interleaved-families",
			Defect: "writes the rollback also_failed series after the idempotent_skip family",
			Spec:   "passive-text", Rule: "spec.interleaved-family",
			build: func(e *emitter) {
				e.edit = func(body []byte, openMetrics bool) []byte {
					var moved []string
					out := editLines(body, func(line string) []string {
						if strings.HasPrefix(line, family("rollback_total{")) && strings.Contains(line, `outcome="also_failed"`) {
							moved = append(moved, line)
							return nil
						}
						return []string{line}
					})
					eof := ""
					if openMetrics {
						out, eof = out[:len(out)-len("# EOF\n")], "# EOF\n"
					}
					for _, l := range moved {
						out = append(append(out, l...), '\n')
					}
					return append(out, eof...)
				}
			},
		},
		{
			Name:   "no-eof",
			Defect: "ends OpenMetrics without # EOF",
			Spec:   "passive-openmetrics", Rule: "format.rejected",
			build: func(e *emitter) {
				e.edit = func(body []byte, openMetrics bool) []byte {
					if openMetrics {
						return []byte(strings.TrimSuffix(string(body), "# EOF\n"))
					}
					return body
				}
			},
		},
		{
			Name:   "wrong-content-type",
			Defect: "serves OpenMetrics under the text format's Content-Type",
			Spec:   "passive-openmetrics", Rule: "[suite.declared]",
			build: func(e *emitter) {
				e.contentType = func(p check.Protocol, ct string) string {
					if p.Format() == check.FormatOpenMetrics {
						return handler.ContentTypeText
					}
					return ct
				}
			},
		},
		{
			Name:   "no-cardinality-cap",
			Defect: "declares a cap of 64 target types but keeps 1024",
			Spec:   "active-cardinality", Rule: "[suite.model]",
			build: func(e *emitter) { e.table = newRefTable() },
		},
		{
			Name:   "any-method",
			Defect: "serves POST, PUT and DELETE as if they were GET instead of refusing them with 405",
			Spec:   "passive-methods", Rule: "[suite.declared]",
			build: func(e *emitter) { e.anyMethod = true },
		},
		{
			Name:   "ignores-gzip",
			Defect: "declares gzip but never compresses",
			Spec:   "passive-gzip", Rule: "[suite.declared]",
			build: func(e *emitter) { e.compress = func([]string) bool { return false } },
		},
		{
			Name:   "type-before-help",
			Defect: "writes every family's TYPE line before its HELP line",
			Spec:   "passive-text", Rule: "order.help-before-type",
			build: func(e *emitter) {
				e.edit = func(body []byte, _ bool) []byte {
					lines := strings.SplitAfter(string(body), "\n")
					for i := 0; i+1 < len(lines); i++ {
						if strings.HasPrefix(lines[i], "# HELP ") && strings.HasPrefix(lines[i+1], "# TYPE ") {
							lines[i], lines[i+1] = lines[i+1], lines[i]
							i++
						}
					}
					return []byte(strings.Join(lines, ""))
				}
			},
		},
		{
			Name:   "text-only",
			Defect: "serves the text format only, but declares OpenMetrics 1.0.0 (NewConfig's default Protocols)",
			Spec:   "passive-openmetrics", Rule: "[suite.declared]",
			build: func(e *emitter) {
				e.negotiate = func([]string, check.Protocol) check.Protocol { return check.PrometheusText0_0_4 }
			},
			configure: func(cfg *conformance.Config) { cfg.Protocols = conformance.NewConfig().Protocols },
		},
		{
			Name:   "ignores-q0",
			Defect: "serves OpenMetrics whenever Accept names it, even with q=0",
			Spec:   "passive-negotiation-edge", Rule: "http.negotiation",
			build: func(e *emitter) {
				e.negotiate = servesWhenNamed("application/openmetrics-text", check.OpenMetricsText1_0_0)
			},
		},
		{
			Name:   "drops-q0-ranges",
			Defect: "skips the ranges Accept refuses with q=0 instead of refusing their format, so text/plain;q=0, */* gets the text format",
			Spec:   "passive-negotiation-edge", Rule: "http.negotiation",
			build: func(e *emitter) {
				e.negotiate = func(accept []string, _ check.Protocol) check.Protocol {
					return e.referenceChoice(keepRanges(accept, func(part string) bool { return !refused(part) }))
				}
			},
		},
		{
			Name:   "first-accept-line-only",
			Defect: "negotiates with the first Accept line only (Header.Get), ignoring the others",
			Spec:   "passive-negotiation-edge", Rule: "http.negotiation-preference",
			build: func(e *emitter) {
				e.negotiate = func(accept []string, _ check.Protocol) check.Protocol {
					return e.referenceChoice(accept[:min(1, len(accept))])
				}
			},
		},
		{
			Name:   "gzip-ignores-q0",
			Defect: "compresses whenever Accept-Encoding names gzip, even with q=0",
			Spec:   "passive-negotiation-edge", Rule: "http.content-encoding",
			build: func(e *emitter) {
				e.compress = func(acceptEncoding []string) bool {
					return strings.Contains(strings.ToLower(strings.Join(acceptEncoding, ",")), "gzip")
				}
			},
		},
		{
			Name:   "escaped-ranges-ignored",
			Defect: "does not recognise a range that carries an escaping parameter, so Prometheus 3's default Accept gets OpenMetrics 0.0.1, not the 1.0.0 it prefers",
			Spec:   "passive-negotiation", Rule: "http.negotiation-preference",
			build: func(e *emitter) {
				e.negotiate = func(accept []string, _ check.Protocol) check.Protocol {
					return e.referenceChoice(keepRanges(accept, func(part string) bool { return !strings.Contains(part, "escaping=") }))
				}
			},
		},
		{
			Name:   "protobuf-served-as-text",
			Defect: "declares protobuf but answers every request for it in the text format 0.0.4",
			Spec:   "passive-protobuf", Rule: "[suite.declared]",
			build: func(e *emitter) {
				e.negotiate = servesInstead(check.PrometheusProto, check.PrometheusText0_0_4)
			},
		},
		{
			Name:   "protobuf-wrong-value",
			Defect: "writes each target type's reload_failures count as its post_verify_failures and back, in protobuf only (a field mix-up the text formats do not have)",
			// The swap keeps the invariants and every series monotonic:
			// only the model can tell.
			Spec: "active-model", Rule: "[suite.model]",
			build: func(e *emitter) {
				e.rows = func(p check.Protocol, s []counters.DeploySnapshot) {
					if p != check.PrometheusProto {
						return
					}
					for i := range s {
						s[i].ReloadFailures, s[i].PostVerifyFails = s[i].PostVerifyFails, s[i].ReloadFailures
					}
				}
			},
		},
		{
			Name:   "protobuf-ignores-q0",
			Defect: "serves protobuf whenever Accept names it, even with q=0",
			Spec:   "passive-negotiation", Rule: "http.negotiation",
			build: func(e *emitter) {
				e.negotiate = servesWhenNamed("application/vnd.google.protobuf", check.PrometheusProto)
			},
		},
		{
			Name:   "openmetrics-no-escaping",
			Defect: "serves OpenMetrics 1.0.0 without the escaping parameter content_negotiation.md requires on its Content-Type",
			Spec:   "passive-negotiation", Rule: "http.content-type-params",
			build: func(e *emitter) { e.contentType = withoutEscaping(check.OpenMetricsText1_0_0) },
		},
		{
			Name:   "text-1.0.0-no-escaping",
			Defect: "serves the text format 1.0.0 without the escaping parameter content_negotiation.md requires on its Content-Type",
			Spec:   "passive-text-1.0.0", Rule: "http.content-type-params",
			build: func(e *emitter) { e.contentType = withoutEscaping(check.PrometheusText1_0_0) },
		},
		{
			Name:   "openmetrics-0.0.1-as-1.0.0",
			Defect: "answers a request for OpenMetrics 0.0.1 with version=1.0.0",
			Spec:   "passive-openmetrics-0.0.1", Rule: "[suite.declared]",
			build: func(e *emitter) {
				e.negotiate = servesInstead(check.OpenMetricsText0_0_1, check.OpenMetricsText1_0_0)
			},
		},
		{
			Name:   "capabilities-declared-missing",
			Defect: "declares neither gzip nor a cardinality cap, at the default level, Full",
			Spec:   "conformance-level", Rule: "[suite.level]",
			configure: func(cfg *conformance.Config) {
				cfg.Gzip = false
				cfg.MaxTargetTypes = 0
			},
		},
		{
			Name:   "unsorted-snapshot",
			Defect: "declares a sorted Snapshot (Config.SortedSnapshot) but returns it in reverse order",
			Spec:   "active-snapshot-sorted", Rule: "[suite.declared]",
			build: func(e *emitter) { e.snapshot = slices.Reverse[[]counters.DeploySnapshot] },
		},
		{
			Name:   "record-wrong-outcome",
			Defect: "Record counts a failed verification whose rollback also failed as a failed reload",
			Spec:   "active-outcomes", Rule: "[suite.model]",
			build: func(e *emitter) { e.table = misrecordingTable{refTable: e.table.(refTable)} },
		},
		{
			Name:   "shared-body",
			Defect: "its Scrape function returns the same body slice while nothing changed, so a caller's writes reach the next scrape",
			// The overwritten body has no family left to find.
			Spec: "active-body-isolation", Rule: "schema.family-missing | format.rejected",
			build: func(e *emitter) {
				c := &bodyCache{}
				e.scrape = func(accept string) ([]byte, string) { return c.get(e, accept) }
			},
		},
	}
}

// goQuoteTargetType rewrites the target_type value of a sample line as
// Go's %q would write it.
func goQuoteTargetType(line string) string {
	const key = `target_type="`
	i := strings.Index(line, key)
	if i < 0 || strings.HasPrefix(line, "#") {
		return line
	}
	var raw strings.Builder
	j := i + len(key)
	for ; j < len(line) && line[j] != '"'; j++ {
		c := line[j]
		if c == '\\' && j+1 < len(line) {
			j++
			c = line[j]
			if c == 'n' {
				c = '\n'
			}
		}
		raw.WriteByte(c)
	}
	return line[:i] + "target_type=" + strconv.Quote(raw.String()) + line[min(j+1, len(line)):]
}

// keepRanges returns the elements of the Accept lines that keep accepts,
// one a line.
func keepRanges(accept []string, keep func(element string) bool) []string {
	var kept []string
	for _, line := range accept {
		for part := range strings.SplitSeq(line, ",") {
			if keep(part) {
				kept = append(kept, part)
			}
		}
	}
	return kept
}
