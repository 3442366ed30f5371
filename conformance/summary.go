package conformance

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
)

// summaryEntry names the report entry ReportSummary records.
const summaryEntry = "conformance summary"

// ReportSummary prints, at the end of a run, one summary per config the
// run registered: its level, and for every capability whether the level
// requires it, whether the emitter declares it, and how its specs ended.
// It also records the summary in the Ginkgo report (a report entry of the
// ReportAfterSuite node, which the JSON and JUnit reports carry as a
// property). Run installs it; a suite that calls Register installs it
// itself, at the top level of its tree:
//
//	var _ = ReportAfterSuite("conformance summary", conformance.ReportSummary)
//
// Configs are told apart by the containers their specs run in. A config
// whose conformance-level spec did not run (filtered out) is listed
// without its declarations.
func ReportSummary(report Report) {
	text := summarize(report)
	if text == "" {
		return
	}
	AddReportEntry(summaryEntry, text)
	// Printed, not only recorded: the summary is for the person reading the
	// end of the test log.
	fmt.Fprint(os.Stdout, "\n"+text)
}

// configRun is what one config's specs did.
type configRun struct {
	path  string // the containers above the suite's groups
	decl  *declarations
	specs map[string]types.SpecState // spec ID -> state
}

// summarize renders the summary of every config in report, in the order
// their specs ran.
func summarize(report Report) string {
	var runs []*configRun
	byPath := make(map[string]*configRun)
	for _, s := range report.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt || len(s.ContainerHierarchyTexts) == 0 {
			continue
		}
		id := specID(s.Labels())
		if id == "" {
			continue
		}
		path := strings.Join(s.ContainerHierarchyTexts[:len(s.ContainerHierarchyTexts)-1], " / ")
		r := byPath[path]
		if r == nil {
			r = &configRun{path: path, specs: make(map[string]types.SpecState)}
			byPath[path] = r
			runs = append(runs, r)
		}
		r.specs[id] = s.State
		for _, e := range s.ReportEntries {
			if e.Name == levelEntry {
				var d declarations
				if data, err := json.Marshal(e.GetRawValue()); err == nil && json.Unmarshal(data, &d) == nil {
					r.decl = &d
				}
			}
		}
	}
	var b strings.Builder
	for _, r := range runs {
		if r.decl == nil && !r.hasCapabilitySpecs() {
			continue // a container of a team's own specs, not a config of the suite
		}
		r.write(&b)
	}
	return b.String()
}

// hasCapabilitySpecs reports whether any spec of a capability ran in r.
func (r *configRun) hasCapabilitySpecs() bool {
	for _, c := range capabilities() {
		for _, id := range c.specs {
			if _, ok := r.specs[id]; ok {
				return true
			}
		}
	}
	return false
}

// write renders one config's summary.
func (r *configRun) write(b *strings.Builder) {
	name := r.path
	if name == "" {
		name = "(top level)"
	}
	if r.decl == nil {
		fmt.Fprintf(b, "conformance summary for %s: level not judged (spec conformance-level did not run)\n", name)
	} else {
		verdict := "conforms"
		if missing := r.decl.missing(); len(missing) > 0 {
			verdict = fmt.Sprintf("FAILS: %d required capabilities declared missing: %s", len(missing), strings.Join(missing, ", "))
		} else if failed := r.failed(); len(failed) > 0 {
			verdict = "FAILS: specs failed: " + strings.Join(failed, ", ")
		}
		fmt.Fprintf(b, "conformance summary for %s, level %s: %s\n", name, r.decl.Level, verdict)
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  capability\trequired\tdeclared\tspecs")
	for _, c := range capabilities() {
		required, declared := "?", "?"
		var dc *declaredCapability
		if r.decl != nil {
			if i := slices.IndexFunc(r.decl.Capabilities, func(d declaredCapability) bool { return d.Name == c.name }); i >= 0 {
				dc = &r.decl.Capabilities[i]
				required, declared = yesNo(dc.Required), yesNo(dc.Declared)
				if !dc.Declared {
					declared = "no: " + dc.Where
				} else if dc.Untestable != "" {
					declared = "yes, not testable: " + dc.Untestable
				}
			}
		}
		var specs []string
		for _, id := range c.specs {
			state, ok := r.specs[id]
			if !ok {
				specs = append(specs, id+" did not run")
				continue
			}
			specs = append(specs, id+" "+state.String())
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.name, required, declared, strings.Join(specs, ", "))
	}
	tw.Flush()
	if r.decl != nil {
		for _, w := range r.decl.Waivers {
			fmt.Fprintf(b, "  waived case of passive-negotiation-edge: %s\n", w)
		}
	}
}

// failed lists the IDs of the failed specs, sorted.
func (r *configRun) failed() []string {
	var out []string
	for id, state := range r.specs {
		if state.Is(types.SpecStateFailureStates) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// specID picks the spec ID out of a spec's labels: the suite's spec IDs
// are the labels with a dash (the group labels, passive, active, ..., have
// none). "" when there is none.
func specID(labels []string) string {
	for _, l := range labels {
		if strings.Contains(l, "-") {
			return l
		}
	}
	return ""
}
