package check

import (
	"fmt"
	"strings"
	"testing"
)

// Options.MaxFindingsPerRule keeps the first findings of each rule and
// counts the rest, so that one bad line repeated a million times costs a
// few findings, not a million, while every count and the verdict stay
// exact.
func TestMaxFindingsPerRule(t *testing.T) {
	// 100 samples of one series: 99 spec.duplicate-series errors on lines
	// 2 to 100, and one lint.help warning for the family.
	body := []byte(strings.Repeat("a 1\n", 100))
	for _, c := range []struct {
		name    string
		max     int
		kept    int // spec.duplicate-series findings kept
		omitted []Omission
	}{
		{"unlimited", 0, 99, nil},
		{"cap 3", 3, 3, []Omission{{Rule: "spec.duplicate-series", Severity: Error, Count: 96}}},
		{"cap 1", 1, 1, []Omission{{Rule: "spec.duplicate-series", Severity: Error, Count: 98}}},
		{"cap above the count", 200, 99, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Check(Input{Body: body}, Options{MaxFindingsPerRule: c.max})
			dups := r.Rule("spec.duplicate-series")
			if len(dups) != c.kept {
				t.Fatalf("%d spec.duplicate-series findings kept, want %d:\n%s", len(dups), c.kept, r)
			}
			// The first ones are kept: lines 2, 3, ...
			for i, f := range dups {
				if f.Line != i+2 {
					t.Errorf("finding %d on line %d, want %d", i, f.Line, i+2)
				}
			}
			if len(r.Rule("lint.help")) != 1 {
				t.Errorf("the cap of one rule touched another:\n%s", r)
			}
			if len(r.Omitted) != len(c.omitted) || len(c.omitted) > 0 && r.Omitted[0] != c.omitted[0] {
				t.Errorf("Omitted = %+v, want %+v", r.Omitted, c.omitted)
			}
			// Counts and the verdict include what was left out.
			if r.Count(Error) != 99 || r.Count(Warning) != 1 || !r.Failed() {
				t.Errorf("counts %d errors, %d warnings, failed %v; want 99, 1, true", r.Count(Error), r.Count(Warning), r.Failed())
			}
			if c.omitted != nil && !strings.Contains(r.String(), fmt.Sprintf("and %d more error spec.duplicate-series findings", c.omitted[0].Count)) {
				t.Errorf("String() does not say what was left out:\n%s", r)
			}
		})
	}
}

// A disabled rule is neither kept nor counted as omitted; a severity
// override applies to the omitted findings too.
func TestMaxFindingsPerRuleWithOptions(t *testing.T) {
	body := []byte(strings.Repeat("a 1\n", 10))
	r := Check(Input{Body: body}, Options{MaxFindingsPerRule: 2, Disabled: []string{"spec.duplicate-series"}})
	if len(r.Rule("spec.duplicate-series")) != 0 || len(r.Omitted) != 0 || r.Count(Error) != 0 {
		t.Errorf("disabled rule reported: %+v omitted %+v", r.Findings, r.Omitted)
	}
	r = Check(Input{Body: body}, Options{MaxFindingsPerRule: 2, Severities: map[string]Severity{"spec": Info}})
	want := []Omission{{Rule: "spec.duplicate-series", Severity: Info, Count: 7}}
	if len(r.Omitted) != 1 || r.Omitted[0] != want[0] || r.Count(Info) != 9 || r.Count(Error) != 0 {
		t.Errorf("Omitted = %+v (want %+v), %d info", r.Omitted, want, r.Count(Info))
	}
}
