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

// The concurrency specs tick from Config.Goroutines goroutines on a few
// shared target types, so that they contend, while the spec scrapes
// Config.ConcurrentScrapes times. The tickers run until the last scrape is
// done, so every scrape overlaps ticking. Each ticker keeps its own model;
// at the end their sum must be exposed exactly. Run them under -race.
var _ = DescribeConformance("concurrency", func(tc *TestContext) {
	It("counts every tick exactly while scrapes run, and every scrape is valid and monotonic",
		Label("active", "concurrency"), SpecID("active-concurrency"), func() {
			tc.requireTick()
			opts := tc.Options()
			// Counters ticked one by one can be scraped between two ticks
			// of one deployment; DESIGN §2 allows that torn view, so the
			// invariants are left to active-invariants, which judges
			// emitters that record whole outcomes.
			opts.Disabled = append(opts.Disabled, "invariant")
			tc.concurrently(opts, Outcomes(), func(tt string, o counters.Outcome) {
				for _, c := range Ticks(o) {
					tc.Emitter.Tick(c, tt)
				}
			})
		})

	It("keeps the invariants in every scrape while whole outcomes are recorded concurrently",
		Label("active", "concurrency", "outcomes"), SpecID("active-invariants"), func() {
			tc.requireTick()
			tc.requireRecord()
			opts := tc.Options()
			// An emitter that records whole outcomes has no excuse for a
			// torn snapshot: the invariant warnings become errors.
			opts.Severities["invariant"] = check.Error
			// The outcomes that tick three counters, where a torn
			// snapshot shows.
			outcomes := []counters.Outcome{
				counters.OutcomeReloadFailedRestored, counters.OutcomeReloadFailedAlsoFailed,
				counters.OutcomeVerifyFailedRestored, counters.OutcomeVerifyFailedAlsoFailed,
				counters.OutcomeValidateFailed,
			}
			tc.concurrently(opts, outcomes, tc.Emitter.Record)
		})
})

// Tickers deploy tickBurst times, then rest tickRest.
const (
	tickBurst = 16
	tickRest  = 50 * time.Microsecond
)

// concurrently runs deploy from Config.Goroutines goroutines, each drawing
// outcomes from its own seeded source, while the spec scrapes and checks;
// then it checks the final exposition against the sum of the tickers'
// models.
func (tc *TestContext) concurrently(opts check.Options, outcomes []counters.Outcome, deploy func(tt string, o counters.Outcome)) {
	GinkgoHelper()
	hot := tc.Config.TargetTypes[:min(3, len(tc.Config.TargetTypes))]
	// The hot target types get a first deployment before the contention
	// starts: these specs judge ticks on existing series. (How a target
	// type first appears is active-new-target-type's subject; an emitter
	// that adds its series family by family would show it in some
	// families only, mid-scrape, which is not what is tested here.)
	warm := newModel(&tc.Config)
	for _, tt := range hot {
		deploy(tt, outcomes[0])
		warm.outcome(tt, outcomes[0])
	}
	models := make([]*model, tc.Config.Goroutines)
	var stop atomic.Bool
	var wg sync.WaitGroup
	base := tc.Rand.Uint64()
	for g := range models {
		m := newModel(&tc.Config)
		models[g] = m
		r := rand.New(rand.NewPCG(base, uint64(g)))
		wg.Go(func() {
			defer GinkgoRecover()
			for i := 0; !stop.Load(); i++ {
				tt, o := hot[r.IntN(len(hot))], outcomes[r.IntN(len(outcomes))]
				deploy(tt, o)
				m.outcome(tt, o)
				// Tick in bursts with short rests: the tickers still
				// overlap each other and every scrape, but leave the
				// scraper and the server room to run when the machine is
				// busy, instead of holding every thread runnable.
				if i%tickBurst == tickBurst-1 {
					time.Sleep(tickRest)
				} else {
					runtime.Gosched()
				}
			}
		})
	}
	halt := func() {
		stop.Store(true)
		wg.Wait()
	}
	// A failed check panics out of the loop; the tickers must still stop.
	defer halt()

	accepts := tc.Accepts()
	var prev *check.Exposition
	for i := range tc.Config.ConcurrentScrapes {
		in := tc.Scrape(accepts[i%len(accepts)])
		prev = tc.Check(in, prev, opts, fmt.Sprintf("scrape %d of %d during concurrent ticks", i+1, tc.Config.ConcurrentScrapes)).Exposition
	}
	halt()

	total := newModel(&tc.Config)
	total.merge(warm)
	for _, m := range models {
		total.merge(m)
	}
	tc.scrapeAll(prev, opts, total, fmt.Sprintf("after %d goroutines ticked concurrently", len(models)))
}
