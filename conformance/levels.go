package conformance

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
)

// Level is how much of SPEC.md §6 a run holds the emitter to.
//
// At Full, the default, every capability SPEC.md §6.2 requires of an
// emitter must be declared: the text format 0.0.4 and OpenMetrics 1.0.0
// (Config.Protocols), gzip (Config.Gzip), a cardinality cap
// (Config.MaxTargetTypes) and the GET/HEAD-only methods (Config.Methods).
// One declared missing fails the spec conformance-level, whose message
// names every one, and the run with it; the specs that would exercise them
// skip.
//
// At Core, those are optional but the text format 0.0.4, which every
// target must serve (content_negotiation.md's last resort): a text-only
// emitter that ticks its counters one by one, with no cap, conforms when
// everything else holds (the text format clean under every engine rule,
// the schema, the order, exact counts under concurrency, hostile target
// types). Declaring Core is a statement about the emitter, printed in the
// summary; it is never implied.
//
// The protocols Prometheus 3 added (text 1.0.0, OpenMetrics 0.0.1,
// protobuf), Record, Snapshot and the sorted snapshot are optional at
// every level: SPEC.md §6.3 describes them, but does not require them of an
// emitter. Their specs skip when they are not declared, and hold the
// emitter to them when they are.
type Level uint8

const (
	// Full requires every capability SPEC.md §6.2 requires. It is the zero
	// Level.
	Full Level = iota
	// Core requires only what every emitter must do, whatever it declares.
	Core
)

// String returns "Full" or "Core".
func (l Level) String() string {
	switch l {
	case Full:
		return "Full"
	case Core:
		return "Core"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// capability is something an emitter declares it can do, in its Config or
// its Emitter, and the specs that exercise it. Every capability works the
// same way: a spec that needs one skips when it is declared missing
// (TestContext.require), fails with [suite.declared] when it is declared
// but the emitter does not do it (TestContext.disagree), and
// conformance-level fails a run whose level requires one that is declared
// missing. The summary lists them all. Each protocol of suiteProtocols is
// one, named as content_negotiation.md names it ("PrometheusProto").
type capability struct {
	// name is how messages and the summary call it.
	name string
	// specs are the IDs of the specs that exercise it.
	specs []string
	// required says whether the Full level requires it (SPEC.md §6.2);
	// everyLevel, whether every level does.
	required, everyLevel bool
	// declaration says whether the config and the emitter declare the
	// capability, and names where that is said, for messages.
	declaration func(cfg *Config, e *Emitter) (declared bool, where string)
	// http says that only an emitter scraped over HTTP can be checked for
	// it.
	http bool
}

// capabilities lists every capability, in summary order.
func capabilities() []capability {
	var out []capability
	for _, sp := range suiteProtocols() {
		p := sp.protocol
		out = append(out, capability{
			name: string(p), specs: []string{sp.spec}, required: sp.required, everyLevel: sp.everyLevel,
			declaration: func(cfg *Config, _ *Emitter) (bool, string) {
				return cfg.declaresProtocol(p), cfg.protocolDeclaration(p)
			},
		})
	}
	return append(out, []capability{
		{
			name: "gzip", specs: []string{"passive-gzip"}, required: true, http: true,
			declaration: func(cfg *Config, _ *Emitter) (bool, string) {
				return cfg.Gzip, fmt.Sprintf("Config.Gzip is %t", cfg.Gzip)
			},
		},
		{
			name: "cardinality-cap", specs: []string{"active-cardinality"}, required: true,
			declaration: func(cfg *Config, _ *Emitter) (bool, string) {
				return cfg.MaxTargetTypes > 0, fmt.Sprintf("Config.MaxTargetTypes is %d", cfg.MaxTargetTypes)
			},
		},
		{
			name: "methods", specs: []string{"passive-methods"}, required: true, http: true,
			declaration: func(cfg *Config, _ *Emitter) (bool, string) {
				return cfg.Methods, fmt.Sprintf("Config.Methods is %t", cfg.Methods)
			},
		},
		{
			name: "record", specs: []string{"active-outcomes", "active-invariants"},
			declaration: func(_ *Config, e *Emitter) (bool, string) {
				if e.Record == nil {
					return false, "Emitter.Record is nil"
				}
				return true, "Emitter.Record is set"
			},
		},
		{
			name: "snapshot", specs: []string{"active-snapshot-isolation"},
			declaration: func(_ *Config, e *Emitter) (bool, string) {
				if e.Snapshot == nil {
					return false, "Emitter.Snapshot is nil"
				}
				return true, "Emitter.Snapshot is set"
			},
		},
		{
			name: "sorted-snapshot", specs: []string{"active-snapshot-sorted"},
			declaration: func(cfg *Config, e *Emitter) (bool, string) {
				if e.Snapshot == nil {
					return false, "Emitter.Snapshot is nil"
				}
				return cfg.SortedSnapshot, fmt.Sprintf("Config.SortedSnapshot is %t", cfg.SortedSnapshot)
			},
		},
	}...)
}

// lookupCapability returns the capability with the given name; the names
// are the suite's own constants, so a miss is a bug in the suite.
func lookupCapability(name string) capability {
	for _, c := range capabilities() {
		if c.name == name {
			return c
		}
	}
	panic("conformance: no capability " + name)
}

// requiredAt reports whether level l requires the capability.
func (c capability) requiredAt(l Level) bool { return c.required && (l == Full || c.everyLevel) }

// require skips the running spec unless the emitter declares capability
// name and the suite can check it on this emitter, saying which and why.
func (tc *TestContext) require(name string) {
	c := lookupCapability(name)
	declared, where := c.declaration(&tc.Config, tc.Emitter)
	switch {
	case !declared && c.requiredAt(tc.Config.Level):
		Skip(fmt.Sprintf("%s declared missing (%s), though level %s requires it: spec conformance-level fails the run for it", c.name, where, tc.Config.Level))
	case !declared && c.required:
		Skip(fmt.Sprintf("%s declared missing (%s); level %s does not require it", c.name, where, tc.Config.Level))
	case !declared:
		Skip(fmt.Sprintf("%s declared missing (%s); it is optional", c.name, where))
	case c.http && !tc.HTTP():
		Skip(fmt.Sprintf("%s not testable for this emitter: it is scraped through Emitter.Scrape, not over HTTP", c.name))
	}
}

// disagree fails the running spec because the emitter declares capability
// name but did not do it: the declaration and the behaviour disagree.
// behaviour says what happened instead; the message says both ways out.
func (tc *TestContext) disagree(name, behaviour string) {
	GinkgoHelper()
	c := lookupCapability(name)
	_, where := c.declaration(&tc.Config, tc.Emitter)
	Fail(fmt.Sprintf("[suite.declared] %s: %s declares it, but %s: the declaration and the behaviour disagree. Fix the emitter, or declare the capability missing (seed %d)",
		c.name, where, behaviour, tc.Seed))
}

// declarations is what conformance-level records about one config, for
// the summary: the level and every capability.
type declarations struct {
	Emitter      string               `json:"emitter"`
	Level        string               `json:"level"`
	Capabilities []declaredCapability `json:"capabilities"`
	// Waivers are the config's NegotiationWaivers, "id: reason", sorted.
	Waivers []string `json:"waivers,omitempty"`
}

// declaredCapability is one capability as a config declares it.
type declaredCapability struct {
	Name     string   `json:"name"`
	Specs    []string `json:"specs"`
	Required bool     `json:"required"` // at the config's level
	Declared bool     `json:"declared"`
	Where    string   `json:"where"` // the declaration, e.g. "Config.Gzip is false"
	// Untestable says why the suite cannot check a declared capability on
	// this emitter, "" when it can.
	Untestable string `json:"untestable,omitempty"`
}

// declarations reads every capability off the config and the emitter.
func (tc *TestContext) declarations() declarations {
	d := declarations{Emitter: tc.Config.name(), Level: tc.Config.Level.String()}
	for _, c := range capabilities() {
		declared, where := c.declaration(&tc.Config, tc.Emitter)
		dc := declaredCapability{Name: c.name, Specs: c.specs, Required: c.requiredAt(tc.Config.Level), Declared: declared, Where: where}
		if declared && c.http && !tc.HTTP() {
			dc.Untestable = "scraped through Emitter.Scrape, not over HTTP"
		}
		d.Capabilities = append(d.Capabilities, dc)
	}
	for _, id := range slices.Sorted(maps.Keys(tc.Config.NegotiationWaivers)) {
		d.Waivers = append(d.Waivers, id+": "+tc.Config.NegotiationWaivers[id])
	}
	return d
}

// missing returns the required capabilities declared missing, one
// "name (where)" each.
func (d declarations) missing() []string {
	var out []string
	for _, c := range d.Capabilities {
		if c.Required && !c.Declared {
			out = append(out, fmt.Sprintf("%s (%s)", c.Name, c.Where))
		}
	}
	return out
}

// levelEntry names the report entry conformance-level records.
const levelEntry = "conformance declarations"

var _ = DescribeConformance("level", func(tc *TestContext) {
	It("declares every capability its conformance level requires",
		Label("level"), SpecID("conformance-level"), func() {
			d := tc.declarations()
			AddReportEntry(levelEntry, d)
			if missing := d.missing(); len(missing) > 0 {
				Fail(fmt.Sprintf("[suite.level] %s claims level %s, which requires every capability SPEC.md §6.2 requires, but declares %d of them missing: %s. "+
					"Add them to the emitter and declare them, or set Config.Level = conformance.Core to hold it to the lower level (the summary then says so)",
					d.Emitter, d.Level, len(missing), strings.Join(missing, ", ")))
			}
		})
})
