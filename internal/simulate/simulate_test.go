package simulate

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/deploymetrics/deploymetrics/counters"
)

// deployments returns how many deployments snaps counts: each one ends in
// exactly one of attempts{success}, attempts{failure} and idempotent_skip.
func deployments(snaps []counters.DeploySnapshot) uint64 {
	var n uint64
	for _, s := range snaps {
		n += s.AttemptsSuccess + s.AttemptsFailure + s.IdempotentSkips
	}
	return n
}

func burst(seed uint64, n int) []counters.DeploySnapshot {
	dc := counters.NewDeployCounters()
	Burst(dc, NewRand(seed), n)
	return dc.Snapshot()
}

func TestMixSumsToOneThousand(t *testing.T) {
	total := 0
	seen := map[counters.Outcome]bool{}
	for _, m := range mix {
		total += m.share
		seen[m.o] = true
	}
	if total != 1000 {
		t.Errorf("shares sum to %d, want 1000", total)
	}
	if len(seen) != 8 {
		t.Errorf("the mix has %d distinct outcomes, want all 8", len(seen))
	}
}

func TestBurstIsDeterministic(t *testing.T) {
	a, b := burst(7, 5000), burst(7, 5000)
	if !slices.Equal(a, b) {
		t.Errorf("two bursts with seed 7 differ:\n%+v\n%+v", a, b)
	}
	if c := burst(8, 5000); slices.Equal(a, c) {
		t.Errorf("seeds 7 and 8 gave the same burst")
	}
}

func TestBurstIsRealistic(t *testing.T) {
	const n = 20_000
	snaps := burst(1, n)
	if got := len(snaps); got != len(counters.KnownTargetTypes()) {
		t.Errorf("%d target types, want every known one", got)
	}
	if got := deployments(snaps); got != n {
		t.Fatalf("%d deployments recorded, want %d", got, n)
	}
	var total counters.DeploySnapshot
	for _, s := range snaps {
		if s.RollbackRestored+s.RollbackAlsoFail != s.ReloadFailures+s.PostVerifyFails ||
			s.AttemptsFailure < s.ValidateFailures+s.ReloadFailures+s.PostVerifyFails {
			t.Errorf("invariant broken: %+v", s)
		}
		total.AttemptsSuccess += s.AttemptsSuccess
		total.AttemptsFailure += s.AttemptsFailure
		total.IdempotentSkips += s.IdempotentSkips
		total.ValidateFailures += s.ValidateFailures
		total.ReloadFailures += s.ReloadFailures
		total.PostVerifyFails += s.PostVerifyFails
		total.RollbackAlsoFail += s.RollbackAlsoFail
	}
	// Each share within a few standard deviations of the mix (fixed seed, so
	// this is deterministic; the bounds only say what "realistic" means).
	checks := []struct {
		name      string
		got, want float64
	}{
		{"success", float64(total.AttemptsSuccess), 0.45},
		{"skip", float64(total.IdempotentSkips), 0.45},
		{"failure", float64(total.AttemptsFailure), 0.10},
		{"validate", float64(total.ValidateFailures), 0.03},
		{"reload", float64(total.ReloadFailures), 0.02},
		{"post_verify", float64(total.PostVerifyFails), 0.02},
		{"rollback also_failed", float64(total.RollbackAlsoFail), 0.01},
	}
	for _, c := range checks {
		share := c.got / n
		sd := math.Sqrt(c.want * (1 - c.want) / n)
		if math.Abs(share-c.want) > 5*sd {
			t.Errorf("%s: share %.4f, want %.4f ± %.4f", c.name, share, c.want, 5*sd)
		}
	}
}

func TestRunRejectsInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"negative rate", Options{Rate: -1}},
		{"NaN rate", Options{Rate: math.NaN()}},
		{"infinite rate", Options{Rate: math.Inf(1)}},
		{"empty target types", Options{TargetTypes: []string{}}},
	}
	for _, tc := range tests {
		dc := counters.NewDeployCounters()
		// A live context: an invalid Run must return at once, not wait for it.
		if err := Run(context.Background(), dc, tc.opts); err == nil {
			t.Errorf("%s: Run returned nil", tc.name)
		}
		if got := dc.Snapshot(); len(got) != 0 {
			t.Errorf("%s: Run recorded %+v", tc.name, got)
		}
	}
}

// TestRunReplaysLikeBurst runs the simulator until it has recorded something,
// stops it, and checks that a Burst of the same size and seed reproduces the
// table exactly. It waits for progress but asserts nothing about timing.
func TestRunReplaysLikeBurst(t *testing.T) {
	dc := counters.NewDeployCounters()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, dc, Options{Rate: 100_000, Seed: 42}) }()
	waitUntil(t, "1000 deployments", func() bool { return deployments(dc.Snapshot()) >= 1000 })
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := dc.Snapshot()
	n := deployments(got)
	if want := burst(42, int(n)); !slices.Equal(got, want) {
		t.Errorf("Run with seed 42 made %d deployments that Burst does not reproduce:\n got %+v\nwant %+v", n, got, want)
	}
}

func TestRunUsesTheGivenTargetTypes(t *testing.T) {
	dc := counters.NewDeployCounters()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, dc, Options{Rate: 100_000, TargetTypes: []string{"only"}}) }()
	waitUntil(t, "a deployment", func() bool { return deployments(dc.Snapshot()) > 0 })
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	snaps := dc.Snapshot()
	if len(snaps) != 1 || snaps[0].TargetType != "only" {
		t.Errorf("got %+v, want one row for \"only\"", snaps)
	}
}

// waitUntil polls cond until it holds. It asserts nothing about how long that
// takes; it only turns a hang into a clear failure shortly before the test
// binary's own timeout would.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline, ok := t.Deadline()
	for !cond() {
		if ok && time.Until(deadline) < 5*time.Second {
			t.Fatalf("still waiting for %s as the test deadline nears", what)
		}
		time.Sleep(time.Millisecond)
	}
}
