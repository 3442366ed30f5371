package check

import (
	"slices"
	"strings"
)

// A Rule is one thing the engine judges. IDs are stable: users disable them,
// raise their severity and grep for them in CI logs.
//
// Every rule says where its requirement comes from: the section of the
// project's specification, SPEC.md, that states it, and the one sentence
// it rests on, quoted verbatim from its source. A test holds every rule to
// a section that exists and a quote its source contains.
type Rule struct {
	// ID is "<group>.<name>", e.g. "order.series".
	ID string `json:"id"`
	// Severity is the default severity of the rule's findings.
	Severity Severity `json:"severity"`
	// Description says in one line what the rule demands.
	Description string `json:"description"`
	// Spec is the section of SPEC.md the rule enforces, e.g. "§1.6".
	Spec string `json:"spec"`
	// Source is where Quote comes from, with its section: an upstream
	// specification ("OpenMetrics 1.0, Counter", "content_negotiation.md,
	// Selection of Format", "OpenMetrics 2.0, Sample"), "promlint" for a
	// lint rule that is one of promlint's checks (Quote is then the
	// problem promlint reports), or "SPEC.md §n.m" for a requirement of the
	// project's own, which no upstream document states.
	Source string `json:"source"`
	// Quote is the sentence of Source the rule enforces, verbatim.
	Quote string `json:"quote"`
}

// Group returns the part of the ID before the first dot, e.g. "spec".
func (r Rule) Group() string {
	group, _, _ := strings.Cut(r.ID, ".")
	return group
}

// Style reports whether the rule judges style (naming and metadata
// conventions, the lint group) rather than correctness: a style finding
// never means that Prometheus, or the contract, is let down.
func (r Rule) Style() bool { return r.Group() == "lint" }

// Groups lists the rule groups in the order the engine runs them.
func Groups() []string {
	return []string{"http", "format", "spec", "lint", "schema", "order", "invariant", "scrape"}
}

// ruleSets is the registry: each group's file declares its own rules.
func ruleSets() [][]Rule {
	return [][]Rule{httpRules, formatRules, specRules, nameRules, nativeRules, lintRules, schemaRules, orderRules, invariantRules, scrapeRules}
}

// Rules returns every rule the engine has, sorted by ID.
func Rules() []Rule {
	var all []Rule
	for _, set := range ruleSets() {
		all = append(all, set...)
	}
	slices.SortFunc(all, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	return all
}

// ruleIndex maps IDs to rules; it is built once from the constant rule
// sets and never changes.
var ruleIndex = func() map[string]Rule {
	index := make(map[string]Rule)
	for _, set := range ruleSets() {
		for _, r := range set {
			index[r.ID] = r
		}
	}
	return index
}()

// LookupRule returns the rule with the given ID.
func LookupRule(id string) (Rule, bool) {
	r, ok := ruleIndex[id]
	return r, ok
}
