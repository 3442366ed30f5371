// Package simulate generates deploy traffic for the reference emitter: a
// realistic mix of outcomes across the known target types, recorded into a
// counters.DeployCounters. promcheck serve and the self-check use it so that
// what they scrape moves like a real fleet's counters.
//
//	dc := counters.NewDeployCounters()
//	go simulate.Run(ctx, dc, simulate.Options{Rate: 100, Seed: 1})
//
// The traffic is deterministic when seeded: the n-th deployment of a run
// with a given seed is always the same, so Burst(dc, NewRand(seed), n)
// reproduces exactly the first n deployments of Run with that seed and the
// default target types. Only how many deployments Run has made by a given
// instant depends on the clock.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/deploymetrics/deploymetrics/counters"
)

// DefaultRate is Run's rate when Options.Rate is zero: deployments per second.
const DefaultRate = 50

// minTick bounds how often Run wakes up: at high rates it records batches
// rather than sleeping between single deployments.
const minTick = 10 * time.Millisecond

// Options configures Run.
type Options struct {
	// Rate is the number of deployments per second, averaged over the run.
	// Zero means DefaultRate; it must be finite and not negative.
	Rate float64
	// Seed selects the sequence of deployments.
	Seed uint64
	// TargetTypes are the target types deployed to, each equally often. Nil
	// means counters.KnownTargetTypes(); a non-nil empty slice is an error.
	TargetTypes []string
}

// mix is the share of each outcome, in thousandths: mostly successes and
// skips (most deployments of an unchanged certificate are no-ops), a few
// failures before commit, and rarer failures that need a rollback, of which a
// quarter fail again. It sums to 1000.
var mix = [...]struct {
	o     counters.Outcome
	share int
}{
	{counters.OutcomeSucceeded, 450},
	{counters.OutcomeSkipped, 450},
	{counters.OutcomeValidateFailed, 30},
	{counters.OutcomeFailed, 30},
	{counters.OutcomeReloadFailedRestored, 15},
	{counters.OutcomeReloadFailedAlsoFailed, 5},
	{counters.OutcomeVerifyFailedRestored, 15},
	{counters.OutcomeVerifyFailedAlsoFailed, 5},
}

// NewRand returns the generator Run uses for seed.
func NewRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) // any fixed second word will do
}

// next draws one deployment: an index into n target types and its outcome.
func next(rng *rand.Rand, n int) (int, counters.Outcome) {
	i := rng.IntN(n)
	r := rng.IntN(1000)
	for _, m := range mix {
		if r < m.share {
			return i, m.o
		}
		r -= m.share
	}
	panic("simulate: outcome shares do not sum to 1000")
}

// bindAll binds every target type, so all of them are exported from the
// start, as a real emitter that registers its connectors would.
func bindAll(dc *counters.DeployCounters, targetTypes []string) []*counters.Target {
	targets := make([]*counters.Target, len(targetTypes))
	for i, tt := range targetTypes {
		targets[i] = dc.Bind(tt)
	}
	return targets
}

// Burst records n deployments drawn from rng across
// counters.KnownTargetTypes() into dc, all at once. Use it to put a table in
// a known, realistic state: with rng = NewRand(seed) the result depends only
// on seed and n.
func Burst(dc *counters.DeployCounters, rng *rand.Rand, n int) {
	targets := bindAll(dc, counters.KnownTargetTypes())
	for range n {
		i, o := next(rng, len(targets))
		targets[i].Record(o)
	}
}

// Run records deployments into dc at opts.Rate until ctx is done, then
// returns nil. It returns an error at once, recording nothing, if opts is
// invalid. Deployments are recorded in batches, at most every 10ms, so that
// the count at any instant stays within one batch of Rate × elapsed time.
func Run(ctx context.Context, dc *counters.DeployCounters, opts Options) error {
	rate := opts.Rate
	switch {
	case math.IsNaN(rate) || math.IsInf(rate, 0) || rate < 0:
		return fmt.Errorf("simulate: rate %v deployments per second: must be finite and not negative", rate)
	case rate == 0:
		rate = DefaultRate
	}
	targetTypes := opts.TargetTypes
	if targetTypes == nil {
		targetTypes = counters.KnownTargetTypes()
	} else if len(targetTypes) == 0 {
		return errors.New("simulate: no target types: leave Options.TargetTypes nil for the known ones")
	}

	rng := NewRand(opts.Seed)
	targets := bindAll(dc, targetTypes)
	tick := max(minTick, time.Duration(float64(time.Second)/rate))
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	start := time.Now()
	var done float64
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-ticker.C:
			due := math.Floor(rate * now.Sub(start).Seconds())
			for ; done < due; done++ {
				// A very high rate makes long batches; stay responsive.
				if int64(done)%4096 == 0 && ctx.Err() != nil {
					return nil
				}
				i, o := next(rng, len(targets))
				targets[i].Record(o)
			}
		}
	}
}
