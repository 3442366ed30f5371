package mutants

import (
	"slices"
	"strconv"
	"strings"

	"github.com/deploymetrics/deploymetrics/conformance"
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

	build func(e *emitter)
}

// Config returns the suite config of the mutant: the scaffold's, with the
// defect applied to every fresh emitter.
func (m Mutant) Config() conformance.Config { return config(m.build) }

// Control returns the config of the scaffold with no defect: it must pass
// the whole suite, so that a mutant's failure is its defect's doing.
func Control() conformance.Config { return config(nil) }

// config declares what the scaffold (the reference table and renderers)
// can do, and builds each fresh emitter with build applied.
func config(build func(e *emitter)) conformance.Config {
	cfg := conformance.NewConfig()
	cfg.MaxTargetTypes = MaxTargetTypes
	cfg.Normalize = counters.NewDeployCounters().Normalize
	ns := cfg.Namespace
	cfg.NewEmitter = func() (*conformance.Emitter, error) {
		e := &emitter{ns: ns, table: newRefTable(counters.WithMaxTargetTypes(MaxTargetTypes))}
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
				e.rows = func(s []counters.DeploySnapshot) {
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
				e.rows = func(s []counters.DeploySnapshot) {
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
			Defect: "increments with a separate load and store, so concurrent ticks overwrite each other",
			// A lost update shows as a decrease when a scrape saw the
			// overwritten value, else as a short final total.
			Spec: "active-concurrency", Rule: "scrape.counter-decreased | [suite.model]",
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
			Defect: "Record ticks an outcome's counters one by one, so a scrape can see half a deployment",
			Spec:   "active-invariants", Rule: "invariant.i1-rollbacks",
			build: func(e *emitter) { e.table = tornTable{refTable: e.table.(refTable)} },
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
			Spec:   "passive-negotiation", Rule: "http.negotiation-preference",
			build: func(e *emitter) {
				e.contentType = func(bool) string { return handler.ContentTypeText }
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
			Spec:   "passive-methods", Rule: "[suite.methods]",
			build: func(e *emitter) { e.anyMethod = true },
		},
		{
			Name:   "ignores-gzip",
			Defect: "declares gzip but never compresses",
			Spec:   "passive-gzip", Rule: "[suite.gzip]",
			build: func(e *emitter) { e.noGzip = true },
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
