package conformance

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
)

// The race specs look for defects that only timing shows: a tick lost to
// another, a scrape that sees half a deployment, a row created twice. Such
// a window lasts nanoseconds, so the specs do not pace anything: for
// Config.RaceFor, Config.Goroutines goroutines tick or record in tight
// loops, with no sleep and no yield, while the suite scrapes in process
// (the Handler called directly, or the Scrape function; no socket) and
// judges every scrape. A goroutine the scheduler preempts stops wherever it
// is, often inside a deployment; the next scrape sees it there, even on a
// machine so busy that the goroutines never run side by side. The package
// documentation gives the measured detection rates. Run them under -race
// too: the race detector sees what the scrapes cannot.
var _ = DescribeConformance("concurrency", func(tc *TestContext) {
	It("counts every tick exactly while scrapes run, and every scrape is valid and monotonic",
		Label("active", "concurrency"), SpecID("active-concurrency"), func() {
			tc.requireTick()
			opts := tc.Options()
			// Counters ticked one by one can be scraped between two ticks
			// of one deployment; SPEC.md §2.3 allows that torn view, so the
			// invariants are left to active-invariants, which judges
			// emitters that record whole outcomes.
			opts.Disabled = append(opts.Disabled, "invariant")
			ticks := make(map[counters.Outcome][]Counter)
			for _, o := range Outcomes() {
				ticks[o] = Ticks(o)
			}
			tc.race(opts, Outcomes(), func(tt string, o counters.Outcome) {
				for _, c := range ticks[o] {
					tc.Emitter.Tick(c, tt)
				}
			})
		})

	It("keeps the invariants in every scrape while whole outcomes are recorded concurrently",
		Label("active", "concurrency", "outcomes"), SpecID("active-invariants"), func() {
			tc.requireTick()
			tc.require("record")
			opts := tc.Options()
			// An emitter that records whole outcomes has no excuse for a
			// torn snapshot: the invariant warnings become errors.
			opts.Severities["invariant"] = check.Error
			// The outcomes that tick more than one counter, where a torn
			// snapshot shows.
			outcomes := []counters.Outcome{
				counters.OutcomeReloadFailedRestored, counters.OutcomeReloadFailedAlsoFailed,
				counters.OutcomeVerifyFailedRestored, counters.OutcomeVerifyFailedAlsoFailed,
				counters.OutcomeValidateFailed,
			}
			tc.race(opts, outcomes, tc.Emitter.Record)
		})

	It("creates each new target type once, with exact counts, when goroutines race to its first tick",
		Label("active", "concurrency"), SpecID("active-first-tick"), func() {
			tc.requireTick()
			tc.firstTicks()
		})
})

// race runs deploy from Config.Goroutines goroutines on a few shared target
// types, so that they contend, while the spec scrapes in process and
// checks every scrape, each against the one before, for Config.RaceFor
// and at least Config.ConcurrentScrapes scrapes. Then it checks the final
// exposition, over the emitter's own transport, against the sum of what
// the goroutines did.
func (tc *TestContext) race(opts check.Options, outcomes []counters.Outcome, deploy func(tt string, o counters.Outcome)) {
	GinkgoHelper()
	hot := tc.Config.TargetTypes[:min(3, len(tc.Config.TargetTypes))]
	// The hot target types get a first deployment before the contention
	// starts: these specs judge ticks on existing series, and
	// active-first-tick judges how a target type first appears.
	warm := newModel(&tc.Config)
	for _, tt := range hot {
		deploy(tt, outcomes[0])
		warm.outcome(tt, outcomes[0])
	}
	// Each goroutine counts what it did in a table of its own, indexed by
	// hot target type and outcome, so that its loop spends its time in the
	// emitter, not in the suite's bookkeeping.
	done := make([][]uint64, tc.Config.Goroutines)
	var stop atomic.Bool
	var wg sync.WaitGroup
	base := tc.Rand.Uint64()
	for g := range done {
		counts := make([]uint64, len(hot)*len(outcomes))
		done[g] = counts
		r := rand.New(rand.NewPCG(base, uint64(g)))
		wg.Go(func() {
			defer GinkgoRecover()
			for !stop.Load() {
				i := r.IntN(len(counts))
				deploy(hot[i/len(outcomes)], outcomes[i%len(outcomes)])
				counts[i]++
			}
		})
	}
	halt := func() {
		stop.Store(true)
		wg.Wait()
	}
	// A failed check panics out of the loop; the goroutines must still stop.
	defer halt()

	accepts := tc.Accepts()
	var prev *check.Exposition
	start := time.Now()
	scrapes := 0
	for ; scrapes < tc.Config.ConcurrentScrapes || time.Since(start) < tc.Config.RaceFor; scrapes++ {
		in := tc.scrapeInProcess(tc.Emitter, accepts[scrapes%len(accepts)])
		what := fmt.Sprintf("in-process scrape %d, %s into the race of %d goroutines", scrapes+1, time.Since(start).Round(time.Microsecond), len(done))
		prev = tc.Check(in, prev, opts, what).Exposition
	}
	halt()
	GinkgoWriter.Printf("%d in-process scrapes in %s while %d goroutines ran\n", scrapes, time.Since(start).Round(time.Millisecond), len(done))

	total := newModel(&tc.Config)
	total.merge(warm)
	for _, counts := range done {
		for i, n := range counts {
			for range n {
				total.outcome(hot[i/len(outcomes)], outcomes[i%len(outcomes)])
			}
		}
	}
	tc.scrapeAll(tc.after(prev), opts, total, fmt.Sprintf("after %d goroutines ticked concurrently", len(done)))
}

// Each round of active-first-tick races to the first ticks of
// firstTickTargets target types (fewer under a lower cap); it runs at
// least minFirstTickRounds rounds. Rounds are kept small so that there are
// many: a race needs two goroutines running side by side, which on a busy
// machine happens in some rounds and not others, and the check after each
// round costs in proportion to its target types. Measured under -race on
// a loaded 2-core machine, 8 target types a round caught the
// duplicate-first-tick mutant in 30 runs of 30, 32 in 27.
const (
	firstTickTargets   = 8
	minFirstTickRounds = 20
)

// firstTicks runs rounds of first-tick races until Config.RaceFor has
// passed: each round makes a fresh emitter, releases Config.Goroutines
// goroutines at one instant, each deploying an outcome, tick by tick, to
// every one of a list of target types the emitter has never seen, in the
// same order, then checks that every target type appears once in every
// family with exactly the counts ticked. Walking one list in one order
// makes the goroutines meet: they start on the same name at the same
// instant, and one that falls behind finds the rows made and runs faster,
// until it catches up with the one making them.
func (tc *TestContext) firstTicks() {
	GinkgoHelper()
	n := firstTickTargets
	if c := tc.Config.MaxTargetTypes; c > 0 {
		n = min(n, c)
	}
	targets := make([]string, n)
	for i := range targets {
		targets[i] = fmt.Sprintf("FirstTick%02d", i)
		if tc.Config.normalize(targets[i]) != targets[i] {
			Fail(fmt.Sprintf("Config.Normalize changes the target type %q; active-first-tick needs names the emitter keeps", targets[i]))
		}
	}
	opts := tc.Options()
	accepts := tc.Accepts()
	start := time.Now()
	rounds := 0
	for ; rounds < minFirstTickRounds || time.Since(start) < tc.Config.RaceFor; rounds++ {
		// The spec's own emitter for the first round, then a fresh one
		// each round, which the round closes: thousands of rounds must
		// not keep thousands of emitters to the end of the spec.
		e := tc.Emitter
		if rounds > 0 {
			e = tc.makeEmitter()
		}
		tc.firstTickRound(e, targets, rounds, time.Since(start), opts, accepts[rounds%len(accepts)])
	}
	GinkgoWriter.Printf("%d rounds in %s, each %d goroutines racing to the first ticks of %d target types\n",
		rounds, time.Since(start).Round(time.Millisecond), tc.Config.Goroutines, len(targets))
}

// firstTickRound runs one round on e, which started elapsed into the spec's
// race, closing e after it unless it is the spec's own emitter.
func (tc *TestContext) firstTickRound(e *Emitter, targets []string, round int, elapsed time.Duration, opts check.Options, accept string) {
	GinkgoHelper()
	if e != tc.Emitter && e.Close != nil {
		defer e.Close()
	}
	m := newModel(&tc.Config)
	var ready, done sync.WaitGroup
	var gate atomic.Bool
	for g := range tc.Config.Goroutines {
		// Each goroutine deploys one outcome per target type, its ticks
		// one by one: the counts differ from goroutine to goroutine, and
		// the invariants hold once all are done.
		o := Outcomes()[g%len(Outcomes())]
		ticks := Ticks(o)
		for _, tt := range targets {
			m.outcome(tt, o)
		}
		ready.Add(1)
		done.Go(func() {
			defer GinkgoRecover()
			ready.Done()
			// Every goroutine waits here, runnable, so that all of them
			// start together when the gate opens.
			for !gate.Load() {
				runtime.Gosched()
			}
			for _, tt := range targets {
				for _, c := range ticks {
					e.Tick(c, tt)
				}
			}
		})
	}
	ready.Wait()
	gate.Store(true)
	done.Wait()
	in := tc.scrapeInProcess(e, accept)
	what := fmt.Sprintf("round %d, %s into the race: after %d goroutines raced to the first ticks of %d new target types (%s ... %s)",
		round+1, elapsed.Round(time.Microsecond), tc.Config.Goroutines, len(targets), targets[0], targets[len(targets)-1])
	r := tc.Check(in, nil, opts, what)
	tc.expectModel(r, m, what)
}
