// Package mutants holds deliberately broken deploy emitters: the proof that
// the conformance suite can fail. Each Mutant is the reference emitter (the
// counters table, negotiated as the reference handler negotiates and
// rendered by the handler package's renderers, in the five protocols of
// content_negotiation.md) with one defect, or with one false declaration in
// its config, and names the suite spec that must catch it and the rule that
// spec's failure must name:
//
//	for _, m := range mutants.All() {
//		fmt.Println(m.Name, "must fail", m.Spec, "with", m.Rule)
//	}
//
// The meta-test (go test ./conformance/mutants/) runs the real suite once
// per mutant, in a fresh process each (Ginkgo runs specs once per process),
// and fails unless every mutant is caught by its spec, every spec of the
// suite is the spec of some mutant (so that every spec is shown able to
// fail), and the reference emitter and the defect-free scaffold (Control)
// pass clean. It prints the kill rate.
//
// The racy mutants (torn-record, lost-ticks, duplicate-first-tick) have
// windows of nanoseconds, as the real defects do: no mutant sleeps or
// yields to widen one (TestMutantsNeverSleep holds them to it), so that
// killing them proves the race specs work on real timing.
//
// These emitters are wrong on purpose: never use one outside tests.
package mutants
