// Package mutants holds deliberately broken deploy emitters: the proof that
// the conformance suite can fail. Each Mutant is the reference emitter (the
// counters table rendered by the handler package's renderers) with one
// defect, and names the suite spec that must catch it and the rule that
// spec's failure must name:
//
//	for _, m := range mutants.All() {
//		fmt.Println(m.Name, "must fail", m.Spec, "with", m.Rule)
//	}
//
// The meta-test (go test ./conformance/mutants/) runs the real suite once
// per mutant, in a fresh process each (Ginkgo runs specs once per process),
// and fails unless every mutant is caught by its spec, and unless the
// reference emitter and the defect-free scaffold (Control) pass clean. It
// prints the kill rate.
//
// These emitters are wrong on purpose: never use one outside tests.
package mutants
