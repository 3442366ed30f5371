package conformance

import (
	"fmt"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/counters"
)

// The active specs drive the emitter and keep a model of what it must
// expose: after every step, every exposed value equals the model's. Random
// sequences are made of whole deployments (each outcome's ticks, SPEC.md
// §2.1), so that the invariants hold whenever the emitter is at rest and the
// engine's invariant.* rules apply to every scrape.
var _ = DescribeConformance("active", func(tc *TestContext) {
	It("exposes exactly the counts of a random sequence of ticks",
		Label("active"), SpecID("active-model"), func() {
			tc.requireTick()
			m := newModel(&tc.Config)
			opts := tc.Options()
			// A fresh emitter has counted nothing. It may expose target
			// types registered ahead of their first tick, with zeros; the
			// engine is not consulted yet, since an emitter that has not
			// seen a target type need not expose its families.
			in := tc.Scrape(scrape.AcceptText)
			tc.expectModel(check.Check(in, opts), m, "fresh emitter")

			var prev lastScrapes
			checkpoints := 3
			for cp := 1; cp <= checkpoints; cp++ {
				for range tc.Config.Deployments / checkpoints {
					tc.tickOutcome(m, tc.randomTargetType(tc.Rand), randomOutcome(tc.Rand))
				}
				prev = tc.scrapeAll(prev, opts, m, fmt.Sprintf("after %d of %d rounds of random ticks", cp, checkpoints))
			}
		})

	It("records whole outcomes: each one ticks exactly its counters",
		Label("active", "outcomes"), SpecID("active-outcomes"), func() {
			tc.requireTick()
			tc.require("record")
			m := newModel(&tc.Config)
			opts := tc.Options()
			// Every outcome alone on a target type of its own first, so
			// that a wrong mapping names the outcome.
			var prev lastScrapes
			for _, o := range Outcomes() {
				tt := "Outcome" + o.String()
				tc.Emitter.Record(tt, o)
				m.outcome(tt, o)
				prev = tc.scrapeAll(prev, opts, m, fmt.Sprintf("after Record(%q, %s)", tt, o))
			}
			for range tc.Config.Deployments {
				tt, o := tc.randomTargetType(tc.Rand), randomOutcome(tc.Rand)
				tc.Emitter.Record(tt, o)
				m.outcome(tt, o)
			}
			tc.scrapeAll(prev, opts, m, "after random recorded outcomes")
		})

	It("writes a new target type in its sorted place in every family",
		Label("active"), SpecID("active-new-target-type"), func() {
			tc.requireTick()
			m := newModel(&tc.Config)
			opts := tc.Options()
			for _, tt := range tc.Config.TargetTypes {
				tc.tickOutcome(m, tt, randomOutcome(tc.Rand))
			}
			prev := tc.scrapeAll(nil, opts, m, "after one deployment per target type")
			// One new name sorting first, one in the middle, one last.
			// Each gets a single tick, so that five of its six families
			// show it with zeros: an emitter that leaves out zero series
			// or a family loses it here (schema.key-set), one that
			// appends instead of inserting (order.series).
			for _, tt := range newTargetTypes(tc.Config.TargetTypes, tc.Config.normalize) {
				tc.Emitter.Tick(AttemptSuccess, tt)
				m.add(tt, AttemptSuccess, 1)
				prev = tc.scrapeAll(prev, opts, m, fmt.Sprintf("after the first tick on the new target type %q", tt))
			}
		})

	It("keeps its state apart from returned snapshots",
		Label("active", "snapshot"), SpecID("active-snapshot-isolation"), func() {
			tc.requireTick()
			tc.require("snapshot")
			m := newModel(&tc.Config)
			opts := tc.Options()
			for range tc.Config.Deployments / 4 {
				tc.tickOutcome(m, tc.randomTargetType(tc.Rand), randomOutcome(tc.Rand))
			}
			first := tc.Emitter.Snapshot()
			tc.expectSnapshot(first, m, "Snapshot() after random ticks")
			// Scribble over what the caller was handed, then look again,
			// before and after the next tick: neither the exposition nor
			// a later snapshot may show the scribbles. Doubling every
			// count keeps the exposition valid (monotonic, invariants
			// intact), so that only the model can tell, and does.
			for i := range first {
				for _, c := range Counters() {
					c.Add(&first[i], c.Of(&first[i]))
				}
			}
			prev := tc.scrapeAll(nil, opts, m, "after the caller changed a returned snapshot")
			tc.expectSnapshot(tc.Emitter.Snapshot(), m, "Snapshot() after the caller changed an earlier one")
			tt := tc.Config.TargetTypes[0]
			tc.tickOutcome(m, tt, counters.OutcomeSucceeded)
			tc.scrapeAll(prev, opts, m, "after one more tick")
			tc.expectSnapshot(tc.Emitter.Snapshot(), m, "Snapshot() after one more tick")
		})

	It("returns snapshots sorted by target type, when it declares so",
		Label("active", "snapshot"), SpecID("active-snapshot-sorted"), func() {
			tc.requireTick()
			tc.require("sorted-snapshot")
			m := newModel(&tc.Config)
			for range tc.Config.Deployments / 4 {
				tc.tickOutcome(m, tc.randomTargetType(tc.Rand), randomOutcome(tc.Rand))
			}
			tc.expectSortedSnapshot(m, "Snapshot() after random ticks")
			// New target types sorting first, in the middle and last: an
			// emitter that appends rows as they come, and sorts only when
			// it renders, shows it here.
			for _, tt := range newTargetTypes(tc.Config.TargetTypes, tc.Config.normalize) {
				tc.Emitter.Tick(AttemptSuccess, tt)
				m.add(tt, AttemptSuccess, 1)
				tc.expectSortedSnapshot(m, fmt.Sprintf("Snapshot() after the first tick on the new target type %q", tt))
			}
		})

	It("keeps its state apart from scraped bodies",
		Label("active"), SpecID("active-body-isolation"), func() {
			tc.requireTick()
			m := newModel(&tc.Config)
			opts := tc.Options()
			for range tc.Config.Deployments / 4 {
				tc.tickOutcome(m, tc.randomTargetType(tc.Rand), randomOutcome(tc.Rand))
			}
			for _, p := range tc.Protocols() {
				first := fmt.Sprintf("first scrape, %s", p)
				in := tc.Scrape(AcceptFor(p))
				r := tc.Check(in, nil, opts, first)
				tc.expectModel(r, m, first)
				// The report holds the body; compare with a copy, then
				// scribble over the original.
				prev := check.Check(check.Input{Body: slices.Clone(in.Body), ContentType: in.ContentType}, opts).Exposition
				for i := range in.Body {
					in.Body[i] = '#'
				}
				what := fmt.Sprintf("scrape after the caller overwrote the previous body, %s", p)
				again := tc.Scrape(AcceptFor(p))
				r = tc.Check(again, prev, opts, what)
				tc.expectModel(r, m, what)
			}
		})
})

// expectSnapshot fails the spec unless a snapshot the emitter returned
// equals the model: each target type once, every count exact. The order is
// not judged here (the suite sorts a copy); active-snapshot-sorted judges
// it where the emitter declares it.
func (tc *TestContext) expectSnapshot(got []counters.DeploySnapshot, m *model, what string) {
	GinkgoHelper()
	if d := m.diffSnapshot(got); len(d) > 0 {
		Fail(fmt.Sprintf("[suite.snapshot] %s differs from the model the suite kept of its ticks (seed %d):\n%s", what, tc.Seed, listMismatches(d)))
	}
}

// expectSortedSnapshot takes a snapshot and fails the spec unless it is
// sorted by target type, bytewise, each once, as Config.SortedSnapshot
// declares, and equals the model.
func (tc *TestContext) expectSortedSnapshot(m *model, what string) {
	GinkgoHelper()
	got := tc.Emitter.Snapshot()
	for i := 1; i < len(got); i++ {
		if got[i-1].TargetType >= got[i].TargetType {
			tc.disagree("sorted-snapshot", fmt.Sprintf("%s returned entry %d (%s) after entry %d (%s), out of bytewise order or twice",
				what, i, quoteShort(got[i].TargetType), i-1, quoteShort(got[i-1].TargetType)))
		}
	}
	tc.expectSnapshot(got, m, what)
}

// newTargetTypes returns up to three target types absent from known that
// sort before all of them, right after the middle one, and after all of
// them (bytewise), and that the emitter keeps as they are: for each place,
// the first candidate that lands there.
func newTargetTypes(known []string, norm func(string) string) []string {
	sorted := slices.Sorted(slices.Values(known))
	mid := sorted[len(sorted)/2]
	places := []struct {
		pos        int
		candidates []string
	}{
		// '!' and ' ' sort before letters and digits, '~' and U+00FF
		// after ASCII letters.
		{0, []string{"!new-first", " new-first", "!", " "}},
		{len(sorted)/2 + 1, []string{mid + "-new", mid + "~new", mid + "\u00ff"}},
		{len(sorted), []string{"~new-last", "\u00ffnew-last", "\U0010fffdnew-last"}},
	}
	var out []string
	for _, place := range places {
		for _, c := range place.candidates {
			if !slices.Contains(sorted, c) && norm(c) == c && position(sorted, c) == place.pos {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// position returns where s would be inserted into sorted.
func position(sorted []string, s string) int {
	i, _ := slices.BinarySearchFunc(sorted, s, strings.Compare)
	return i
}
