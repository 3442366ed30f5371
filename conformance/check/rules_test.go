package check

import (
	"os"
	"path/filepath"
	"testing"
)

// Every rule has cases under testdata/rules/<rule ID>/ (Example says how
// they are written and checked): files whose names start with "good" must
// draw no finding of the rule, files starting with "bad" at least one.
// promcheck explain shows the same cases as the rule's examples.
func TestEveryRuleHasGoodAndBadCases(t *testing.T) {
	for _, rule := range Rules() {
		t.Run(rule.ID, func(t *testing.T) {
			examples, err := RuleExamples(rule.ID)
			if err != nil {
				t.Fatal(err)
			}
			var good, bad int
			for _, x := range examples {
				got := x.Check().Rule(rule.ID)
				switch {
				case x.Good:
					good++
					if len(got) > 0 {
						t.Errorf("%s: want no %s finding, got %v", x.Path(), rule.ID, got)
					}
				default:
					bad++
					if len(got) == 0 {
						t.Errorf("%s: want a %s finding, got none", x.Path(), rule.ID)
					}
				}
			}
			if good == 0 || bad == 0 {
				t.Errorf("rule %s: %d good and %d bad cases, want at least one of each", rule.ID, good, bad)
			}
		})
	}
}

// TestCasesNameKnownRules catches a case directory left behind by a
// renamed rule, which would otherwise test nothing.
func TestCasesNameKnownRules(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("testdata", "rules"))
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range entries {
		if _, ok := LookupRule(entry.Name()); !ok {
			t.Errorf("testdata/rules/%s names no rule", entry.Name())
		}
	}
}

// TestRuleExamplesAreTheFiles checks that the embedded cases are the
// files under testdata/rules, so that what promcheck explain shows is
// what is committed: a case neither good nor bad is neither tested nor
// shown, which is a mistake in its name.
func TestRuleExamplesAreTheFiles(t *testing.T) {
	for _, rule := range Rules() {
		examples, err := RuleExamples(rule.ID)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(filepath.Join("testdata", "rules", rule.ID))
		if err != nil {
			t.Fatal(err)
		}
		if len(examples) != len(entries) {
			t.Errorf("%s: %d examples for %d entries of testdata/rules/%s: name every case good* or bad*", rule.ID, len(examples), len(entries), rule.ID)
		}
		for _, x := range examples {
			for _, s := range x.Scrapes {
				data, err := os.ReadFile(filepath.Join("testdata", "rules", rule.ID, s.File))
				if err != nil || string(data) != string(s.Raw) {
					t.Errorf("%s/%s: the embedded case differs from the file (%v)", rule.ID, s.File, err)
				}
			}
		}
	}
	if _, err := RuleExamples("lint.nosuch"); err == nil {
		t.Error("RuleExamples of an unknown rule: no error")
	}
}
