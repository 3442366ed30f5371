package counters

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// mustSnapshotOne returns the only row of dc's snapshot, failing the test if
// there is not exactly one.
func mustSnapshotOne(t *testing.T, dc *DeployCounters) DeploySnapshot {
	t.Helper()
	snaps := dc.Snapshot()
	if len(snaps) != 1 {
		t.Fatalf("snapshot has %d rows, want 1: %+v", len(snaps), snaps)
	}
	return snaps[0]
}

// sum returns the total of all eight counters of s.
func sum(s DeploySnapshot) uint64 {
	return s.AttemptsSuccess + s.AttemptsFailure + s.ValidateFailures + s.ReloadFailures +
		s.PostVerifyFails + s.RollbackRestored + s.RollbackAlsoFail + s.IdempotentSkips
}

// checkInvariants fails the test if s breaks I1 or I2 of SPEC.md §2.2.
func checkInvariants(t *testing.T, s DeploySnapshot) {
	t.Helper()
	if s.RollbackRestored+s.RollbackAlsoFail != s.ReloadFailures+s.PostVerifyFails {
		t.Errorf("I1 broken for %q: rollback %d+%d != reload %d + post_verify %d",
			s.TargetType, s.RollbackRestored, s.RollbackAlsoFail, s.ReloadFailures, s.PostVerifyFails)
	}
	if s.AttemptsFailure < s.ValidateFailures+s.ReloadFailures+s.PostVerifyFails {
		t.Errorf("I2 broken for %q: attempts{failure} %d < validate %d + reload %d + post_verify %d",
			s.TargetType, s.AttemptsFailure, s.ValidateFailures, s.ReloadFailures, s.PostVerifyFails)
	}
}

func TestZeroState(t *testing.T) {
	tables := map[string]*DeployCounters{
		"NewDeployCounters": NewDeployCounters(),
		"zero value":        new(DeployCounters),
	}
	for name, dc := range tables {
		t.Run(name, func(t *testing.T) {
			if got := dc.Snapshot(); len(got) != 0 {
				t.Errorf("Snapshot() = %+v, want no rows", got)
			}
			if got := dc.AppendSnapshot(nil); got != nil {
				t.Errorf("AppendSnapshot(nil) = %+v, want nil", got)
			}
			if got := dc.Folded(); got != 0 {
				t.Errorf("Folded() = %d, want 0", got)
			}
			// The zero value must also count, with the default limits.
			dc.IncAttemptSuccess("NGINX")
			if got := mustSnapshotOne(t, dc); got != (DeploySnapshot{TargetType: "NGINX", AttemptsSuccess: 1}) {
				t.Errorf("after one tick: %+v", got)
			}
		})
	}
}

// incCases lists each Inc method, through the string API and through a bound
// Target, with the one field it must move.
var incCases = []struct {
	name  string
	str   func(*DeployCounters, string)
	bound func(*Target)
	want  DeploySnapshot
}{
	{"AttemptSuccess", (*DeployCounters).IncAttemptSuccess, (*Target).IncAttemptSuccess, DeploySnapshot{AttemptsSuccess: 1}},
	{"AttemptFailure", (*DeployCounters).IncAttemptFailure, (*Target).IncAttemptFailure, DeploySnapshot{AttemptsFailure: 1}},
	{"ValidateFailure", (*DeployCounters).IncValidateFailure, (*Target).IncValidateFailure, DeploySnapshot{ValidateFailures: 1}},
	{"ReloadFailure", (*DeployCounters).IncReloadFailure, (*Target).IncReloadFailure, DeploySnapshot{ReloadFailures: 1}},
	{"PostVerifyFailure", (*DeployCounters).IncPostVerifyFailure, (*Target).IncPostVerifyFailure, DeploySnapshot{PostVerifyFails: 1}},
	{"RollbackRestored", (*DeployCounters).IncRollbackRestored, (*Target).IncRollbackRestored, DeploySnapshot{RollbackRestored: 1}},
	{"RollbackAlsoFailed", (*DeployCounters).IncRollbackAlsoFailed, (*Target).IncRollbackAlsoFailed, DeploySnapshot{RollbackAlsoFail: 1}},
	{"IdempotentSkip", (*DeployCounters).IncIdempotentSkip, (*Target).IncIdempotentSkip, DeploySnapshot{IdempotentSkips: 1}},
}

func TestIncTicksExactlyOneCounter(t *testing.T) {
	for _, tc := range incCases {
		want := tc.want
		want.TargetType = "Caddy"
		t.Run(tc.name+"/string", func(t *testing.T) {
			dc := NewDeployCounters()
			tc.str(dc, "Caddy")
			if got := mustSnapshotOne(t, dc); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
		t.Run(tc.name+"/bound", func(t *testing.T) {
			dc := NewDeployCounters()
			tc.bound(dc.Bind("Caddy"))
			if got := mustSnapshotOne(t, dc); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// outcomeCases is the table of SPEC.md §2.1: each outcome and the counters it ticks.
var outcomeCases = []struct {
	o    Outcome
	want DeploySnapshot
}{
	{OutcomeSkipped, DeploySnapshot{IdempotentSkips: 1}},
	{OutcomeSucceeded, DeploySnapshot{AttemptsSuccess: 1}},
	{OutcomeValidateFailed, DeploySnapshot{AttemptsFailure: 1, ValidateFailures: 1}},
	{OutcomeReloadFailedRestored, DeploySnapshot{AttemptsFailure: 1, ReloadFailures: 1, RollbackRestored: 1}},
	{OutcomeReloadFailedAlsoFailed, DeploySnapshot{AttemptsFailure: 1, ReloadFailures: 1, RollbackAlsoFail: 1}},
	{OutcomeVerifyFailedRestored, DeploySnapshot{AttemptsFailure: 1, PostVerifyFails: 1, RollbackRestored: 1}},
	{OutcomeVerifyFailedAlsoFailed, DeploySnapshot{AttemptsFailure: 1, PostVerifyFails: 1, RollbackAlsoFail: 1}},
	{OutcomeFailed, DeploySnapshot{AttemptsFailure: 1}},
}

func TestRecordTicksTheOutcomesCounters(t *testing.T) {
	if len(outcomeCases) != numOutcomes {
		t.Fatalf("outcomeCases covers %d outcomes, the package declares %d", len(outcomeCases), numOutcomes)
	}
	for _, tc := range outcomeCases {
		want := tc.want
		want.TargetType = "Envoy"
		t.Run(tc.o.String()+"/string", func(t *testing.T) {
			dc := NewDeployCounters()
			dc.Record("Envoy", tc.o)
			if got := mustSnapshotOne(t, dc); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
		t.Run(tc.o.String()+"/bound", func(t *testing.T) {
			dc := NewDeployCounters()
			dc.Bind("Envoy").Record(tc.o)
			if got := mustSnapshotOne(t, dc); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestInvalidOutcomeCountsAsFailed(t *testing.T) {
	for _, o := range []Outcome{0, OutcomeFailed + 1, 255} {
		t.Run(o.String(), func(t *testing.T) {
			if o.Valid() {
				t.Fatalf("%d reported valid", o)
			}
			dc := NewDeployCounters()
			dc.Record("IIS", o)
			dc.Bind("IIS").Record(o)
			want := DeploySnapshot{TargetType: "IIS", AttemptsFailure: 2}
			if got := mustSnapshotOne(t, dc); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestOutcomeString(t *testing.T) {
	tests := []struct {
		o    Outcome
		want string
	}{
		{OutcomeSkipped, "Skipped"},
		{OutcomeSucceeded, "Succeeded"},
		{OutcomeValidateFailed, "ValidateFailed"},
		{OutcomeReloadFailedRestored, "ReloadFailedRestored"},
		{OutcomeReloadFailedAlsoFailed, "ReloadFailedAlsoFailed"},
		{OutcomeVerifyFailedRestored, "VerifyFailedRestored"},
		{OutcomeVerifyFailedAlsoFailed, "VerifyFailedAlsoFailed"},
		{OutcomeFailed, "Failed"},
		{0, "Outcome(0)"},
		{9, "Outcome(9)"},
	}
	for _, tc := range tests {
		if got := tc.o.String(); got != tc.want {
			t.Errorf("Outcome(%d).String() = %q, want %q", uint8(tc.o), got, tc.want)
		}
	}
}

func TestMixedRawAndOutcomeAddUp(t *testing.T) {
	dc := NewDeployCounters()
	dc.Record("F5", OutcomeReloadFailedRestored)
	dc.IncAttemptFailure("F5")
	dc.IncReloadFailure("F5")
	dc.IncRollbackAlsoFailed("F5")
	want := DeploySnapshot{TargetType: "F5", AttemptsFailure: 2, ReloadFailures: 2, RollbackRestored: 1, RollbackAlsoFail: 1}
	if got := mustSnapshotOne(t, dc); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestSnapshotIsSortedBytewise(t *testing.T) {
	names := []string{"nginx", "NGINX", "Apache", "_x", "Zeta", "AWSACM", "AzureKeyVault", "é", "a b", "A"}
	dc := NewDeployCounters()
	for _, n := range names {
		dc.IncIdempotentSkip(n)
	}
	var got []string
	for _, s := range dc.Snapshot() {
		got = append(got, s.TargetType)
	}
	want := slices.Clone(names)
	slices.Sort(want) // Go's string order is bytewise
	if !slices.Equal(got, want) {
		t.Errorf("order = %q, want %q", got, want)
	}
}

func TestSnapshotIsACopy(t *testing.T) {
	dc := NewDeployCounters()
	dc.Record("NGINX", OutcomeSucceeded)
	dc.Record("SSH", OutcomeFailed)
	first := dc.Snapshot()
	first[0].AttemptsSuccess = 1000
	first[1].TargetType = "changed"
	_ = append(first[:1], DeploySnapshot{TargetType: "injected"}) // writes into first's array
	want := []DeploySnapshot{
		{TargetType: "NGINX", AttemptsSuccess: 1},
		{TargetType: "SSH", AttemptsFailure: 1},
	}
	if got := dc.Snapshot(); !slices.Equal(got, want) {
		t.Errorf("after mutating an earlier snapshot: %+v, want %+v", got, want)
	}
}

func TestTargetTypesAreIsolated(t *testing.T) {
	dc := NewDeployCounters()
	for i, tt := range KnownTargetTypes() {
		for range i + 1 {
			dc.Record(tt, OutcomeSucceeded)
		}
	}
	want := map[string]uint64{}
	for i, tt := range KnownTargetTypes() {
		want[tt] = uint64(i + 1)
	}
	for _, s := range dc.Snapshot() {
		if s.AttemptsSuccess != want[s.TargetType] || sum(s) != s.AttemptsSuccess {
			t.Errorf("%s: %+v, want only AttemptsSuccess = %d", s.TargetType, s, want[s.TargetType])
		}
		delete(want, s.TargetType)
	}
	if len(want) != 0 {
		t.Errorf("target types missing from the snapshot: %v", want)
	}
}

func TestBindRegistersWithZeroCounts(t *testing.T) {
	dc := NewDeployCounters()
	h := dc.Bind("Traefik")
	if got := mustSnapshotOne(t, dc); got != (DeploySnapshot{TargetType: "Traefik"}) {
		t.Errorf("after Bind: %+v, want a zero row", got)
	}
	if h.Name() != "Traefik" {
		t.Errorf("Name() = %q", h.Name())
	}
	// The handle and the string API count into the same row.
	h.Record(OutcomeSkipped)
	dc.Record("Traefik", OutcomeSkipped)
	if got := mustSnapshotOne(t, dc); got.IdempotentSkips != 2 {
		t.Errorf("after a bound and a string record: %+v, want IdempotentSkips 2", got)
	}
}

func TestAppendSnapshotReusesBuffer(t *testing.T) {
	dc := NewDeployCounters()
	for _, tt := range KnownTargetTypes() {
		dc.Record(tt, OutcomeSucceeded)
	}
	buf := dc.AppendSnapshot(nil)
	allocs := testing.AllocsPerRun(100, func() {
		buf = dc.AppendSnapshot(buf[:0])
	})
	if allocs != 0 {
		t.Errorf("AppendSnapshot into a large enough buffer: %v allocs per run, want 0", allocs)
	}
	if !slices.Equal(buf, dc.Snapshot()) {
		t.Errorf("AppendSnapshot = %+v, Snapshot = %+v", buf, dc.Snapshot())
	}
}

func TestTickPathsDoNotAllocate(t *testing.T) {
	dc := NewDeployCounters(WithMaxTargetTypes(2))
	dc.IncAttemptSuccess("NGINX")
	dc.IncAttemptSuccess("bad\x00name") // stored as "bad\uFFFDname"; the cap is reached
	dc.IncAttemptSuccess("folded")      // creates the overflow row
	bound := dc.Bind("NGINX")
	tests := []struct {
		name string
		f    func()
	}{
		{"string API, normalised name", func() { dc.IncAttemptSuccess("NGINX") }},
		{"string API, name that needs normalising", func() { dc.IncAttemptSuccess("bad\x00name") }},
		{"string API, folded name", func() { dc.Record("never seen", OutcomeSucceeded) }},
		{"Record", func() { dc.Record("NGINX", OutcomeReloadFailedRestored) }},
		{"bound handle", func() { bound.IncAttemptFailure(); bound.Record(OutcomeSkipped) }},
	}
	for _, tc := range tests {
		if allocs := testing.AllocsPerRun(100, tc.f); allocs != 0 {
			t.Errorf("%s: %v allocs per tick, want 0", tc.name, allocs)
		}
	}
}

func TestRowAlignment(t *testing.T) {
	if s := unsafe.Sizeof(stripe{}); s%cacheLine != 0 {
		t.Fatalf("stripe is %d bytes, not a multiple of %d", s, cacheLine)
	}
	if s := unsafe.Sizeof(row{}); s%cacheLine != 0 {
		t.Fatalf("row is %d bytes, not a multiple of %d", s, cacheLine)
	}
	// The padding argument also relies on the allocator placing rows on
	// cache-line boundaries; check it on real rows.
	dc := NewDeployCounters()
	for i := range 64 {
		dc.IncAttemptSuccess(strconv.Itoa(i))
	}
	for _, e := range dc.load().sorted {
		if addr := uintptr(unsafe.Pointer(e.row)); addr%cacheLine != 0 {
			t.Errorf("row %q at %#x, not %d-byte aligned", e.name, addr, cacheLine)
		}
	}
}

// TestSnapshotAddsUpStripes checks that a snapshot counts the ticks of
// every stripe of a row, whichever goroutine made them: distinct counts
// are put in each stripe directly, and the snapshot must show their sums.
func TestSnapshotAddsUpStripes(t *testing.T) {
	dc := NewDeployCounters()
	dc.Bind("NGINX")
	r := dc.load().sorted[0].row
	var want DeploySnapshot
	want.TargetType = "NGINX"
	for s := range r.stripe {
		n := uint64(1) << (8 * s) // 1, 256, 65536, ...: a lost stripe shows
		r.stripe[s].raw[rawAttemptSuccess].Add(n)
		r.stripe[s].outcomes[OutcomeSkipped.slot()].Add(n)
		want.AttemptsSuccess += n
		want.IdempotentSkips += n
	}
	if got := dc.Snapshot(); len(got) != 1 || got[0] != want {
		t.Errorf("snapshot %+v, want %+v", got, want)
	}
}

// TestGoroutinesSpreadOverStripes checks that stripeOf spreads goroutines
// running at once over all the stripes, under several deals. The 64
// goroutines wait for each other before they return, so that none reuses
// the stack of one that has ended. Were the stripes drawn at random, a
// stripe left empty (probability about 4·0.75⁶⁴ ≈ 4·10⁻⁸) or one holding
// more than half of the 64 (about 10⁻⁵) would be flukes; a choice that
// ignores the stack or the deal, or reaches only some stripes, fails.
func TestGoroutinesSpreadOverStripes(t *testing.T) {
	for _, deal := range []uint64{0, dealStep, 0x0123_4567_89ab_cdef} {
		var picking, wg sync.WaitGroup
		picked := make([]int, 64)
		picking.Add(len(picked))
		for g := range picked {
			wg.Go(func() {
				picked[g] = stripeOf(deal)
				picking.Done()
				picking.Wait()
			})
		}
		wg.Wait()
		var used [stripes]int
		for _, s := range picked {
			if s < 0 || s >= stripes {
				t.Fatalf("deal %#x: stripeOf() = %d, outside [0, %d)", deal, s, stripes)
			}
			used[s]++
		}
		for s, n := range used {
			if n == 0 || n > len(picked)/2 {
				t.Errorf("deal %#x: stripe %d picked by %d of %d goroutines (all: %v)", deal, s, n, len(picked), used)
			}
		}
	}
}

// TestStripeForRedealsEveryPair checks what the re-deal is for: two
// goroutines share a stripe in about 1/stripes of the deals, whatever the
// distance between their stacks, instead of under every deal or none. (A
// fixed multiplier fails: stacks 8 KiB apart then share a stripe in 78% of
// the deals.) It also checks that one goroutine visits every stripe in
// turn. The inputs are fixed, so the test is deterministic; the bounds are
// about ten standard deviations of a fair draw wide.
func TestStripeForRedealsEveryPair(t *testing.T) {
	const deals = 4096
	base := uint64(0xc000_1234_5000) // a goroutine stack address as Linux/amd64 hands them out
	for _, apart := range []uint64{1 << 10, 2 << 10, 3 << 10, 8 << 10, 16 << 10, 64 << 10, 1 << 20, 12345 << 10} {
		shared := 0
		var visits [stripes]int
		for i := range uint64(deals) {
			deal := i * dealStep
			a := stripeFor(base, deal)
			if a == stripeFor(base+apart, deal) {
				shared++
			}
			visits[a]++
		}
		if f := float64(shared) / deals; f < 0.18 || f > 0.32 {
			t.Errorf("stacks %d KiB apart share a stripe in %.3f of %d deals, want about %.2f", apart>>10, f, deals, 1.0/stripes)
		}
		for s, n := range visits {
			if f := float64(n) / deals; f < 0.18 || f > 0.32 {
				t.Errorf("a goroutine ticks stripe %d in %.3f of %d deals, want about %.2f (all: %v)", s, f, deals, 1.0/stripes, visits)
			}
		}
	}
}

// TestTicksRedeal checks that every tick path re-deals after dealEvery adds
// to one counter: a goroutine ticking alone adds to one stripe per deal, so
// after 3·dealEvery ticks the deal has moved exactly three steps, and no
// tick was lost.
func TestTicksRedeal(t *testing.T) {
	tests := []struct {
		name string
		tick func(dc *DeployCounters, h *Target)
	}{
		{"IncAttemptSuccess", func(dc *DeployCounters, _ *Target) { dc.IncAttemptSuccess("NGINX") }},
		{"Record", func(dc *DeployCounters, _ *Target) { dc.Record("NGINX", OutcomeSucceeded) }},
		{"Target.IncAttemptSuccess", func(_ *DeployCounters, h *Target) { h.IncAttemptSuccess() }},
		{"Target.Record", func(_ *DeployCounters, h *Target) { h.Record(OutcomeSucceeded) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dc := NewDeployCounters()
			h := dc.Bind("NGINX")
			for range dealEvery - 1 {
				tc.tick(dc, h)
			}
			if got := dc.deal.Load(); got != 0 {
				t.Fatalf("deal %#x after %d ticks, want 0 (no re-deal yet)", got, dealEvery-1)
			}
			for range 2*dealEvery + 1 {
				tc.tick(dc, h)
			}
			step := uint64(dealStep)
			if got, want := dc.deal.Load(), 3*step; got != want {
				t.Errorf("deal %#x after %d ticks, want %#x (three re-deals)", got, 3*dealEvery, want)
			}
			if got := mustSnapshotOne(t, dc).AttemptsSuccess; got != 3*dealEvery {
				t.Errorf("attempts{success} = %d, want %d", got, 3*dealEvery)
			}
		})
	}
}

// TestConcurrentRedealsKeepInvariants ticks one target type from four
// goroutines long enough to re-deal several times, while two readers check
// every snapshot (sorted, monotonic, I1 and I2), and then checks the exact
// totals: moving goroutines between stripes must lose nothing and tear
// nothing.
func TestConcurrentRedealsKeepInvariants(t *testing.T) {
	const writers, perWriter = 4, 2 * dealEvery
	dc := NewDeployCounters()
	h := dc.Bind("NGINX")
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if (w+i)%2 == 0 {
					dc.Record("NGINX", OutcomeReloadFailedRestored)
				} else {
					h.Record(OutcomeReloadFailedRestored)
				}
			}
		})
	}
	checkSnapshotsUntilDone(t, dc, 2, &wg)
	// One counter took writers·perWriter adds over at most four stripes, so
	// some stripe reached dealEvery at least twice.
	if got := dc.deal.Load(); got == 0 {
		t.Errorf("no re-deal after %d adds to one counter", writers*perWriter)
	}
	const n = writers * perWriter
	want := DeploySnapshot{TargetType: "NGINX", AttemptsFailure: n, ReloadFailures: n, RollbackRestored: n}
	if got := mustSnapshotOne(t, dc); got != want {
		t.Errorf("final snapshot %+v, want %+v", got, want)
	}
}

func TestOptionsRejectUnusableLimits(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"WithMaxTargetTypes(0)", func() { WithMaxTargetTypes(0) }},
		{"WithMaxTargetTypes(-1)", func() { WithMaxTargetTypes(-1) }},
		{"WithMaxTargetTypeLen(MinTargetTypeLen-1)", func() { WithMaxTargetTypeLen(MinTargetTypeLen - 1) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", tc.name)
				}
			}()
			tc.f()
		})
	}
}

func TestCardinalityCap(t *testing.T) {
	const limit = 8
	const names = 1_000_000
	dc := NewDeployCounters(WithMaxTargetTypes(limit))
	var b []byte
	for i := range names {
		b = strconv.AppendInt(append(b[:0], "target-"...), int64(i), 10)
		dc.Record(string(b), OutcomeSucceeded)
	}
	snaps := dc.Snapshot()
	if len(snaps) != limit+1 {
		t.Fatalf("table has %d rows, want the cap %d plus the overflow row", len(snaps), limit)
	}
	var total uint64
	var overflow DeploySnapshot
	for _, s := range snaps {
		total += s.AttemptsSuccess
		if s.TargetType == OverflowTargetType {
			overflow = s
		}
	}
	if total != names {
		t.Errorf("sum of attempts{success} = %d, want every one of the %d deployments", total, names)
	}
	if overflow.AttemptsSuccess != names-limit {
		t.Errorf("overflow row = %+v, want AttemptsSuccess %d", overflow, names-limit)
	}
	if got := dc.Folded(); got != names-limit {
		t.Errorf("Folded() = %d, want %d", got, names-limit)
	}
	// Names admitted before the cap keep their own rows.
	dc.Record("target-0", OutcomeSkipped)
	if got := dc.Folded(); got != names-limit {
		t.Errorf("a tick on an admitted name was folded: Folded() = %d", got)
	}
	// A handle bound after the cap counts into the overflow row, and is folded.
	h := dc.Bind("late")
	if h.Name() != OverflowTargetType {
		t.Errorf("Bind after the cap: Name() = %q, want %q", h.Name(), OverflowTargetType)
	}
	h.IncAttemptFailure()
	if got := dc.Folded(); got != names-limit+1 {
		t.Errorf("after a tick through a folded handle: Folded() = %d, want %d", got, names-limit+1)
	}
	if got := len(dc.Snapshot()); got != limit+1 {
		t.Errorf("table grew to %d rows", got)
	}
}

func TestOverflowNameIsReserved(t *testing.T) {
	dc := NewDeployCounters(WithMaxTargetTypes(1))
	dc.IncAttemptSuccess(OverflowTargetType) // direct use: not folded, not counted toward the cap
	dc.IncAttemptSuccess("NGINX")            // the one regular row
	dc.IncAttemptSuccess("Apache")           // folded
	want := []DeploySnapshot{
		{TargetType: "NGINX", AttemptsSuccess: 1},
		{TargetType: OverflowTargetType, AttemptsSuccess: 2},
	}
	if got := dc.Snapshot(); !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := dc.Folded(); got != 1 {
		t.Errorf("Folded() = %d, want 1", got)
	}
}

// TestConcurrentTicksAndSnapshots records outcomes from several goroutines, over
// target types that keep appearing while it runs, and checks every snapshot
// taken meanwhile: sorted, monotonic, I1 and I2 held, and the final counts exact.
func TestConcurrentTicksAndSnapshots(t *testing.T) {
	const (
		writers    = 4
		perWriter  = 20_000
		readers    = 2
		rawTargets = 3 // target types ticked with the raw Inc API (may tear)
	)
	types := KnownTargetTypes()
	for i := range 24 { // names first seen mid-run, via both APIs
		types = append(types, fmt.Sprintf("late-%02d", i))
	}
	dc := NewDeployCounters()

	type key struct {
		tt string
		o  Outcome
	}
	tallies := make([]map[key]uint64, writers)
	rawTallies := make([]map[string]uint64, writers)
	var wg sync.WaitGroup
	for w := range writers {
		tallies[w], rawTallies[w] = map[key]uint64{}, map[string]uint64{}
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			bound := map[string]*Target{}
			for i := range perWriter {
				tt := types[rng.IntN(min(len(types), 16+i/500))]
				o := Outcome(rng.IntN(numOutcomes) + 1)
				switch i % 3 {
				case 0:
					dc.Record(tt, o)
				case 1:
					h := bound[tt]
					if h == nil {
						h = dc.Bind(tt)
						bound[tt] = h
					}
					h.Record(o)
				case 2:
					raw := "raw-" + strconv.Itoa(rng.IntN(rawTargets))
					dc.IncAttemptFailure(raw)
					dc.IncRollbackRestored(raw)
					rawTallies[w][raw]++
					continue
				}
				tallies[w][key{tt, o}]++
			}
		})
	}

	checkSnapshotsUntilDone(t, dc, readers, &wg)

	want := map[string]DeploySnapshot{}
	for w := range writers {
		for k, n := range tallies[w] {
			s := want[k.tt]
			s.TargetType = k.tt
			for range n {
				s = add(s, outcomeCases[k.o-1].want)
			}
			want[k.tt] = s
		}
		for raw, n := range rawTallies[w] {
			s := want[raw]
			s.TargetType = raw
			s.AttemptsFailure += n
			s.RollbackRestored += n
			want[raw] = s
		}
	}
	got := dc.Snapshot()
	if len(got) != len(want) {
		t.Errorf("final snapshot has %d rows, want %d", len(got), len(want))
	}
	for _, s := range got {
		if s != want[s.TargetType] {
			t.Errorf("final %q: got %+v, want %+v", s.TargetType, s, want[s.TargetType])
		}
	}
}

// checkSnapshotsUntilDone runs readers goroutines that take snapshots of dc
// and check each against the previous one of the same goroutine
// (checkSnapshotStep), until writers are done; then it waits for them.
func checkSnapshotsUntilDone(t *testing.T, dc *DeployCounters, readers int, writers *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	var rg sync.WaitGroup
	for range readers {
		rg.Go(func() {
			var prev, buf []DeploySnapshot
			for {
				// Check first, so every reader checks at least one snapshot.
				buf = dc.AppendSnapshot(buf[:0])
				checkSnapshotStep(t, prev, buf)
				prev = append(prev[:0], buf...)
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	writers.Wait()
	close(done)
	rg.Wait()
}

// checkSnapshotStep checks one snapshot taken under concurrency against the
// previous one from the same goroutine.
func checkSnapshotStep(t *testing.T, prev, cur []DeploySnapshot) {
	t.Helper()
	if !slices.IsSortedFunc(cur, func(a, b DeploySnapshot) int { return strings.Compare(a.TargetType, b.TargetType) }) {
		t.Errorf("snapshot not sorted")
	}
	j := 0
	for _, p := range prev {
		for j < len(cur) && cur[j].TargetType < p.TargetType {
			j++
		}
		if j == len(cur) || cur[j].TargetType != p.TargetType {
			t.Errorf("target type %q disappeared", p.TargetType)
			continue
		}
		if c := cur[j]; c.AttemptsSuccess < p.AttemptsSuccess || c.AttemptsFailure < p.AttemptsFailure ||
			c.ValidateFailures < p.ValidateFailures || c.ReloadFailures < p.ReloadFailures ||
			c.PostVerifyFails < p.PostVerifyFails || c.RollbackRestored < p.RollbackRestored ||
			c.RollbackAlsoFail < p.RollbackAlsoFail || c.IdempotentSkips < p.IdempotentSkips {
			t.Errorf("%q decreased: %+v then %+v", p.TargetType, p, c)
		}
	}
	for _, s := range cur {
		if !strings.HasPrefix(s.TargetType, "raw-") { // raw ticks are allowed to tear
			checkInvariants(t, s)
		}
	}
}

// add returns a with every counter of b added.
func add(a, b DeploySnapshot) DeploySnapshot {
	a.AttemptsSuccess += b.AttemptsSuccess
	a.AttemptsFailure += b.AttemptsFailure
	a.ValidateFailures += b.ValidateFailures
	a.ReloadFailures += b.ReloadFailures
	a.PostVerifyFails += b.PostVerifyFails
	a.RollbackRestored += b.RollbackRestored
	a.RollbackAlsoFail += b.RollbackAlsoFail
	a.IdempotentSkips += b.IdempotentSkips
	return a
}

func TestKnownTargetTypesReturnsACopy(t *testing.T) {
	a := KnownTargetTypes()
	if len(a) != 16 || a[0] != "NGINX" || a[15] != "AzureKeyVault" {
		t.Fatalf("KnownTargetTypes() = %q", a)
	}
	a[0] = "changed"
	if b := KnownTargetTypes(); b[0] != "NGINX" {
		t.Errorf("changing a returned slice changed the next one: %q", b)
	}
	dc := NewDeployCounters()
	for _, tt := range KnownTargetTypes() {
		if n := dc.Normalize(tt); n != tt {
			t.Errorf("known target type %q normalises to %q", tt, n)
		}
	}
}
