package check

import (
	"slices"
	"strings"
)

// A Rule is one thing the engine judges. IDs are stable: users disable them,
// raise their severity and grep for them in CI logs.
type Rule struct {
	// ID is "<group>.<name>", e.g. "order.series".
	ID string `json:"id"`
	// Severity is the default severity of the rule's findings.
	Severity Severity `json:"severity"`
	// Description says in one line what the rule demands.
	Description string `json:"description"`
}

// Group returns the part of the ID before the first dot, e.g. "spec".
func (r Rule) Group() string {
	group, _, _ := strings.Cut(r.ID, ".")
	return group
}

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
